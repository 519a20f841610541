"""The local mirror of Xingchen characters and the outbox of changes waiting to reach Xingchen."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
)
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from characters.platform_settings import check_platform_settings, platform_off_reason
from characters.validators import (
    AVATAR_SUFFIXES,
    validate_function_list,
    validate_long_term_memories,
    validate_platform_plugins,
    validate_string_list,
)

NAME_MAX_LENGTH = 20  # Xingchen's limit
# Our own bound on the persona text: long enough for any real persona, short enough that a paste
# accident is caught here rather than refused by Xingchen after the edit was saved.
BASIC_INFORMATION_MAX_LENGTH = 10_000
OFF_SHELF = "out"
UNDER_REVIEW = frozenset({"review", "update"})


def avatar_upload_to(instance: Character, filename: str) -> str:
    # Avatars are served publicly so Xingchen can fetch them: random names keep them unguessable.
    # The suffix decides the Content-Type they are served with, so only an image's is kept (the
    # form names uploads after their detected format); anything else is served as bytes.
    suffix = PurePath(filename).suffix.lower()
    return f"avatars/{uuid.uuid4().hex}{suffix if suffix in AVATAR_SUFFIXES.values() else ''}"


class SyncState(models.TextChoices):
    PENDING = "pending", _("Pending push")
    SYNCED = "synced", _("Synced")
    WAITING = "waiting", _("Waiting (refused by Xingchen)")
    FAILED = "failed", _("Push failed")
    CONFLICTED = "conflicted", _("Conflict")
    DELETING = "deleting", _("Deleting")
    DELETED = "deleted", _("Deleted")


class CharacterType(models.TextChoices):
    VIRTUAL = "virtual", _("Virtual")
    REPRODUCTION = "reproduction", _("Reproduction of a known figure")
    ASSISTANT = "assistant", _("Assistant")


class PrivacyMode(models.TextChoices):
    OFF = "off", _("Off: texts leave as written")
    LOCAL = "local", _("Mask here: placeholders leave, real values come back in the replies")


class ReplyPlatform(models.TextChoices):
    XINGCHEN = "xingchen", _("Tongyi Xingchen (character platform)")
    DMS = "dms", _("Alibaba DMS (Qwen with personal-data masking)")
    LINGMA = "lingma", _("Yunxiao Lingma (answers from knowledge bases)")


class Character(models.Model):
    # Persona
    name = models.CharField(
        _("name"), max_length=NAME_MAX_LENGTH, validators=[MinLengthValidator(1)]
    )
    avatar = models.ImageField(
        _("avatar"),
        upload_to=avatar_upload_to,
        blank=True,
        help_text=_("PNG, JPEG, GIF or WebP, 64 to 2048 pixels a side, at most 2 MB."),
    )
    introduction = models.TextField(
        _("introduction"), blank=True, help_text=_("A line or two shown on the gallery card.")
    )
    basic_information = models.TextField(
        _("persona"),
        help_text=_(
            "Who the character is: personality, background, how they speak. Xingchen calls "
            "it the basic information; required."
        ),
        validators=[MaxLengthValidator(BASIC_INFORMATION_MAX_LENGTH)],
    )
    opening_line = models.TextField(
        _("opening line"),
        blank=True,
        help_text=_("The first message of every new chat; markdown works as in replies."),
    )
    traits = models.TextField(
        _("rules"), blank=True, help_text=_("Rules the character must always follow.")
    )
    chat_example = models.TextField(
        _("example dialogue"),
        blank=True,
        help_text=_("Lines like {{user}}: … / {{char}}: … showing how the character talks."),
    )
    character_type = models.CharField(
        _("kind of character"),
        max_length=20,
        choices=CharacterType.choices,
        default=CharacterType.VIRTUAL,
    )
    chat_objective = models.TextField(
        _("goal in chats"),
        blank=True,
        help_text=_("What the character tries to achieve in a conversation."),
    )
    role_types = models.JSONField(
        _("role types"),
        default=list,
        blank=True,
        validators=[validate_string_list],
        help_text=_("Categories the character is listed under on Xingchen; tick or type your own."),
    )
    tags = models.JSONField(
        _("tags (set by Xingchen)"), default=list, blank=True, validators=[validate_string_list]
    )

    # permConfig
    perm_is_public = models.BooleanField(
        _("listed publicly"),
        default=False,
        help_text=_("Other Xingchen users may see this character's settings."),
    )
    perm_allow_chat = models.BooleanField(
        _("users may chat"),
        default=False,
        help_text=_(
            "Other Xingchen users may chat with it on Xingchen's site; switching this off "
            "again needs a request to Xingchen."
        ),
    )
    perm_allow_api = models.BooleanField(
        _("other accounts may use it through the API"), default=False
    )

    # advancedConfig
    is_real_info = models.BooleanField(
        _("web search"), default=False, help_text=_("Look things up on the web before replying.")
    )
    search_keyword = models.CharField(
        _("search keyword"),
        max_length=200,
        blank=True,
        help_text=_("What to search for; required when web search is on."),
    )
    is_real_time = models.BooleanField(
        _("knows the current time"), default=False, help_text=_("Replies know today's date.")
    )
    short_term_memory_round = models.PositiveSmallIntegerField(
        _("rounds kept in mind"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_(
            "How many recent rounds each reply reads (at most 100); empty: Xingchen's default."
        ),
    )
    long_term_memories = models.JSONField(
        _("long-term memory"),
        default=list,
        blank=True,
        validators=[validate_long_term_memories],
        help_text=_("What the character keeps track of about each user, across chats."),
    )
    platform_plugins = models.JSONField(
        _("plugins"), default=list, blank=True, validators=[validate_platform_plugins]
    )
    knowledge_bases = models.JSONField(
        _("knowledge bases"),
        default=list,
        blank=True,
        validators=[validate_string_list],
        help_text=_("Ids of Xingchen knowledge bases the character answers from."),
    )
    # Local only (Xingchen has no such setting): whether "Reset conversation" also forgets the
    # facts and summaries remembered about the user (memories app).
    reset_forgets_memories = models.BooleanField(
        _("reset forgets memories"),
        default=False,
        help_text=_(
            "When a user resets a chat, also forget what this character remembers about them."
        ),
    )

    # Model parameters, sent with every chat with this character.
    model_name = models.CharField(
        _("model"), max_length=100, blank=True, help_text=_("Empty: Xingchen's default model.")
    )
    temperature = models.FloatField(
        _("temperature"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(2.0)],
        help_text=_("0 to 2; higher gives more varied replies."),
    )
    top_p = models.FloatField(
        _("top p"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
    )
    top_k = models.PositiveIntegerField(
        _("top k"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    max_length = models.PositiveIntegerField(
        _("longest reply (tokens)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(8192)],
    )
    function_list = models.JSONField(
        _("functions"),
        default=list,
        blank=True,
        validators=[validate_function_list],
        help_text=_(
            "Functions a reply may ask your application to call; each one's parameters are a "
            "JSON Schema object."
        ),
    )

    # Which upstream writes the replies. Xingchen keeps the conversation itself; for DMS and
    # Lingma the product sends the persona as a system prompt and the recent turns each time.
    reply_platform = models.CharField(
        _("replies written by"),
        max_length=10,
        choices=ReplyPlatform.choices,
        default=ReplyPlatform.XINGCHEN,
    )

    # Whether personal data is replaced by placeholders before any text leaves for the
    # upstream (conversations.outbound); DMS's own server-side masking is `dms_masking`.
    privacy_mode = models.CharField(
        _("personal data"),
        max_length=10,
        choices=PrivacyMode.choices,
        default=PrivacyMode.OFF,
        help_text=_(
            "Phone, ID card and bank card numbers, emails, IP addresses, names and "
            "addresses said after 我叫/收货地址/My name is… are replaced by placeholders such as "
            "[CN_MOBILE_1] before they leave; the user sees the real values."
        ),
    )

    # DMS ChatWithDesensitizeSSE settings; empty means the upstream's default. Ranges are
    # checked in `clean()` by the same wire types the client sends (platforms.dms.types).
    dms_model = models.CharField(
        _("model"),
        max_length=100,
        blank=True,
        help_text=_("A Qwen text model; empty: the default."),
    )
    dms_masking = models.BooleanField(
        _("mask personal data"),
        default=False,
        help_text=_("DMS masks phone numbers, ID numbers and the like before the model sees them."),
    )
    dms_masking_rule = models.CharField(
        _("masking category"), max_length=50, default="UserInfo", blank=True
    )
    dms_temperature = models.FloatField(_("temperature"), null=True, blank=True)
    dms_top_p = models.FloatField(_("top p"), null=True, blank=True)
    dms_top_k = models.PositiveIntegerField(_("top k"), null=True, blank=True)
    dms_presence_penalty = models.FloatField(_("presence penalty"), null=True, blank=True)
    dms_seed = models.PositiveBigIntegerField(_("seed"), null=True, blank=True)
    dms_max_tokens = models.PositiveIntegerField(_("max tokens"), null=True, blank=True)
    dms_thinking = models.BooleanField(
        _("thinking"),
        default=False,
        help_text=_("Hybrid-thinking models reason first (shown folded)."),
    )
    dms_thinking_budget = models.PositiveIntegerField(_("thinking budget"), null=True, blank=True)
    dms_web_search = models.BooleanField(_("web search"), default=False)

    # Lingma ExecuteChat settings (platforms.lingma.types holds the documented ranges).
    lingma_team_docs = models.BooleanField(
        _("answer from knowledge bases"),
        default=True,
        help_text=_("Ground the answers in the organisation's knowledge bases (teamDocs)."),
    )
    lingma_kb_ids = models.JSONField(
        _("knowledge bases"),
        default=list,
        blank=True,
        validators=[validate_string_list],
        help_text=_("Empty: all of the organisation's question-and-answer knowledge bases."),
    )
    lingma_temperature = models.FloatField(_("temperature"), null=True, blank=True)
    lingma_top_p = models.FloatField(_("top p"), null=True, blank=True)
    lingma_top_k = models.PositiveIntegerField(_("top k"), null=True, blank=True)
    lingma_seed = models.PositiveBigIntegerField(_("seed"), null=True, blank=True)
    lingma_max_tokens = models.PositiveIntegerField(_("max tokens"), null=True, blank=True)

    # What Xingchen says about it (read-only locally).
    remote_id = models.CharField(
        _("Xingchen id"), max_length=64, unique=True, null=True, blank=True
    )
    remote_version = models.IntegerField(_("version on Xingchen"), null=True, blank=True)
    audit_status = models.CharField(
        _("publication review"),
        max_length=20,
        blank=True,
        help_text=_("Xingchen's review before publishing: review, update, succcess or refuse."),
    )
    config_status = models.CharField(
        _("shelf status"),
        max_length=20,
        blank=True,
        help_text=_("“out”: taken off the shelf on Xingchen, so no chats and no updates."),
    )
    green_status = models.CharField(
        _("moderation status"),
        max_length=20,
        blank=True,
        help_text=_("Xingchen's manual content review: review, update, succcess or refuse."),
    )
    manageable = models.BooleanField(_("editable from this account"), default=True)
    is_pre_configured = models.BooleanField(_("built into Xingchen"), default=False)
    avatar_remote_path = models.CharField(max_length=500, blank=True)
    # The local avatar file Xingchen holds a copy of; a different local name means a new upload.
    avatar_synced_name = models.CharField(max_length=200, blank=True)
    background_img_url = models.CharField(max_length=1000, blank=True)
    bubbles = models.JSONField(default=list, blank=True)
    remote_owner_id = models.CharField(max_length=64, blank=True)
    remote_created_at = models.DateTimeField(null=True, blank=True)
    remote_modified_at = models.DateTimeField(_("changed on Xingchen"), null=True, blank=True)

    # Sync bookkeeping. `revision` counts local edits; `pushed_revision` is the last one Xingchen
    # accepted, so an edit made while a push is in flight is never mistaken for synced.
    sync_state = models.CharField(
        _("sync state"),
        max_length=20,
        choices=SyncState.choices,
        default=SyncState.PENDING,
        db_index=True,
    )
    revision = models.PositiveIntegerField(default=1)
    pushed_revision = models.PositiveIntegerField(default=0)
    synced_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    last_sync_error = models.TextField(_("last sync error"), blank=True)
    remote_snapshot = models.JSONField(null=True, blank=True, editable=False)
    is_deleted = models.BooleanField(default=False, db_index=True)
    # Which demo character `seed_demo` made this row as; a rename keeps it recognised.
    seed_key = models.CharField(max_length=40, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("character")
        verbose_name_plural = _("characters")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Rules Xingchen enforces across fields, reported on the field the editor must fix.
        if self.is_real_info and not self.search_keyword.strip():
            raise ValidationError(
                {"search_keyword": _("A search keyword is required when web search is on.")}
            )
        if self.name is not None and not self.name.strip():
            raise ValidationError({"name": _("The name cannot be blank.")})
        check_platform_settings(self)

    def has_unpushed_changes(self) -> bool:
        return self.revision > self.pushed_revision

    def is_off_shelf(self) -> bool:
        return self.config_status == OFF_SHELF

    def is_under_review(self) -> bool:
        return self.audit_status in UNDER_REVIEW or self.green_status in UNDER_REVIEW

    def unavailable_reason(self) -> str:
        """Why users cannot chat with this character now, or "" when they can."""
        if self.is_deleted:
            return _("This character was deleted.")
        if self.reply_platform != ReplyPlatform.XINGCHEN:
            # The persona travels with each request: only the platform itself can be missing.
            return platform_off_reason(self.reply_platform)
        if not self.remote_id:
            return _("This character is not on Xingchen yet.")
        if self.is_off_shelf():
            return _("This character is off-shelf on Xingchen.")
        return ""

    def is_available(self) -> bool:
        return not self.unavailable_reason()

    def masks_personal_data(self) -> bool:
        return self.privacy_mode == PrivacyMode.LOCAL

    def learns_from_chats(self) -> bool:
        """Whether memory extraction may read its chats: extraction runs on Xingchen, which must
        not see what a DMS character's chats ask DMS to mask, nor what its chats mask here
        (facts about placeholders would be worthless)."""
        masked_by_dms = self.reply_platform == ReplyPlatform.DMS and self.dms_masking
        return not (masked_by_dms or self.masks_personal_data())


class PushOperation(models.TextChoices):
    CREATE = "create", _("Create")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")


class PushState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    WAITING = "waiting", _("Waiting (refused by Xingchen)")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_PUSH_STATES = (PushState.PENDING, PushState.WAITING, PushState.FAILED)


class CharacterPush(models.Model):
    """One change waiting to reach Xingchen; it always sends the row's latest state.

    A character has at most one open push: edits made while one is open fold into it.
    """

    character = models.ForeignKey(Character, on_delete=models.CASCADE, related_name="pushes")
    operation = models.CharField(_("operation"), max_length=10, choices=PushOperation.choices)
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=PushState.choices,
        default=PushState.PENDING,
        db_index=True,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # Set while a worker sends this push, so a retry cannot send it a second time meanwhile.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The process holding the claim (project.holders), so a worker restarted on its host can
    # release it at once when that process is gone instead of waiting out the lease.
    claimed_by = models.CharField(max_length=320, blank=True, editable=False)
    # Xingchen has no idempotency key: a create whose answer was lost (timeout, broken
    # connection, 5xx) may have made the character anyway. When it was sent and what it sent let
    # the next attempt find and adopt that character instead of creating a second one.
    unconfirmed_create_at = models.DateTimeField(null=True, blank=True)
    unconfirmed_create = models.JSONField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("push to Xingchen")
        verbose_name_plural = _("pushes to Xingchen")
        constraints = [
            models.UniqueConstraint(
                fields=["character"],
                condition=Q(state__in=["pending", "waiting", "failed"]),
                name="one_open_push_per_character",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_operation_display()} {self.character_id} ({self.state})"

    def is_open(self) -> bool:
        return self.state in OPEN_PUSH_STATES
