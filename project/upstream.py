"""The process's upstream clients (Xingchen, DMS, Lingma) and file downloader, from settings.

httpx's AsyncClient belongs to the event loop that first used it, so there is one pooled client
per running loop: the ASGI server's loop in daphne, and one long-lived background loop that sync
code (Celery tasks, admin actions, management commands) runs its upstream calls on.

The background loop is forgotten in a forked child (a Celery pool process builds its own) and
closed, with its clients, when the process exits.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from django.conf import settings

from platforms.dms.client import DmsClient
from platforms.http_download import Downloader
from platforms.lingma.client import LingmaClient
from platforms.xingchen.client import XingchenClient

T = TypeVar("T")
C = TypeVar("C")

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 120.0
SHUTDOWN_TIMEOUT_SECONDS = 5.0

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, XingchenClient] = (
    weakref.WeakKeyDictionary()
)
_downloaders: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Downloader] = (
    weakref.WeakKeyDictionary()
)
_dms_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, DmsClient] = (
    weakref.WeakKeyDictionary()
)
_lingma_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LingmaClient] = (
    weakref.WeakKeyDictionary()
)
_POOLS: tuple[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any], ...] = (
    _clients,
    _downloaders,
    _dms_clients,
    _lingma_clients,
)
_sync_loop: asyncio.AbstractEventLoop | None = None
_sync_thread: threading.Thread | None = None
_sync_lock = threading.Lock()


def build_client() -> XingchenClient:
    return XingchenClient(
        base_url=settings.XINGCHEN_BASE_URL,
        api_key=settings.XINGCHEN_API_KEY,
        connect_timeout=settings.XINGCHEN_CONNECT_TIMEOUT,
        read_timeout=settings.XINGCHEN_READ_TIMEOUT,
        stream_idle_timeout=settings.XINGCHEN_STREAM_IDLE_TIMEOUT,
        max_connections=settings.XINGCHEN_MAX_CONNECTIONS,
        pool_timeout=settings.XINGCHEN_POOL_TIMEOUT,
    )


def xingchen() -> XingchenClient:
    """The client for the running event loop; call from async code only."""
    return _for_running_loop(_clients, build_client)


def build_dms_client() -> DmsClient:
    return DmsClient(
        endpoint=settings.DMS_ENDPOINT,
        access_key_id=settings.DMS_ACCESS_KEY_ID,
        access_key_secret=settings.DMS_ACCESS_KEY_SECRET,
        connect_timeout=settings.XINGCHEN_CONNECT_TIMEOUT,
        read_timeout=settings.XINGCHEN_READ_TIMEOUT,
        stream_idle_timeout=settings.XINGCHEN_STREAM_IDLE_TIMEOUT,
        max_connections=settings.XINGCHEN_MAX_CONNECTIONS,
    )


def build_lingma_client() -> LingmaClient:
    return LingmaClient(
        base_url=settings.LINGMA_BASE_URL,
        token=settings.LINGMA_TOKEN,
        organization_id=settings.LINGMA_ORGANIZATION_ID,
        connect_timeout=settings.XINGCHEN_CONNECT_TIMEOUT,
        read_timeout=settings.XINGCHEN_READ_TIMEOUT,
        stream_idle_timeout=settings.XINGCHEN_STREAM_IDLE_TIMEOUT,
        max_connections=settings.XINGCHEN_MAX_CONNECTIONS,
    )


def dms() -> DmsClient:
    """The DMS client for the running event loop; call from async code only."""
    return _for_running_loop(_dms_clients, build_dms_client)


def lingma() -> LingmaClient:
    """The Lingma client for the running event loop; call from async code only."""
    return _for_running_loop(_lingma_clients, build_lingma_client)


def downloader() -> Downloader:
    """The file downloader for the running event loop; call from async code only."""
    return _for_running_loop(_downloaders, Downloader)


def _for_running_loop(
    pool: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, C], build: Callable[[], C]
) -> C:
    loop = asyncio.get_running_loop()
    client = pool.get(loop)
    if client is None:
        client = pool[loop] = build()
    return client


def run_sync(factory: Callable[[], Awaitable[T]], timeout: float = DEFAULT_TIMEOUT_SECONDS) -> T:
    """Runs the awaitable `factory()` makes on the background loop and waits for its result.

    For sync callers only (Celery tasks, admin actions, management commands, sync views): from a
    thread running an event loop it raises RuntimeError. After `timeout` seconds the work is
    cancelled on the loop and TimeoutError is raised.
    """
    _refuse_inside_event_loop()

    async def run() -> T:
        return await factory()

    future = asyncio.run_coroutine_threadsafe(run(), _background_loop())
    try:
        return future.result(timeout)
    except TimeoutError:
        if future.done():
            raise  # the operation's own timeout, not ours
        # The caller gives up, so must the loop: a create left running could still land later.
        future.cancel()
        raise TimeoutError(f"The upstream call did not finish in {timeout:g} s") from None
    except BaseException:
        future.cancel()  # e.g. Celery's soft time limit interrupting the wait
        raise


def call_sync(
    operation: Callable[[XingchenClient], Awaitable[T]],
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> T:
    """Runs `operation(client)` on the background loop; the rules of `run_sync` apply."""
    return run_sync(lambda: operation(xingchen()), timeout)


def reset_clients() -> None:
    """Forgets cached clients, e.g. after tests point the settings at a simulator."""
    for pool in _POOLS:
        pool.clear()


def shutdown() -> None:
    """Closes the background loop's clients and stops the loop; safe to call more than once.

    A later `run_sync` starts a fresh loop.
    """
    global _sync_loop, _sync_thread
    with _sync_lock:
        loop, thread = _sync_loop, _sync_thread
        _sync_loop = _sync_thread = None
    if loop is None or thread is None or not thread.is_alive():
        return
    closing = asyncio.run_coroutine_threadsafe(_close_pooled_clients(), loop)
    try:
        closing.result(SHUTDOWN_TIMEOUT_SECONDS)
    except Exception:  # exiting anyway: report, never raise from an atexit hook
        logger.warning("Could not close the upstream clients cleanly", exc_info=True)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(SHUTDOWN_TIMEOUT_SECONDS)
    if not thread.is_alive():
        loop.close()


async def _close_pooled_clients() -> None:
    loop = asyncio.get_running_loop()
    for pool in _POOLS:
        client = pool.pop(loop, None)
        if client is not None:
            await client.aclose()


def _refuse_inside_event_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    # Django's own escape hatch for the same mistake, for callers whose loop may block (a
    # browser-test thread that Playwright's sync API runs a loop in).
    if os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE"):
        return
    raise RuntimeError(
        "run_sync/call_sync cannot be called from a thread running an event loop: it would "
        "block that loop. Await the client (xingchen()) instead."
    )


def _background_loop() -> asyncio.AbstractEventLoop:
    global _sync_loop, _sync_thread
    with _sync_lock:
        if _sync_loop is None or _sync_loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="xingchen-sync", daemon=True)
            thread.start()
            _sync_loop, _sync_thread = loop, thread
        return _sync_loop


def _forget_after_fork() -> None:
    """In a forked child: the loop's thread did not survive the fork, and the pooled
    connections are the parent's sockets, so everything is dropped (never closed: closing
    would talk on the parent's connections) and rebuilt on first use."""
    global _sync_loop, _sync_thread, _sync_lock
    _sync_loop = _sync_thread = None
    _sync_lock = threading.Lock()  # another thread may have held it at the moment of the fork
    for pool in _POOLS:
        pool.clear()


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(shutdown)
