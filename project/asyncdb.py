"""ORM work called from async code (sockets, generations)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db import connections

# Shared by every event loop of the process; sized for calls that mostly wait on the database.
_executor = ThreadPoolExecutor(max_workers=settings.ORM_THREADS, thread_name_prefix="orm")


def db_sync_to_async(func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` run on a pool of worker threads, like `database_sync_to_async`, but not on the
    one thread every socket of the process shares: a slow call (a locked SQLite file, a
    PostgreSQL round trip) of one socket no longer queues all the others behind it.

    Each call is its own unit of work and gives its connection back (to the pool, or closes
    it) when it returns: the worker threads outlive the loops that use them.
    """

    @functools.wraps(func)
    def call_and_release(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        finally:
            connections.close_all()

    return DatabaseSyncToAsync(call_and_release, thread_sensitive=False, executor=_executor)
