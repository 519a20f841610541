from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import PasswordResetForm
from django.forms.utils import ErrorList
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from accounts.forms import ProfileForm
from accounts.services import profile_for, profile_update
from accounts.throttle import lockout_minutes, password_reset_throttle

View = Callable[..., HttpResponse]


@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=profile_for(request.user))
    if request.method == "POST" and form.is_valid():
        profile_update(user=request.user, **form.cleaned_data)
        messages.success(request, _("Your profile was saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


@login_not_required
def login(request: HttpRequest) -> HttpResponse:
    """Django's login page; it links to password reset only where mail can be sent."""
    context = {"password_reset_enabled": settings.EMAIL_ENABLED}
    return auth_views.LoginView.as_view(extra_context=context)(request)


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """django-axes's answer to a refused sign-in: the login page that refused it (the site's or
    the admin's) with the lockout as its error, status 429 and a Retry-After header."""
    minutes = lockout_minutes()
    message = ngettext(
        "Too many failed sign-ins; try again in %(minutes)d minute.",
        "Too many failed sign-ins; try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    context = getattr(original_response, "context_data", None) or {}
    form = context.get("form")
    if isinstance(original_response, TemplateResponse) and form is not None:
        form.errors["__all__"] = ErrorList([message], error_class="nonfield")
        response: HttpResponse = original_response
        response.content = original_response.rendered_content
    else:
        response = HttpResponse(message, content_type="text/plain; charset=utf-8")
    response.status_code = 429
    response["Retry-After"] = str(minutes * 60)
    return response


def _only_with_email(view: View) -> View:
    """The password reset pages answer 404 unless mail can be sent (settings.EMAIL_ENABLED)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.EMAIL_ENABLED:
            raise Http404
        return view(request, *args, **kwargs)

    return login_not_required(wrapped)


@_only_with_email
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        wait = password_reset_throttle(request=request, email=request.POST.get("email", ""))
        if wait is not None:
            minutes = math.ceil(wait / 60)
            message = ngettext(
                "Too many reset requests; try again in %(minutes)d minute.",
                "Too many reset requests; try again in %(minutes)d minutes.",
                minutes,
            ) % {"minutes": minutes}
            context = {"form": PasswordResetForm(request.POST), "throttled": message}
            response = render(request, "registration/password_reset_form.html", context, status=429)
            response["Retry-After"] = str(wait)
            return response
    # The link is built on PUBLIC_BASE_URL, never on the request's Host header.
    view = auth_views.PasswordResetView.as_view(
        extra_email_context={"base_url": settings.PUBLIC_BASE_URL}
    )
    return view(request)


password_reset_done = _only_with_email(auth_views.PasswordResetDoneView.as_view())
password_reset_confirm = _only_with_email(auth_views.PasswordResetConfirmView.as_view())
password_reset_complete = _only_with_email(auth_views.PasswordResetCompleteView.as_view())
