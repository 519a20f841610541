"""Generations: one upstream reply stream per running reply, owned by the process, not a socket.

`generation_start` runs a reply as an asyncio task on the server's event loop and registers it
by session, so a closed tab does not stop it, a socket that connects later gets a snapshot, and
Stop can end it. The first text goes to the sockets the moment it arrives; after each frame,
what arrives within `CHAT_STREAM_FLUSH_INTERVAL` is coalesced into the next one. The text is
saved at most once per `CHAT_DB_WRITE_INTERVAL` (which also renews the reply's lease) and
always at the end: whatever fails, the reply ends with the text it has.

The upstream is reached through `conversations.replies` only.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_noop

from conversations import protocol, relay, services
from conversations.models import Message
from conversations.replies import (
    Finished,
    FunctionCall,
    ReasoningDelta,
    ReplyError,
    ReplyEvent,
    ReplyIds,
    RiskFlag,
    TextDelta,
    TextReplaced,
    Usage,
    upstream_for,
)
from conversations.services import ReplyOutcome, Turn
from privacy.masking import StreamRestorer
from project.asyncdb import db_sync_to_async

logger = logging.getLogger(__name__)

UPSTREAM_STOP_TIMEOUT = 10.0


@dataclass
class Generation:
    """A reply being written. `text[:sent]` is what the sockets were sent, in `seq` deltas."""

    turn: Turn
    text: str = ""
    reasoning: str = ""  # the model's thinking, kept apart from the answer
    sent: int = 0
    seq: int = 0
    saved_seq: int = 0
    saved_at: float = field(default_factory=time.monotonic)
    restarted: bool = False
    ids: ReplyIds = field(default_factory=ReplyIds)
    usage: Usage | None = None
    risk: RiskFlag | None = None
    function_call: FunctionCall | None = None
    stop_requested: bool = False
    # Placeholders of masked personal data become real values here, before anyone sees them.
    restorer: StreamRestorer | None = None
    reasoning_restorer: StreamRestorer | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    reader: asyncio.Task[None] | None = None
    stopper: asyncio.Task[None] | None = None
    saver: asyncio.Future[None] | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


_by_session: dict[int, Generation] = {}


def generation_start(turn: Turn) -> Generation:
    """Runs the turn's reply in the background; call from the server's event loop.

    The registry holds the only strong reference the task needs: it outlives the socket that
    asked for it.
    """
    generation = Generation(
        turn=turn,
        restorer=turn.outbound.restorer(),
        reasoning_restorer=turn.outbound.restorer(),
    )
    _by_session[turn.session_id] = generation
    # A fresh context: nothing of the socket that asked (which may close) leaks into the reply.
    generation.task = asyncio.get_running_loop().create_task(
        _run(generation), name=f"reply-{turn.reply_id}", context=contextvars.Context()
    )
    return generation


def generation_stop(session_id: int) -> bool:
    """Stops the session's reply if this process writes it; False when it does not.

    The upstream is told first (with the text kept) while its stream is still open, then the
    stream is closed; text arriving in between is not taken.
    """
    generation = _by_session.get(session_id)
    if generation is None or generation.stop_requested:
        return False
    generation.stop_requested = True
    generation.stopper = asyncio.get_running_loop().create_task(_stop(generation))
    return True


async def generation_stop_anywhere(session_id: int) -> bool:
    """Stops the session's reply, whichever server process writes it; False when none is."""
    if generation_stop(session_id):
        return True
    is_streaming = db_sync_to_async(services.message_is_streaming)
    if not await is_streaming(session_id=session_id):
        return False
    return await relay.request_stop(session_id)


async def generation_snapshot(session_id: int) -> dict[str, object] | None:
    """The `snapshot` frame of the session's running reply, or None when none runs."""
    generation = _by_session.get(session_id)
    if generation is not None:
        turn = generation.turn
        return protocol.snapshot_frame(
            turn.reply_id, generation.seq, generation.text[: generation.sent]
        )
    # Written by another server process: the saved text and its seq come from the database.
    saved = await db_sync_to_async(_streaming_reply)(session_id)
    if saved is None:
        return None
    return protocol.snapshot_frame(saved.pk, saved.stream_seq, saved.content)


async def wait_for_generations(timeout: float) -> None:
    """Waits until every running reply of this process has ended (tests use it before they
    clean the database)."""
    tasks = [g.task for g in list(_by_session.values()) if g.task is not None]
    if tasks:
        await asyncio.wait(tasks, timeout=timeout)


relay.set_stop_handler(generation_stop)


def _streaming_reply(session_id: int) -> Message | None:
    return Message.objects.filter(session_id=session_id, state=Message.State.STREAMING).first()


# --- the generation -------------------------------------------------------------------------


