"""Chat business rules: sessions, messages and their alternatives, reset, history import.

Every function here is synchronous and transactional; the websocket consumer calls them through
`database_sync_to_async`, views and tasks call them directly. Frames for open sockets are sent
by `events` after the transaction commits. The upstream generation itself lives in `streaming`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Case, OuterRef, QuerySet, Subquery, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.services import profile_for
from characters.models import Character
from conversations import events
from conversations.models import ChatSession, Message
from conversations.protocol import ErrorCode
from platforms.xingchen.errors import XingchenError
from platforms.xingchen.types import ChatMessage, HistoryQuery
from project.upstream import call_sync

logger = logging.getLogger(__name__)

HISTORY_PAGE_SIZE = 50
HISTORY_MAX_PAGES = 4


class ChatRefused(Exception):
    """A chat action the rules do not allow now; `message` is meant for the user."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message


@dataclass(frozen=True)
class Turn:
    """Everything a generation needs, read in the transaction that committed its messages."""

    session_id: int
    user_id: int
    reply_id: int
    query_id: int
    content: str
    character: Character
    biz_user_id: str
    user_name: str
    user_basic_info: str
    scenario: str
    is_regenerate: bool = False
    remote_query_id: str | None = None  # the user message's id upstream, for a regenerate
    answer_id: str | None = None  # the adopted alternative of the previous turn


@dataclass(frozen=True)
class SendResult:
    message: Message
    turn: Turn | None  # None when the client_id was already used: nothing new happened


@dataclass(frozen=True)
class ReplyOutcome:
    """How a generation ended, as the database keeps it."""

    state: str
    text: str
    error: str = ""
    error_code: ErrorCode | None = None
    request_id: str = ""
    answer_id: str = ""
    remote_query_id: str = ""
    chat_id: str = ""
    remote_session_id: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    has_risk: bool = False
    safety_std_answer: str = ""
    function_call: dict[str, object] | None = None


# --- access ---------------------------------------------------------------------------------


def _get_session_for_user(user: AbstractBaseUser | AnonymousUser, session_id: int) -> ChatSession:
    """The user's session with its character, or 404 (also for someone else's session)."""
    if not user.is_authenticated:
        raise Http404("No such conversation.")
    sessions = ChatSession.objects.select_related("character")
    return get_object_or_404(sessions, pk=session_id, user_id=user.pk)


def biz_user_id(user_id: int) -> str:
    """The stable id Xingchen knows this user by (userProfile.userId, bizUserId).

    The prefix tells installs sharing one API key apart; changing it later loses the users'
    Xingchen-side histories.
    """
    return f"{settings.XINGCHEN_USER_ID_PREFIX}{user_id}"


# --- sessions -------------------------------------------------------------------------------


def session_start(*, user: AbstractBaseUser, character: Character) -> ChatSession:
    """The user's active session with `character`; a new one begins with the opening line.

    An existing session is resumed even when the character cannot chat now: its history stays
    readable.
    """
    active = ChatSession.objects.filter(
        user_id=user.pk, character=character, status=ChatSession.Status.ACTIVE
    ).first()
    if active is not None:
        return active
    if not character.is_available():
        raise ChatRefused("forbidden", character.unavailable_reason())
    with transaction.atomic():
        session, created = ChatSession.objects.get_or_create(
            user=user, character=character, status=ChatSession.Status.ACTIVE
        )
        if created and character.opening_line.strip():
            Message.objects.create(
                session=session,
                role=Message.Role.ASSISTANT,
                kind=Message.Kind.OPENING,
                content=character.opening_line,
            )
    return session


def session_reset(*, session: ChatSession, user: AbstractBaseUser) -> ChatSession:
    """Clears Xingchen's memory of the conversation, archives `session`, starts a new one."""
    if not session.is_active():
        raise ChatRefused("forbidden", "This conversation is archived and read-only.")
    if _is_streaming(session):
        raise ChatRefused("busy", "Wait for the reply to finish (or stop it) before resetting.")
    character = session.character
    if not character.is_available():
        raise ChatRefused("forbidden", character.unavailable_reason())
    try:
        call_sync(
            lambda client: client.chat_reset(
                character_id=character.remote_id or "", user_id=biz_user_id(user.pk)
            )
        )
    except XingchenError as exc:
        code, message = describe_upstream_error(exc, partial=False)
        raise ChatRefused(code, message) from exc
    with transaction.atomic():
        ChatSession.objects.filter(pk=session.pk).update(status=ChatSession.Status.ARCHIVED)
        return session_start(user=user, character=character)


