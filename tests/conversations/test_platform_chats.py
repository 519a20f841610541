"""DMS and Lingma characters over the chat socket, against their simulators over HTTP.

The product owns these conversations: each request carries the persona as a system prompt and
the recent turns; stop, regenerate, reset and errors behave as they do with Xingchen.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from conversations import services
from conversations.models import ChatSession, Message
from tests.conversations.helpers import (
    deltas,
    frames_until,
    of_type,
    open_socket,
    reload,
    reply_of,
    send_and_finish,
)
from tests.factories import character_create

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("replies_end_with_the_test"),
]


@dataclass
class Platform:
    """A platform's simulator seen the same way: the messages of each chat request it got."""

    name: str
    sim: Any

    def chats(self) -> list[list[dict[str, str]]]:
        if self.name == "dms":
            requests = self.sim.requests()
            return [r["messages_received"] for r in requests if r["messages_received"]]
        return [
            r["body"]["input"]["messages"]
            for r in self.sim.requests()
            if r["path"].endswith("/model/chat") and r["status"] == 200
        ]

    def slow_down(self) -> None:
        self.sim.configure(tokens_per_second=15)


@pytest.fixture(params=["dms", "lingma"])
def platform(request) -> Platform:
    sim = request.getfixturevalue(f"{request.param}_sim")
    return Platform(request.param, sim)


def _character(platform: str, **fields: Any):
    return character_create(
        name="Wen",
        basic_information="You are Wen, a calm librarian who loves old maps.",
        opening_line="Welcome to the map room.",
        reply_platform=platform,
        **fields,
    )


async def _started(user, character) -> ChatSession:
    return await database_sync_to_async(services.session_start)(user=user, character=character)


async def test_a_chat_sends_the_persona_and_the_recent_turns(platform, alice):
    character = await database_sync_to_async(_character)(platform.name)
    session = await _started(alice, character)
    socket = await open_socket(alice, session.pk)
    try:
        first = await send_and_finish(socket, "Do you have a map of Suzhou?")
        second = await send_and_finish(socket, "And one of Hangzhou?")
    finally:
        await socket.disconnect()

    assert first[-1]["state"] == second[-1]["state"] == "complete"
    reply = await reload(reply_of(first))
    assert "Wen" in reply.content and deltas(first)
    assert reply.input_tokens and reply.output_tokens
    sent = (await asyncio.to_thread(platform.chats))[-1]
    assert sent[0]["role"] == "system" and sent[0]["content"].startswith("You are Wen.")
    assert "calm librarian" in sent[0]["content"]
    assert [m["role"] for m in sent[1:]] == ["assistant", "user", "assistant", "user"]
    assert sent[1]["content"] == "Welcome to the map room."
    assert sent[2]["content"] == "Do you have a map of Suzhou?"
    assert sent[3]["content"] == reply.content
    assert sent[4]["content"] == "And one of Hangzhou?"


async def test_stop_keeps_the_partial_and_the_next_send_works(platform, alice):
    character = await database_sync_to_async(_character)(platform.name)
    session = await _started(alice, character)
    platform.slow_down()
    socket = await open_socket(alice, session.pk)
    try:
        await socket.send_json_to({"type": "send", "content": "Tell me about your maps."})
        await frames_until(socket, of_type("delta"))
        await socket.send_json_to({"type": "stop"})
        frames = await frames_until(socket, of_type("done"))
        stopped = await reload(frames[-1]["message_id"])
        platform.sim.configure(tokens_per_second=2000)
        after = await send_and_finish(socket, "A short answer, please.")
    finally:
        await socket.disconnect()

    assert stopped.state == Message.State.STOPPED and stopped.content
    assert after[-1]["state"] == "complete"
    # The stopped text is what the character said: the next request carries it.
    sent = (await asyncio.to_thread(platform.chats))[-1]
    assert {"role": "assistant", "content": stopped.content} in sent


async def test_regenerate_asks_the_same_question_again_for_a_different_reply(platform, alice):
    character = await database_sync_to_async(_character)(platform.name)
    session = await _started(alice, character)
    socket = await open_socket(alice, session.pk)
    try:
        first = await reload(reply_of(await send_and_finish(socket, "Pick a map for me.")))
        await socket.send_json_to({"type": "regenerate"})
        frames = await frames_until(socket, of_type("done"))
    finally:
        await socket.disconnect()

    second = await reload(reply_of(frames))
    assert second.query_id == first.query_id and second.alternative_index == 1
    assert "2/2" in frames[-1]["html"]
    assert second.content != first.content
    asked, asked_again = (await asyncio.to_thread(platform.chats))[-2:]
    assert asked == asked_again  # the first answer is not part of the second request


