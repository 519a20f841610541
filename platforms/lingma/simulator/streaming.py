"""Server-sent events: framing, pacing at the configured token rate, and the response class."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from .config import SimulatorConfig

EVENT_STREAM = "text/event-stream;charset=UTF-8"


class ConnectionCut(Exception):
    """Raised inside an event stream to drop the connection mid-body, as a broken proxy would.

    The server then closes the socket without ending the chunked body, which a client sees as
    an incomplete read rather than a clean end of stream.
    """


class QuietCuts(logging.Filter):
    """Drops the server's traceback for a `ConnectionCut`: it is a fault asked for, not a bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, BaseExceptionGroup):
            return error.subgroup(ConnectionCut) is None
        return not isinstance(error, ConnectionCut)


def frame(data: Any, event: str | None = None) -> str:
    payload = (
        data
        if isinstance(data, str)
        else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    )
    head = f"event:{event}\n" if event else ""
    return f"{head}data:{payload}\n\n"


class Pacer:
    """Sleeps between events as a model would emit them."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._config = config
        self._loop = asyncio.get_running_loop()
        self._due = self._loop.time()

    async def first_token(self) -> None:
        self._due = self._loop.time() + self._config.first_token_ms / 1000
        await self._wait()

    async def after(self, tokens: int) -> None:
        self._due = max(self._due, self._loop.time() - 0.05)
        self._due += tokens / self._config.tokens_per_second
        await self._wait()

    async def _wait(self) -> None:
        delay = self._due - self._loop.time()
        if delay > 0:
            await asyncio.sleep(delay)


class EventStreamResponse(StreamingResponse):
    """A streaming response that notices a client hang-up even while the stream is silent, so
    a stalled stream ends when the client gives up."""

    def __init__(self, events: AsyncIterator[str], request_id: str) -> None:
        super().__init__(
            events,
            headers={
                "content-type": EVENT_STREAM,
                "cache-control": "no-cache",
                "x-accel-buffering": "no",
                "x-request-id": request_id,
            },
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def stream() -> None:
                with contextlib.suppress(OSError):
                    await self.stream_response(send)
                group.cancel_scope.cancel()

            group.start_soon(stream)
            await self.listen_for_disconnect(receive)
            group.cancel_scope.cancel()
