"""Staff ratings of replies, users' own thumbs, and the outbox that tells Xingchen the verdict."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ratings.defaults import reason_label

# The permission that opens the rating workbench (the "Raters" group has it; superusers too).
RATE_PERMISSION = "ratings.rate_replies"


class ReasonTag(models.Model):
    """Why a reply is good or bad; the first eight (by position) have keys 1–8 in the queue."""

    slug = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("reason")
        verbose_name_plural = _("reasons")
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.shown_label()

    def shown_label(self) -> str:
        return reason_label(self.slug, self.label)


class Verdict(models.TextChoices):
    GOOD = "good", _("Good")
    BAD = "bad", _("Bad")


class Rating(models.Model):
    """One rater's verdict on one assistant reply; editable, every change kept as a revision."""

    message = models.ForeignKey(
        "conversations.Message", on_delete=models.CASCADE, related_name="ratings"
    )
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ratings"
    )
    verdict = models.CharField(max_length=4, choices=Verdict)
    reasons = models.ManyToManyField(ReasonTag, blank=True, related_name="ratings")
    comment = models.TextField(blank=True, max_length=2000)
    ideal_reply = models.TextField(blank=True, max_length=8000)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        permissions = [("rate_replies", "Can rate replies and use the rating workbench")]
        constraints = [
            models.UniqueConstraint(fields=["message", "rater"], name="rating_once_per_rater")
        ]
        indexes = [models.Index(fields=["message", "-updated_at"], name="rating_latest")]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} by {self.rater_id} on #{self.message_id}"


class RatingRevision(models.Model):
    """What a rating said before a change (and who changed it)."""

    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="revisions")
    verdict = models.CharField(max_length=4, choices=Verdict)
    reasons = models.JSONField(default=list)  # reason slugs
    comment = models.TextField(blank=True)
    ideal_reply = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("rating revision")
        verbose_name_plural = _("rating revisions")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"Revision of rating {self.rating_id} at {self.changed_at:%Y-%m-%d %H:%M}"


class Thumb(models.TextChoices):
    UP = "up", "👍"
    DOWN = "down", "👎"


class UserFeedback(models.Model):
    """A chat user's own 👍/👎 on a reply of their conversation (separate from staff ratings)."""

    message = models.ForeignKey(
        "conversations.Message", on_delete=models.CASCADE, related_name="feedback"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reply_feedback"
    )
    thumb = models.CharField(max_length=4, choices=Thumb)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("user feedback")
        verbose_name_plural = _("user feedback")
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="feedback_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.get_thumb_display()} by {self.user_id} on #{self.message_id}"


class RatingPush(models.Model):
    """The outbox entry of one reply: the consensus value Xingchen should hold (5 good, 0 bad)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        NOT_SENT = "not_sent", _("Not sent (no Xingchen message id)")

    message = models.OneToOneField(
        "conversations.Message", on_delete=models.CASCADE, related_name="rating_push"
    )
    wanted = models.PositiveSmallIntegerField()  # 0 or 5
    sent = models.PositiveSmallIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("rating push to Xingchen")
        verbose_name_plural = _("rating pushes to Xingchen")

    def __str__(self) -> str:
        return f"Rating push of #{self.message_id} ({self.state})"
