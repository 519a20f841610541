from __future__ import annotations

from django.urls import URLPattern, path

from ratings import report_views

urlpatterns: list[URLPattern] = [
    path("dashboard/", report_views.dashboard, name="dashboard"),
    path("export/", report_views.export, name="export"),
]
