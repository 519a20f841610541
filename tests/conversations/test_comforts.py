"""Changing the last turn (delete, edit and resend) and errors told in the product's own words."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from conversations import history, protocol, services
from conversations.models import Message
from conversations.services import ChatRefused
from conversations.xingchen import reply_error
from platforms.xingchen.errors import XingchenError
from tests.conversations.helpers import (
    frames_until,
    joined,
    of_type,
    open_socket,
    reply_of,
    send_and_finish,
    socket_for,
)
from tests.factories import message_create


def _turn(session, text: str = "Hello there", **reply_fields) -> tuple[Message, Message]:
    question = message_create(session=session, content=text)
    reply = message_create(
        session=session, role="assistant", query=question, content="Hi!", **reply_fields
    )
    return question, reply


def _shown(session) -> list[str]:
    messages, _more = services.session_history(session=session, before=None, size=50)
    return [m.content for m in messages]


# --- services -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_alice_deletes_her_last_turn_and_the_chat_ends_with_the_turn_before(alice, alice_chat):
    _turn(alice_chat, "First question")
    question, reply = _turn(alice_chat, "Second question")
    other = message_create(session=alice_chat, role="assistant", query=question, is_chosen=False)

    deleted = services.message_delete_last_turn(
        session=alice_chat, user=alice, message_id=question.pk
    )

    assert sorted(deleted) == sorted([question.pk, reply.pk, other.pk])
    assert _shown(alice_chat)[-2:] == ["First question", "Hi!"]


@pytest.mark.django_db
def test_only_the_last_message_can_be_deleted(alice, alice_chat):
    first, _reply = _turn(alice_chat, "First question")
    _turn(alice_chat, "Second question")

    with pytest.raises(ChatRefused, match="Only your last message") as refused:
        services.message_delete_last_turn(session=alice_chat, user=alice, message_id=first.pk)

    assert refused.value.code == "invalid"
    assert "First question" in _shown(alice_chat)


@pytest.mark.django_db
def test_a_message_followed_by_a_reminder_can_no_longer_be_deleted(alice, alice_chat):
    question, _reply = _turn(alice_chat)
    message_create(session=alice_chat, role="assistant", kind="reminder", content="Still there?")

    with pytest.raises(ChatRefused, match="came after"):
        services.message_delete_last_turn(session=alice_chat, user=alice, message_id=question.pk)


@pytest.mark.django_db
def test_bob_cannot_delete_or_edit_alices_last_turn(alice, bob, alice_chat):
    question, _reply = _turn(alice_chat)

    with pytest.raises(ChatRefused) as deleting:
        services.message_delete_last_turn(session=alice_chat, user=bob, message_id=question.pk)
    with pytest.raises(ChatRefused) as editing:
        services.message_edit_last(
            session=alice_chat, user=bob, message_id=question.pk, content="Mine", client_id=None
        )

    assert deleting.value.code == editing.value.code == "forbidden"
    assert "Hello there" in _shown(alice_chat)


@pytest.mark.django_db
def test_a_turn_cannot_be_deleted_or_edited_while_its_reply_is_being_written(alice, alice_chat):
    question, _reply = _turn(alice_chat, state="streaming")

    with pytest.raises(ChatRefused) as deleting:
        services.message_delete_last_turn(session=alice_chat, user=alice, message_id=question.pk)
    with pytest.raises(ChatRefused) as editing:
        services.message_edit_last(
            session=alice_chat, user=alice, message_id=question.pk, content="New", client_id=None
        )

    assert deleting.value.code == editing.value.code == "busy"
    assert "Hello there" in _shown(alice_chat)


@pytest.mark.django_db
def test_editing_an_earlier_message_changes_nothing(alice, alice_chat):
    first, _reply = _turn(alice_chat, "First question")
    _turn(alice_chat, "Second question")

    with pytest.raises(ChatRefused, match="Only your last message"):
        services.message_edit_last(
            session=alice_chat, user=alice, message_id=first.pk, content="New", client_id=None
        )

    assert _shown(alice_chat)[-4:] == ["First question", "Hi!", "Second question", "Hi!"]


@pytest.mark.django_db
def test_a_regenerate_after_a_deleted_xingchen_turn_answers_the_turn_before(alice, alice_chat):
    kept, kept_reply = _turn(alice_chat, "Kept question")
    question, _reply = _turn(alice_chat, remote_message_id="answer-2", chat_id="chat-2")
    services.message_delete_last_turn(session=alice_chat, user=alice, message_id=question.pk)

    turn = services.message_regenerate(session=alice_chat, user=alice)

    assert turn.query_id == kept.pk and turn.reply_id != kept_reply.pk


# --- errors in the product's words ------------------------------------------------------------

XINGCHEN_FAILURES = [
    XingchenError("Too many", kind="http", status=429, retry_after=4.2),
    XingchenError("Too many", kind="http", status=429),
    XingchenError("slow", kind="timeout"),
    XingchenError("gone", kind="cut"),
    XingchenError("garbled", kind="malformed"),
    XingchenError("no key", kind="http", status=401),
    XingchenError("oops", kind="http", status=502),
    XingchenError("Prompt too long", kind="api", status=200),
]


@pytest.mark.parametrize("failure", XINGCHEN_FAILURES, ids=lambda f: f"{f.kind}-{f.status}")
def test_a_xingchen_failure_is_told_without_the_vendors_name(failure):
    error = reply_error(failure)

    assert "Xingchen" not in error.message


def test_a_busy_upstream_says_when_to_try_again_in_whole_seconds():
    error = reply_error(XingchenError("Too many", kind="http", status=429, retry_after=4.2))

    assert error.message == "The model is busy, try again in 5 s."
    assert error.code == "rate_limited" and error.retry_after == 4.2


# --- the socket ---------------------------------------------------------------------------------

socket_tests = pytest.mark.django_db(transaction=True)


@socket_tests
@pytest.mark.usefixtures("replies_end_with_the_test")
async def test_deleting_the_last_turn_removes_it_from_every_open_page(alice, alice_chat):
    socket = await open_socket(alice, alice_chat.pk)
    watcher = await open_socket(alice, alice_chat.pk)
    try:
        frames = await send_and_finish(socket, "Forget this.")
        question = frames[0]["message"]["id"]
        reply = reply_of(frames)
        await socket.send_json_to({"type": "delete", "message_id": question})
        deleted = await frames_until(watcher, of_type("deleted"))
        shown_again = await frames_until(watcher, of_type("message"))
    finally:
        await socket.disconnect()
        await watcher.disconnect()

    assert sorted(deleted[-1]["message_ids"]) == sorted([question, reply])
    # The opening line is the last message again, so it comes back whole.
    assert shown_again[-1]["message"]["content"] == "Hello, I am Lin. What brings you here?"
    exists = database_sync_to_async(Message.objects.filter(pk__in=[question, reply]).exists)
    assert not await exists()


@socket_tests
@pytest.mark.usefixtures("replies_end_with_the_test")
async def test_a_deleted_turn_stays_deleted_when_the_history_is_imported(alice, alice_chat):
    socket = await open_socket(alice, alice_chat.pk)
    try:
        frames = await send_and_finish(socket, "A secret I regret.")
        await socket.send_json_to({"type": "delete", "message_id": frames[0]["message"]["id"]})
        await frames_until(socket, of_type("deleted"))
    finally:
        await socket.disconnect()

    imported = await history.history_import(session_id=alice_chat.pk)

    assert imported == []
    shown = await database_sync_to_async(_shown)(alice_chat)
    assert "A secret I regret." not in shown


@socket_tests
@pytest.mark.usefixtures("replies_end_with_the_test")
async def test_editing_the_last_message_replaces_its_turn_with_a_new_one(alice, alice_chat):
    socket = await open_socket(alice, alice_chat.pk)
    try:
        first = await send_and_finish(socket, "What is the capitol of France?")
        old_question = first[0]["message"]["id"]
        await socket.send_json_to(
            {
                "type": "edit",
                "message_id": old_question,
                "content": "What is the capital of France?",
                "client_id": "edit-1",
            }
        )
        frames = await frames_until(socket, of_type("done"))
    finally:
        await socket.disconnect()

    kinds = [f["type"] for f in frames]
    assert kinds[:3] == ["deleted", "message", "message"]
    assert sorted(frames[0]["message_ids"]) == sorted([old_question, reply_of(first)])
    assert frames[1]["message"]["content"] == "What is the capital of France?"
    assert frames[-1]["state"] == "complete"
    shown = await database_sync_to_async(_shown)(alice_chat)
    assert "What is the capitol of France?" not in shown
    assert "What is the capital of France?" in shown


@socket_tests
@pytest.mark.usefixtures("replies_end_with_the_test")
async def test_editing_while_a_reply_is_being_written_is_refused(sim, alice, alice_chat):
    sim.configure(tokens_per_second=5)
    socket = await open_socket(alice, alice_chat.pk)
    try:
        await socket.send_json_to({"type": "send", "content": "Tell me a long story."})
        started = await frames_until(socket, of_type("start"))
        question = started[0]["message"]["id"]
        await socket.send_json_to({"type": "edit", "message_id": question, "content": "No."})
        refused = await frames_until(socket, of_type("error"))
        await socket.send_json_to({"type": "delete", "message_id": question})
        refused_delete = await frames_until(socket, of_type("error"))
        await socket.send_json_to({"type": "stop"})
        await frames_until(socket, of_type("done"))
    finally:
        await socket.disconnect()

    assert refused[-1]["code"] == refused_delete[-1]["code"] == "busy"


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        ({"type": "delete"}, "Deleting a message needs its message_id."),
        ({"type": "delete", "message_id": "7"}, "Deleting a message needs its message_id."),
        ({"type": "edit", "content": "Hi"}, "Editing a message needs its message_id."),
        ({"type": "edit", "message_id": 7, "content": "  "}, "Write a message before sending."),
    ],
)
@socket_tests
async def test_a_malformed_delete_or_edit_frame_gets_a_clear_error(alice, alice_chat, frame, words):
    socket = await open_socket(alice, alice_chat.pk)
    try:
        await joined(socket)
        await socket.send_json_to(frame)
        error = (await frames_until(socket, of_type("error")))[-1]
    finally:
        await socket.disconnect()

    assert error == {"type": "error", "code": "invalid", "message": words}


@socket_tests
async def test_bob_cannot_open_the_socket_that_deletes_alices_messages(bob, alice_chat):
    socket = await socket_for(bob, alice_chat.pk)
    connected, code = await socket.connect(timeout=10)
    await socket.disconnect()

    assert not connected and code == 4404


def test_an_error_frame_counts_a_wait_in_whole_seconds():
    frame = protocol.error_frame("rate_limited", "Busy.", message_id=3, retry_after=0.2)

    assert frame["retry_after"] == 1 and frame["message_id"] == 3
