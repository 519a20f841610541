from __future__ import annotations

from django.urls import URLPattern, path

from conversations.consumers import ChatConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/chat/<int:session_id>/", ChatConsumer.as_asgi(), name="chat-socket"),
]
