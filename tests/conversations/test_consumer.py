"""The chat socket against the simulator over HTTP: turns, reconnects, stop, faults, access."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.db import database_sync_to_async
from django.utils.html import escape

from accounts.services import profile_update
from characters.models import Character
from conversations import history, services
from conversations.models import ChatSession, Message
from platforms.xingchen.types import HistoryQuery
from project.upstream import xingchen
from tests.conversations.helpers import (
    deltas,
    frames_until,
    joined,
    of_type,
    open_socket,
    recording_statements,
    reload,
    reply_of,
    send_and_finish,
    socket_for,
    upstream_requests,
    wait_for_imports,
    wait_until_final,
    wait_until_saved,
)
from tests.factories import character_create_synced

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("replies_end_with_the_test"),
]


async def _upstream_text(character, alice, answer_id: str) -> str:
    page = await xingchen().message_histories(
        HistoryQuery(
            character_id=character.remote_id,
            biz_user_id=f"user-{alice.pk}",
            message_ids=[answer_id],
        )
    )
    return page.items[0].content


async def test_a_full_turn_streams_the_reply_in_order_and_saves_what_the_upstream_sent(
    alice, character, alice_chat
):
    socket = await open_socket(alice, alice_chat.pk)
    try:
        frames = await send_and_finish(socket, "Tell me about **tea**.")
    finally:
        await socket.disconnect()

    kinds = [f["type"] for f in frames]
    assert kinds[:3] == ["message", "message", "start"]
    assert kinds[-1] == "done"
    user_frame, placeholder = frames[0]["message"], frames[1]["message"]
    assert user_frame["role"] == "user" and user_frame["content"] == "Tell me about **tea**."
    assert placeholder["role"] == "assistant" and placeholder["state"] == "streaming"
    reply_id = reply_of(frames)
    assert [d["seq"] for d in deltas(frames)] == list(range(1, len(deltas(frames)) + 1))
    streamed = "".join(d["text"] for d in deltas(frames))
    reply = await reload(reply_id)
    assert reply.state == Message.State.COMPLETE
    assert reply.content == streamed
    assert reply.content == await _upstream_text(character, alice, reply.remote_message_id)
    assert reply.output_tokens and reply.input_tokens
    done = frames[-1]
    assert done["state"] == "complete"
    assert done["usage"] is None  # token counts are for staff (CHAT_TOKEN_COUNTS)
    assert "<strong>" in done["html"]


async def test_the_users_message_is_committed_while_the_upstream_is_still_working(
    sim, alice, alice_chat
):
    sim.configure(first_token_ms=1500)
    socket = await open_socket(alice, alice_chat.pk)
    try:
        await socket.send_json_to({"type": "send", "content": "Are you there?"})
        frames = await frames_until(socket, of_type("start"))
        reply = await reload(frames[-1]["message_id"])
        assert reply.state == Message.State.STREAMING
        assert reply.query.content == "Are you there?"
        frames = await frames_until(socket, of_type("done"))
        assert frames[-1]["state"] == "complete"
    finally:
        await socket.disconnect()


async def test_a_fast_upstream_reaches_the_socket_as_few_frames_not_one_per_token(
    settings, alice, alice_chat
):
    settings.CHAT_STREAM_FLUSH_INTERVAL = 30
    socket = await open_socket(alice, alice_chat.pk)
    try:
        frames = await send_and_finish(socket, "Say something long, please.")
    finally:
        await socket.disconnect()
    reply = await reload(reply_of(frames))
    assert len(reply.content) > 100
    # The first text goes out at once; everything after it waits for the next frame.
    first, rest = (d["text"] for d in deltas(frames))
    assert first + rest == reply.content and len(rest) > len(first)


async def test_closing_the_socket_mid_stream_does_not_stop_the_reply(sim, alice, alice_chat):
    sim.configure(tokens_per_second=40)
    socket = await open_socket(alice, alice_chat.pk)
    await socket.send_json_to({"type": "send", "content": "Tell me a long story."})
    frames = await frames_until(socket, of_type("delta"))
    await socket.disconnect()

    reply = await wait_until_final(reply_of(frames))
    assert reply.state == Message.State.COMPLETE
    assert reply.content.startswith(frames[-1]["text"])
    assert len(reply.content) > len(frames[-1]["text"])


async def test_a_reconnect_gets_the_snapshot_and_then_the_rest(sim, alice, alice_chat):
    sim.configure(tokens_per_second=40)
    first = await open_socket(alice, alice_chat.pk)
    await first.send_json_to({"type": "send", "content": "Tell me a long story."})
    await frames_until(first, lambda f: f["type"] == "delta" and f["seq"] >= 2)
    await first.disconnect()

    second = await open_socket(alice, alice_chat.pk)
    try:
        snapshot = await second.receive_json_from(timeout=10)
        rest = await frames_until(second, of_type("done"))
    finally:
        await second.disconnect()
    assert snapshot["type"] == "snapshot" and snapshot["seq"] >= 2 and snapshot["text"]
    later = [d for d in deltas(rest) if d["seq"] > snapshot["seq"]]
    assert [d["seq"] for d in later] == list(
        range(snapshot["seq"] + 1, snapshot["seq"] + 1 + len(later))
    )
    reply = await reload(snapshot["message_id"])
    assert reply.state == Message.State.COMPLETE
    assert reply.content == snapshot["text"] + "".join(d["text"] for d in later)


async def test_two_tabs_see_the_same_stream(sim, alice, alice_chat):
    sim.configure(tokens_per_second=200)
    one = await open_socket(alice, alice_chat.pk)
    two = await open_socket(alice, alice_chat.pk)
    await joined(two)
    try:
        frames_one = await send_and_finish(one, "Hello from the first tab.")
        frames_two = await frames_until(two, of_type("done"))
    finally:
        await one.disconnect()
        await two.disconnect()
    assert frames_one == frames_two


async def test_stop_keeps_the_partial_tells_the_upstream_and_the_next_send_works(
    sim, alice, alice_chat
):
    sim.configure(tokens_per_second=20)
    socket = await open_socket(alice, alice_chat.pk)
    try:
        await socket.send_json_to({"type": "send", "content": "Tell me a long story."})
        await frames_until(socket, of_type("delta"))
        await socket.send_json_to({"type": "stop"})
        frames = await frames_until(socket, of_type("done"))
        assert frames[-1]["state"] == "stopped"
        reply = await reload(frames[-1]["message_id"])
        assert reply.state == Message.State.STOPPED and reply.content
        stops = await upstream_requests(sim, "aca-chat-stop")
        assert stops[-1]["json"] == {"requestId": reply.request_id, "content": reply.content}

        sim.configure(tokens_per_second=2000)
        frames = await send_and_finish(socket, "And now a short one.")
        assert frames[-1]["state"] == "complete"
    finally:
        await socket.disconnect()


FAULTS = [
    pytest.param({"kind": "cut", "after_events": 3}, "broke off", id="cut"),
    pytest.param(
        {"kind": "error_event", "after_events": 3, "status": 500}, "server error", id="500"
    ),
    pytest.param({"kind": "error_event", "after_events": 3, "status": 429}, "busy", id="429"),
    pytest.param({"kind": "malformed", "after_events": 3}, "unreadable", id="malformed"),
    pytest.param(
        {"kind": "stall", "after_events": 3, "seconds": 30}, "stopped answering", id="stall"
    ),
]


@pytest.mark.parametrize(("fault", "words"), FAULTS)
async def test_a_broken_stream_keeps_the_partial_as_interrupted_and_the_next_send_works(
    sim, settings, alice, alice_chat, fault, words
):
    settings.XINGCHEN_STREAM_IDLE_TIMEOUT = 0.5
    sim.configure(tokens_per_second=200)
    sim.inject("aca-chat-send-sse", **fault)
    socket = await open_socket(alice, alice_chat.pk)
    try:
        frames = await send_and_finish(socket, "Tell me something.")
        streamed = "".join(d["text"] for d in deltas(frames))
        reply = await reload(reply_of(frames))
        assert reply.state == Message.State.INTERRUPTED
        assert reply.content == streamed and streamed
        assert words in reply.error and "text so far is kept" in reply.error
        assert frames[-1]["state"] == "interrupted" and reply.error in frames[-1]["html"]
        error = await frames_until(socket, of_type("error"))
        assert error[-1]["code"] in ("upstream", "rate_limited")

        frames = await send_and_finish(socket, "Let us try again.")
        assert frames[-1]["state"] == "complete"
    finally:
        await socket.disconnect()


async def test_a_rate_limited_send_fails_with_a_wait_time_and_the_next_send_works(
    sim, alice, alice_chat
):
    sim.inject("aca-chat-send-sse", status=429, retry_after=7)
    socket = await open_socket(alice, alice_chat.pk)
    try:
        frames = await send_and_finish(socket, "Hello?")
        reply = await reload(reply_of(frames))
        assert reply.state == Message.State.FAILED and reply.content == ""
        assert reply.error == "The model is busy, try again in 7 s."
        error = (await frames_until(socket, of_type("error")))[-1]
        assert error == {
            "type": "error",
            "code": "rate_limited",
            "message": reply.error,
            "message_id": reply.pk,
            "retry_after": 7,
        }

        frames = await send_and_finish(socket, "Hello again?")
        assert frames[-1]["state"] == "complete"
    finally:
        await socket.disconnect()


async def test_regenerate_adds_an_alternative_and_the_chosen_one_is_adopted_next_turn(
    sim, alice, alice_chat
):
    socket = await open_socket(alice, alice_chat.pk)
    try:
        first = await reload(reply_of(await send_and_finish(socket, "Pick a colour.")))
        await socket.send_json_to({"type": "regenerate"})
        frames = await frames_until(socket, of_type("done"))
        second = await reload(reply_of(frames))
        assert frames[0]["type"] == "message" and "2/2" in frames[-1]["html"]
        regenerate = (await upstream_requests(sim, "aca-chat-send-sse"))[-1]["json"]
        context = regenerate["input"]["aca"]["context"]
        assert context["isRegenerate"] is True
        assert context["queryId"] == first.query.remote_message_id
        assert second.query_id == first.query_id and second.alternative_index == 1
        assert second.content != first.content

        await socket.send_json_to({"type": "choose", "message_id": first.pk})
        chosen = (await frames_until(socket, of_type("message")))[-1]["message"]
        assert chosen["id"] == first.pk and "1/2" in chosen["html"]
        assert (await reload(first.pk)).is_chosen and not (await reload(second.pk)).is_chosen

        await send_and_finish(socket, "Why that one?")
        next_turn = (await upstream_requests(sim, "aca-chat-send-sse"))[-1]["json"]
        assert next_turn["input"]["aca"]["context"]["answerId"] == first.remote_message_id
    finally:
        await socket.disconnect()


async def test_a_second_generation_of_the_same_user_is_refused_as_busy(sim, alice, alice_chat):
    other = await database_sync_to_async(_second_chat)(alice)
    sim.configure(tokens_per_second=40)
    lin = await open_socket(alice, alice_chat.pk)
    mo = await open_socket(alice, other.pk)
    try:
        await lin.send_json_to({"type": "send", "content": "A long story, please."})
        await frames_until(lin, of_type("start"))
        await mo.send_json_to({"type": "send", "content": "Are you free?"})
        error = await mo.receive_json_from(timeout=10)
        assert error["type"] == "error" and error["code"] == "busy"
        assert not await database_sync_to_async(other.messages.filter(role="user").exists)()
        await lin.send_json_to({"type": "stop"})
        await frames_until(lin, of_type("done"))
    finally:
        await lin.disconnect()
        await mo.disconnect()


async def test_two_sockets_racing_get_one_generation_and_one_busy(sim, alice, alice_chat):
    other = await database_sync_to_async(_second_chat)(alice)
    lin = await open_socket(alice, alice_chat.pk)
    mo = await open_socket(alice, other.pk)
    try:
        await asyncio.gather(
            lin.send_json_to({"type": "send", "content": "First!"}),
            mo.send_json_to({"type": "send", "content": "No, me first!"}),
        )
        firsts = await asyncio.gather(
            frames_until(lin, lambda f: f["type"] in ("start", "error")),
            frames_until(mo, lambda f: f["type"] in ("start", "error")),
        )
        outcomes = sorted(frames[-1]["type"] for frames in firsts)
        assert outcomes == ["error", "start"]
        winner = lin if firsts[0][-1]["type"] == "start" else mo
        await frames_until(winner, of_type("done"))
    finally:
        await lin.disconnect()
        await mo.disconnect()


def _second_chat(user):
    return services.session_start(user=user, character=character_create_synced(name="Mo"))


async def test_a_resent_client_id_never_makes_a_second_message_or_generation(
    sim, alice, alice_chat
):
    socket = await open_socket(alice, alice_chat.pk)
    frame = {"type": "send", "content": "Only once.", "client_id": str(uuid.uuid4())}
    try:
        await socket.send_json_to(frame)
        frames = await frames_until(socket, of_type("done"))
        await socket.send_json_to(frame)
        again = await socket.receive_json_from(timeout=10)
        assert again["type"] == "message" and again["message"]["id"] == frames[0]["message"]["id"]
        assert await socket.receive_nothing(timeout=0.3)
    finally:
        await socket.disconnect()
    users = await database_sync_to_async(alice_chat.messages.filter(role="user").count)()
    assert users == 1
    assert len(await upstream_requests(sim, "aca-chat-send-sse")) >= 1


BAD_FRAMES = [
    pytest.param("{not json", "not a JSON frame", id="malformed-json"),
    pytest.param('["send"]', "JSON object", id="not-an-object"),
    pytest.param('{"type": "dance"}', "Unknown frame type", id="unknown-type"),
    pytest.param('{"type": "send", "content": "   "}', "Write a message", id="empty"),
    pytest.param(
        '{"type": "send", "content": "' + "x" * 4001 + '"}', "at most 4000", id="too-long"
    ),
    pytest.param('{"type": "choose", "message_id": "7"}', "message_id", id="choose-without-id"),
]


@pytest.mark.parametrize(("raw", "words"), BAD_FRAMES)
async def test_a_bad_frame_is_answered_with_invalid_and_the_socket_stays_usable(
    alice, alice_chat, raw, words
):
    socket = await open_socket(alice, alice_chat.pk)
    try:
        await socket.send_to(text_data=raw)
        error = await socket.receive_json_from(timeout=10)
        assert error["type"] == "error" and error["code"] == "invalid"
        assert words in error["message"]
        frames = await send_and_finish(socket, "Still there?")
        assert frames[-1]["state"] == "complete"
    finally:
        await socket.disconnect()


async def test_stop_with_nothing_running_and_regenerate_with_nothing_to_redo_are_invalid(
    alice, alice_chat
):
    socket = await open_socket(alice, alice_chat.pk)
    try:
        await socket.send_json_to({"type": "stop"})
        assert (await socket.receive_json_from(timeout=10))["code"] == "invalid"
        await socket.send_json_to({"type": "regenerate"})
        error = await socket.receive_json_from(timeout=10)
        assert error["code"] == "invalid" and "no reply to regenerate" in error["message"]
    finally:
        await socket.disconnect()


async def test_bob_cannot_open_alices_session_socket(bob, alice_chat):
    socket = await socket_for(bob, alice_chat.pk)
    connected, code = await socket.connect(timeout=10)
    assert not connected and code == 4404
    await socket.disconnect()


async def test_a_socket_without_a_login_is_refused(alice_chat):
    socket = await socket_for(None, alice_chat.pk)
    connected, code = await socket.connect(timeout=10)
    assert not connected and code == 4401
    await socket.disconnect()


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://localhost:9999",  # the same host on another port
        "https://localhost:8000",  # the same host and port on another scheme
        "http://localhost.evil.example:8000",
        "null",
    ],
)
async def test_a_socket_from_another_origin_is_refused(settings, alice, alice_chat, origin):
    assert settings.PUBLIC_BASE_URL == "http://localhost:8000"
    socket = await socket_for(alice, alice_chat.pk, origin=origin)
    connected, _ = await socket.connect(timeout=10)
    assert not connected
    await socket.disconnect()


@pytest.mark.parametrize("origin", ["http://localhost:8000", "http://127.0.0.1:8000"])
async def test_a_socket_from_the_products_own_origin_is_accepted(alice, alice_chat, origin):
    socket = await socket_for(alice, alice_chat.pk, origin=origin)
    connected, _ = await socket.connect(timeout=10)
    assert connected
    await socket.disconnect()


async def test_an_archived_session_is_read_only(alice, alice_chat):
    await database_sync_to_async(ChatSession.objects.filter(pk=alice_chat.pk).update)(
        status=ChatSession.Status.ARCHIVED
    )
    socket = await open_socket(alice, alice_chat.pk)
    try:
        await socket.send_json_to({"type": "send", "content": "Hello?"})
        error = await socket.receive_json_from(timeout=10)
        assert error == {
            "type": "error",
            "code": "forbidden",
            "message": "This conversation is archived and read-only.",
        }
    finally:
        await socket.disconnect()


async def test_the_reply_is_written_to_the_database_by_the_batching_rule_not_per_token(
    sim, settings, alice, alice_chat
):
    settings.CHAT_DB_WRITE_INTERVAL = 3600
    settings.CHAT_STREAM_FLUSH_INTERVAL = 0.01
    sim.configure(tokens_per_second=400)
    socket = await open_socket(alice, alice_chat.pk)
    try:
        with recording_statements() as statements:
            frames = await send_and_finish(socket, "Write me a long paragraph.")
    finally:
        await socket.disconnect()
    reply_id = reply_of(frames)
    writes = [
        sql
        for sql, params in statements
        if sql.startswith('UPDATE "conversations_message"') and reply_id in params[-2:]
    ]
    assert len(deltas(frames)) > 5
    assert len(writes) == 1


async def test_while_streaming_the_reply_is_saved_once_per_write_interval(
    sim, settings, alice, alice_chat
):
    settings.CHAT_DB_WRITE_INTERVAL = 0.2
    sim.configure(tokens_per_second=40)
    socket = await open_socket(alice, alice_chat.pk)
    try:
        await socket.send_json_to({"type": "send", "content": "A long story, please."})
        frames = await frames_until(socket, lambda f: f["type"] == "delta" and f["seq"] >= 4)
        saved = await wait_until_saved(reply_of(frames))
        assert saved.state == Message.State.STREAMING and saved.content
        await frames_until(socket, of_type("done"))
    finally:
        await socket.disconnect()


async def test_importing_the_history_after_our_own_turns_adds_nothing(sim, alice, alice_chat):
    socket = await open_socket(alice, alice_chat.pk)
    try:
        await send_and_finish(socket, "First question.")
        await socket.send_json_to({"type": "regenerate"})
        await frames_until(socket, of_type("done"))
        sim.configure(tokens_per_second=20)
        await socket.send_json_to({"type": "send", "content": "Second question."})
        await frames_until(socket, of_type("delta"))
        await socket.send_json_to({"type": "stop"})
        await frames_until(socket, of_type("done"))
    finally:
        await socket.disconnect()
    assert await history.history_import(session_id=alice_chat.pk) == []


async def test_a_reminder_made_upstream_reaches_the_socket_that_opens(
    sim, alice, character, alice_chat
):
    await xingchen().chat_reminder(
        character_id=character.remote_id, biz_user_id=f"user-{alice.pk}", content="Still awake?"
    )
    socket = await open_socket(alice, alice_chat.pk)
    try:
        frame = await socket.receive_json_from(timeout=10)
    finally:
        await socket.disconnect()
    assert frame["type"] == "message" and frame["message"]["content"] == "Still awake?"
    assert "reminder" in frame["message"]["html"]


async def test_sockets_opening_again_soon_do_not_ask_the_upstream_again(
    sim, settings, alice, alice_chat
):
    settings.CHAT_HISTORY_IMPORT_INTERVAL = 3600
    # Compared by id: the simulator's log keeps only the latest 50 calls of a kind.
    before = {r["requestId"] for r in await upstream_requests(sim, "aca-message-history")}
    for _ in range(3):
        socket = await open_socket(alice, alice_chat.pk)
        await socket.disconnect()
    await wait_for_imports()
    after = {r["requestId"] for r in await upstream_requests(sim, "aca-message-history")}
    assert len(after - before) == 1


async def test_the_profile_and_the_scenario_go_upstream_with_the_message(sim, alice, alice_chat):
    await database_sync_to_async(profile_update)(
        user=alice, display_name="Ally", basic_info="Likes green tea."
    )
    await database_sync_to_async(services.session_set_scenario)(
        session=alice_chat, scenario="A rainy evening in a tea house."
    )
    socket = await open_socket(alice, alice_chat.pk)
    try:
        await send_and_finish(socket, "Good evening.")
    finally:
        await socket.disconnect()
    aca = (await upstream_requests(sim, "aca-chat-send-sse"))[-1]["json"]["input"]["aca"]
    assert aca["userProfile"] == {
        "userId": f"user-{alice.pk}",
        "userName": "Ally",
        "basicInfo": "Likes green tea.",
    }
    assert aca["scenario"] == {"description": "A rainy evening in a tea house."}
    assert aca["context"]["useChatHistory"] is True


async def test_a_flagged_reply_is_not_streamed_and_ends_as_the_safe_answer(sim, alice, alice_chat):
    socket = await open_socket(alice, alice_chat.pk)
    try:
        frames = await send_and_finish(socket, "[risk] Tell me something forbidden.")
    finally:
        await socket.disconnect()
    reply = await reload(reply_of(frames))
    assert reply.has_risk and reply.safety_std_answer
    assert deltas(frames) == []
    assert "flagged" in frames[-1]["html"] and escape(reply.safety_std_answer) in frames[-1]["html"]
    assert reply.content not in frames[-1]["html"]


async def test_a_function_call_is_saved_and_shown_readably(sim, alice):
    weather = {
        "name": "weather",
        "description": "The weather of a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
    chat = await database_sync_to_async(_chat_with_functions)(alice, [weather])
    socket = await open_socket(alice, chat.pk)
    try:
        frames = await send_and_finish(socket, "What is the weather in Hangzhou?")
    finally:
        await socket.disconnect()
    reply = await reload(reply_of(frames))
    [call] = reply.function_call["api_calls"]
    assert call["api_name"] == "weather" and "Hangzhou" in call["parameters"]["city"]
    sent = (await upstream_requests(sim, "aca-chat-send-sse"))[-1]["json"]
    assert sent["input"]["aca"]["functionList"][0]["name"] == "weather"
    assert "Function call" in frames[-1]["html"] and "<code>weather</code>" in frames[-1]["html"]


def _chat_with_functions(user, functions):
    character = character_create_synced(name="Wen", function_list=functions)
    return services.session_start(user=user, character=character)


async def test_a_character_taken_off_shelf_refuses_new_messages(alice, character, alice_chat):
    await database_sync_to_async(Character.objects.filter(pk=character.pk).update)(
        config_status="out"
    )
    socket = await open_socket(alice, alice_chat.pk)
    try:
        await socket.send_json_to({"type": "send", "content": "Hello?"})
        error = await socket.receive_json_from(timeout=10)
    finally:
        await socket.disconnect()
    assert error == {
        "type": "error",
        "code": "forbidden",
        "message": "This character is off-shelf on Xingchen.",
    }