async def _run(generation: Generation) -> None:
    """Writes the reply and always ends it, whatever fails on the way."""
    session_id = generation.turn.session_id
    outcome: ReplyOutcome | None = None
    # Subscribing takes a Redis round trip that may queue behind others: the upstream request
    # does not wait for it.
    holding = asyncio.ensure_future(_hold(session_id))
    try:
        await _pump(generation)
        outcome = _outcome(generation)
    except asyncio.CancelledError:
        outcome = _broken(generation, gettext_noop("The server stopped while writing the reply."))
        raise
    except Exception:
        logger.exception("Reply %s failed", generation.turn.reply_id)
        outcome = _broken(generation, gettext_noop("Something went wrong while writing the reply."))
    finally:
        _cancel(generation.reader)
        if generation.saver is not None:
            # A late save must not follow the end; its failure was already reported above.
            await asyncio.wait({generation.saver})
            if not generation.saver.cancelled():
                generation.saver.exception()
        await _finish(
            generation,
            outcome or _broken(generation, gettext_noop("The reply ended unexpectedly.")),
        )
        _by_session.pop(session_id, None)
        await holding
        with contextlib.suppress(Exception):
            await relay.release(session_id)


async def _hold(session_id: int) -> None:
    # Listening for stops from other processes; without it the reply is still written here.
    try:
        await relay.hold(session_id)
    except Exception:
        logger.exception("Stops from other processes cannot reach the reply of %s", session_id)


async def _pump(generation: Generation) -> None:
    generation.reader = asyncio.create_task(_read(generation))
    if generation.stop_requested:  # Stop came before the reply got going
        _cancel(generation.reader)
    while True:
        await _wait_for_text(generation)
        await _flush(generation)
        _save_if_due(generation)
        if generation.reader.done():
            break
        # What arrives meanwhile goes out together in the next frame (at once if it is the end).
        await asyncio.wait({generation.reader}, timeout=settings.CHAT_STREAM_FLUSH_INTERVAL)
    if generation.stopper is not None:
        await generation.stopper
    await _flush(generation)
    if generation.saver is not None:
        await generation.saver  # its failure ends the reply like any other


