"""What every upstream client (Xingchen, DMS, Lingma) does the same way over httpx."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import httpx

# A streamed reply holds its connection for its whole length; idle ones are kept up to this.
MAX_KEEPALIVE = 50


def pooled_limits(max_connections: int) -> httpx.Limits:
    return httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=min(max_connections, MAX_KEEPALIVE),
    )


class PooledClient:
    """One pooled `httpx.AsyncClient` (`self._http`), closed with the client or its `async with`."""

    _http: httpx.AsyncClient

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value.strip()), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


async def idle_guarded(chunks: AsyncIterator[bytes], seconds: float) -> AsyncIterator[bytes]:
    """`chunks`, raising TimeoutError when none arrives for `seconds`.

    The stream's httpx read timeout says the same for real sockets; this also holds for any
    transport, including ones that enforce no timeouts.
    """
    while True:
        try:
            async with asyncio.timeout(seconds):
                chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        yield chunk


def log_call(
    logger: logging.Logger,
    method: str,
    path: str,
    status: int | None,
    request_id: str | None,
    started: float,
    *,
    failed: bool = False,
) -> None:
    """One line per upstream call: what, how it ended, how long; never a header or a body."""
    logger.log(
        logging.WARNING if failed else logging.INFO,
        "%s %s status=%s request_id=%s duration_ms=%.0f",
        method,
        path,
        status,
        request_id,
        (time.monotonic() - started) * 1000,
    )


def transport_failure(
    exc: httpx.HTTPError | TimeoutError, *, upstream: str, streaming: bool, idle_seconds: float
) -> tuple[str, str]:
    """(message, kind) of a call that failed below HTTP: "timeout", "cut" (the connection
    broke mid-stream) or "network" (the server was never reached)."""
    name = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        if streaming:
            return f"{upstream} sent nothing for {idle_seconds:g} s", "timeout"
        return f"{upstream} did not answer in time ({name})", "timeout"
    if streaming:
        return f"The {upstream} stream broke off before it finished ({name}: {exc})", "cut"
    return f"Could not reach {upstream} ({name}: {exc})", "network"
