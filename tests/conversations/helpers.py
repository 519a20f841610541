"""Helpers for chat tests: sockets with a logged-in user, frames collected with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db.backends.signals import connection_created
from django.test import Client

from conversations import history
from conversations.models import Message
from project.asgi import application

Frame = dict[str, Any]
DEADLINE_SECONDS = 20.0


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


async def socket_for(
    user,
    session_id: int,
    *,
    origin: str | None = None,
    accept_language: str | None = None,
    cookies: dict[str, str] | None = None,
):
    """A communicator for /ws/chat/<id>/ through the real ASGI stack (origin and auth checks);
    the page's origin is the public address unless said otherwise."""
    headers = [(b"origin", (origin or settings.PUBLIC_BASE_URL).encode())]
    if accept_language is not None:
        headers.append((b"accept-language", accept_language.encode()))
    jar = dict(cookies or {})
    if user is not None:
        jar[settings.SESSION_COOKIE_NAME] = await database_sync_to_async(_session_cookie)(user)
    if jar:
        headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in jar.items()).encode()))
    return WebsocketCommunicator(application, f"/ws/chat/{session_id}/", headers=headers)


async def open_socket(user, session_id: int, **handshake: Any) -> WebsocketCommunicator:
    communicator = await socket_for(user, session_id, **handshake)
    connected, code = await communicator.connect(timeout=10)
    assert connected, f"socket refused with {code}"
    return communicator


async def frames_until(
    communicator: WebsocketCommunicator,
    predicate: Callable[[Frame], bool],
    *,
    timeout: float = DEADLINE_SECONDS,
) -> list[Frame]:
    """Frames received up to and including the first one matching `predicate`."""
    frames: list[Frame] = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no matching frame before the deadline; got {frames}")
        try:
            frame = await communicator.receive_json_from(timeout=remaining)
        except TimeoutError as exc:
            raise AssertionError(f"no matching frame before the deadline; got {frames}") from exc
        frames.append(frame)
        if predicate(frame):
            return frames


async def joined(communicator: WebsocketCommunicator) -> None:
    """Returns once the socket has joined its session: the consumer handles frames in order, so
    the answer to a malformed frame comes after its connect (and any snapshot) has finished."""
    await communicator.send_to(text_data="[]")
    frames = await frames_until(communicator, of_type("error"))
    assert [f["type"] for f in frames] == ["error"], frames


def of_type(kind: str) -> Callable[[Frame], bool]:
    return lambda frame: frame["type"] == kind


async def send_and_finish(
    communicator: WebsocketCommunicator, content: str, **extra
) -> list[Frame]:
    await communicator.send_json_to({"type": "send", "content": content, **extra})
    return await frames_until(communicator, of_type("done"))


def deltas(frames: list[Frame]) -> list[Frame]:
    return [f for f in frames if f["type"] == "delta"]


def reply_of(frames: list[Frame]) -> int:
    return next(f["message_id"] for f in frames if f["type"] == "start")


@database_sync_to_async
def reload(message_id: int) -> Message:
    return Message.objects.select_related("query").get(pk=message_id)


async def wait_until_final(message_id: int, timeout: float = DEADLINE_SECONDS) -> Message:
    """The reply once it left `streaming` (no socket needs to be open)."""
    deadline = time.monotonic() + timeout
    while True:
        message = await reload(message_id)
        if message.is_final():
            return message
        if time.monotonic() > deadline:
            raise AssertionError(f"reply {message_id} still streaming: {message.content!r}")
        await asyncio.sleep(0.05)


async def upstream_requests(sim, servicename: str) -> list[dict[str, Any]]:
    return await asyncio.to_thread(sim.requests, servicename)


async def wait_until_saved(message_id: int, timeout: float = DEADLINE_SECONDS) -> Message:
    """The reply once some of its streamed text is in the database."""
    deadline = time.monotonic() + timeout
    while True:
        message = await reload(message_id)
        if message.content:
            return message
        if time.monotonic() > deadline:
            raise AssertionError(f"reply {message_id} has no saved text yet")
        await asyncio.sleep(0.05)


async def wait_for_imports() -> None:
    """Waits for the history imports that opening sockets started."""
    await history.wait_for_imports(timeout=DEADLINE_SECONDS)


@contextmanager
def recording_statements() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Every SQL statement run meanwhile, on any thread's connection (async code uses several)."""
    statements: list[tuple[str, tuple[Any, ...]]] = []
    wrapped = []

    def record(execute, sql, params, many, context):
        statements.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    def install(sender, connection, **kwargs):
        if record not in connection.execute_wrappers:
            connection.execute_wrappers.append(record)
            wrapped.append(connection)

    connection_created.connect(install)
    try:
        yield statements
    finally:
        connection_created.disconnect(install)
        for connection in wrapped:
            if record in connection.execute_wrappers:
                connection.execute_wrappers.remove(record)
