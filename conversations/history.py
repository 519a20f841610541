"""Import of messages made on the upstream side (reminders, other clients) into a session.

It runs in the server process, started by a socket opening on the session, so the frames of
what it adds reach that socket on every configuration (no worker in between). Each session is
imported at most once per `CHAT_HISTORY_IMPORT_INTERVAL` per process: the upstream's rate
limit is small (Xingchen: 1 request per second per key).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conversations import events
from conversations.models import ChatSession, Message
from conversations.outbound import outbound_for
from conversations.replies import HistoryRecord, ReplyError, upstream_for
from conversations.services import biz_user_id, message_is_streaming
from project.asyncdb import db_sync_to_async

logger = logging.getLogger(__name__)

_last_import: dict[int, float] = {}
_running: dict[int, asyncio.Task[list[Message]]] = {}


def history_import_soon(session_id: int) -> asyncio.Task[list[Message]] | None:
    """Starts an import of the session in the background unless one ran recently."""
    if session_id in _running:
        return _running[session_id]
    last = _last_import.get(session_id)
    if last is not None and time.monotonic() - last < settings.CHAT_HISTORY_IMPORT_INTERVAL:
        return None
    _last_import[session_id] = time.monotonic()
    task = asyncio.get_running_loop().create_task(_import_logged(session_id))
    _running[session_id] = task
    task.add_done_callback(lambda _: _running.pop(session_id, None))
    return task


async def wait_for_imports(timeout: float) -> None:
    """Waits until the imports running in this process have ended (tests use it)."""
    running = list(_running.values())
    if running:
        await asyncio.wait(running, timeout=timeout)


async def history_import(*, session_id: int) -> list[Message]:
    """Adds the session's upstream messages it does not have yet; running it again adds nothing.

    Skipped while a reply is being written: its ids are recorded when it ends.
    """
    plan = await db_sync_to_async(_plan)(session_id)
    if plan is None:
        return []
    records = await upstream_for(plan.session.character).history(
        character=plan.session.character,
        user_id=plan.user_id,
        session_id=plan.session.remote_session_id,
        known=plan.known,
    )
    return await db_sync_to_async(_merge)(plan, records)


async def _import_logged(session_id: int) -> list[Message]:
    try:
        return await history_import(session_id=session_id)
    except ReplyError as exc:
        logger.warning("History of session %s not imported: %s", session_id, exc.message)
    except Exception:
        logger.exception("History of session %s not imported", session_id)
    return []


@dataclass(frozen=True)
class _Plan:
    session: ChatSession
    user_id: str
    known: set[str]


def _plan(session_id: int) -> _Plan | None:
    session = ChatSession.objects.select_related("character").filter(pk=session_id).first()
    if session is None or not session.is_active() or not session.character.remote_id:
        return None
    if not upstream_for(session.character).keeps_history:
        return None  # the conversation lives here only
    if message_is_streaming(session_id=session_id):
        return None
    known = set(
        Message.objects.filter(session=session)
        .exclude(remote_message_id="")
        .values_list("remote_message_id", flat=True)
    )
    return _Plan(session=session, user_id=biz_user_id(session.user_id), known=known)


def _belongs(record: HistoryRecord, plan: _Plan) -> bool:
    """Only the conversation's own user's records: an upstream that ignored the user filter
    must not bring another user's messages in."""
    if record.owner_id is not None:
        return record.owner_id == plan.user_id
    return bool(record.session_id) and record.session_id == plan.session.remote_session_id


def _merge(plan: _Plan, records: list[HistoryRecord]) -> list[Message]:
    session = plan.session
    # The upstream saw placeholders where this conversation masks personal data.
    outbound = outbound_for(session)
    records = [
        dataclasses.replace(r, content=outbound.restore(r.content))
        for r in records
        if _belongs(r, plan)
    ]
    with transaction.atomic():
        if message_is_streaming(session_id=session.pk):
            return []
        created = _merge_records(session, records)
        if created:
            ChatSession.objects.filter(pk=session.pk).update(updated_at=timezone.now())
        for message in created:
            events.message_created(message, character=session.character)
    return created


def _merge_records(session: ChatSession, records: list[HistoryRecord]) -> list[Message]:
    local = list(Message.objects.filter(session=session).order_by("pk"))
    known = {m.remote_message_id for m in local if m.remote_message_id}
    # The turns the user deleted here stay upstream: their hidden markers keep them out.
    deleted_turns = {m.chat_id for m in local if m.role == Message.Role.SYSTEM and m.chat_id}
    unmatched = [m for m in local if not m.remote_message_id and m.is_final()]
    questions = {m.chat_id: m for m in local if m.role == Message.Role.USER and m.chat_id}
    created: list[Message] = []
    for record in records:
        if record.message_id in known or record.chat_id in deleted_turns:
            continue
        twin = next((m for m in unmatched if _same_message(m, record)), None)
        if twin is not None:
            # Ours, sent before its id was known (the opening line, an interrupted turn).
            unmatched.remove(twin)
            Message.objects.filter(pk=twin.pk).update(
                remote_message_id=record.message_id, chat_id=record.chat_id or twin.chat_id
            )
            continue
        message = _imported_message(session, record, questions)
        if message.role == Message.Role.USER and message.chat_id:
            questions[message.chat_id] = message
        known.add(record.message_id)
        created.append(message)
    remote_session_id = next((r.session_id for r in records if r.session_id), "")
    if remote_session_id and not session.remote_session_id:
        ChatSession.objects.filter(pk=session.pk).update(remote_session_id=remote_session_id)
    return created


def _same_message(local: Message, record: HistoryRecord) -> bool:
    return local.role == record.role and local.content.strip() == record.content.strip()


def _imported_message(
    session: ChatSession, record: HistoryRecord, questions: dict[str, Message]
) -> Message:
    query = questions.get(record.chat_id) if record.role == Message.Role.ASSISTANT else None
    if record.role == Message.Role.USER:
        kind = Message.Kind.CHAT
    elif record.is_opening:
        kind = Message.Kind.OPENING
    else:
        kind = Message.Kind.CHAT if query is not None else Message.Kind.REMINDER
    siblings = query.replies.count() if query is not None else 0
    return Message.objects.create(
        session=session,
        role=record.role,
        kind=kind,
        content=record.content,
        query=query,
        alternative_index=siblings,
        is_chosen=siblings == 0,
        remote_message_id=record.message_id,
        chat_id=record.chat_id,
        created_at=record.created_at or timezone.now(),
    )
