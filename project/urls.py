from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView
from django.views.i18n import set_language
from django.views.static import serve

from project.health import healthz

admin.site.site_header = _("Persona Studio")
admin.site.site_title = _("Persona Studio")
admin.site.index_title = _("Persona Studio administration")


@login_not_required
def media(request: HttpRequest, path: str) -> HttpResponse:
    """Uploaded files, reachable at PUBLIC_BASE_URL so Xingchen can fetch them: names are random,
    and nothing private is stored under MEDIA_ROOT. The Content-Type comes from the suffix,
    which uploads take from their detected format; nosniff stops browsers guessing another."""
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns = [
    path("", RedirectView.as_view(url="/characters/", permanent=False)),
    path("accounts/", include("accounts.auth_urls")),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # Django's language switch (what django.conf.urls.i18n includes), open before signing in too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("characters/", include("characters.urls")),
    path("jobs/", include("jobs.urls")),
    path("staff/ratings/", include("ratings.urls")),
    path("", include(("ratings.urls_feedback", "feedback"))),
    path("memories/", include("memories.urls")),
    path("", include("conversations.urls")),
    re_path(r"^media/(?P<path>.*)$", media),
]
