from __future__ import annotations

from django.urls import URLPattern, path

from ratings import reminder_views

urlpatterns: list[URLPattern] = [
    path("reminders/", reminder_views.reminder_pick, name="reminders"),
    path("reminders/<int:session_id>/", reminder_views.reminder_compose, name="reminder"),
]
