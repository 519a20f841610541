"""Generations: one upstream reply stream per running reply, owned by the process, not a socket.

`generation_start` runs a reply as an asyncio task on the server's event loop and registers it
by session, so a closed tab does not stop it, a socket that connects later gets a snapshot, and
Stop can cancel it. Deltas are coalesced to the session's group every
`CHAT_STREAM_FLUSH_INTERVAL` seconds; the text is saved every `CHAT_DB_WRITE_INTERVAL` seconds
and always at the end.

Only `_reply_stream`, `_chat_request` and `_stop_upstream` (and the error wording in
`services.describe_upstream_error`) know that the upstream is Xingchen.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from asgiref.sync import ThreadSensitiveContext
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connections

from characters.sync import character_function_defs
from conversations import events, protocol, services
from conversations.models import Message
from conversations.outbound import outbound_text
from conversations.services import ReplyOutcome, Turn
from platforms.xingchen.errors import XingchenError
from platforms.xingchen.types import ChatEvent, ChatRequest, FunctionCall
from platforms.xingchen.types import Message as UpstreamMessage
from project.upstream import xingchen

logger = logging.getLogger(__name__)


@dataclass
class Generation:
    """A reply being written. `text[:sent]` is what the sockets were sent, in `seq` deltas."""

    turn: Turn
    text: str = ""
    sent: int = 0
    seq: int = 0
    saved_seq: int = 0
    restarted: bool = False
    last_event: ChatEvent | None = None
    has_risk: bool = False
    stop_requested: bool = False
    reader: asyncio.Task[None] | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


_by_session: dict[int, Generation] = {}


def generation_start(turn: Turn) -> Generation:
    """Runs the turn's reply in the background; call from the server's event loop.

    The registry holds the only strong reference the task needs: it outlives the socket that
    asked for it.
    """
    generation = Generation(turn=turn)
    _by_session[turn.session_id] = generation
    # A fresh context: the socket's context (and the database thread that goes with it) ends
    # when the socket closes, the reply must not.
    generation.task = asyncio.get_running_loop().create_task(
        _run_in_own_thread(generation), name=f"reply-{turn.reply_id}", context=contextvars.Context()
    )
    generation.task.add_done_callback(_log_failure)
    return generation


def generation_stop(session_id: int) -> bool:
    """Asks the session's running reply to stop; False when none runs in this process."""
    generation = _by_session.get(session_id)
    if generation is None or generation.stop_requested:
        return False
    generation.stop_requested = True
    if generation.reader is not None:
        generation.reader.cancel()
    return True


async def generation_stop_anywhere(session_id: int) -> bool:
    """Asks the session's running reply to stop, whichever server process writes it.

    A reply written here stops at once; one written by another process sees the flag at its
    next write interval. False when no reply of the session is being written.
    """
    if generation_stop(session_id):
        return True
    return await database_sync_to_async(services.message_stop_request)(session_id=session_id)


async def generation_snapshot(session_id: int) -> dict[str, object] | None:
    """The `snapshot` frame of the session's running reply, or None when none runs."""
    generation = _by_session.get(session_id)
    if generation is not None:
        turn = generation.turn
        return protocol.snapshot_frame(
            turn.reply_id, generation.seq, generation.text[: generation.sent]
        )
    # Written by another server process: the saved text and its seq come from the database.
    saved = await database_sync_to_async(_streaming_reply)(session_id)
    if saved is None:
        return None
    return protocol.snapshot_frame(saved.pk, saved.stream_seq, saved.content)


async def wait_for_generations(timeout: float) -> None:
    """Waits until every running reply of this process has ended (tests use it before they
    clean the database)."""
    tasks = [g.task for g in list(_by_session.values()) if g.task is not None]
    if tasks:
        await asyncio.wait(tasks, timeout=timeout)


def _streaming_reply(session_id: int) -> Message | None:
    return Message.objects.filter(session_id=session_id, state=Message.State.STREAMING).first()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("A reply generation failed", exc_info=task.exception())


# --- the generation -------------------------------------------------------------------------


async def _run_in_own_thread(generation: Generation) -> None:
    async with ThreadSensitiveContext():
        try:
            await _run(generation)
        finally:
            # The thread ends with the reply: its database connection must not outlive it.
            await database_sync_to_async(connections.close_all)()


async def _run(generation: Generation) -> None:
    turn = generation.turn
    try:
        generation.reader = asyncio.create_task(_read(generation))
        if generation.stop_requested:  # Stop came before the reply got going
            generation.reader.cancel()
        last_save = time.monotonic()
        while not generation.reader.done():
            await asyncio.wait({generation.reader}, timeout=settings.CHAT_STREAM_FLUSH_INTERVAL)
            await _flush(generation)
            due = time.monotonic() - last_save >= settings.CHAT_DB_WRITE_INTERVAL
            if due and not generation.reader.done():
                if generation.seq > generation.saved_seq:
                    await _save_progress(generation)
                if await _stop_requested_elsewhere(generation):
                    generation_stop(turn.session_id)
                last_save = time.monotonic()
        await _flush(generation)
        await _finish(generation, await _outcome(generation))
    finally:
        if generation.reader is not None and not generation.reader.done():
            generation.reader.cancel()
        _by_session.pop(turn.session_id, None)


async def _finish(generation: Generation, outcome: ReplyOutcome) -> None:
    finish = database_sync_to_async(services.message_finish)
    reply_id = generation.turn.reply_id
    try:
        await finish(reply_id=reply_id, outcome=outcome, seq=generation.seq)
    except Exception:
        # A reply left streaming would keep its user busy until a restart: end it plainly.
        logger.exception("Could not save the end of reply %s", reply_id)
        plain = ReplyOutcome(
            state=Message.State.INTERRUPTED if outcome.text else Message.State.FAILED,
            text=outcome.text,
            error="The reply could not be saved completely.",
        )
        await finish(reply_id=reply_id, outcome=plain, seq=generation.seq)


