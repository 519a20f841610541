from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from conversations.models import ChatSession, Message


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["role", "kind", "state", "content", "is_chosen", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: ChatSession | None = None) -> bool:
        return False


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    """Read-only: conversations change only through the chat itself."""

    list_display = ["pk", "user", "character", "status", "updated_at"]
    list_filter = ["status"]
    search_fields = ["user__username", "character__name", "remote_session_id"]
    list_select_related = ["user", "character"]
    readonly_fields = ["user", "character", "remote_session_id", "status", "created_at"]
    fields = [*readonly_fields, "scenario"]
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["pk", "session", "role", "kind", "state", "has_risk", "created_at"]
    list_filter = ["role", "kind", "state", "has_risk"]
    search_fields = ["content", "remote_message_id", "request_id"]
    list_select_related = ["session__user", "session__character"]
    raw_id_fields = ["session", "query"]

    def has_change_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
