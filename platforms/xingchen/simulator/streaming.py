"""Server-sent events: framing, pacing at the configured token rate, the response class, and the
optional per-event stamps benchmarks read back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from .config import SimulatorConfig

EVENT_STREAM = "text/event-stream;charset=UTF-8"
# Events carry a couple of tokens each, like the real service's small increments.
TOKENS_PER_EVENT = 2
RESULT_EVENT = "event:result\n"
# Stamps are kept for this many streamed requests, the oldest dropped first.
STAMPED_REQUESTS_KEPT = 5000


def frame(data: Any, event: str | None = "result") -> str:
    payload = (
        data
        if isinstance(data, str)
        else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    )
    head = f"event:{event}\n" if event else ""
    return f"{head}data:{payload}\n\n"


def chunk_tokens(tokens: list[str]) -> list[str]:
    return [
        "".join(tokens[i : i + TOKENS_PER_EVENT]) for i in range(0, len(tokens), TOKENS_PER_EVENT)
    ]


class Pacer:
    """Sleeps between events as a model would emit them; every wait ends early on `stop`."""

    def __init__(self, config: SimulatorConfig, stop: asyncio.Event) -> None:
        self._config = config
        self._stop = stop
        self._loop = asyncio.get_running_loop()
        self._due = self._loop.time()

    async def first_token(self) -> None:
        self._due = self._loop.time() + self._config.first_token_ms / 1000
        await self._wait_until_due()

    async def after(self, tokens: int) -> None:
        self._due = max(self._due, self._loop.time() - 0.05)
        self._due += tokens / self._config.tokens_per_second
        await self._wait_until_due()

    async def stall(self, seconds: float) -> None:
        self._due = self._loop.time() + seconds
        await self._wait_until_due()

    async def _wait_until_due(self) -> None:
        delay = self._due - self._loop.time()
        if delay <= 0 or self._stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=delay)


class EventStreamResponse(StreamingResponse):
    """A streaming response that notices a client hang-up even while the stream is silent.

    Starlette only watches for `http.disconnect` on old ASGI servers; a stalled stream must still
    end (and release the user's chat slot) when the client gives up, so this always listens.
    `on_close` runs exactly once however the stream ends.
    """

    def __init__(self, events: AsyncIterator[str], on_close: Callable[[], None]) -> None:
        super().__init__(
            events,
            headers={
                "content-type": EVENT_STREAM,
                "cache-control": "no-cache",
                "x-accel-buffering": "no",
            },
        )
        self._events = events
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def stream() -> None:
                    with contextlib.suppress(OSError):
                        await self.stream_response(send)
                    group.cancel_scope.cancel()

                group.start_soon(stream)
                await self.listen_for_disconnect(receive)
                group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                aclose = getattr(self._events, "aclose", None)
                if aclose is not None:
                    await aclose()
            self._on_close()


@dataclass
class StampedRequest:
    """One streamed chat's events as `[reply characters so far, time.time() before writing]`."""

    request_id: str
    user_id: str
    events: list[list[float]] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {"requestId": self.request_id, "userId": self.user_id, "events": self.events}


class EventStamps:
    """The benchmark stamps of streamed chats, recorded only while `enabled` (off by default)."""

    def __init__(self, keep: int = STAMPED_REQUESTS_KEPT) -> None:
        self.enabled = False
        self._requests: deque[StampedRequest] = deque(maxlen=keep)

    def start(self, request_id: str, user_id: str) -> StampedRequest | None:
        """A record for a stream about to start, or None when stamping is off."""
        if not self.enabled:
            return None
        record = StampedRequest(request_id, user_id)
        self._requests.append(record)
        return record

    def recorded(self, user_id: str | None) -> list[dict[str, Any]]:
        """Oldest request first; all users' when `user_id` is None."""
        return [r.describe() for r in self._requests if user_id is None or r.user_id == user_id]

    def clear(self) -> None:
        self._requests.clear()


async def stamped(
    events: AsyncGenerator[str, None], record: StampedRequest, chars_sent: Callable[[], int]
) -> AsyncGenerator[str, None]:
    """Passes `events` through, stamping each result event just before it is handed on to be
    written; `chars_sent` gives the length of the reply text sent so far."""
    async with contextlib.aclosing(events):
        async for event in events:
            if event.startswith(RESULT_EVENT):
                record.events.append([chars_sent(), time.time()])
            yield event
