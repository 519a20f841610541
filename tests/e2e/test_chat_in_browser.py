"""Chatting in headless Chromium against daphne and the simulator."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conversations import services
from conversations.models import ChatSession, Message
from tests.e2e.conftest import ARTIFACTS, login
from tests.factories import character_create_synced, message_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REPLY_TIMEOUT_MS = 30_000


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"chat_{name}.png"), full_page=True)


def _start_chat(page, base_url: str, character) -> None:
    page.goto(f"{base_url}/characters/{character.pk}/")
    page.get_by_role("button", name="Start chat").click()
    page.wait_for_url(re.compile(r"/chat/\d+/$"))
    expect(page.locator("[data-role=connection]")).to_have_attribute("data-status", "open")


def _send(page, text: str) -> None:
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")


def _last_reply(page):
    return page.locator(".msg-assistant:not(.msg-opening)").last


def test_a_reply_streams_in_and_ends_rendered_as_markdown(live_asgi, page, sim, alice):
    lin = character_create_synced(
        name="Lin", introduction="A tea master in Hangzhou.", opening_line="Welcome, traveller."
    )
    login(page, live_asgi, alice.username)
    _start_chat(page, live_asgi, lin)
    expect(page.locator(".msg-opening")).to_contain_text("Welcome, traveller.")

    sim.configure(tokens_per_second=40)
    page.fill("#composer-input", "Tell me about tea.")
    page.press("#composer-input", "Shift+Enter")
    page.type("#composer-input", "And about water.")
    page.press("#composer-input", "Enter")

    expect(page.locator(".msg-user").last.locator(".msg-body")).to_contain_text(
        "Tell me about tea."
    )
    expect(page.locator(".msg-user").last.locator("br")).to_have_count(1)
    expect(page.locator('.msg-assistant[data-state="streaming"] .msg-body')).not_to_be_empty()
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    _shot(page, "1_streaming")

    reply = _last_reply(page)
    expect(reply).to_have_attribute("data-state", "complete", timeout=REPLY_TIMEOUT_MS)
    expect(reply.locator(".msg-body strong").first).to_be_visible()
    expect(reply.locator(".msg-usage")).to_have_count(0)  # token counts are for staff
    expect(page.get_by_role("button", name="Stop")).to_be_hidden()
    _shot(page, "2_complete")
    saved = Message.objects.filter(role="assistant", kind="chat").get()
    assert saved.state == "complete" and reply.locator(".msg-body").inner_text().strip()


def test_stop_keeps_the_partial_reply_and_the_next_message_works(live_asgi, page, sim, alice):
    lin = character_create_synced(name="Lin", opening_line="Welcome.")
    login(page, live_asgi, alice.username)
    _start_chat(page, live_asgi, lin)

    sim.configure(tokens_per_second=8)
    _send(page, "Tell me a very long story.")
    expect(page.locator('.msg-assistant[data-state="streaming"] .msg-body')).not_to_be_empty()
    page.get_by_role("button", name="Stop").click()
    reply = _last_reply(page)
    expect(reply).to_have_attribute("data-state", "stopped", timeout=REPLY_TIMEOUT_MS)
    expect(reply.locator(".badge", has_text="stopped")).to_be_visible()
    partial = Message.objects.get(role="assistant", kind="chat", state="stopped").content
    assert partial and partial.split()[0] in reply.locator(".msg-body").inner_text()
    _shot(page, "3_stopped")

    sim.configure(tokens_per_second=2000)
    _send(page, "A short one now.")
    expect(_last_reply(page)).to_have_attribute("data-state", "complete", timeout=REPLY_TIMEOUT_MS)


def test_regenerate_and_flip_between_alternatives(live_asgi, page, sim, alice):
    lin = character_create_synced(name="Lin", opening_line="Welcome.")
    login(page, live_asgi, alice.username)
    _start_chat(page, live_asgi, lin)

    _send(page, "Pick a colour for me.")
    expect(_last_reply(page)).to_have_attribute("data-state", "complete", timeout=REPLY_TIMEOUT_MS)
    first_text = _last_reply(page).locator(".msg-body").inner_text()
    page.get_by_role("button", name="Regenerate").click()
    expect(_last_reply(page).locator(".alt-count")).to_have_text("2/2", timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(".msg-assistant:not(.msg-opening)")).to_have_count(1)
    second_text = _last_reply(page).locator(".msg-body").inner_text()
    assert second_text != first_text

    page.get_by_role("button", name="Previous reply").click()
    expect(_last_reply(page).locator(".alt-count")).to_have_text("1/2")
    expect(_last_reply(page).locator(".msg-body")).to_have_text(first_text)
    _shot(page, "4_alternatives")


def test_reset_archives_the_chat_and_starts_again_with_the_opening_line(
    live_asgi, page, sim, alice
):
    lin = character_create_synced(name="Lin", opening_line="Welcome back, friend.")
    login(page, live_asgi, alice.username)
    _start_chat(page, live_asgi, lin)
    _send(page, "Remember this: blue.")
    expect(_last_reply(page)).to_have_attribute("data-state", "complete", timeout=REPLY_TIMEOUT_MS)
    old_url = page.url

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset conversation").click()
    page.wait_for_url(lambda url: url != old_url and re.search(r"/chat/\d+/$", url) is not None)
    expect(page.locator(".msg")).to_have_count(1)
    expect(page.locator(".msg-opening")).to_contain_text("Welcome back, friend.")

    page.goto(f"{live_asgi}/chat/")
    expect(page.locator(".session-row")).to_have_count(2)
    expect(page.locator(".session-row", has_text="archived")).to_contain_text("Lin")
    _shot(page, "5_sessions")
    page.goto(old_url)
    expect(page.locator(".msg-user")).to_contain_text("Remember this: blue.")
    expect(page.locator("#composer-input")).to_have_count(0)
    assert ChatSession.objects.filter(status="archived").count() == 1


def test_xss_in_a_message_or_a_character_name_does_not_run(live_asgi, page, sim, alice):
    evil = character_create_synced(name="<svg/onload=alert()>", opening_line="<b onclick=x>hi</b>")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, live_asgi, alice.username)
    _start_chat(page, live_asgi, evil)

    payload = '<img src=x onerror="window.__xss=1;alert(1)"> <script>alert(2)</script>'
    _send(page, payload)
    expect(_last_reply(page)).to_have_attribute("data-state", "complete", timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(".msg-user").last.locator(".msg-body")).to_have_text(payload)
    expect(page.locator("h1")).to_have_text("<svg/onload=alert()>")
    page.reload()
    expect(page.locator(".msg-user").last.locator(".msg-body")).to_have_text(payload)
    _shot(page, "6_xss")
    assert dialogs == []
    assert page.evaluate("window.__xss") is None
    assert page.locator(".msg img, .msg svg, .msg script").count() == 0


def test_older_messages_load_when_scrolling_up_and_the_view_stays_put(
    live_asgi, page, settings, alice
):
    lin = character_create_synced(name="Lin", opening_line="The very first line.")
    session = services.session_start(user=alice, character=lin)
    for n in range(1, 46):
        message_create(session=session, content=f"Old message number {n}")
    login(page, live_asgi, alice.username)
    page.goto(f"{live_asgi}/chat/{session.pk}/")
    expect(page.locator(".msg-user").last).to_contain_text("Old message number 45")
    expect(page.locator(".msg")).to_have_count(30)

    anchor = page.locator(".msg-user", has_text="Old message number 16")
    page.locator("#chat-log").evaluate("log => { log.scrollTop = 0; }")
    expect(page.locator(".msg")).to_have_count(46)
    expect(page.locator(".msg-opening")).to_contain_text("The very first line.")
    expect(anchor).to_be_in_viewport()
    _shot(page, "7_older_messages")
