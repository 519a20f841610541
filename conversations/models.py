from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

# How the message shield names each type of masked personal data.
MASKED_TYPE_LABELS = {
    "CN_ID_CARD": _("ID card number"),
    "CN_MOBILE": _("mobile number"),
    "BANK_CARD": _("bank card number"),
    "EMAIL": _("email"),
    "IPV4": _("IP address"),
    "IPV6": _("IP address"),
    "PERSON": _("name"),
    "ADDRESS": _("address"),
}


class ChatSession(models.Model):
    """One conversation of a user with a character. A reset archives it (still readable).

    Deleting one hides it from its user for good (`deleted_at`) rather than removing the rows:
    its messages may carry other people's work (raters' ratings, pictures in the jobs list).
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        ARCHIVED = "archived", _("archived")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_sessions"
    )
    character = models.ForeignKey(
        "characters.Character", on_delete=models.PROTECT, related_name="chat_sessions"
    )
    remote_session_id = models.CharField(max_length=64, blank=True)
    scenario = models.TextField(blank=True, max_length=1000)
    status = models.CharField(max_length=10, choices=Status, default=Status.ACTIVE)
    # The user's own name for the conversation; empty shows the character's name and the date.
    title = models.CharField(_("title"), max_length=80, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Moved forward by every new message, so the sessions list shows recent chats first.
    updated_at = models.DateTimeField(default=timezone.now)
    # The placeholders of masked personal data and their values, sealed with a key derived
    # from SECRET_KEY (`privacy.sealing`); it lives and dies with the conversation.
    masking_vault = models.TextField(blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "character"],
                condition=Q(status="active"),
                name="one_active_session_per_user_and_character",
            )
        ]
        indexes = [models.Index(fields=["user", "-updated_at"], name="session_user_recent")]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")

    def __str__(self) -> str:
        return f"{self.user} with {self.character_id} ({self.status})"

    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def display_title(self) -> str:
        return self.title or self.default_title()

    def default_title(self) -> str:
        """The character's name and the day the conversation began, in the reader's language."""
        day = formats.date_format(timezone.localtime(self.created_at), "SHORT_DATE_FORMAT")
        return f"{self.character.name} · {day}"


class Message(models.Model):
    """A message of a session.

    An assistant reply points at the user message it answers (`query`); regenerating adds
    another reply to the same query (`alternative_index` 0, 1, ...), exactly one of which
    `is_chosen`. Remote ids are Xingchen's: `remote_message_id` is the answerId of a reply or
    the queryId of a user message.
    """

    class Role(models.TextChoices):
        USER = "user", _("user")
        ASSISTANT = "assistant", _("assistant")
        SYSTEM = "system", _("system")

    class Kind(models.TextChoices):
        CHAT = "chat", _("chat")
        OPENING = "opening", _("opening line")
        REMINDER = "reminder", _("reminder")

    class State(models.TextChoices):
        STREAMING = "streaming", _("streaming")
        COMPLETE = "complete", _("complete")
        STOPPED = "stopped", _("stopped")
        INTERRUPTED = "interrupted", _("interrupted")
        FAILED = "failed", _("failed")

    session = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=Role)
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.CHAT)
    content = models.TextField(blank=True)
    # What a thinking model reasoned before answering (shown folded, never sent back upstream).
    reasoning = models.TextField(blank=True)
    state = models.CharField(max_length=12, choices=State, default=State.COMPLETE)
    error = models.CharField(max_length=300, blank=True)
    # The browser's id for a sent message: a resent frame finds the message it already made.
    client_id = models.CharField(max_length=64, blank=True)
    query = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    alternative_index = models.PositiveSmallIntegerField(default=0)
    is_chosen = models.BooleanField(default=True)
    remote_message_id = models.CharField(max_length=64, blank=True)
    remote_query_id = models.CharField(max_length=64, blank=True)
    chat_id = models.CharField(max_length=64, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # How many deltas `content` holds while streaming: a reconnect served from the database
    # resumes the `seq` numbering where the saved text ends.
    stream_seq = models.PositiveIntegerField(default=0)
    # The lease of a reply being written: its process renews it while it runs, so a reply
    # whose process died is found by its age and ended by the sweep.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    input_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    has_risk = models.BooleanField(default=False)
    safety_std_answer = models.TextField(blank=True)
    function_call = models.JSONField(null=True, blank=True)
    # The types of personal data masked on the way upstream (or restored in a reply), never
    # the values: the message's shield shows them.
    masked_types = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "client_id"],
                condition=~Q(client_id=""),
                name="message_client_id_once_per_session",
            ),
            models.UniqueConstraint(
                fields=["session", "remote_message_id"],
                condition=~Q(remote_message_id=""),
                name="message_remote_id_once_per_session",
            ),
        ]
        indexes = [
            models.Index(fields=["session", "id"], name="message_history_page"),
            models.Index(
                fields=["state"], condition=Q(state="streaming"), name="message_streaming"
            ),
        ]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.role} #{self.pk} ({self.state})"

    def is_final(self) -> bool:
        return self.state != self.State.STREAMING

    def is_reply(self) -> bool:
        return self.role == self.Role.ASSISTANT

    def masked_labels(self) -> list[str]:
        """The shield's words for the masked types, each once."""
        labels = (str(MASKED_TYPE_LABELS.get(kind, kind)) for kind in self.masked_types)
        return list(dict.fromkeys(labels))

    def usage(self) -> dict[str, int] | None:
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return {"input_tokens": self.input_tokens or 0, "output_tokens": self.output_tokens or 0}