def session_set_scenario(*, session: ChatSession, scenario: str) -> ChatSession:
    if not session.is_active():
        raise ChatRefused("forbidden", "This conversation is archived and read-only.")
    session.scenario = scenario.strip()
    session.save(update_fields=["scenario"])
    return session


def session_list(*, user: AbstractBaseUser) -> QuerySet[ChatSession]:
    """The user's sessions, most recent first, each with its last shown message."""
    last = Message.objects.filter(session=OuterRef("pk"), is_chosen=True).order_by("-id")
    return (
        ChatSession.objects.filter(user_id=user.pk)
        .select_related("character")
        .annotate(
            last_role=Subquery(last.values("role")[:1]),
            last_content=Subquery(last.values("content")[:1]),
            last_at=Subquery(last.values("created_at")[:1]),
        )
        .order_by("-updated_at", "-pk")
    )


def session_history(
    *, session: ChatSession, before: int | None, size: int
) -> tuple[list[Message], bool]:
    """One page of shown messages, oldest first, and whether older ones exist."""
    shown = Message.objects.filter(session=session, is_chosen=True)
    if before is not None:
        shown = shown.filter(pk__lt=before)
    rows = list(shown.order_by("-pk")[: size + 1])
    return rows[:size][::-1], len(rows) > size


def latest_alternatives(*, session: ChatSession) -> list[int]:
    """Ids of the replies to the session's latest question, in the order they were made."""
    last_query = (
        Message.objects.filter(session=session, role=Message.Role.USER).order_by("-pk").first()
    )
    if last_query is None:
        return []
    return list(last_query.replies.order_by("alternative_index").values_list("pk", flat=True))


# --- messages -------------------------------------------------------------------------------


def message_send(
    *, session: ChatSession, user: AbstractBaseUser, content: str, client_id: str | None
) -> SendResult:
    """Commits the user's message and an empty reply in state streaming.

    The generation is started by the caller once this returns: the message is in the database
    before anything goes upstream. A `client_id` seen before returns that message and no turn.
    """
    with transaction.atomic():
        _lock_user(user.pk)
        if client_id:
            existing = Message.objects.filter(session_id=session.pk, client_id=client_id).first()
            if existing is not None:
                return SendResult(message=existing, turn=None)
        session = _writable_session(session.pk)
        _ensure_can_chat(session)
        _ensure_idle(user.pk)
        answer_id = _adopted_answer_id(session)
        query = Message.objects.create(
            session=session, role=Message.Role.USER, content=content, client_id=client_id or ""
        )
        reply = Message.objects.create(
            session=session, role=Message.Role.ASSISTANT, query=query, state=Message.State.STREAMING
        )
        _touch(session)
        events.message_created(query, character=session.character)
        events.reply_started(reply, character=session.character)
    turn = _turn(session, user, query=query, reply=reply, answer_id=answer_id)
    return SendResult(message=query, turn=turn)


def message_regenerate(*, session: ChatSession, user: AbstractBaseUser) -> Turn:
    """Adds another reply to the session's last question; it becomes the chosen one."""
    with transaction.atomic():
        _lock_user(user.pk)
        session = _writable_session(session.pk)
        _ensure_can_chat(session)
        _ensure_idle(user.pk)
        last = Message.objects.filter(session=session).order_by("-pk").first()
        if last is None or last.role != Message.Role.ASSISTANT or last.query_id is None:
            raise ChatRefused("invalid", "There is no reply to regenerate.")
        query = last.query
        assert query is not None
        count = query.replies.count()
        query.replies.update(is_chosen=False)
        reply = Message.objects.create(
            session=session,
            role=Message.Role.ASSISTANT,
            query=query,
            alternative_index=count,
            state=Message.State.STREAMING,
        )
        _touch(session)
        events.reply_started(reply, character=session.character)
    # Xingchen can only regenerate a question it recorded; one that never got through is
    # simply asked again, its new answer kept as an alternative here.
    return _turn(
        session,
        user,
        query=query,
        reply=reply,
        is_regenerate=bool(query.remote_message_id),
        remote_query_id=query.remote_message_id or None,
    )


