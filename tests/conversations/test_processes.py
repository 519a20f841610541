"""Several server processes: the test process writes a reply, a daphne process serves another
socket of the same session. On PostgreSQL + Redis they share the channel layer; the test
process's sockets are the `WebsocketCommunicator` ones."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone
from websockets.asyncio.client import connect

from conversations import tasks
from conversations.models import Message
from tests.conftest import current_database_url
from tests.conversations.helpers import (
    DEADLINE_SECONDS,
    _session_cookie,
    deltas,
    frames_until,
    of_type,
    open_socket,
    recording_statements,
    reload,
    reply_of,
    send_and_finish,
    upstream_requests,
)
from tests.factories import message_create
from tests.live_server import start_daphne

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("replies_end_with_the_test"),
]

needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL, reason="only a channel layer on Redis spans server processes"
)


@pytest.fixture
def other_process(simulator, tmp_path, request):
    """Another daphne process on the test database (and the same Redis, when set)."""
    env = getattr(request, "param", None) or {}
    server = start_daphne(
        database_url=current_database_url(), simulator=simulator, data_dir=tmp_path, env=env
    )
    yield server
    server.stop()


@asynccontextmanager
async def remote_socket(server, user, session_id: int):
    cookie = await database_sync_to_async(_session_cookie)(user)
    async with connect(
        f"{server.ws_url}/ws/chat/{session_id}/",
        origin=server.base_url,
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
        open_timeout=10,
    ) as socket:
        yield socket


async def remote_frames_until(socket, predicate, *, timeout: float = DEADLINE_SECONDS):
    frames = []
    deadline = time.monotonic() + timeout
    while not frames or not predicate(frames[-1]):
        remaining = deadline - time.monotonic()
        try:
            frames.append(json.loads(await asyncio.wait_for(socket.recv(), remaining)))
        except TimeoutError as exc:
            raise AssertionError(f"no matching frame before the deadline; got {frames}") from exc
    return frames


@needs_redis
async def test_a_socket_on_another_process_sees_the_reply_stream(
    sim, other_process, alice, alice_chat
):
    sim.configure(tokens_per_second=200)
    local = await open_socket(alice, alice_chat.pk)
    try:
        async with remote_socket(other_process, alice, alice_chat.pk) as remote:
            here = await send_and_finish(local, "Tell me about the sea.")
            there = await remote_frames_until(remote, of_type("done"))
    finally:
        await local.disconnect()
    assert [d["seq"] for d in deltas(there)] == list(range(1, len(deltas(here)) + 1))
    assert "".join(d["text"] for d in deltas(there)) == "".join(d["text"] for d in deltas(here))
    assert there[-1] == here[-1]


@needs_redis
async def test_a_stop_sent_to_another_process_stops_the_reply_without_polling(
    sim, other_process, alice, alice_chat
):
    sim.configure(tokens_per_second=20)
    local = await open_socket(alice, alice_chat.pk)
    try:
        async with remote_socket(other_process, alice, alice_chat.pk) as remote:
            await local.send_json_to({"type": "send", "content": "Tell me a long story."})
            started = await frames_until(local, of_type("delta"))
            with recording_statements() as statements:
                # Longer than any polling interval would be, so a poll would show here.
                await frames_until(local, lambda f: f["type"] == "delta" and f["seq"] >= 25)
            await remote.send(json.dumps({"type": "stop"}))
            await frames_until(local, of_type("done"))
    finally:
        await local.disconnect()
    reply = await reload(reply_of(started))
    assert reply.state == Message.State.STOPPED and reply.content
    stops = await upstream_requests(sim, "aca-chat-stop")
    assert stops[-1]["json"] == {"requestId": reply.request_id, "content": reply.content}
    reads = [sql for sql, _ in statements if sql.startswith("SELECT")]
    assert reads == []


@needs_redis
async def test_an_idle_socket_on_redis_stays_open_and_still_gets_frames_after_30_s(
    sim, other_process, alice, alice_chat
):
    async with remote_socket(other_process, alice, alice_chat.pk) as remote:
        # Idle past redis-py's default 5 s socket timeout, several times over.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(remote.recv(), 31)
        local = await open_socket(alice, alice_chat.pk)
        try:
            here = await send_and_finish(local, "Still awake?")
        finally:
            await local.disconnect()
        there = await remote_frames_until(remote, of_type("done"))
    assert there[-1] == here[-1] and there[-1]["state"] == "complete"


@pytest.mark.parametrize("other_process", [{"CHAT_REPLY_LEASE": "2"}], indirect=True)
async def test_a_reply_of_a_killed_process_is_ended_by_the_sweep(
    sim, settings, other_process, alice, alice_chat
):
    settings.CHAT_REPLY_LEASE = 2
    sim.configure(tokens_per_second=20)
    async with remote_socket(other_process, alice, alice_chat.pk) as remote:
        await remote.send(json.dumps({"type": "send", "content": "Tell me a long story."}))
        started = await remote_frames_until(remote, of_type("start"))
        reply_id = started[-1]["message_id"]
        await remote_frames_until(remote, lambda f: f["type"] == "delta" and f["seq"] >= 30)
        other_process.kill()
    swept = await _sweep_until_ended(reply_id)
    assert swept.state == Message.State.INTERRUPTED and swept.content
    sim.configure(tokens_per_second=2000)
    local = await open_socket(alice, alice_chat.pk)
    try:
        frames = await send_and_finish(local, "Hello again.")
    finally:
        await local.disconnect()
    assert frames[-1]["state"] == "complete"


async def _sweep_until_ended(reply_id: int) -> Message:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        await database_sync_to_async(tasks.reply_sweep)()
        reply = await reload(reply_id)
        if reply.is_final() or time.monotonic() > deadline:
            return reply
        await asyncio.sleep(0.2)


@needs_redis
async def test_a_reply_ended_by_the_sweep_in_a_worker_ends_on_the_open_socket(
    celery_worker, alice, alice_chat
):
    reply = await database_sync_to_async(_abandoned_reply)(alice_chat)
    local = await open_socket(alice, alice_chat.pk)
    try:
        await database_sync_to_async(tasks.reply_sweep.delay)()
        done = (await frames_until(local, of_type("done")))[-1]
    finally:
        await local.disconnect()
    assert done["message_id"] == reply.pk and done["state"] == "interrupted"
    assert "Half a sentence" in done["html"]


def _abandoned_reply(session) -> Message:
    question = message_create(session=session)
    long_ago = timezone.now() - timedelta(minutes=10)
    return message_create(
        session=session,
        role="assistant",
        query=question,
        state="streaming",
        content="Half a sentence",
        heartbeat_at=long_ago,
    )
