"""The process's chat relay: frames to the sockets of a session, and stops to its writer.

Sockets served by this process get every frame straight from memory: no channel-layer round
trip, nothing a full queue could drop. Other server processes are reached through the channel
layer only when it spans processes (Redis): each process listens on one channel of its own,
which joins a session's group while the process has a socket open on that session or writes
its reply. So Redis carries one message per frame and interested process, never one per
socket, and a Stop reaches whichever process writes the reply without anyone polling.

Every function here runs on the server's event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Protocol

from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)

Frame = dict[str, object]

# Tells this process's own frames apart when the layer hands them back.
PROCESS_ID = uuid.uuid4().hex
# Frames waiting for Redis at most; beyond it the oldest are dropped, with a warning.
OUTBOX_LIMIT = 10_000


class Socket(Protocol):
    async def send_text(self, text: str) -> None: ...


_sockets: defaultdict[int, set[Socket]] = defaultdict(set)
_interest: defaultdict[int, int] = defaultdict(int)
_stop_handler: Callable[[int], bool] = lambda session_id: False  # noqa: E731
_listener: _Listener | None = None


def session_group(session_id: int) -> str:
    return f"chat.session.{session_id}"


def set_stop_handler(handler: Callable[[int], bool]) -> None:
    """`handler(session_id)` stops the session's reply if this process writes it."""
    global _stop_handler
    _stop_handler = handler


async def join(session_id: int, socket: Socket) -> None:
    """Frames of the session reach `socket` from now on."""
    _sockets[session_id].add(socket)
    await hold(session_id)


async def leave(session_id: int, socket: Socket) -> None:
    sockets = _sockets.get(session_id)
    if sockets is not None and socket in sockets:
        sockets.discard(socket)
        if not sockets:
            del _sockets[session_id]
        await release(session_id)


async def hold(session_id: int) -> None:
    """Keeps this process listening to the session's group (sockets and writers hold it)."""
    _interest[session_id] += 1
    first = _interest[session_id] == 1
    listener = await _process_listener()
    if listener is not None and first:
        await listener.follow(session_id)


async def release(session_id: int) -> None:
    _interest[session_id] -= 1
    if _interest[session_id] <= 0:
        del _interest[session_id]
        if _listener is not None:
            await _listener.unfollow(session_id)


async def publish(session_id: int, frame: Frame) -> None:
    """Sends `frame` to every socket open on the session, in this process and elsewhere."""
    text = json.dumps(frame, ensure_ascii=False)
    await _deliver(session_id, text)
    if not _spans_processes():
        return
    message = {"type": "chat.frame", "session": session_id, "origin": PROCESS_ID, "text": text}
    listener = _listener
    if listener is not None and listener.loop is asyncio.get_running_loop():
        # The server's loop: Redis is written by the listener's sender, in order, so a
        # reply's own sockets never wait for it.
        listener.send_later(session_id, message)
    else:
        await _send_to_group(session_id, message)  # a worker or a command: nothing to wait for


async def _send_to_group(session_id: int, message: dict[str, object]) -> None:
    try:
        await get_channel_layer().group_send(session_group(session_id), message)
    except Exception:
        # Other processes' sockets miss this frame; `done` brings them the whole reply.
        logger.exception("Could not relay a frame of session %s to other processes", session_id)


async def request_stop(session_id: int) -> bool:
    """Asks the other processes to stop the session's reply; False when there are none."""
    if not _spans_processes():
        return False
    message = {"type": "chat.stop", "session": session_id}
    await get_channel_layer().group_send(session_group(session_id), message)
    return True


async def _deliver(session_id: int, text: str) -> None:
    for socket in list(_sockets.get(session_id, ())):
        try:
            await socket.send_text(text)
        except Exception:  # a socket closing meanwhile must not keep frames from the others
            logger.debug("A frame for session %s did not reach a closing socket", session_id)


def _spans_processes() -> bool:
    layer = get_channel_layer()
    return layer is not None and not isinstance(layer, InMemoryChannelLayer)


async def _process_listener() -> _Listener | None:
    global _listener
    if not _spans_processes():
        return None
    if _listener is None or _listener.loop is not asyncio.get_running_loop():
        _listener = _Listener(asyncio.get_running_loop())
    await _listener.started()
    return _listener


class _Listener:
    """This process's channel on the layer: frames from other processes, and stops; and the
    sender of its own frames to them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.channel = ""
        self._ready = asyncio.Event()
        self._starting = False
        self._tasks: list[asyncio.Task[None]] = []
        self._outbox: deque[tuple[int, dict[str, object]]] = deque()
        self._waiting = asyncio.Event()

    def send_later(self, session_id: int, message: dict[str, object]) -> None:
        if len(self._outbox) >= OUTBOX_LIMIT:
            # Redis is down or far behind: other processes' sockets miss the oldest frame.
            self._outbox.popleft()
            logger.warning("Chat frames for other processes are being dropped: Redis lags")
        self._outbox.append((session_id, message))
        self._waiting.set()

    async def _send_forever(self) -> None:
        while True:
            await self._waiting.wait()
            self._waiting.clear()
            while self._outbox:
                await _send_to_group(*self._outbox.popleft())

    async def started(self) -> None:
        if not self._starting:
            self._starting = True
            self.channel = await get_channel_layer().new_channel("chat.process.")
            self._tasks = [
                asyncio.create_task(self._receive_forever(), name="chat-relay-in"),
                asyncio.create_task(self._send_forever(), name="chat-relay-out"),
            ]
            # Interest held before this loop's listener existed (a server restarting its loop).
            for session_id in list(_interest):
                await self.follow(session_id)
            self._ready.set()
        await self._ready.wait()

    async def follow(self, session_id: int) -> None:
        await get_channel_layer().group_add(session_group(session_id), self.channel)

    async def unfollow(self, session_id: int) -> None:
        await get_channel_layer().group_discard(session_group(session_id), self.channel)

    async def _receive_forever(self) -> None:
        layer = get_channel_layer()
        while True:
            try:
                message = await layer.receive(self.channel)
                await _handle(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("The chat relay could not take a message; listening on")
                await asyncio.sleep(1)


async def _handle(message: dict[str, object]) -> None:
    session_id = message.get("session")
    if not isinstance(session_id, int):
        return
    if message.get("type") == "chat.frame" and message.get("origin") != PROCESS_ID:
        text = message.get("text")
        if isinstance(text, str):
            await _deliver(session_id, text)
    elif message.get("type") == "chat.stop":
        _stop_handler(session_id)
