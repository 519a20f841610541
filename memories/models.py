"""What a character remembers about a user: facts (kv memory) and summaries of past turns,
each with the ids of the messages it came from."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Fact(models.Model):
    """One kv fact, at most one per (user, character, key).

    A fact the user corrected or deleted keeps that state, and `edited_through` the last
    message id of theirs at that moment: only a later message mentioning it may change it.
    A deleted fact stays as a row (with no values), so re-reading old messages cannot bring
    it back.
    """

    class State(models.TextChoices):
        EXTRACTED = "extracted", _("extracted")
        CORRECTED = "corrected", _("corrected by the user")
        DELETED = "deleted", _("deleted by the user")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memory_facts"
    )
    character = models.ForeignKey(
        "characters.Character", on_delete=models.CASCADE, related_name="memory_facts"
    )
    key = models.CharField(max_length=200)
    values = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, choices=State, default=State.EXTRACTED)
    source_message_ids = models.JSONField(default=list, blank=True)
    edited_through = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("fact")
        verbose_name_plural = _("facts")
        ordering = ["key", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "character", "key"], name="memory_fact_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key}: {', '.join(self.values)}"

    def is_remembered(self) -> bool:
        return self.state != self.State.DELETED


class Summary(models.Model):
    """A summary of the turns up to `through_message_id`; the latest one goes with chats."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memory_summaries"
    )
    character = models.ForeignKey(
        "characters.Character", on_delete=models.CASCADE, related_name="memory_summaries"
    )
    sentences = models.JSONField(default=list, blank=True)
    source_message_ids = models.JSONField(default=list, blank=True)
    through_message_id = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("summary")
        verbose_name_plural = _("summaries")
        ordering = ["-through_message_id"]
        constraints = [
            # A run repeated after a crash finds its summary stored.
            models.UniqueConstraint(
                fields=["user", "character", "through_message_id"], name="memory_summary_once"
            )
        ]

    def __str__(self) -> str:
        return " ".join(self.sentences)[:80]


class Progress(models.Model):
    """How far the user's messages with the character have been read for memory."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memory_progress"
    )
    character = models.ForeignKey(
        "characters.Character", on_delete=models.CASCADE, related_name="memory_progress"
    )
    extracted_through = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("memory progress")
        verbose_name_plural = _("memory progress")
        constraints = [
            models.UniqueConstraint(fields=["user", "character"], name="memory_progress_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.character_id} through #{self.extracted_through}"
