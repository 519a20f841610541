"""The process's Xingchen client, built from settings.

httpx's AsyncClient belongs to the event loop that first used it, so there is one pooled client
per running loop: the ASGI server's loop in daphne, and one long-lived background loop that sync
code (Celery tasks, admin actions, management commands) runs its upstream calls on.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import TypeVar

from django.conf import settings

from platforms.xingchen.client import XingchenClient

T = TypeVar("T")

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, XingchenClient] = (
    weakref.WeakKeyDictionary()
)
_sync_loop: asyncio.AbstractEventLoop | None = None
_sync_lock = threading.Lock()


def build_client() -> XingchenClient:
    return XingchenClient(
        base_url=settings.XINGCHEN_BASE_URL,
        api_key=settings.XINGCHEN_API_KEY,
        connect_timeout=settings.XINGCHEN_CONNECT_TIMEOUT,
        read_timeout=settings.XINGCHEN_READ_TIMEOUT,
        stream_idle_timeout=settings.XINGCHEN_STREAM_IDLE_TIMEOUT,
    )


def xingchen() -> XingchenClient:
    """The client for the running event loop; call from async code only."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = build_client()
    return client


def _background_loop() -> asyncio.AbstractEventLoop:
    global _sync_loop
    with _sync_lock:
        if _sync_loop is None or _sync_loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="xingchen-sync", daemon=True).start()
            _sync_loop = loop
        return _sync_loop


def call_sync(operation: Callable[[XingchenClient], Awaitable[T]], timeout: float = 120) -> T:
    """Runs `operation(client)` on the background loop and waits for its result.

    For sync callers only: Celery tasks, admin actions, management commands, sync views.
    """

    async def run() -> T:
        return await operation(xingchen())

    future = asyncio.run_coroutine_threadsafe(run(), _background_loop())
    return future.result(timeout)


def reset_clients() -> None:
    """Forgets cached clients, e.g. after tests change XINGCHEN_BASE_URL."""
    _clients.clear()
