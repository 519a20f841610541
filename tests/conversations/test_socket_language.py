"""The chat socket speaks the language of the page that opened it; saved errors stay English."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import translation

from conversations.models import Message
from conversations.rendering import REPLY_ERRORS, render_message
from tests.conversations.helpers import (
    frames_until,
    of_type,
    open_socket,
    reload,
    reply_of,
    send_and_finish,
)
from tests.factories import chat_session_create, message_create

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("replies_end_with_the_test"),
]

CHINESE = "zh-CN,zh;q=0.9"


async def test_a_chinese_browsers_socket_answers_a_bad_frame_in_chinese(alice, alice_chat):
    socket = await open_socket(alice, alice_chat.pk, accept_language=CHINESE)
    try:
        await socket.send_json_to({"type": "send", "content": "   "})
        error = await socket.receive_json_from(timeout=10)
    finally:
        await socket.disconnect()

    assert error == {"type": "error", "code": "invalid", "message": "请先输入消息再发送。"}


async def test_a_chinese_browsers_socket_refuses_in_chinese(alice, alice_chat):
    socket = await open_socket(alice, alice_chat.pk, accept_language=CHINESE)
    try:
        await socket.send_json_to({"type": "regenerate"})
        error = await socket.receive_json_from(timeout=10)
    finally:
        await socket.disconnect()

    assert error["code"] == "invalid" and error["message"] == "没有可以重新生成的回复。"


async def test_the_language_switchs_choice_wins_over_the_browser_on_the_socket(alice, alice_chat):
    cookies = {settings.LANGUAGE_COOKIE_NAME: "zh-hans"}
    socket = await open_socket(alice, alice_chat.pk, accept_language="en-US", cookies=cookies)
    try:
        await socket.send_to(text_data="not json")
        error = await socket.receive_json_from(timeout=10)
    finally:
        await socket.disconnect()

    assert error["message"] == "这不是 JSON 帧。"


async def test_an_english_browsers_socket_stays_english(alice, alice_chat):
    socket = await open_socket(alice, alice_chat.pk, accept_language="en-US,en;q=0.9")
    try:
        await socket.send_to(text_data="not json")
        error = await socket.receive_json_from(timeout=10)
    finally:
        await socket.disconnect()

    assert error["message"] == "That was not a JSON frame."


async def test_a_failed_reply_is_saved_in_english_and_told_to_a_chinese_socket_in_chinese(
    sim, alice, alice_chat
):
    sim.inject("aca-chat-send-sse", status=429, retry_after=7)
    socket = await open_socket(alice, alice_chat.pk, accept_language=CHINESE)
    try:
        frames = await send_and_finish(socket, "你好？")
        error = (await frames_until(socket, of_type("error")))[-1]
    finally:
        await socket.disconnect()

    reply = await reload(reply_of(frames))
    assert reply.error == "The model is busy, try again in 7 s."
    assert error["message"] == "模型繁忙，请在 7 秒后重试。"
    assert "模型繁忙，请在 7 秒后重试。" in frames[-1]["html"]
    assert "The model is busy" not in frames[-1]["html"]


def test_a_saved_error_made_of_sentences_is_shown_whole_in_the_readers_language():
    saved = "The model is busy, try again in 7 s. The text so far is kept."

    with translation.override("zh-hans"):
        chinese = REPLY_ERRORS.shown(saved)
    with translation.override("en"):
        english = REPLY_ERRORS.shown(saved)

    assert chinese == "模型繁忙，请在 7 秒后重试。已生成的文字已保留。"
    assert english == saved


def test_an_upstream_detail_in_a_saved_error_is_kept_as_the_upstream_wrote_it():
    with translation.override("zh-hans"):
        shown = REPLY_ERRORS.shown("The model could not answer: quota exceeded")

    assert shown == "模型无法回答：quota exceeded"


def test_a_reply_cut_off_by_a_stopped_server_reads_in_chinese_on_a_chinese_page(alice, character):
    session = chat_session_create(user=alice, character=character)
    question = message_create(session=session, content="Hello?")
    reply = message_create(
        session=session,
        role="assistant",
        query=question,
        content="Half a",
        state=Message.State.INTERRUPTED,
        error="The reply was cut off when the server stopped. Regenerate it or send again.",
    )

    with translation.override("zh-hans"):
        html = render_message(reply, character=character)

    assert "服务器停止时回复被中断了。请重新生成或再次发送。" in html
    assert "cut off" not in html
