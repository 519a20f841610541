"""Whatever fails inside a generation, the reply ends with the text it has and the user can
send again (faults injected into the generation's own steps)."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from conversations import relay, services, xingchen
from conversations.models import Message
from tests.conversations.helpers import (
    frames_until,
    of_type,
    open_socket,
    reload,
    reply_of,
    send_and_finish,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("replies_end_with_the_test"),
]


async def _send_expecting_interrupted(socket) -> Message:
    await socket.send_json_to({"type": "send", "content": "Tell me a long story."})
    frames = await frames_until(socket, of_type("done"))
    reply = await reload(reply_of(frames))
    assert frames[-1]["state"] == "interrupted"
    assert reply.state == Message.State.INTERRUPTED
    assert reply.content and "text so far is kept" in reply.error
    return reply


async def _next_send_works(socket) -> None:
    frames = await send_and_finish(socket, "Are you still there?")
    assert frames[-1]["state"] == "complete"


async def test_a_fault_in_a_flush_ends_the_reply_interrupted_with_its_text(
    sim, monkeypatch, alice, alice_chat
):
    sim.configure(tokens_per_second=200)
    publish = relay.publish
    failures = []

    async def flaky_publish(session_id, frame):
        if frame["type"] == "delta" and frame["seq"] == 2 and not failures:
            failures.append(frame)
            raise ConnectionError("the socket layer went away")
        await publish(session_id, frame)

    monkeypatch.setattr(relay, "publish", flaky_publish)
    socket = await open_socket(alice, alice_chat.pk)
    try:
        reply = await _send_expecting_interrupted(socket)
        assert failures[0]["text"] in reply.content
        await _next_send_works(socket)
    finally:
        await socket.disconnect()


async def test_a_fault_in_a_progress_save_ends_the_reply_interrupted_with_its_text(
    sim, settings, monkeypatch, alice, alice_chat
):
    settings.CHAT_DB_WRITE_INTERVAL = 0
    sim.configure(tokens_per_second=100)

    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "message_progress_save", locked)
    socket = await open_socket(alice, alice_chat.pk)
    try:
        await _send_expecting_interrupted(socket)
        monkeypatch.undo()
        await _next_send_works(socket)
    finally:
        await socket.disconnect()


async def test_a_fault_while_stopping_ends_the_reply_interrupted_with_its_text(
    sim, monkeypatch, alice, alice_chat
):
    sim.configure(tokens_per_second=20)

    async def broken_stop(**kwargs):
        raise RuntimeError("the stop could not be sent")

    monkeypatch.setattr(xingchen.XINGCHEN, "stop", broken_stop)
    socket = await open_socket(alice, alice_chat.pk)
    try:
        await socket.send_json_to({"type": "send", "content": "Tell me a long story."})
        started = await frames_until(socket, of_type("delta"))
        await socket.send_json_to({"type": "stop"})
        await frames_until(socket, of_type("done"))
        reply = await reload(reply_of(started))
        assert reply.state == Message.State.INTERRUPTED and reply.content
        sim.configure(tokens_per_second=2000)
        await _next_send_works(socket)
    finally:
        await socket.disconnect()


async def test_a_reply_whose_end_cannot_be_saved_is_still_ended(
    sim, monkeypatch, alice, alice_chat
):
    finish = services.message_finish
    calls = []

    def finish_once_failing(**kwargs):
        calls.append(kwargs["outcome"].state)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return finish(**kwargs)

    monkeypatch.setattr(services, "message_finish", finish_once_failing)
    socket = await open_socket(alice, alice_chat.pk)
    try:
        frames = await send_and_finish(socket, "Hello?")
        reply = await reload(reply_of(frames))
        assert calls == ["complete", "interrupted"]
        assert reply.state == Message.State.INTERRUPTED and reply.content
        monkeypatch.undo()
        await _next_send_works(socket)
    finally:
        await socket.disconnect()
