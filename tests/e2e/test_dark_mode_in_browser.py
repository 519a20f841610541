"""Dark mode in Chromium: a dark system gets dark pages, the toggle's choice survives a reload,
and the icon never fails to load. Screenshots of every page, light and dark, on a desktop and a
phone land in test-artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conversations import services
from tests.e2e.conftest import ARTIFACTS, login
from tests.factories import character_create_synced, message_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def _lightness(page, selector: str = "body") -> float:
    """0 (black) to 255 (white): the mean of the element's computed background channels."""
    colour = page.eval_on_selector(selector, "el => getComputedStyle(el).backgroundColor")
    channels = [int(c) for c in re.findall(r"\d+", colour)[:3]]
    return sum(channels) / 3


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"theme_{name}.png"), full_page=True)


@pytest.fixture
def lin(sim):
    return character_create_synced(
        name="Lin", introduction="A tea master in Hangzhou.", opening_line="Welcome, traveller."
    )


@pytest.fixture
def chat_with_a_reply(lin, admin_user):
    session = services.session_start(user=admin_user, character=lin)
    question = message_create(session=session, content="Which tea for a cold morning?")
    message_create(
        session=session,
        role="assistant",
        query=question,
        content="A **roasted oolong**, brewed hot.\n\n- 95 °C water\n- *three* short steeps",
        input_tokens=120,
        output_tokens=42,
    )
    return session


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_dark_system_gets_dark_pages_everywhere(
    live_asgi, browser, lin, chat_with_a_reply, admin_user, viewport
):
    character_create_synced(name="Mira", introduction="A starship captain.")
    context = browser.new_context(viewport=VIEWPORTS[viewport], color_scheme="dark", locale="en-US")
    page = context.new_page()
    pages = {
        "gallery": "/characters/",
        "character": f"/characters/{lin.pk}/",
        "chat": f"/chat/{chat_with_a_reply.pk}/",
        "chats": "/chat/",
        "jobs": "/jobs/",
        "memories": f"/memories/{lin.pk}/",
        "profile": "/accounts/profile/",
        "ratings": "/staff/ratings/",
        "dashboard": "/staff/ratings/dashboard/",
        "not_found": "/no-such-page/",
    }

    page.goto(f"{live_asgi}/accounts/login/")
    assert _lightness(page) < 60
    _shot(page, f"login_{viewport}_dark")
    page.emulate_media(color_scheme="light")
    _shot(page, f"login_{viewport}_light")
    page.emulate_media(color_scheme="dark")
    login(page, live_asgi, admin_user.username)

    for name, path in pages.items():
        page.goto(f"{live_asgi}{path}")
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        assert _lightness(page) < 60, name
        _shot(page, f"{name}_{viewport}_dark")
        page.emulate_media(color_scheme="light")
        expect(page.locator("html")).to_have_attribute("data-theme", "light")
        assert _lightness(page) > 200, name
        _shot(page, f"{name}_{viewport}_light")
        page.emulate_media(color_scheme="dark")

    page.goto(f"{live_asgi}/chat/{chat_with_a_reply.pk}/")
    assert _lightness(page, ".chat-main") < 60
    assert _lightness(page, ".msg-user .msg-bubble") < 90
    expect(page.locator(".msg-assistant .msg-body strong")).to_have_text("roasted oolong")
    context.close()


def test_the_toggle_picks_light_and_the_choice_survives_a_reload(live_asgi, browser, alice, lin):
    context = browser.new_context(viewport=VIEWPORTS["desktop"], color_scheme="dark")
    page = context.new_page()
    login(page, live_asgi, alice.username)
    page.goto(f"{live_asgi}/characters/")
    toggle = page.locator("[data-theme-toggle]")
    expect(toggle).to_have_attribute("aria-label", re.compile("system"))
    assert _lightness(page) < 60

    toggle.click()

    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    expect(toggle).to_have_attribute("aria-label", re.compile("light"))
    assert _lightness(page) > 200
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert _lightness(page) > 200
    page.goto(f"{live_asgi}/characters/{lin.pk}/")
    assert _lightness(page) > 200

    toggle.click()  # dark, whatever the system says
    page.emulate_media(color_scheme="light")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    toggle.click()  # back to following the system, which is light now
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    context.close()


def test_no_request_for_the_icon_fails(live_asgi, browser, admin_user):
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    failures: list[str] = []

    def on_failed(request) -> None:
        # A load the browser dropped because the page moved on is not a failure of the icon.
        if request.failure != "net::ERR_ABORTED":
            failures.append(f"failed {request.url}: {request.failure}")

    context.on("requestfailed", on_failed)

    def on_response(response) -> None:
        if "favicon" in response.url and response.status >= 400:
            failures.append(f"{response.status} {response.url}")

    context.on("response", on_response)
    page = context.new_page()

    login(page, live_asgi, admin_user.username)
    page.goto(f"{live_asgi}/characters/")
    page.wait_for_load_state("networkidle")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    page.goto(f"{live_asgi}/admin/")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#site-name")).to_have_text("Persona Studio")
    assert page.title().endswith("Persona Studio")
    assert page.locator("link[rel=icon]").get_attribute("href") == icon

    for path in ("/favicon.ico", icon):
        assert page.request.get(f"{live_asgi}{path}").status == 200, path
    assert failures == []
    context.close()
