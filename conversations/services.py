"""Chat business rules: sessions, messages and their alternatives, reset, abandoned replies.

Every function here is synchronous and transactional; the websocket consumer calls them through
`project.asyncdb.db_sync_to_async`, views and tasks call them directly. Frames for open sockets
are sent by `events` after the transaction commits. The generation itself lives in `streaming`,
the import of upstream history in `history`; upstreams are reached through `replies` only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import Case, Q, QuerySet, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.services import profile_for
from characters.models import Character
from conversations import events
from conversations.models import ChatSession, Message
from conversations.outbound import AS_WRITTEN, Outbound, outbound_for, outbound_save
from conversations.protocol import ErrorCode
from conversations.rendering import REPLY_ERRORS
from conversations.replies import (
    ReplyError,
    ReplyIds,
    ReplyRequest,
    TranscriptLine,
    upstream_for,
)
from conversations.transcript import transcript_before
from jobs.kinds import picture as pictures
from memories import services as memories
from project.upstream import run_sync

logger = logging.getLogger(__name__)


class SessionNotFound(Exception):
    """No such session, or not the asking user's: both look the same from outside."""


class ChatRefused(Exception):
    """A chat action the rules do not allow now; `message` is meant for the user."""

    def __init__(self, code: ErrorCode, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = str(message)  # a lazy translation is resolved here, in the asker's language
        self.retry_after = retry_after  # when trying again can work


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
    is_alternative: bool = False  # another reply to an answered question
    remote_query_id: str | None = None  # the user message's id upstream, for a regenerate
    answer_id: str | None = None  # the adopted alternative of the previous turn
    memory: memories.ChatMemory = field(default_factory=memories.ChatMemory)
    transcript: tuple[TranscriptLine, ...] = ()  # for platforms that keep no history
    outbound: Outbound = AS_WRITTEN  # masks what leaves, restores what comes back
    language: str | None = None  # of who asked: the frames about the reply speak it

    def request(self) -> ReplyRequest:
        """What goes upstream; every text passes the conversation's `outbound` here."""
        text = self.outbound.text
        return ReplyRequest(
            character=self.character,
            user_id=self.biz_user_id,
            content=text(self.content),
            user_name=text(self.user_name),
            user_basic_info=text(self.user_basic_info),
            scenario=text(self.scenario),
            is_regenerate=self.is_regenerate,
            is_alternative=self.is_alternative,
            remote_query_id=self.remote_query_id,
            answer_id=self.answer_id,
            memory=self.memory.map_texts(text),
            transcript=tuple(
                TranscriptLine(line.role, text(line.content)) for line in self.transcript
            ),
        )


@dataclass(frozen=True)
class SendResult:
    message: Message
    turn: Turn | None  # None when the client_id was already used: nothing new happened


@dataclass(frozen=True)
class ReplyOutcome:
    """How a generation ended, as the database keeps it."""

    state: str
    text: str
    reasoning: str = ""
    error: str = ""
    error_code: ErrorCode | None = None
    retry_after: float | None = None  # seconds the upstream asked to wait before trying again
    ids: ReplyIds = field(default_factory=ReplyIds)
    input_tokens: int | None = None
    output_tokens: int | None = None
    has_risk: bool = False
    safety_std_answer: str = ""
    function_call: dict[str, object] | None = None
    masked_types: tuple[str, ...] = ()  # of the personal data restored in the text


# --- access ---------------------------------------------------------------------------------


def session_for_user(user: AbstractBaseUser | AnonymousUser, session_id: int) -> ChatSession:
    """The user's session with its character; SessionNotFound also for someone else's and
    for one its user deleted."""
    session = (
        ChatSession.objects.select_related("character")
        .filter(
            pk=session_id,
            user_id=user.pk if user.is_authenticated else None,
            deleted_at__isnull=True,
        )
        .first()
    )
    if session is None or not user.is_authenticated:
        raise SessionNotFound(session_id)
    return session


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
        raise ChatRefused("forbidden", _("This conversation is archived and read-only."))
    if message_is_streaming(session_id=session.pk):
        raise ChatRefused("busy", _("Wait for the reply to finish (or stop it) before resetting."))
    character = session.character
    if not character.is_available():
        raise ChatRefused("forbidden", character.unavailable_reason())
    upstream = upstream_for(character)
    try:
        run_sync(lambda: upstream.reset(character=character, user_id=biz_user_id(user.pk)))
    except ReplyError as exc:
        raise ChatRefused(exc.code, exc.message) from exc
    with transaction.atomic():
        ChatSession.objects.filter(pk=session.pk).update(status=ChatSession.Status.ARCHIVED)
        memories.memory_after_reset(user_id=user.pk, character=character)
        return session_start(user=user, character=character)


def session_set_scenario(*, session: ChatSession, scenario: str) -> ChatSession:
    if not session.is_active():
        raise ChatRefused("forbidden", _("This conversation is archived and read-only."))
    session.scenario = scenario.strip()
    session.save(update_fields=["scenario"])
    return session


def session_history(
    *, session: ChatSession, before: int | None, size: int
) -> tuple[list[Message], bool]:
    """One page of shown messages, oldest first, and whether older ones exist."""
    shown = Message.objects.filter(session=session, is_chosen=True)
    if before is not None:
        shown = shown.filter(pk__lt=before)
    rows = list(shown.prefetch_related("jobs__files", "feedback").order_by("-pk")[: size + 1])
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
        resent = _resent(session, client_id)
        if resent is not None:
            return resent
        session = _sendable_session(session.pk, user)
        return _send(session, user, content=content, client_id=client_id)


def message_edit_last(
    *,
    session: ChatSession,
    user: AbstractBaseUser,
    message_id: int,
    content: str,
    client_id: str | None,
) -> SendResult:
    """Replaces the user's last message `message_id` and its replies by `content`, sent as a
    new turn: both happen in one transaction, or neither. Refused like `message_send`, and
    like `message_delete_last_turn`. A `client_id` seen before returns that message and no turn.
    """
    with transaction.atomic():
        _lock_user(user.pk)
        resent = _resent(session, client_id)
        if resent is not None:
            return resent
        session = _sendable_session(session.pk, user)
        _delete_last_turn(session, message_id, show_new_last=False)
        return _send(session, user, content=content, client_id=client_id)


def message_delete_last_turn(
    *, session: ChatSession, user: AbstractBaseUser, message_id: int
) -> list[int]:
    """Deletes the user's last message `message_id` and its replies; returns their ids.

    Only the session's owner, only the last turn (nothing but its replies may follow it) and
    not while a reply of the session is being written. Platforms that keep the conversation
    (Xingchen) cannot delete a message: there it stays, and this session keeps a hidden
    marker of its upstream ids so the history import does not bring it back.
    """
    with transaction.atomic():
        _lock_user(user.pk)
        session = _writable_session(session.pk)
        _ensure_owner(session, user)
        if _live_streaming().filter(session_id=session.pk).exists():
            raise ChatRefused("busy", _("Wait for the reply to finish (or stop it) first."))
        return _delete_last_turn(session, message_id, show_new_last=True)


def _resent(session: ChatSession, client_id: str | None) -> SendResult | None:
    if not client_id:
        return None
    existing = Message.objects.filter(session_id=session.pk, client_id=client_id).first()
    return SendResult(message=existing, turn=None) if existing is not None else None


def _sendable_session(session_id: int, user: AbstractBaseUser) -> ChatSession:
    session = _writable_session(session_id)
    _ensure_owner(session, user)
    _ensure_can_chat(session)
    _ensure_idle(user.pk)
    return session


def _send(
    session: ChatSession, user: AbstractBaseUser, *, content: str, client_id: str | None
) -> SendResult:
    """Call inside the transaction holding the user's lock, the session checked."""
    answer_id = _adopted_answer_id(session)
    outbound = outbound_for(session)
    query = Message.objects.create(
        session=session,
        role=Message.Role.USER,
        content=content,
        client_id=client_id or "",
        masked_types=sorted(outbound.masked(content).types),
    )
    reply = Message.objects.create(
        session=session,
        role=Message.Role.ASSISTANT,
        query=query,
        state=Message.State.STREAMING,
        heartbeat_at=timezone.now(),
    )
    _touch(session)
    events.message_created(query, character=session.character)
    events.reply_started(reply, character=session.character)
    turn = _turn(session, user, query=query, reply=reply, answer_id=answer_id, outbound=outbound)
    return SendResult(message=query, turn=turn)


def _delete_last_turn(session: ChatSession, message_id: int, *, show_new_last: bool) -> list[int]:
    query = Message.objects.filter(session=session, role=Message.Role.USER).order_by("-pk").first()
    if query is None or query.pk != message_id:
        raise ChatRefused("invalid", _("Only your last message can be changed or deleted."))
    turn = Message.objects.filter(session=session, pk__gte=query.pk).exclude(
        role=Message.Role.SYSTEM
    )
    if turn.exclude(pk=query.pk).exclude(query_id=query.pk).exists():
        raise ChatRefused(
            "invalid", _("Something came after your last message, so it can no longer change.")
        )
    rows = list(turn.values_list("pk", "remote_message_id", "chat_id"))
    deleted = [pk for pk, _remote_id, _chat_id in rows]
    Message.objects.filter(pk__in=deleted).delete()
    if upstream_for(session.character).keeps_history:
        _remember_deleted(session, [(remote_id, chat_id) for _pk, remote_id, chat_id in rows])
    _touch(session)
    events.messages_deleted(session.pk, deleted)
    new_last = Message.objects.filter(session=session, is_chosen=True).order_by("-pk").first()
    if show_new_last and new_last is not None:
        # Regenerate and the alternatives belong to the last message: it shows them again.
        events.message_created(new_last, character=session.character)
    return deleted


def _remember_deleted(session: ChatSession, upstream_ids: list[tuple[str, str]]) -> None:
    """Hidden system rows holding the upstream ids of deleted messages: the history import
    counts them as known, and nothing shows, sends or rates a hidden system row."""
    Message.objects.bulk_create(
        Message(
            session=session,
            role=Message.Role.SYSTEM,
            is_chosen=False,
            remote_message_id=remote_id,
            chat_id=chat_id,
        )
        for remote_id, chat_id in upstream_ids
        if remote_id or chat_id
    )


def message_regenerate(*, session: ChatSession, user: AbstractBaseUser) -> Turn:
    """Adds another reply to the session's last question; it becomes the chosen one."""
    with transaction.atomic():
        _lock_user(user.pk)
        session = _writable_session(session.pk)
        _ensure_can_chat(session)
        _ensure_idle(user.pk)
        shown = Message.objects.filter(session=session).exclude(role=Message.Role.SYSTEM)
        last = shown.order_by("-pk").first()
        if last is None or last.role != Message.Role.ASSISTANT or last.query_id is None:
            raise ChatRefused("invalid", _("There is no reply to regenerate."))
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
            heartbeat_at=timezone.now(),
        )
        _touch(session)
        events.reply_started(reply, character=session.character)
        outbound = outbound_for(session)
    # Xingchen can only regenerate a question it recorded; one that never got through is
    # simply asked again, its new answer kept as an alternative here.
    return _turn(
        session,
        user,
        query=query,
        reply=reply,
        is_regenerate=bool(query.remote_message_id),
        is_alternative=True,
        remote_query_id=query.remote_message_id or None,
        outbound=outbound,
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
            raise ChatRefused("invalid", _("That reply is not part of this conversation."))
        if chosen.query_id != _latest_query_id(session):
            raise ChatRefused("invalid", _("Only the replies to the last message can be switched."))
        siblings = Message.objects.filter(query_id=chosen.query_id)
        if siblings.filter(state=Message.State.STREAMING).exists():
            raise ChatRefused("busy", _("Wait for the reply to finish before switching."))
        siblings.update(is_chosen=Case(When(pk=chosen.pk, then=Value(True)), default=Value(False)))
        chosen.is_chosen = True
        events.message_created(chosen, character=session.character)
    return chosen


def message_progress_save(*, reply_id: int, text: str, seq: int) -> None:
    """Saves the text streamed so far and renews the reply's lease (one UPDATE): a crash or
    a reconnect loses nothing."""
    Message.objects.filter(pk=reply_id, state=Message.State.STREAMING).update(
        content=text, stream_seq=seq, heartbeat_at=timezone.now()
    )


def message_heartbeat(*, reply_id: int) -> None:
    """Renews the lease of a reply still waiting for text, so the sweep leaves it alone."""
    Message.objects.filter(pk=reply_id, state=Message.State.STREAMING).update(
        heartbeat_at=timezone.now()
    )


def message_is_streaming(*, session_id: int) -> bool:
    """Whether a live reply of the session is being written (by any server process)."""
    return _live_streaming().filter(session_id=session_id).exists()


def message_finish(*, reply_id: int, outcome: ReplyOutcome, seq: int) -> Message:
    """Saves how the reply ended and tells the open sockets (`done`, then any `error`)."""
    with transaction.atomic():
        reply = Message.objects.select_related("session__character", "query").get(pk=reply_id)
        _apply_outcome(reply, outcome, seq)
        reply.save()
        if reply.query is not None:
            _record_query_ids(reply.query, outcome)
        # The session was moved forward when the turn began; only a new upstream id is saved.
        remote_session_id = outcome.ids.session_id
        if remote_session_id and remote_session_id != reply.session.remote_session_id:
            ChatSession.objects.filter(pk=reply.session_id).update(
                remote_session_id=remote_session_id
            )
        if reply.state == Message.State.COMPLETE:
            pictures.start_for_reply(reply)
            memories.memory_after_turn(reply=reply)
        events.reply_done(reply, character=reply.session.character)
        if outcome.error_code:
            error = REPLY_ERRORS.shown(outcome.error)
            events.reply_error(reply, outcome.error_code, error, outcome.retry_after)
    return reply


def message_end_abandoned(*, user_id: int | None = None) -> int:
    """Ends replies whose writing process died (their lease ran out) as interrupted.

    Run by a periodic sweep, at start-up, and before a user's next send; a reply still being
    written renews its lease well within `CHAT_REPLY_LEASE`, so no live reply is touched.
    """
    abandoned = Message.objects.filter(state=Message.State.STREAMING).exclude(_lease_alive())
    if user_id is not None:
        abandoned = abandoned.filter(session__user_id=user_id)
    with transaction.atomic():
        rows = abandoned.select_for_update(of=("self",)).select_related("session__character")
        replies = list(rows)
        for reply in replies:
            reply.state = Message.State.INTERRUPTED
            reply.error = gettext_noop(
                "The reply was cut off when the server stopped. Regenerate it or send again."
            )
            reply.save(update_fields=["state", "error"])
            events.reply_done(reply, character=reply.session.character)
    return len(replies)


def _apply_outcome(reply: Message, outcome: ReplyOutcome, seq: int) -> None:
    reply.state = outcome.state
    reply.content = outcome.text
    reply.reasoning = outcome.reasoning
    reply.stream_seq = seq
    reply.error = outcome.error[:300]
    reply.request_id = outcome.ids.request_id
    reply.chat_id = outcome.ids.chat_id
    reply.remote_query_id = outcome.ids.query_id
    reply.input_tokens = outcome.input_tokens
    reply.output_tokens = outcome.output_tokens
    reply.has_risk = outcome.has_risk
    reply.safety_std_answer = outcome.safety_std_answer
    reply.function_call = outcome.function_call
    reply.masked_types = list(outcome.masked_types)
    answer_id = outcome.ids.answer_id
    taken = Message.objects.filter(session_id=reply.session_id, remote_message_id=answer_id)
    # A reply imported from the history meanwhile already holds this id: keep the reply anyway.
    if answer_id and not taken.exists():
        reply.remote_message_id = answer_id


def _record_query_ids(query: Message, outcome: ReplyOutcome) -> None:
    """Gives the user's message the upstream ids learnt from its reply (once)."""
    updates: dict[str, str] = {}
    if outcome.ids.chat_id and outcome.ids.chat_id != query.chat_id:
        updates["chat_id"] = outcome.ids.chat_id
    query_id = outcome.ids.query_id
    if query_id and query_id != query.remote_message_id:
        taken = Message.objects.filter(session_id=query.session_id, remote_message_id=query_id)
        if not taken.exists():
            updates["remote_message_id"] = query_id
    if updates:
        Message.objects.filter(pk=query.pk).update(**updates)


def _lock_user(user_id: int) -> None:
    # Serialises one user's sends and regenerates (PostgreSQL row lock; SQLite's IMMEDIATE
    # transactions already serialise writers), so two sockets racing get one `busy`.
    get_user_model().objects.select_for_update().filter(pk=user_id).first()


def _writable_session(session_id: int) -> ChatSession:
    session = ChatSession.objects.select_related("character").get(pk=session_id)
    if not session.is_active():
        raise ChatRefused("forbidden", _("This conversation is archived and read-only."))
    return session


def _ensure_owner(session: ChatSession, user: AbstractBaseUser) -> None:
    if session.user_id != user.pk:
        raise ChatRefused("forbidden", _("Only the conversation's owner can do that."))


def _ensure_can_chat(session: ChatSession) -> None:
    if not session.character.is_available():
        raise ChatRefused("forbidden", session.character.unavailable_reason())


def _lease_cutoff() -> datetime:
    """Replies renewed before this are abandoned: their process stopped renewing them."""
    return timezone.now() - timedelta(seconds=settings.CHAT_REPLY_LEASE)


def _lease_alive() -> Q:
    return Q(heartbeat_at__gte=_lease_cutoff())


def _live_streaming() -> QuerySet[Message]:
    return Message.objects.filter(_lease_alive(), state=Message.State.STREAMING)


def _ensure_idle(user_id: int) -> None:
    leases = Message.objects.filter(
        session__user_id=user_id, state=Message.State.STREAMING
    ).values_list("heartbeat_at", flat=True)
    cutoff = _lease_cutoff()
    if not any(lease is not None and lease >= cutoff for lease in leases):
        if leases:  # only abandoned ones: end them, the user may go on
            message_end_abandoned(user_id=user_id)
        return
    raise ChatRefused(
        "busy", _("A reply is still being written. Wait for it to finish or stop it first.")
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
    is_alternative: bool = False,
    remote_query_id: str | None = None,
    outbound: Outbound = AS_WRITTEN,
) -> Turn:
    """The turn, its texts masked now: new values reach the vault before anything leaves."""
    profile = profile_for(user)
    keeps_history = upstream_for(session.character).keeps_history
    transcript = (
        ()
        if keeps_history
        else transcript_before(
            session_id=session.pk,
            message_id=query.pk,
            budget=settings.CHAT_TRANSCRIPT_TOKEN_BUDGET,
        )
    )
    turn = Turn(
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
        is_alternative=is_alternative,
        remote_query_id=remote_query_id,
        answer_id=answer_id,
        memory=memories.memory_for_chat(user_id=user.pk, character_id=session.character_id),
        transcript=transcript,
        outbound=outbound,
        language=translation.get_language(),
    )
    turn.request()
    outbound_save(session_id=session.pk, outbound=outbound)
    return turn