def message_choose(*, session: ChatSession, user: AbstractBaseUser, message_id: int) -> Message:
    """Shows alternative `message_id` of the last question; the next turn adopts it."""
    with transaction.atomic():
        session = _writable_session(session.pk)
        chosen = (
            Message.objects.filter(
                session=session, pk=message_id, role=Message.Role.ASSISTANT, query__isnull=False
            )
            .select_related("query")
            .first()
        )
        if chosen is None:
            raise ChatRefused("invalid", "That reply is not part of this conversation.")
        if chosen.query_id != _latest_query_id(session):
            raise ChatRefused("invalid", "Only the replies to the last message can be switched.")
        siblings = Message.objects.filter(query_id=chosen.query_id)
        if siblings.filter(state=Message.State.STREAMING).exists():
            raise ChatRefused("busy", "Wait for the reply to finish before switching.")
        siblings.update(is_chosen=Case(When(pk=chosen.pk, then=Value(True)), default=Value(False)))
        chosen.is_chosen = True
        events.message_created(chosen, character=session.character)
    return chosen


def message_progress_save(*, reply_id: int, text: str, seq: int) -> None:
    """Saves the text streamed so far (one UPDATE): a crash or reconnect loses nothing."""
    Message.objects.filter(pk=reply_id, state=Message.State.STREAMING).update(
        content=text, stream_seq=seq
    )


def message_stop_request(*, session_id: int) -> bool:
    """Flags the session's reply being written for Stop; False when none is being written."""
    streaming = Message.objects.filter(session_id=session_id, state=Message.State.STREAMING)
    return streaming.update(stop_requested=True) > 0


def message_stop_requested(*, reply_id: int) -> bool:
    return Message.objects.filter(pk=reply_id, stop_requested=True).exists()


def message_finish(*, reply_id: int, outcome: ReplyOutcome, seq: int) -> Message:
    """Saves how the reply ended and tells the open sockets (`done`, then any `error`)."""
    with transaction.atomic():
        reply = Message.objects.select_related("session__character").get(pk=reply_id)
        _apply_outcome(reply, outcome, seq)
        reply.save()
        if reply.query_id and (outcome.remote_query_id or outcome.chat_id):
            _record_query_ids(reply, outcome)
        session_updates: dict[str, Any] = {"updated_at": timezone.now()}
        if outcome.remote_session_id:
            session_updates["remote_session_id"] = outcome.remote_session_id
        ChatSession.objects.filter(pk=reply.session_id).update(**session_updates)
        events.reply_done(reply, character=reply.session.character)
        if outcome.error_code:
            events.error(reply.session_id, outcome.error_code, outcome.error)
    return reply


def message_recover_interrupted() -> int:
    """Marks replies left streaming by a stopped process as interrupted; run at start-up only."""
    return Message.objects.filter(state=Message.State.STREAMING).update(
        state=Message.State.INTERRUPTED,
        error="The reply was cut off when the server restarted. Regenerate it or send again.",
    )


def describe_upstream_error(exc: XingchenError, *, partial: bool) -> tuple[ErrorCode, str]:
    """An upstream failure as an error code and a sentence a user understands."""
    kept = " The text so far is kept." if partial else ""
    if exc.status == 429:
        wait = f"in {math.ceil(exc.retry_after)} s" if exc.retry_after else "in a few seconds"
        return "rate_limited", f"Xingchen is busy, try again {wait}.{kept}"
    if exc.kind == "timeout":
        return "upstream", f"Xingchen stopped answering in the middle of the reply.{kept}"
    if exc.kind in ("cut", "network"):
        return "upstream", f"The connection to Xingchen broke off.{kept}"
    if exc.kind == "malformed":
        return "upstream", f"Xingchen sent something unreadable, so the reply ended early.{kept}"
    if exc.status in (401, 403):
        return "upstream", "Xingchen refused the request: the API key is not accepted."
    if exc.status is not None and exc.status >= 500:
        return "upstream", f"Xingchen had a server error (HTTP {exc.status}); try again.{kept}"
    return "upstream", f"Xingchen could not answer: {exc.message[:160]}{kept}"


