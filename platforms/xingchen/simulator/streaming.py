"""Server-sent events: framing, pacing at the configured token rate, and the response class."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from .config import SimulatorConfig

EVENT_STREAM = "text/event-stream;charset=UTF-8"
# Events carry a couple of tokens each, like the real service's small increments.
TOKENS_PER_EVENT = 2


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
