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
    path("chat/<int:session_id>/row/", views.session_row, name="row"),
    path("chat/<int:session_id>/rename/", views.session_rename, name="rename"),
    path("chat/<int:session_id>/delete/", views.session_delete, name="delete"),
    path("chat/<int:session_id>/restore/", views.session_restore, name="restore"),
]
