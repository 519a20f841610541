"""The page frame on a 390×844 phone and a 1280×800 desktop, light and dark: the chat is one
screen with its composer in view and only its log scrolling, a one-line header with a menu, the
side panel as a drawer, and a gallery whose first avatars are there when the page is. Screenshots
of every page land in test-artifacts/phones_*.png."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from conversations import services
from tests.conftest import current_database_url
from tests.e2e.conftest import ARTIFACTS, login
from tests.factories import character_create_synced, message_create
from tests.live_server import start_daphne

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEVICES = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
SCHEMES = ["light", "dark"]
CAPTAIN = "Captain Mira Solberg"  # the longest name Xingchen takes: 20 characters
HEADER_MAX_PX = 64
REPLY_TIMEOUT_MS = 60_000


@pytest.fixture
def open_context(browser):
    contexts = []

    def open_(device: str, scheme: str = "light", **options):
        settings = {**DEVICES[device], "color_scheme": scheme, "locale": "en-US", **options}
        context = browser.new_context(**settings)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def captain(sim):
    return character_create_synced(
        name=CAPTAIN, introduction="Commands a survey ship.", opening_line="Welcome aboard."
    )


@pytest.fixture
def long_chat(captain, alice):
    session = services.session_start(user=alice, character=captain)
    for n in range(12):
        question = message_create(session=session, content=f"Question {n} about the ship?")
        message_create(
            session=session,
            role="assistant",
            query=question,
            content=f"Answer {n}: the **engines** hum, the *crew* sleeps.\n\n- deck {n}\n- hold",
        )
    return session


def _shot(page, name: str, *, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phones_{name}.png"), full_page=full_page)


def _open_chat(page, base_url: str, session) -> None:
    page.goto(f"{base_url}/chat/{session.pk}/")
    expect(page.locator("[data-role=connection]")).to_have_attribute("data-status", "open")


def _assert_within_viewport(page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None, selector
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"], (selector, box)
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], (selector, box)


def _document_scrolls(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollHeight > document.documentElement.clientHeight"
    )


def _document_overflows_sideways(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


def _header_height(page) -> float:
    return page.locator(".topbar").bounding_box()["height"]


def _wait_until_drawer_slid_in(page) -> None:
    page.wait_for_function(
        "() => document.getElementById('chat-side').getBoundingClientRect().right <= innerWidth"
    )


def _assert_name_shown_whole(page) -> None:
    title = page.locator(".chat-title h1")
    expect(title).to_have_text(CAPTAIN)
    cut = title.evaluate(
        "el => el.scrollWidth > el.clientWidth || getComputedStyle(el).textOverflow === 'ellipsis'"
    )
    assert not cut


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("device", DEVICES)
def test_it_fits_a_new_chat_on_one_screen_with_the_composer_in_view(
    live_asgi, open_context, captain, alice, device, scheme
):
    page = open_context(device, scheme)
    login(page, live_asgi, alice.username)
    page.goto(f"{live_asgi}/characters/")
    _shot(page, f"gallery_{device}_{scheme}")
    page.get_by_role("button", name="Start chat").click()
    expect(page.locator("[data-role=connection]")).to_have_attribute("data-status", "open")
    expect(page.locator(".msg-opening")).to_contain_text("Welcome aboard.")

    _assert_within_viewport(page, "#composer-input")
    _assert_within_viewport(page, "[data-role=send]")
    assert not _document_scrolls(page)
    _assert_name_shown_whole(page)
    if device == "phone":
        assert _header_height(page) <= HEADER_MAX_PX
    _shot(page, f"chat_new_{device}_{scheme}", full_page=False)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("device", DEVICES)
def test_on_a_long_chat_only_the_log_scrolls(
    live_asgi, open_context, long_chat, alice, device, scheme
):
    page = open_context(device, scheme)
    login(page, live_asgi, alice.username)
    _open_chat(page, live_asgi, long_chat)

    assert not _document_scrolls(page)
    log_scrolls = page.eval_on_selector("#chat-log", "el => el.scrollHeight > el.clientHeight")
    assert log_scrolls
    expect(page.locator(".msg-assistant").last).to_be_in_viewport()
    _assert_within_viewport(page, "[data-role=send]")
    page.mouse.wheel(0, -2000)
    expect(page.locator(".msg-assistant").last).not_to_be_in_viewport()
    assert not _document_scrolls(page)
    _assert_within_viewport(page, "[data-role=send]")
    _shot(page, f"chat_history_{device}_{scheme}", full_page=False)

    for name, path in {"chats": "/chat/", "jobs": "/jobs/"}.items():
        page.goto(f"{live_asgi}{path}")
        assert not _document_overflows_sideways(page), name
        if device == "phone":
            assert _header_height(page) <= HEADER_MAX_PX, name
        _shot(page, f"{name}_{device}_{scheme}")


def test_the_details_drawer_opens_and_closes_on_a_phone(live_asgi, open_context, long_chat, alice):
    page = open_context("phone")
    login(page, live_asgi, alice.username)
    _open_chat(page, live_asgi, long_chat)
    details = page.get_by_role("button", name="Details")
    drawer = page.locator("#chat-side")
    reset = page.get_by_role("button", name="Reset conversation")
    expect(reset).to_be_hidden()

    details.click()
    expect(page.get_by_role("dialog", name="Conversation details")).to_be_visible()
    _wait_until_drawer_slid_in(page)
    _assert_within_viewport(page, "#chat-side")
    expect(reset).to_be_in_viewport()
    assert drawer.evaluate("el => el.contains(document.activeElement)")
    _shot(page, "drawer_phone_light", full_page=False)
    page.keyboard.press("Escape")
    expect(reset).to_be_hidden()
    expect(details).to_be_focused()

    details.click()
    page.get_by_role("button", name="Close").click()
    expect(reset).to_be_hidden()

    details.click()
    expect(reset).to_be_in_viewport()
    page.mouse.click(10, 400)  # the dimmed chat beside the drawer
    expect(reset).to_be_hidden()

    details.click()
    page.locator("#id_scenario").fill("On the bridge, at night.")
    page.get_by_role("button", name="Save scenario").click()
    expect(drawer.locator(".saved")).to_have_text("Saved")
    long_chat.refresh_from_db()
    assert long_chat.scenario == "On the bridge, at night."


def test_escape_closes_the_drawer_and_leaves_a_streaming_reply_alone(
    live_asgi, open_context, long_chat, alice, sim
):
    page = open_context("phone")
    login(page, live_asgi, alice.username)
    _open_chat(page, live_asgi, long_chat)
    sim.configure(tokens_per_second=20)
    page.fill("#composer-input", "Tell me about the engines.")
    page.get_by_role("button", name="Send").click()
    reply = page.locator(".msg-assistant").last
    expect(reply).to_have_attribute("data-state", "streaming")
    _assert_within_viewport(page, "[data-role=stop]")
    _shot(page, "chat_streaming_phone_light", full_page=False)

    page.get_by_role("button", name="Details").click()
    _wait_until_drawer_slid_in(page)
    page.keyboard.press("Escape")

    expect(page.get_by_role("button", name="Reset conversation")).to_be_hidden()
    expect(reply).to_have_attribute("data-state", "complete", timeout=REPLY_TIMEOUT_MS)


def test_the_details_button_is_not_needed_on_a_desktop(live_asgi, open_context, long_chat, alice):
    page = open_context("desktop")
    login(page, live_asgi, alice.username)
    _open_chat(page, live_asgi, long_chat)

    expect(page.get_by_role("button", name="Details")).to_be_hidden()
    expect(page.get_by_role("button", name="Save scenario")).to_be_in_viewport()
    expect(page.locator(".topbar").get_by_role("link", name="Chats")).to_be_visible()


def test_the_menu_button_opens_the_navigation_on_a_phone(live_asgi, open_context, alice):
    page = open_context("phone")
    login(page, live_asgi, alice.username)
    page.goto(f"{live_asgi}/characters/")
    menu = page.get_by_role("button", name="Menu")
    chats = page.locator(".topbar").get_by_role("link", name="Chats")
    expect(chats).to_be_hidden()

    menu.click()
    expect(chats).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    _shot(page, "menu_phone_light", full_page=False)
    page.keyboard.press("Escape")
    expect(chats).to_be_hidden()
    expect(menu).to_be_focused()

    menu.click()
    chats.click()
    page.wait_for_url(f"{live_asgi}/chat/")


def test_the_simulator_notice_can_be_put_away_for_the_visit(live_asgi, open_context, alice):
    page = open_context("phone")
    login(page, live_asgi, alice.username)
    page.goto(f"{live_asgi}/characters/")
    notice = page.locator(".banner-simulator")
    expect(notice).to_be_visible()
    assert notice.bounding_box()["height"] <= 48  # two short lines at most

    page.get_by_role("button", name="Hide this notice").click()
    expect(notice).to_be_hidden()
    page.goto(f"{live_asgi}/chat/")
    expect(notice).to_be_hidden()


def test_the_shift_enter_hint_shows_only_with_a_keyboard_at_hand(
    live_asgi, open_context, long_chat, alice
):
    hint = "Enter sends · Shift+Enter adds a line"
    desktop = open_context("desktop")
    login(desktop, live_asgi, alice.username)
    _open_chat(desktop, live_asgi, long_chat)
    expect(desktop.get_by_text(hint)).to_be_visible()

    tablet = open_context(
        "desktop", viewport={"width": 1024, "height": 768}, is_mobile=True, has_touch=True
    )
    login(tablet, live_asgi, alice.username)
    _open_chat(tablet, live_asgi, long_chat)
    expect(tablet.locator("#composer-input")).to_be_visible()
    expect(tablet.get_by_text(hint)).to_be_hidden()


def test_the_composer_and_latest_reply_stay_in_view_when_the_keyboard_opens(
    live_asgi, open_context, long_chat, alice
):
    page = open_context("phone")
    login(page, live_asgi, alice.username)
    _open_chat(page, live_asgi, long_chat)
    page.locator("#composer-input").focus()

    # What the on-screen keyboard does under interactive-widget=resizes-content.
    page.set_viewport_size({"width": 390, "height": 460})

    _assert_within_viewport(page, "[data-role=send]")
    expect(page.locator(".msg-assistant").last.locator(".msg-body")).to_be_in_viewport()
    assert not _document_scrolls(page)
    content = page.locator("meta[name=viewport]").get_attribute("content")
    assert "interactive-widget=resizes-content" in content
    _shot(page, "chat_keyboard_phone_light", full_page=False)


@pytest.fixture
def server_sharing_media(
    settings, simulator, dms_simulator, lingma_simulator, tmp_path
) -> Iterator[str]:
    """A daphne process serving the uploads this test process writes (the shared server keeps
    its own media folder)."""
    data_dir = tmp_path / "asgi-data"
    settings.MEDIA_ROOT = data_dir / "media"
    server = start_daphne(
        database_url=current_database_url(),
        simulator=simulator,
        dms=dms_simulator,
        lingma=lingma_simulator,
        data_dir=data_dir,
    )
    yield server.base_url
    server.stop()


@pytest.mark.parametrize("device", DEVICES)
def test_the_gallerys_first_avatars_are_there_when_the_page_is(
    server_sharing_media, open_context, alice, device
):
    for n in range(18):
        character_create_synced(name=f"Sailor {n}", introduction="Keeps watch.", avatar=True)
    page = open_context(device)
    login(page, server_sharing_media, alice.username)

    page.goto(f"{server_sharing_media}/characters/", wait_until="load")

    # Lazy images wait for layout and a slow network's spare moment; the first screen's do not.
    first_screen = page.locator(".character-card img.avatar").evaluate_all(
        """images => images
          .filter(image => image.getBoundingClientRect().top < window.innerHeight)
          .map(image => image.complete && image.naturalWidth > 0 && image.loading !== "lazy")"""
    )
    assert first_screen and all(first_screen)
    expect(page.locator(".character-card img.avatar").last).to_have_attribute("loading", "lazy")
    assert not _document_overflows_sideways(page)
    _shot(page, f"gallery_avatars_{device}_light")


def test_the_phone_header_stays_one_line_in_chinese(live_asgi, open_context, long_chat, alice):
    page = open_context("phone", locale="zh-CN")
    login(page, live_asgi, alice.username)

    for path in ("/characters/", f"/chat/{long_chat.pk}/"):
        page.goto(f"{live_asgi}{path}")
        assert _header_height(page) <= HEADER_MAX_PX, path
        assert not _document_overflows_sideways(page), path
    expect(page.locator("[data-role=connection]")).to_have_attribute("data-status", "open")
    _assert_within_viewport(page, "[data-role=send]")
    _shot(page, "chat_zh_phone_light", full_page=False)
