from __future__ import annotations

from django.urls import URLPattern, path

from ratings import queue_views

urlpatterns: list[URLPattern] = [
    path("", queue_views.queue, name="queue"),
    path("replies/<int:message_id>/rate/", queue_views.rate, name="rate"),
]
