"""Personal data masked before it leaves, restored in the replies, over the chat socket.

The upstream is the simulator over real HTTP; its request log is what the vendor would have
seen. The simulator repeats the placeholders it is sent, as a model refers to them.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from characters.models import Character, PrivacyMode
from conversations import history, services
from conversations.models import ChatSession, Message
from project.upstream import xingchen
from tests.conversations.helpers import (
    frames_until,
    of_type,
    open_socket,
    reload,
    reply_of,
    send_and_finish,
    upstream_requests,
)
from tests.conversations.test_platform_chats import Platform
from tests.factories import character_create, character_create_synced

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("replies_end_with_the_test"),
]

MOBILE = "13812345678"
ID_CARD = "11010519491231002X"
EMAIL = "zhang.wei@example.com"
NAME = "张伟"
PERSONAL = f"我叫{NAME}，电话{MOBILE}，身份证{ID_CARD}，邮箱 {EMAIL}，请记下来。"
VALUES = (MOBILE, ID_CARD, EMAIL, NAME)


@pytest.fixture
def masked_character(sim) -> Character:
    return character_create_synced(name="Lin", privacy_mode=PrivacyMode.LOCAL)


async def _session(user, character) -> ChatSession:
    return await database_sync_to_async(services.session_start)(user=user, character=character)


async def _chat_requests(sim) -> list[dict]:
    return [r["json"] for r in await upstream_requests(sim, "aca-chat-send-sse")]


def _shown_text(frames: list[dict]) -> str:
    return "".join(f["text"] for f in frames if f["type"] == "delta")


async def test_the_upstream_sees_placeholders_and_the_user_sees_the_real_values(
    sim, alice, masked_character
):
    session = await _session(alice, masked_character)
    socket = await open_socket(alice, session.pk)
    try:
        frames = await send_and_finish(socket, PERSONAL)
    finally:
        await socket.disconnect()

    sent = json.dumps((await _chat_requests(sim))[-1], ensure_ascii=False)
    for value in VALUES:
        assert value not in sent
    for placeholder in ("[PERSON_1]", "[CN_MOBILE_1]", "[CN_ID_CARD_1]", "[EMAIL_1]"):
        assert placeholder in sent
    reply = await reload(reply_of(frames))
    for shown in (_shown_text(frames), reply.content, frames[-1]["html"]):
        assert MOBILE in shown and NAME in shown and "[CN_MOBILE_1]" not in shown
    assert reply.masked_types == ["CN_ID_CARD", "CN_MOBILE", "EMAIL", "PERSON"]
    question = await reload(reply.query_id)
    assert question.content == PERSONAL
    assert question.masked_types == ["CN_ID_CARD", "CN_MOBILE", "EMAIL", "PERSON"]
    sealed = (await database_sync_to_async(ChatSession.objects.get)(pk=session.pk)).masking_vault
    assert sealed and MOBILE not in sealed


async def test_the_same_number_keeps_its_placeholder_in_later_turns(sim, alice, masked_character):
    session = await _session(alice, masked_character)
    socket = await open_socket(alice, session.pk)
    try:
        await send_and_finish(socket, f"记一下我的电话 {MOBILE}")
        await send_and_finish(socket, "换个号码：13912345678，旧的 138-1234-5678 别用了")
    finally:
        await socket.disconnect()

    first, second = (
        r["input"]["messages"][-1]["content"] for r in (await _chat_requests(sim))[-2:]
    )
    assert first == "记一下我的电话 [CN_MOBILE_1]"
    assert second == "换个号码：[CN_MOBILE_2]，旧的 [CN_MOBILE_1] 别用了"


async def test_a_stopped_reply_goes_back_to_the_upstream_with_its_placeholders(
    sim, alice, masked_character
):
    session = await _session(alice, masked_character)
    sim.configure(tokens_per_second=15)
    socket = await open_socket(alice, session.pk)
    try:
        await socket.send_json_to({"type": "send", "content": f"Call me at {MOBILE}, okay?"})
        await frames_until(socket, lambda f: MOBILE in f.get("text", ""), timeout=60)
        await socket.send_json_to({"type": "stop"})
        frames = await frames_until(socket, of_type("done"))
    finally:
        await socket.disconnect()

    stopped = await reload(frames[-1]["message_id"])
    assert stopped.state == Message.State.STOPPED and MOBILE in stopped.content
    kept = (await upstream_requests(sim, "aca-chat-stop"))[-1]["json"]
    assert MOBILE not in json.dumps(kept) and "[CN_MOBILE_1]" in json.dumps(kept)


async def test_an_upstream_record_with_a_placeholder_is_imported_with_the_real_value(
    sim, alice, masked_character
):
    session = await _session(alice, masked_character)
    socket = await open_socket(alice, session.pk)
    try:
        await send_and_finish(socket, f"电话 {MOBILE}")
    finally:
        await socket.disconnect()
    await xingchen().chat_reminder(
        character_id=masked_character.remote_id,
        biz_user_id=services.biz_user_id(alice.pk),
        content="I will call [CN_MOBILE_1] tomorrow.",
    )

    imported = await history.history_import(session_id=session.pk)

    assert [m.content for m in imported] == [f"I will call {MOBILE} tomorrow."]


async def test_with_masking_off_the_text_leaves_as_written(sim, alice, character):
    session = await _session(alice, character)
    socket = await open_socket(alice, session.pk)
    try:
        frames = await send_and_finish(socket, PERSONAL)
    finally:
        await socket.disconnect()

    sent = (await _chat_requests(sim))[-1]["input"]["messages"][-1]["content"]
    assert sent == PERSONAL
    question = await reload((await reload(reply_of(frames))).query_id)
    assert question.masked_types == []
    assert "badge-privacy" not in frames[-1]["html"]


@pytest.fixture(params=["dms", "lingma"])
def platform(request) -> Platform:
    return Platform(request.param, request.getfixturevalue(f"{request.param}_sim"))


async def test_the_transcript_sent_to_dms_and_lingma_holds_no_real_value(platform, alice):
    character = await database_sync_to_async(character_create)(
        name="Wen",
        basic_information="You are Wen, a careful service desk clerk.",
        reply_platform=platform.name,
        privacy_mode=PrivacyMode.LOCAL,
    )
    session = await _session(alice, character)
    socket = await open_socket(alice, session.pk)
    try:
        await send_and_finish(socket, PERSONAL)
        second = await send_and_finish(socket, f"Is {MOBILE} right?")
    finally:
        await socket.disconnect()

    sent = json.dumps((await asyncio.to_thread(platform.chats))[-1], ensure_ascii=False)
    for value in VALUES:
        assert value not in sent
    assert sent.count("[CN_MOBILE_1]") >= 2  # the first question and the latest one
    reply = await reload(reply_of(second))
    assert reply.state == Message.State.COMPLETE and "[CN_MOBILE_1]" not in reply.content


async def test_no_value_reaches_a_log_line(sim, alice, masked_character, caplog):
    caplog.set_level(logging.DEBUG)
    session = await _session(alice, masked_character)
    socket = await open_socket(alice, session.pk)
    try:
        await send_and_finish(socket, PERSONAL)
    finally:
        await socket.disconnect()

    assert caplog.records
    for value in VALUES:
        assert value not in caplog.text


def test_the_shield_names_the_types_and_the_admin_counts_them(
    sim, alice, admin_user, masked_character
):
    session = services.session_start(user=alice, character=masked_character)
    result = services.message_send(session=session, user=alice, content=PERSONAL, client_id="c1")
    services.message_finish(
        reply_id=result.turn.reply_id,
        outcome=services.ReplyOutcome(state=Message.State.COMPLETE, text="好的。"),
        seq=1,
    )
    client = Client()
    client.force_login(alice)
    page = client.get(f"/chat/{session.pk}/").content.decode()
    assert 'data-masked-types="CN_ID_CARD CN_MOBILE EMAIL PERSON"' in page
    assert "ID card number, mobile number, email, name" in page

    client.force_login(admin_user)
    admin_page = client.get(f"/admin/conversations/chatsession/{session.pk}/change/")
    text = admin_page.content.decode()
    assert admin_page.status_code == 200
    assert "mobile number (CN_MOBILE): 1" in text and "name (PERSON): 1" in text