async def _wait_for_text(generation: Generation) -> None:
    """Returns when new text arrived or the reader ended; renews the lease while waiting."""
    reader = generation.reader
    assert reader is not None
    while not generation.arrived.is_set() and not reader.done():
        arrival = asyncio.ensure_future(generation.arrived.wait())
        try:
            await asyncio.wait(
                {arrival, reader},
                timeout=_heartbeat_interval(),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            arrival.cancel()
        _save_if_due(generation)
    generation.arrived.clear()


def _heartbeat_interval() -> float:
    return settings.CHAT_REPLY_LEASE / 4


async def _read(generation: Generation) -> None:
    upstream = upstream_for(generation.turn.character)
    try:
        async with contextlib.aclosing(upstream.stream(generation.turn.request())) as stream:
            async for event in stream:
                if generation.stop_requested:
                    return  # the upstream was told which text to keep: nothing after it counts
                _absorb(generation, event)
                if isinstance(event, Finished):
                    return
    finally:
        _release_held_back(generation)


def _absorb(generation: Generation, event: ReplyEvent) -> None:
    if isinstance(event, TextDelta):
        generation.text += _restored(generation.restorer, event.text)
    elif isinstance(event, TextReplaced):
        # The upstream rewrote its text instead of extending it: sockets get a fresh snapshot.
        restorer = generation.restorer
        generation.text = restorer.restart(event.text) if restorer else event.text
        generation.restarted = True
    elif isinstance(event, ReasoningDelta):
        generation.reasoning += _restored(generation.reasoning_restorer, event.text)
    elif isinstance(event, ReplyIds):
        generation.ids = event
    elif isinstance(event, Usage):
        generation.usage = event
    elif isinstance(event, RiskFlag):
        generation.risk = event
    elif isinstance(event, FunctionCall):
        generation.function_call = event
    generation.arrived.set()


def _restored(restorer: StreamRestorer | None, text: str) -> str:
    return text if restorer is None else restorer.feed(text)


def _release_held_back(generation: Generation) -> None:
    """At the end of the stream, what looked like the start of a placeholder is text."""
    if generation.restorer is not None:
        generation.text += generation.restorer.flush()
    if generation.reasoning_restorer is not None:
        generation.reasoning += generation.reasoning_restorer.flush()


async def _flush(generation: Generation) -> None:
    """Sends the text that arrived since the last flush as one `delta` (or a `snapshot`)."""
    reply_id = generation.turn.reply_id
    if generation.risk is not None:
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
    await relay.publish(generation.turn.session_id, frame)


def _save_if_due(generation: Generation) -> None:
    """Saves the text sent so far once per write interval, and renews the lease of a reply
    with nothing new to save (waiting for the upstream, or flagged text that is not shown).

    The save runs beside the stream, one at a time: a slow database never holds text back
    from the sockets. A save that failed ends the reply here.
    """
    saver = generation.saver
    if saver is not None:
        if not saver.done():
            return
        saver.result()  # raises what the save raised
        generation.saver = None
    elapsed = time.monotonic() - generation.saved_at
    unsaved = generation.seq > generation.saved_seq
    due = unsaved and elapsed >= settings.CHAT_DB_WRITE_INTERVAL
    if not due and elapsed < _heartbeat_interval():
        return
    reply_id = generation.turn.reply_id
    if unsaved:
        save = db_sync_to_async(services.message_progress_save)(
            reply_id=reply_id, text=generation.text[: generation.sent], seq=generation.seq
        )
        generation.saved_seq = generation.seq
    else:
        save = db_sync_to_async(services.message_heartbeat)(reply_id=reply_id)
    generation.saved_at = time.monotonic()
    generation.saver = asyncio.ensure_future(save)


async def _stop(generation: Generation) -> None:
    request_id = generation.ids.request_id
    try:
        # Before the upstream said anything there is no request to stop: closing is all.
        if request_id:
            await _stop_upstream(generation, request_id)
    finally:
        _cancel(generation.reader)


async def _stop_upstream(generation: Generation, request_id: str) -> None:
    upstream = upstream_for(generation.turn.character)
    try:
        async with asyncio.timeout(UPSTREAM_STOP_TIMEOUT):
            text = generation.turn.outbound.reply_text(generation.text)
            await upstream.stop(request_id=request_id, text=text)
    except (ReplyError, TimeoutError) as exc:
        logger.warning("The upstream did not take the stop of %s: %s", request_id, exc)


def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None and not task.done():
        task.cancel()


async def _finish(generation: Generation, outcome: ReplyOutcome) -> None:
    # The end's frames (the reply's HTML, its error) speak the language of who asked; what is
    # saved stays English, translated where it is shown.
    with translation.override(generation.turn.language):
        await _save_end(generation, outcome)


async def _save_end(generation: Generation, outcome: ReplyOutcome) -> None:
    finish = db_sync_to_async(services.message_finish)
    reply_id = generation.turn.reply_id
    try:
        await finish(reply_id=reply_id, outcome=outcome, seq=generation.seq)
    except Exception:
        # A reply left streaming keeps its user busy until its lease runs out: end it plainly.
        logger.exception("Could not save the end of reply %s", reply_id)
        plain = ReplyOutcome(
            state=Message.State.INTERRUPTED if outcome.text else Message.State.FAILED,
            text=outcome.text,
            error=gettext_noop("The reply could not be saved completely."),
        )
        try:
            await finish(reply_id=reply_id, outcome=plain, seq=generation.seq)
        except Exception:
            logger.exception("Reply %s is left to the sweep of abandoned replies", reply_id)


def _outcome(generation: Generation) -> ReplyOutcome:
    reader = generation.reader
    assert reader is not None
    if generation.stop_requested:
        return _outcome_with(generation, state=Message.State.STOPPED)
    if reader.cancelled():
        return _broken(generation, gettext_noop("The reply was cut off."))
    failure = reader.exception()
    if failure is None:
        return _outcome_with(generation, state=Message.State.COMPLETE)
    if isinstance(failure, ReplyError):
        logger.warning("Reply %s broke off: %s", generation.turn.reply_id, failure)
        return _broken(
            generation, failure.message, code=failure.code, retry_after=failure.retry_after
        )
    logger.error("Reply %s failed", generation.turn.reply_id, exc_info=failure)
    return _broken(generation, gettext_noop("Something went wrong while writing the reply."))


def _broken(
    generation: Generation,
    message: str,
    *,
    code: protocol.ErrorCode = "upstream",
    retry_after: float | None = None,
) -> ReplyOutcome:
    """The outcome of a reply that could not be finished: the text so far is kept."""
    if generation.text:
        state = Message.State.INTERRUPTED
        message = gettext_noop("%(error)s The text so far is kept.") % {"error": message}
    else:
        state = Message.State.FAILED
    return _outcome_with(
        generation, state=state, error=message, error_code=code, retry_after=retry_after
    )


def _outcome_with(
    generation: Generation,
    *,
    state: str,
    error: str = "",
    error_code: protocol.ErrorCode | None = None,
    retry_after: float | None = None,
) -> ReplyOutcome:
    usage, risk, call = generation.usage, generation.risk, generation.function_call
    return ReplyOutcome(
        state=state,
        text=generation.text,
        reasoning=generation.reasoning,
        error=error,
        error_code=error_code,
        retry_after=retry_after,
        ids=generation.ids,
        input_tokens=usage.input_tokens if usage else None,
        output_tokens=usage.output_tokens if usage else None,
        has_risk=risk is not None,
        safety_std_answer=risk.safe_answer if risk else "",
        function_call={"thought": call.thought, "api_calls": call.calls} if call else None,
        masked_types=tuple(sorted(generation.restorer.types)) if generation.restorer else (),
    )
