"""The chats list: finding a user's conversations, renaming, deleting with undo, grouping.

A deleted conversation stays in the database, hidden from its user for good: its messages may
carry what other people made and still see (raters' ratings and their exports, pictures in the
jobs list), which a cascading delete would take with it. Only its user can undo the deletion,
and only for `UNDO_WINDOW` afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext

from characters.models import Character
from conversations.models import ChatSession, Message
from conversations.replies import ReplyError, upstream_for
from conversations.services import (
    ChatRefused,
    SessionNotFound,
    biz_user_id,
    message_is_streaming,
)
from memories import services as memories
from project.upstream import run_sync

# The list offers Undo for UNDO_SECONDS; the server takes a click that arrives a little later
# (a slow network) until UNDO_WINDOW has passed.
UNDO_SECONDS = 10
UNDO_WINDOW = timedelta(seconds=30)
RECENT_CHATS = 8


@dataclass(frozen=True)
class ArchivedGroup:
    """A character's archived conversations, most recent first."""

    character: Character
    sessions: list[ChatSession] = field(default_factory=list)


@dataclass(frozen=True)
class ChatsList:
    current: list[ChatSession]
    archived: list[ArchivedGroup]

    def is_empty(self) -> bool:
        return not self.current and not self.archived


def session_find(*, user: AbstractBaseUser, query: str = "") -> QuerySet[ChatSession]:
    """The user's conversations, most recent first, each with its last shown message; with a
    `query`, those whose title, character's name or a shown message contain it, each with its
    newest matching message (`match_content`). One query either way."""
    shown = Message.objects.filter(session=OuterRef("pk"), is_chosen=True).order_by("-id")
    sessions = (
        _visible(user)
        .select_related("character")
        .annotate(
            last_role=Subquery(shown.values("role")[:1]),
            last_content=Subquery(shown.values("content")[:1]),
            last_at=Subquery(shown.values("created_at")[:1]),
        )
        .order_by("-updated_at", "-pk")
    )
    if not query:
        return sessions
    # Plain LIKE scans of the user's own messages (reached through the message_history_page
    # index): the same on SQLite and PostgreSQL, and fast at one person's scale.
    matching = shown.filter(content__icontains=query)
    return sessions.annotate(match_content=Subquery(matching.values("content")[:1])).filter(
        Q(title__icontains=query) | Q(character__name__icontains=query) | Exists(matching)
    )


def session_groups(sessions: QuerySet[ChatSession]) -> ChatsList:
    """Active conversations in one list; archived ones under their character, the character
    with the most recent conversation first."""
    current: list[ChatSession] = []
    archived: dict[int, ArchivedGroup] = {}
    for session in sessions:
        if session.is_active():
            current.append(session)
            continue
        group = archived.setdefault(session.character_id, ArchivedGroup(session.character))
        group.sessions.append(session)
    return ChatsList(current=current, archived=list(archived.values()))


def session_recent(*, user: AbstractBaseUser, limit: int = RECENT_CHATS) -> list[ChatSession]:
    return list(_visible(user).select_related("character").order_by("-updated_at", "-pk")[:limit])


def session_rename(*, session: ChatSession, title: str) -> ChatSession:
    """An empty title brings back the default one (the character's name and the date)."""
    session.title = title.strip()
    session.save(update_fields=["title"])
    return session


def session_delete(*, session: ChatSession, user: AbstractBaseUser) -> ChatSession:
    """Hides the conversation from `user`, its owner.

    An active conversation is first forgotten upstream as a reset does, and archived: a new
    chat with the character then starts afresh, and no history import brings the deleted
    turns back into it. An undo therefore brings it back archived.
    """
    was_active = session.is_active()
    if was_active:
        _forget_upstream(session, user)
    with transaction.atomic():
        if was_active:
            memories.memory_after_reset(user_id=user.pk, character=session.character)
        session.status = ChatSession.Status.ARCHIVED
        session.deleted_at = timezone.now()
        session.save(update_fields=["status", "deleted_at"])
    return session


def session_restore(*, user: AbstractBaseUser, session_id: int) -> ChatSession:
    """Undoes a deletion made less than `UNDO_WINDOW` ago; SessionNotFound otherwise (also for
    another user's conversation)."""
    session = (
        ChatSession.objects.select_related("character")
        .filter(
            pk=session_id,
            user_id=user.pk,
            deleted_at__gte=timezone.now() - UNDO_WINDOW,
        )
        .first()
    )
    if session is None:
        raise SessionNotFound(session_id)
    session.deleted_at = None
    session.save(update_fields=["deleted_at"])
    return session


def _visible(user: AbstractBaseUser) -> QuerySet[ChatSession]:
    return ChatSession.objects.filter(user_id=user.pk, deleted_at__isnull=True)


def _forget_upstream(session: ChatSession, user: AbstractBaseUser) -> None:
    if message_is_streaming(session_id=session.pk):
        raise ChatRefused(
            "busy", gettext("Wait for the reply to finish (or stop it) before deleting.")
        )
    character = session.character
    if not character.is_available():
        return  # unreachable now; and while it cannot chat, no new chat imports from it
    upstream = upstream_for(character)
    try:
        run_sync(lambda: upstream.reset(character=character, user_id=biz_user_id(user.pk)))
    except ReplyError as exc:
        raise ChatRefused(exc.code, exc.message) from exc