async def test_reset_starts_an_empty_conversation(platform, alice):
    character = await database_sync_to_async(_character)(platform.name)
    session = await _started(alice, character)
    socket = await open_socket(alice, session.pk)
    try:
        await send_and_finish(socket, "Remember the word lantern.")
    finally:
        await socket.disconnect()

    new_session = await database_sync_to_async(_reset)(alice, session)
    socket = await open_socket(alice, new_session.pk)
    try:
        await send_and_finish(socket, "Which word?")
    finally:
        await socket.disconnect()

    sent = (await asyncio.to_thread(platform.chats))[-1]
    assert all("lantern" not in m["content"] for m in sent)
    assert [m["role"] for m in sent] == ["system", "assistant", "user"]


def _reset(user, session) -> ChatSession:
    client = Client()
    client.force_login(user)
    response = client.post(f"/chat/{session.pk}/reset/")
    assert response.status_code in (200, 302), response.status_code
    return ChatSession.objects.get(user=user, character=session.character, status="active")


FAULTS = [
    pytest.param({"kind": "cut", "after_events": 4}, "broke off", "interrupted", id="cut"),
    pytest.param(
        {"kind": "stream_error", "after_events": 4, "code": "InternalError", "message": "boom"},
        "could not answer",
        "interrupted",
        id="stream-error",
    ),
    pytest.param(
        {"kind": "http", "status": 429, "retry_after": 7},
        "busy, try again in 7 s",
        "failed",
        id="429",
    ),
    pytest.param({"kind": "http", "status": 503}, "server error (HTTP 503)", "failed", id="503"),
]


@pytest.mark.parametrize(("fault", "words", "state"), FAULTS)
async def test_a_failure_is_explained_and_keeps_the_partial(platform, alice, fault, words, state):
    character = await database_sync_to_async(_character)(platform.name)
    session = await _started(alice, character)
    platform.sim.inject(**fault)
    socket = await open_socket(alice, session.pk)
    try:
        frames = await send_and_finish(socket, "Tell me a long story about maps.")
        error = await frames_until(socket, of_type("error"))
        after = await send_and_finish(socket, "Try once more.")
    finally:
        await socket.disconnect()

    reply = await reload(frames[-1]["message_id"])
    assert reply.state == state
    assert words in error[-1]["message"] and words in reply.error
    if state == "interrupted":
        assert reply.content and "text so far is kept" in reply.error
    assert after[-1]["state"] == "complete"


async def test_dms_masks_personal_data_before_the_model_sees_it(dms_sim, alice):
    masked = await database_sync_to_async(_character)("dms", dms_masking=True)
    clear = await database_sync_to_async(character_create)(
        name="Bo", basic_information="You are Bo.", reply_platform="dms"
    )
    replies = []
    for character in (masked, clear):
        session = await _started(alice, character)
        socket = await open_socket(alice, session.pk)
        try:
            frames = await send_and_finish(socket, "My phone is 13812345678, call me.")
        finally:
            await socket.disconnect()
        replies.append(await reload(reply_of(frames)))

    with_masking, without = replies
    assert "138****5678" in with_masking.content and "13812345678" not in with_masking.content
    assert "13812345678" in without.content
    requests = await asyncio.to_thread(dms_sim.requests)
    assert requests[-2]["params"]["NeedDesensitization"] == "true"
    assert requests[-2]["params"]["DesensitizationRule"] == "UserInfo"
    assert "NeedDesensitization" not in requests[-1]["params"] or (
        requests[-1]["params"]["NeedDesensitization"] == "false"
    )


async def test_dms_thinking_is_kept_apart_and_shown_folded(dms_sim, alice):
    character = await database_sync_to_async(_character)(
        "dms", dms_thinking=True, dms_thinking_budget=256, dms_model="qwen-plus"
    )
    session = await _started(alice, character)
    socket = await open_socket(alice, session.pk)
    try:
        frames = await send_and_finish(socket, "Which map is the oldest?")
    finally:
        await socket.disconnect()

    reply = await reload(reply_of(frames))
    assert reply.reasoning and reply.reasoning not in reply.content
    assert 'class="msg-reasoning"' in frames[-1]["html"]
    params = (await asyncio.to_thread(dms_sim.requests))[-1]["params"]
    assert (params["EnableThinking"], params["ThinkingBudget"]) == ("true", "256")


async def test_a_lingma_reply_cites_the_chosen_knowledge_base(lingma_sim, alice):
    bases = await asyncio.to_thread(lingma_sim.knowledge_bases)
    chosen = next(kb for kb in bases if kb["sceneType"] != "complement")
    character = await database_sync_to_async(_character)(
        "lingma", lingma_team_docs=True, lingma_kb_ids=[chosen["id"]]
    )
    session = await _started(alice, character)
    socket = await open_socket(alice, session.pk)
    try:
        frames = await send_and_finish(socket, f"What does {chosen['name']} say?")
    finally:
        await socket.disconnect()

    reply = await reload(reply_of(frames))
    assert f"Source: [{chosen['name']}" in reply.content
    request = (await asyncio.to_thread(lingma_sim.requests))[-1]
    assert request["query"]["teamDocs"] == "true"
    assert request["body"]["kbIds"] == [chosen["id"]]