async def _read(generation: Generation) -> None:
    async with contextlib.aclosing(_reply_stream(generation.turn)) as stream:
        async for event in stream:
            _absorb(generation, event)
            if event.finished:
                return


def _absorb(generation: Generation, event: ChatEvent) -> None:
    if event.replaced:
        # The upstream rewrote its text instead of extending it: sockets get a fresh snapshot.
        generation.restarted = True
    generation.text = event.text
    generation.last_event = event
    generation.has_risk = generation.has_risk or event.has_risk


async def _flush(generation: Generation) -> None:
    """Sends the text that arrived since the last flush as one `delta` (or a `snapshot`)."""
    reply_id = generation.turn.reply_id
    if generation.has_risk:
        return  # flagged text is not shown: the `done` frame brings the safe answer
    if generation.restarted:
        generation.restarted = False
        generation.sent = len(generation.text)
        frame = protocol.snapshot_frame(reply_id, generation.seq, generation.text)
    elif len(generation.text) > generation.sent:
        generation.seq += 1
        piece = generation.text[generation.sent :]
        generation.sent = len(generation.text)
        frame = protocol.delta_frame(reply_id, generation.seq, piece)
    else:
        return
    await events.broadcast(generation.turn.session_id, frame)


async def _stop_requested_elsewhere(generation: Generation) -> bool:
    requested = database_sync_to_async(services.message_stop_requested)
    return await requested(reply_id=generation.turn.reply_id)


async def _save_progress(generation: Generation) -> None:
    await database_sync_to_async(services.message_progress_save)(
        reply_id=generation.turn.reply_id,
        text=generation.text[: generation.sent],
        seq=generation.seq,
    )
    generation.saved_seq = generation.seq


async def _outcome(generation: Generation) -> ReplyOutcome:
    reader = generation.reader
    assert reader is not None
    if reader.cancelled():
        await _stop_upstream(generation)
        return _outcome_with(generation, state=Message.State.STOPPED)
    failure = reader.exception()
    if failure is None:
        return _outcome_with(generation, state=Message.State.COMPLETE)
    partial = bool(generation.text)
    if isinstance(failure, XingchenError):
        code, message = services.describe_upstream_error(failure, partial=partial)
        logger.warning("Reply %s broke off: %s", generation.turn.reply_id, failure)
    else:
        code, message = "upstream", "Something went wrong while writing the reply."
        logger.error("Reply %s failed", generation.turn.reply_id, exc_info=failure)
    state = Message.State.INTERRUPTED if partial else Message.State.FAILED
    return _outcome_with(generation, state=state, error=message, error_code=code)


def _outcome_with(
    generation: Generation,
    *,
    state: str,
    error: str = "",
    error_code: protocol.ErrorCode | None = None,
) -> ReplyOutcome:
    event = generation.last_event
    outcome = ReplyOutcome(state=state, text=generation.text, error=error, error_code=error_code)
    if event is None:
        return outcome
    context, usage = event.context, event.usage
    return dataclasses.replace(
        outcome,
        request_id=event.request_id or "",
        answer_id=context.answer_id or context.message_id or "",
        remote_query_id=context.query_id or context.reply_message_id or "",
        chat_id=context.chat_id or "",
        remote_session_id=context.session_id or "",
        input_tokens=usage.input_tokens if usage else None,
        output_tokens=usage.output_tokens if usage else None,
        has_risk=generation.has_risk,
        safety_std_answer=event.safety_std_answer or "",
        function_call=_function_call_json(event.function_call),
    )


def _function_call_json(function_call: FunctionCall | None) -> dict[str, object] | None:
    if function_call is None:
        return None
    calls = [{"api_name": c.api_name, "parameters": c.parameters} for c in function_call.api_calls]
    return {"thought": function_call.thought, "api_calls": calls}


# --- the upstream -----------------------------------------------------------------------------


def _reply_stream(turn: Turn) -> AsyncIterator[ChatEvent]:
    return xingchen().chat_stream(_chat_request(turn))


def _chat_request(turn: Turn) -> ChatRequest:
    character = turn.character
    return ChatRequest(
        character_id=character.remote_id or "",
        user_id=turn.biz_user_id,
        # Ignored by Xingchen when regenerating with its stored history, but never empty.
        messages=[UpstreamMessage(role="user", content=outbound_text(turn.content))],
        user_name=outbound_text(turn.user_name) or None,
        user_basic_info=outbound_text(turn.user_basic_info) or None,
        scenario=outbound_text(turn.scenario) or None,
        is_regenerate=turn.is_regenerate,
        query_id=turn.remote_query_id,
        answer_id=turn.answer_id,
        incremental_output=True,
        use_chat_history=True,
        model_name=character.model_name or None,
        temperature=character.temperature,
        top_p=character.top_p,
        top_k=character.top_k,
        max_length=character.max_length,
        function_list=character_function_defs(character),
    )


async def _stop_upstream(generation: Generation) -> None:
    """Tells Xingchen the reply was stopped and which partial text to keep as its answer."""
    event = generation.last_event
    if event is None or not event.request_id:
        return  # stopped before Xingchen said anything: there is no request to stop
    try:
        await xingchen().chat_stop(request_id=event.request_id, content=generation.text)
    except XingchenError as exc:
        logger.warning("Xingchen did not take the stop of %s: %s", event.request_id, exc)
