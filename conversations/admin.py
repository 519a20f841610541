from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from conversations.models import MASKED_TYPE_LABELS, ChatSession, Message
from conversations.outbound import vault_counts


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["role", "kind", "state", "content", "masked_types", "is_chosen", "created_at"]
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
    readonly_fields = [
        "user",
        "character",
        "remote_session_id",
        "status",
        "created_at",
        "masked_personal_data",
    ]
    fields = [*readonly_fields, "scenario"]
    inlines = [MessageInline]

    @admin.display(description="masked personal data")
    def masked_personal_data(self, session: ChatSession) -> str:
        """How many distinct values of each type left as placeholders; never the values."""
        counts = vault_counts(session)
        if not counts:
            return "none"
        return ", ".join(f"{MASKED_TYPE_LABELS[kind]} ({kind}): {n}" for kind, n in counts.items())


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "session",
        "role",
        "kind",
        "state",
        "has_risk",
        "masked_types",
        "created_at",
    ]
    list_filter = ["role", "kind", "state", "has_risk"]
    search_fields = ["content", "remote_message_id", "request_id"]
    list_select_related = ["session__user", "session__character"]
    raw_id_fields = ["session", "query"]

    def has_change_permission(self, request: HttpRequest, obj: Message | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