def _apply_outcome(reply: Message, outcome: ReplyOutcome, seq: int) -> None:
    reply.state = outcome.state
    reply.content = outcome.text
    reply.stream_seq = seq
    reply.error = outcome.error[:300]
    reply.request_id = outcome.request_id
    reply.chat_id = outcome.chat_id
    reply.remote_query_id = outcome.remote_query_id
    reply.input_tokens = outcome.input_tokens
    reply.output_tokens = outcome.output_tokens
    reply.has_risk = outcome.has_risk
    reply.safety_std_answer = outcome.safety_std_answer
    reply.function_call = outcome.function_call
    taken = Message.objects.filter(session_id=reply.session_id, remote_message_id=outcome.answer_id)
    # A reply imported from the history meanwhile already holds this id: keep the reply anyway.
    if outcome.answer_id and not taken.exists():
        reply.remote_message_id = outcome.answer_id


def _record_query_ids(reply: Message, outcome: ReplyOutcome) -> None:
    updates: dict[str, str] = {}
    if outcome.chat_id:
        updates["chat_id"] = outcome.chat_id
    taken = Message.objects.filter(
        session_id=reply.session_id, remote_message_id=outcome.remote_query_id
    )
    if outcome.remote_query_id and not taken.exists():
        updates["remote_message_id"] = outcome.remote_query_id
    if updates:
        Message.objects.filter(pk=reply.query_id).update(**updates)


def _lock_user(user_id: int) -> None:
    # Serialises one user's sends and regenerates (PostgreSQL row lock; SQLite's IMMEDIATE
    # transactions already serialise writers), so two sockets racing get one `busy`.
    get_user_model().objects.select_for_update().filter(pk=user_id).first()


def _writable_session(session_id: int) -> ChatSession:
    session = ChatSession.objects.select_related("character").get(pk=session_id)
    if not session.is_active():
        raise ChatRefused("forbidden", "This conversation is archived and read-only.")
    return session


def _ensure_can_chat(session: ChatSession) -> None:
    if not session.character.is_available():
        raise ChatRefused("forbidden", session.character.unavailable_reason())


def _ensure_idle(user_id: int) -> None:
    if Message.objects.filter(session__user_id=user_id, state=Message.State.STREAMING).exists():
        raise ChatRefused(
            "busy", "A reply is still being written. Wait for it to finish or stop it first."
        )


def _latest_query_id(session: ChatSession) -> int | None:
    return (
        Message.objects.filter(session=session, role=Message.Role.USER)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )


def _adopted_answer_id(session: ChatSession) -> str | None:
    """The answerId to adopt when the last question got several replies (Xingchen keeps the
    adopted one and drops its siblings)."""
    query_id = _latest_query_id(session)
    if query_id is None:
        return None
    replies = list(
        Message.objects.filter(query_id=query_id).values_list("remote_message_id", "is_chosen")
    )
    if len(replies) < 2:
        return None
    return next((remote_id for remote_id, chosen in replies if chosen and remote_id), None)


def _touch(session: ChatSession) -> None:
    ChatSession.objects.filter(pk=session.pk).update(updated_at=timezone.now())


def _turn(
    session: ChatSession,
    user: AbstractBaseUser,
    *,
    query: Message,
    reply: Message,
    answer_id: str | None = None,
    is_regenerate: bool = False,
    remote_query_id: str | None = None,
) -> Turn:
    profile = profile_for(user)
    return Turn(
        session_id=session.pk,
        user_id=user.pk,
        reply_id=reply.pk,
        query_id=query.pk,
        content=query.content,
        character=session.character,
        biz_user_id=biz_user_id(user.pk),
        user_name=profile.display_name or user.get_username(),
        user_basic_info=profile.basic_info,
        scenario=session.scenario,
        is_regenerate=is_regenerate,
        remote_query_id=remote_query_id,
        answer_id=answer_id,
    )


