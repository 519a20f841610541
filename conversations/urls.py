from __future__ import annotations

from django.urls import URLPattern, path

from conversations import views

app_name = "conversations"

urlpatterns: list[URLPattern] = [
    # Under characters/ but served here: starting a chat is a conversations action.
    path("characters/<int:pk>/chat/", views.chat_start, name="start"),
    path("chat/", views.session_list, name="sessions"),
    path("chat/<int:session_id>/", views.chat_page, name="chat"),
    path("chat/<int:session_id>/reset/", views.chat_reset, name="reset"),
    path("chat/<int:session_id>/scenario/", views.chat_scenario, name="scenario"),
]
