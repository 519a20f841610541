"""Chat comforts in headless Chromium: copy, edit and resend, delete, Esc, a busy model's retry."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conversations.models import Message
from tests.e2e.conftest import ARTIFACTS, login
from tests.factories import character_create_synced

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REPLY_TIMEOUT_MS = 30_000


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"comforts_{name}.png"), full_page=True)


def _start_chat(page, base_url: str) -> None:
    lin = character_create_synced(name="Lin", opening_line="Welcome, traveller.")
    page.goto(f"{base_url}/characters/{lin.pk}/")
    page.get_by_role("button", name="Start chat").click()
    page.wait_for_url(re.compile(r"/chat/\d+/$"))
    expect(page.locator("[data-role=connection]")).to_have_attribute("data-status", "open")


def _send(page, text: str) -> None:
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")


def _last_reply(page):
    return page.locator(".msg-assistant:not(.msg-opening)").last


def _wait_for_reply(page, state: str = "complete") -> None:
    expect(_last_reply(page)).to_have_attribute("data-state", state, timeout=REPLY_TIMEOUT_MS)


def test_copy_a_reply_then_edit_and_delete_the_last_message(live_asgi, page, sim, alice):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_asgi)
    login(page, live_asgi, alice.username)
    _start_chat(page, live_asgi)
    _send(page, "What is the capitol of France?")
    _wait_for_reply(page)

    _last_reply(page).get_by_role("button", name="Copy").click()
    expect(_last_reply(page).get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == _last_reply(page).locator(".msg-body").inner_text().strip()

    question = page.locator(".msg-user").last
    expect(question.get_by_role("button", name="Edit")).to_be_visible()
    page.focus("#composer-input")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#composer-input")).to_have_value("What is the capitol of France?")
    expect(page.locator(".composer-editing")).to_be_visible()
    _shot(page, "1_editing")
    page.fill("#composer-input", "What is the capital of France?")
    page.press("#composer-input", "Enter")
    expect(page.locator(".msg-user")).to_have_count(1)
    expect(page.locator(".msg-user .msg-body")).to_have_text("What is the capital of France?")
    _wait_for_reply(page)
    expect(page.locator(".msg-assistant:not(.msg-opening)")).to_have_count(1)
    expect(page.locator(".composer-editing")).to_have_count(0)
    assert list(Message.objects.filter(role="user").values_list("content", flat=True)) == [
        "What is the capital of France?"
    ]

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(".msg-user").last.get_by_role("button", name="Delete").click()
    expect(page.locator(".msg-user")).to_have_count(0)
    expect(page.locator(".msg")).to_have_count(1)
    expect(page.locator(".msg-opening")).to_contain_text("Welcome, traveller.")
    _shot(page, "2_deleted")
    page.reload()
    expect(page.locator(".msg")).to_have_count(1)


def test_esc_stops_a_reply_being_written(live_asgi, page, sim, alice):
    login(page, live_asgi, alice.username)
    _start_chat(page, live_asgi)
    sim.configure(tokens_per_second=8)
    _send(page, "Tell me a very long story.")
    expect(page.locator('.msg-assistant[data-state="streaming"] .msg-body')).not_to_be_empty()

    page.keyboard.press("Escape")

    _wait_for_reply(page, "stopped")
    expect(page.get_by_role("button", name="Stop")).to_be_hidden()
    sim.configure(tokens_per_second=2000)


def test_a_busy_model_counts_down_and_tries_again_by_itself(live_asgi, page, sim, alice):
    login(page, live_asgi, alice.username)
    _start_chat(page, live_asgi)
    sim.inject("aca-chat-send-sse", status=429, retry_after=3)

    _send(page, "Are you there?")

    error = _last_reply(page).locator(".msg-error")
    expect(error).to_contain_text(re.compile(r"The model is busy\. Trying again in \d s…"))
    expect(page.get_by_role("alert").filter(has_text="busy")).to_have_count(1)
    expect(page.locator("[data-role=notice]")).to_be_hidden()
    expect(page.locator("#chat-log")).not_to_contain_text("Xingchen")
    _shot(page, "3_countdown")

    _wait_for_reply(page)
    expect(page.locator(".msg-error")).to_have_count(0)
    expect(page.locator(".msg-user")).to_have_count(1)
    expect(page.locator(".msg-user .msg-body")).to_have_text("Are you there?")
    _shot(page, "4_retried")


def test_cancel_keeps_the_busy_message_and_regenerate_still_works(live_asgi, page, sim, alice):
    login(page, live_asgi, alice.username)
    _start_chat(page, live_asgi)
    sim.inject("aca-chat-send-sse", status=429, retry_after=30)
    _send(page, "Are you there?")
    error = _last_reply(page).locator(".msg-error")
    expect(error).to_contain_text("Trying again in")

    error.get_by_role("button", name="Cancel").click()

    expect(error).to_have_text("The model is busy, try again in 30 s.")
    _last_reply(page).get_by_role("button", name="Regenerate").click()
    _wait_for_reply(page)
