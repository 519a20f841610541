"""Chat users' 👍/👎 on replies (mounted at the site root, namespace "feedback")."""

from __future__ import annotations

from django.urls import path

from ratings import feedback_views

urlpatterns = [
    path("replies/<int:message_id>/feedback/", feedback_views.reply_feedback, name="reply"),
]
