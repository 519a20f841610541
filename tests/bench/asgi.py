"""The product's ASGI application, instrumented for the relay benchmark (never used in production).

`daphne tests.bench.asgi:application` serves `project.asgi.application` unchanged, plus:

- every INSERT, UPDATE and DELETE the process runs is counted per table (an execute wrapper
  installed on each database connection as it is created);
- the websocket connections the product is serving are counted;
- `GET /__bench/stats` answers those counters as JSON (`?reset=1` zeroes the write counters
  after reading them); `GET /__bench/gc` runs `gc.collect()` (and glibc's `malloc_trim` with
  `?trim=1`) and answers what it freed.

Everything else passes through to the product untouched.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import re
import threading
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

from django.db.backends.signals import connection_created

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

_WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+[`"]?([\w.]+)[`"]?', re.IGNORECASE)
_lock = threading.Lock()
_writes: Counter[tuple[str, str]] = Counter()
_sockets = {"open": 0, "opened": 0}


def _count_writes(execute, sql, params, many, context):
    match = _WRITE.match(sql)
    if match is not None:
        verb = match.group(1).split()[0].upper()
        with _lock:
            _writes[(match.group(2), verb)] += 1
    return execute(sql, params, many, context)


def _install(connection) -> None:
    if _count_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count_writes)


def _on_connection_created(sender, connection, **kwargs) -> None:
    _install(connection)


# Connected before the product is imported, so connections its start-up opens are counted too.
connection_created.connect(_on_connection_created)

from django.db import connections  # noqa: E402

from project.asgi import application as product  # noqa: E402

for _connection in connections.all(initialized_only=True):
    _install(_connection)


def _stats(reset: bool) -> dict[str, Any]:
    with _lock:
        per_table: dict[str, dict[str, int]] = {}
        for (table, verb), count in sorted(_writes.items()):
            per_table.setdefault(table, {})[verb] = count
        total = sum(_writes.values())
        if reset:
            _writes.clear()
    return {"pid": os.getpid(), "writes": per_table, "writes_total": total, **_sockets}


async def _answer(send, body: dict[str, Any], status: int = 200) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _bench_endpoint(scope, receive, send) -> None:
    query = parse_qs(scope.get("query_string", b"").decode())
    if scope["path"] == "/__bench/stats":
        await _answer(send, _stats(reset=query.get("reset") == ["1"]))
    elif scope["path"] == "/__bench/objects":
        # The most numerous live object types: tells a leak from allocator retention.
        counts = Counter(type(o).__qualname__ for o in gc.get_objects())
        named = {name: counts[name] for name in query.get("type", [])}
        top = counts.most_common(25)
        await _answer(send, {"total": sum(counts.values()), "named": named, "top": top})
    elif scope["path"] == "/__bench/gc":
        collected = gc.collect()
        if query.get("trim") == ["1"]:
            # Hands glibc's free heap pages back to the system: what is still held after this
            # is memory in use, not allocator retention.
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        await _answer(send, {"collected": collected})
    else:
        await _answer(send, {"error": "not found"}, status=404)


async def application(scope, receive, send) -> None:
    if scope["type"] == "http" and scope["path"].startswith("/__bench/"):
        await _bench_endpoint(scope, receive, send)
        return
    if scope["type"] != "websocket":
        await product(scope, receive, send)
        return
    _sockets["open"] += 1
    _sockets["opened"] += 1
    try:
        await product(scope, receive, send)
    finally:
        _sockets["open"] -= 1
