"""Factories: plain functions that create rows with sensible defaults, overridable by keyword."""

from __future__ import annotations

import io
import itertools
from typing import Any

from django.core.files.base import ContentFile
from PIL import Image

from characters import services
from characters.models import Character, SyncState

_sequence = itertools.count(1)


def png_bytes(width: int = 128, height: int = 128, colour: str = "#4b5fd6") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def character_create(**overrides: Any) -> Character:
    """A local character row, not pushed anywhere (set `remote_id` to fake a synced one)."""
    n = next(_sequence)
    fields: dict[str, Any] = {
        "name": f"Character {n}",
        "introduction": f"Introduction of character {n}.",
        "basic_information": f"You are character {n}, friendly and curious.",
        "opening_line": f"Hello, I am character {n}.",
    }
    fields.update(overrides)
    if fields.get("remote_id"):
        fields.setdefault("sync_state", SyncState.SYNCED)
        fields.setdefault("pushed_revision", 1)
    return Character.objects.create(**fields)


def character_create_synced(*, avatar: bool = False, **overrides: Any) -> Character:
    """A character created on the upstream (the simulator in tests) through the outbox."""
    character = character_create(sync_state=SyncState.PENDING, **overrides)
    if avatar:
        character.avatar.save("avatar.png", ContentFile(png_bytes()), save=True)
    outcome = services.character_push_now(character=character)
    assert outcome.state == "sent", outcome.message
    character.refresh_from_db()
    return character


# --- chat -----------------------------------------------------------------------------------


def chat_session_create(*, user: Any, character: Character | None = None, **overrides: Any) -> Any:
    """A chat session row (no opening line: use `conversations.services.session_start` for one)."""
    from conversations.models import ChatSession

    character = character or character_create(remote_id=f"remote-{next(_sequence)}")
    return ChatSession.objects.create(user=user, character=character, **overrides)


def message_create(*, session: Any, **overrides: Any) -> Any:
    """A finished message; `role="assistant"` with `query=` makes a reply to that question."""
    from django.utils import timezone

    from conversations.models import Message

    fields: dict[str, Any] = {"role": "user", "content": f"Message {next(_sequence)}"}
    if overrides.get("state") == "streaming":
        fields["heartbeat_at"] = timezone.now()  # a reply being written holds a lease
    fields.update(overrides)
    return Message.objects.create(session=session, **fields)
