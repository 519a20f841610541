"""Memory business rules: when to read recent turns, how extracted facts are stored, what the
user may change, and what goes with the next chat.

Rules for facts (one per user, character and key):
- the newest extraction of a key replaces its values and its provenance;
- a fact the user corrected keeps the user's values, and a fact the user deleted stays
  deleted, until a message the user writes after that edit mentions one of the extracted
  values again: then the extraction wins (the user said it anew);
- storing is idempotent: a run repeated after a crash upserts the same rows, and a run whose
  messages were already read (or forgotten by a reset) stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from characters.models import Character
from conversations.models import Message
from jobs.models import Job
from memories.models import Fact, Progress, Summary

MAX_VALUES = 10
MAX_VALUE_LENGTH = 200


class FactNotFound(Exception):
    """No such fact, or not the asking user's: both look the same from outside."""


@dataclass(frozen=True)
class Extracted:
    """One fact as the upstream found it."""

    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ChatMemory:
    """What goes with a chat turn: the remembered facts and the latest summary."""

    facts: tuple[Extracted, ...] = ()
    summary: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.facts or self.summary)

    def map_texts(self, convert: Callable[[str], str]) -> ChatMemory:
        """The same memory with every user-derived text passed through `convert`."""
        return ChatMemory(
            facts=tuple(Extracted(f.key, tuple(map(convert, f.values))) for f in self.facts),
            summary=tuple(map(convert, self.summary)),
        )


@dataclass(frozen=True)
class Batch:
    """The messages of one extraction, oldest first."""

    messages: list[Message] = field(default_factory=list)

    def user_messages(self) -> list[Message]:
        return [m for m in self.messages if m.role == Message.Role.USER]


@dataclass(frozen=True)
class Panel:
    facts: list[Fact]
    summary: Summary | None
    version: str


# --- when to remember ------------------------------------------------------------------------


def memory_after_turn(*, reply: Message) -> Job | None:
    """Queues a memory job once `MEMORY_EVERY_TURNS` user turns were made since the last one.

    Call inside the transaction that completes `reply`; the job starts once it commits.
    """
    from jobs.services import job_create

    every = settings.MEMORY_EVERY_TURNS
    session = reply.session
    if every <= 0:
        return None
    if not session.character.learns_from_chats():
        return None
    after = _progress_of(session.user_id, session.character_id)
    turns = _messages_of(session.user_id, session.character_id).filter(
        role=Message.Role.USER, pk__gt=after, pk__lt=reply.pk
    )
    if turns.count() < every or _memory_job_active(session.user_id, session.character_id):
        return None
    return job_create(
        owner=session.user,
        kind=Job.Kind.MEMORY,
        character=session.character,
        params={"after": after, "through": reply.pk},
        note="Remembering",
    )


def memory_batch(*, user_id: int, character_id: int, after: int, through: int) -> Batch:
    """The shown chat messages with text in (after, through], for the extraction calls."""
    rows = (
        _messages_of(user_id, character_id)
        .filter(pk__gt=after, pk__lte=through, is_chosen=True, kind=Message.Kind.CHAT)
        .exclude(content="")
        .order_by("pk")
    )
    return Batch(messages=list(rows))


def kv_slots(character: Character) -> list[str]:
    """The texts of the character's enabled kv memory slots."""
    slots: list[str] = []
    for memory in character.long_term_memories or []:
        if memory.get("memoryType") != "kv" or memory.get("enabled", True) is False:
            continue
        for config in memory.get("kvMemoryConfigs") or []:
            text = str(config.get("memoryText") or "").strip()
            if text and config.get("enabled", True) is not False and text not in slots:
                slots.append(text)
    return slots


# --- storing what was extracted --------------------------------------------------------------


def memory_store(
    *,
    user_id: int,
    character_id: int,
    after: int,
    through: int,
    batch: Batch,
    facts: list[Extracted],
    summary: list[str],
) -> bool:
    """Stores one extraction of the messages in (after, through]; False when those messages
    were already read (a repeated run) or forgotten by a reset meanwhile."""
    with transaction.atomic():
        progress = _lock_progress(user_id, character_id)
        if progress.extracted_through >= through:
            return False
        for extracted in facts:
            _upsert_fact(user_id, character_id, extracted, batch)
        sentences = [s.strip() for s in summary if s.strip()]
        if sentences:
            Summary.objects.update_or_create(
                user_id=user_id,
                character_id=character_id,
                through_message_id=through,
                defaults={
                    "sentences": sentences,
                    "source_message_ids": [m.pk for m in batch.messages],
                },
            )
        progress.extracted_through = through
        progress.save(update_fields=["extracted_through"])
    return True


def _upsert_fact(user_id: int, character_id: int, extracted: Extracted, batch: Batch) -> None:
    values = _clean_values(extracted.values)
    key = extracted.key.strip()[:200]
    if not key or not values:
        return
    fact = (
        Fact.objects.select_for_update()
        .filter(user_id=user_id, character_id=character_id, key=key)
        .first()
    )
    if fact is None:
        sources = _mentioning(batch, values) or [m.pk for m in batch.user_messages()]
        Fact.objects.create(
            user_id=user_id,
            character_id=character_id,
            key=key,
            values=values,
            source_message_ids=sources,
        )
        return
    if fact.state == Fact.State.EXTRACTED:
        sources = _mentioning(batch, values) or [m.pk for m in batch.user_messages()]
    else:
        # The user's edit stands unless they said it again after editing.
        sources = [pk for pk in _mentioning(batch, values) if pk > (fact.edited_through or 0)]
        if not sources:
            return
    fact.values, fact.source_message_ids = values, sources
    fact.state, fact.edited_through = Fact.State.EXTRACTED, None
    fact.updated_at = timezone.now()
    fact.save()


