"""The chats list in Chromium: search as you type, rename in place, delete with undo, archived
chats folded under their character; screenshots in test-artifacts/chats_*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conversations import services
from conversations.models import ChatSession
from tests.e2e.conftest import ARTIFACTS, login
from tests.factories import character_create_synced, chat_session_create, message_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"chats_{name}.png"), full_page=True)


@pytest.fixture
def chats(sim, alice):
    """Alice's chats: Lin (current, one archived before it) and Mara."""
    lin = character_create_synced(name="Lin", opening_line="Welcome, traveller.")
    mara = character_create_synced(name="Mara", opening_line="Ahoy! Where are we sailing?")
    old = chat_session_create(user=alice, character=lin, status="archived")
    message_create(session=old, content="Our first talk about green tea.")
    with_lin = services.session_start(user=alice, character=lin)
    message_create(session=with_lin, content="Is the lighthouse still lit at night?")
    with_mara = services.session_start(user=alice, character=mara)
    message_create(session=with_mara, content="North, past the reef.")
    return {"lin": with_lin, "mara": with_mara, "old": old}


def _row(page, session):
    return page.locator(f"#chat-{session.pk}")


def test_search_rename_delete_and_undo_in_the_chats_list(live_asgi, page, alice, chats):
    login(page, live_asgi, alice.username)
    page.goto(f"{live_asgi}/chat/")
    expect(_row(page, chats["mara"])).to_contain_text("North, past the reef.")
    expect(_row(page, chats["old"])).to_be_hidden()  # folded under Lin
    page.locator(".archived-group summary", has_text="Lin").click()
    expect(_row(page, chats["old"])).to_contain_text("green tea")
    _shot(page, "1_list")

    page.get_by_role("searchbox", name="Search chats").fill("lighthouse")
    expect(_row(page, chats["mara"])).to_have_count(0)
    expect(_row(page, chats["lin"]).locator("mark")).to_have_text("lighthouse")
    expect(page).to_have_url(re.compile(r"\?q=lighthouse$"))
    _shot(page, "2_search")
    page.get_by_role("searchbox", name="Search chats").fill("")
    expect(_row(page, chats["mara"])).to_be_visible()

    _row(page, chats["mara"]).get_by_role("link", name="Rename").click()
    title = page.get_by_label("Name of this chat")
    expect(title).to_be_focused()
    _shot(page, "3_rename")
    title.fill("Voyage plans")
    title.press("Enter")
    expect(_row(page, chats["mara"]).locator(".session-name")).to_have_text("Voyage plans")
    assert ChatSession.objects.get(pk=chats["mara"].pk).title == "Voyage plans"

    _row(page, chats["mara"]).get_by_role("button", name="Delete").click()
    expect(_row(page, chats["mara"])).to_contain_text("“Voyage plans” deleted.")
    _shot(page, "4_deleted")
    _row(page, chats["mara"]).get_by_role("button", name="Undo").click()
    # Mara forgot the conversation when it was deleted: it comes back read-only.
    expect(_row(page, chats["mara"]).locator(".session-name")).to_have_text(
        re.compile(r"^Voyage plans\s+archived$")
    )

    _row(page, chats["mara"]).get_by_role("button", name="Delete").click()
    expect(_row(page, chats["mara"]).get_by_role("button", name="Undo")).to_be_visible()
    expect(_row(page, chats["mara"])).to_have_count(0, timeout=20_000)  # the undo time ran out
    page.reload()
    expect(_row(page, chats["lin"])).to_be_visible()
    expect(_row(page, chats["mara"])).to_have_count(0)
    assert ChatSession.objects.get(pk=chats["mara"].pk).deleted_at is not None


def test_the_chats_list_on_a_phone_in_the_dark(live_asgi, browser, alice, chats):
    context = browser.new_context(viewport=PHONE, color_scheme="dark", locale="en-US")
    page = context.new_page()
    try:
        login(page, live_asgi, alice.username)
        page.goto(f"{live_asgi}/chat/")
        page.locator(".archived-group summary").click()
        rename = _row(page, chats["lin"]).get_by_role("link", name="Rename")
        expect(rename).to_be_in_viewport()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # nothing sticks out sideways
        _shot(page, "5_phone_dark")
    finally:
        context.close()
