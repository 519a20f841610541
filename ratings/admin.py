"""Admin of the ratings app: the reason taxonomy, read-only ratings with their history, and the
push outbox with its visible state and a "retry now" action."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ratings import services
from ratings.access import can_rate
from ratings.models import Rating, RatingPush, RatingRevision, ReasonTag, UserFeedback


class _ReadOnly(admin.ModelAdmin):
    """Rows written by the services only; raters may look at them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_rate(request.user) or super().has_view_permission(request, obj)


@admin.register(ReasonTag)
class ReasonTagAdmin(admin.ModelAdmin):
    list_display = ("label", "slug", "position", "is_active")
    list_editable = ("position", "is_active")
    prepopulated_fields = {"slug": ("label",)}
    search_fields = ("label", "slug")


class RatingRevisionInline(admin.TabularInline):
    model = RatingRevision
    fields = ("changed_at", "changed_by", "verdict", "reasons", "comment", "ideal_reply")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_rate(request.user) or super().has_view_permission(request, obj)


@admin.register(Rating)
class RatingAdmin(_ReadOnly):
    list_display = ("message", "rater", "verdict", "reason_list", "updated_at")
    list_filter = ("verdict", "reasons", "rater")
    list_select_related = ("message", "rater")
    search_fields = ("message__content", "comment", "ideal_reply", "rater__username")
    fields = (
        "message",
        "rater",
        "verdict",
        "reasons",
        "comment",
        "ideal_reply",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (RatingRevisionInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rating]:
        return super().get_queryset(request).prefetch_related("reasons")

    @admin.display(description=_("Reasons"))
    def reason_list(self, rating: Rating) -> str:
        return ", ".join(tag.shown_label() for tag in rating.reasons.all())


@admin.register(UserFeedback)
class UserFeedbackAdmin(_ReadOnly):
    list_display = ("message", "user", "thumb", "reason", "updated_at")
    list_filter = ("thumb",)
    list_select_related = ("message", "user")
    search_fields = ("reason", "user__username")


@admin.register(RatingPush)
class RatingPushAdmin(_ReadOnly):
    list_display = (
        "message",
        "state",
        "wanted",
        "sent",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = ("state",)
    list_select_related = ("message",)
    search_fields = ("message__remote_message_id", "last_error")
    actions = ("retry",)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return can_rate(request.user)

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[RatingPush]) -> None:
        retried = sum(1 for push in queryset if services.rating_push_retry(push=push))
        self.message_user(request, f"Sending {retried} rating(s) again; see their state below.")
        skipped = queryset.count() - retried
        if skipped:
            self.message_user(
                request,
                f"{skipped} had nothing to send (already sent, or no Xingchen message id).",
                messages.WARNING,
            )