def _mentioning(batch: Batch, values: list[str]) -> list[int]:
    """Ids of the batch's user messages that contain one of `values`."""
    lowered = [v.casefold() for v in values]
    return [m.pk for m in batch.user_messages() if any(v in m.content.casefold() for v in lowered)]


def _clean_values(values: tuple[str, ...] | list[str]) -> list[str]:
    cleaned: list[str] = []
    for value in values:
        value = str(value).strip()[:MAX_VALUE_LENGTH]
        if value and value not in cleaned:
            cleaned.append(value)
    return cleaned[:MAX_VALUES]


# --- what the user sees and changes ----------------------------------------------------------


def memory_panel(*, user: AbstractBaseUser, character: Character) -> Panel:
    facts = list(
        Fact.objects.filter(user_id=user.pk, character=character).exclude(state=Fact.State.DELETED)
    )
    summary = Summary.objects.filter(user_id=user.pk, character=character).first()
    return Panel(facts=facts, summary=summary, version=_version(facts, summary))


def _version(facts: list[Fact], summary: Summary | None) -> str:
    """Changes whenever what the panel shows changes (a cheap check for its refreshes)."""
    latest = max((f.updated_at for f in facts), default=None)
    stamp = latest.timestamp() if latest else 0
    return f"{len(facts)}-{stamp:.6f}-{summary.pk if summary else 0}"


def fact_for_user(user: AbstractBaseUser, fact_id: int) -> Fact:
    fact = (
        Fact.objects.select_related("character")
        .filter(pk=fact_id, user_id=user.pk)
        .exclude(state=Fact.State.DELETED)
        .first()
    )
    if fact is None or not user.is_authenticated:
        raise FactNotFound(fact_id)
    return fact


def fact_correct(*, user: AbstractBaseUser, fact_id: int, values: list[str]) -> Fact:
    """Replaces a fact's values with the user's; later extractions of the messages the user
    had written by now leave them alone."""
    with transaction.atomic():
        fact = _locked_fact(user, fact_id)
        fact.values = _clean_values(values)
        fact.state = Fact.State.CORRECTED
        fact.edited_through = _last_message_id(user.pk, fact.character_id)
        fact.updated_at = timezone.now()
        fact.save()
    return fact


def fact_delete(*, user: AbstractBaseUser, fact_id: int) -> None:
    """Forgets a fact; it comes back only if the user mentions it in a later message."""
    with transaction.atomic():
        fact = _locked_fact(user, fact_id)
        fact.values = []
        fact.state = Fact.State.DELETED
        fact.edited_through = _last_message_id(user.pk, fact.character_id)
        fact.updated_at = timezone.now()
        fact.save()


def _locked_fact(user: AbstractBaseUser, fact_id: int) -> Fact:
    fact_for_user(user, fact_id)
    return Fact.objects.select_for_update().get(pk=fact_id)


# --- chats and resets ------------------------------------------------------------------------


def memory_for_chat(*, user_id: int, character_id: int) -> ChatMemory:
    facts = Fact.objects.filter(user_id=user_id, character_id=character_id).exclude(
        state=Fact.State.DELETED
    )
    summary = (
        Summary.objects.filter(user_id=user_id, character_id=character_id)
        .values_list("sentences", flat=True)
        .first()
    )
    return ChatMemory(
        facts=tuple(Extracted(f.key, tuple(f.values)) for f in facts if f.values),
        summary=tuple(summary or ()),
    )


def memory_after_reset(*, user_id: int, character: Character) -> None:
    """Forgets everything about the user when the character's reset forgets memories; the
    turns so far are never read again. Call inside the reset's transaction."""
    if not character.reset_forgets_memories:
        return
    Fact.objects.filter(user_id=user_id, character=character).delete()
    Summary.objects.filter(user_id=user_id, character=character).delete()
    progress = _lock_progress(user_id, character.pk)
    progress.extracted_through = max(
        progress.extracted_through, _last_message_id(user_id, character.pk)
    )
    progress.save(update_fields=["extracted_through"])


# --- helpers ---------------------------------------------------------------------------------


def _messages_of(user_id: int, character_id: int):  # noqa: ANN202 - a Message queryset
    return Message.objects.filter(session__user_id=user_id, session__character_id=character_id)


def _last_message_id(user_id: int, character_id: int) -> int:
    found = _messages_of(user_id, character_id).aggregate(last=Max("pk"))["last"]
    return found or 0


def _progress_of(user_id: int, character_id: int) -> int:
    found = (
        Progress.objects.filter(user_id=user_id, character_id=character_id)
        .values_list("extracted_through", flat=True)
        .first()
    )
    return found or 0


def _lock_progress(user_id: int, character_id: int) -> Progress:
    Progress.objects.get_or_create(user_id=user_id, character_id=character_id)
    return Progress.objects.select_for_update().get(user_id=user_id, character_id=character_id)


def _memory_job_active(user_id: int, character_id: int) -> bool:
    return Job.objects.filter(
        owner_id=user_id, character_id=character_id, kind=Job.Kind.MEMORY, status__in=Job.ACTIVE
    ).exists()