# --- history import -------------------------------------------------------------------------


def history_import(*, session: ChatSession) -> list[Message]:
    """Pulls messages made on the Xingchen side (reminders, other clients) into the session.

    Merges by remote message id, so running it again adds nothing. Skipped while a reply is
    being written: its ids are recorded when it ends.
    """
    character = session.character
    if not session.is_active() or not character.remote_id or _is_streaming(session):
        return []
    remote = _fetch_history(session, character.remote_id)
    with transaction.atomic():
        if _is_streaming(session):
            return []
        created = _merge_history(session, remote)
        if created:
            _touch(session)
        for message in created:
            events.message_created(message, character=character)
    return created


def _is_streaming(session: ChatSession) -> bool:
    return Message.objects.filter(session=session, state=Message.State.STREAMING).exists()


def _fetch_history(session: ChatSession, character_remote_id: str) -> list[ChatMessage]:
    """The session's upstream messages, oldest first, reading back only until known ones."""
    known = set(
        Message.objects.filter(session=session)
        .exclude(remote_message_id="")
        .values_list("remote_message_id", flat=True)
    )
    fetched: list[ChatMessage] = []
    for page_num in range(1, HISTORY_MAX_PAGES + 1):
        query = HistoryQuery(
            character_id=character_remote_id,
            biz_user_id=biz_user_id(session.user_id),
            session_id=session.remote_session_id or None,
            page_num=page_num,
            page_size=HISTORY_PAGE_SIZE,
            order_by=["gmtCreate desc"],
        )
        page = call_sync(lambda client, query=query: client.message_histories(query))
        fetched += [m for m in page.items if m.status != "reset"]
        if len(page.items) < HISTORY_PAGE_SIZE or any(m.message_id in known for m in page.items):
            break
    return fetched[::-1]


def _merge_history(session: ChatSession, remote: list[ChatMessage]) -> list[Message]:
    local = list(Message.objects.filter(session=session).order_by("pk"))
    known = {m.remote_message_id for m in local if m.remote_message_id}
    unmatched = [m for m in local if not m.remote_message_id and m.is_final()]
    questions = {m.chat_id: m for m in local if m.role == Message.Role.USER and m.chat_id}
    created: list[Message] = []
    for item in remote:
        if item.message_id in known or not item.message_id:
            continue
        role = Message.Role.USER if item.issuer_type == "user" else Message.Role.ASSISTANT
        twin = next((m for m in unmatched if _same_message(m, role, item)), None)
        if twin is not None:
            # Ours, sent before its id was known (the opening line, an interrupted turn).
            unmatched.remove(twin)
            Message.objects.filter(pk=twin.pk).update(
                remote_message_id=item.message_id, chat_id=item.chat_id or twin.chat_id
            )
            continue
        message = _imported_message(session, item, role, questions)
        if message.role == Message.Role.USER and message.chat_id:
            questions[message.chat_id] = message
        known.add(item.message_id)
        created.append(message)
    if not session.remote_session_id:
        remote_session_id = next((m.session_id for m in remote if m.session_id), "")
        ChatSession.objects.filter(pk=session.pk).update(remote_session_id=remote_session_id)
    return created


def _same_message(local: Message, role: str, item: ChatMessage) -> bool:
    return local.role == role and local.content.strip() == item.content.strip()


def _imported_message(
    session: ChatSession, item: ChatMessage, role: str, questions: dict[str, Message]
) -> Message:
    query = questions.get(item.chat_id or "") if role == Message.Role.ASSISTANT else None
    if role == Message.Role.USER:
        kind = Message.Kind.CHAT
    elif item.message_type == "opening_remarks":
        kind = Message.Kind.OPENING
    else:
        kind = Message.Kind.CHAT if query is not None else Message.Kind.REMINDER
    siblings = query.replies.count() if query is not None else 0
    return Message.objects.create(
        session=session,
        role=role,
        kind=kind,
        content=item.content,
        query=query,
        alternative_index=siblings,
        is_chosen=siblings == 0,
        remote_message_id=item.message_id,
        chat_id=item.chat_id or "",
        created_at=item.created_at or timezone.now(),
    )
