from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.static import serve

from project.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(url="/characters/", permanent=False)),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("characters/", include("characters.urls")),
    path("", include("conversations.urls")),
    # Uploaded files must be reachable at PUBLIC_BASE_URL so Xingchen can fetch them; names are
    # random, and nothing private is stored under MEDIA_ROOT.
    re_path(
        r"^media/(?P<path>.*)$",
        login_not_required(serve),
        {"document_root": settings.MEDIA_ROOT},
    ),
]
