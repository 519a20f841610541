"""Staff pages for sending a reminder as a character into a user's conversation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from conversations.models import ChatSession
from project.http import HtmxHttpRequest
from ratings import reminders
from ratings.access import rater_required

PICKER_PAGE_SIZE = 30


class ConversationSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=150)


class ReminderForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The limit of a user's own message, read when the form is built.
        limit = settings.CHAT_MAX_MESSAGE_CHARS
        self.fields["content"] = forms.CharField(
            max_length=limit,
            widget=forms.Textarea(attrs={"rows": 4}),
            error_messages={
                "required": _("Write the reminder before sending it."),
                "max_length": _("A reminder can be at most %(limit_value)d characters long."),
            },
        )


@require_GET
@rater_required
def reminder_pick(request: HtmxHttpRequest) -> HttpResponse:
    form = ConversationSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    sessions = reminders.reminder_sessions(search=query)
    page = Paginator(sessions, PICKER_PAGE_SIZE).get_page(request.GET.get("page"))
    # Search-as-you-type swaps the results alone; a history restore needs the whole page.
    partial = request.htmx and not request.htmx.history_restore_request
    template = "ratings/reminder_pick.html#results" if partial else "ratings/reminder_pick.html"
    return render(request, template, {"page": page, "query": query})


@require_http_methods(["GET", "POST"])
@rater_required
def reminder_compose(request: HtmxHttpRequest, session_id: int) -> HttpResponse:
    session = _session_or_404(session_id)
    form = ReminderForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_valid():
        try:
            reminders.reminder_send(session=session, content=form.cleaned_data["content"])
        except reminders.ReminderRefused as exc:
            form.add_error(None, exc.message)
            status = 502 if exc.upstream else 200
        else:
            sent = _("Reminder sent to %(user)s as %(character)s.")
            names = {"user": session.user.get_username(), "character": session.character.name}
            messages.success(request, sent % names)
            return redirect("ratings:reminder", session_id=session.pk)
    context = {
        "session": session,
        "form": form,
        "recent": reminders.reminder_context(session=session),
    }
    return render(request, "ratings/reminder.html", context, status=status)


def _session_or_404(session_id: int) -> ChatSession:
    session = reminders.reminder_session(session_id)
    if session is None:
        raise Http404("No active conversation to remind.")
    return session
