"""Every page works under the Content-Security-Policy and Permissions-Policy headers.

Chromium reports a blocked inline script or style, an eval and a malformed policy as console
errors, so a page that needs something the policy forbids fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import expect

from tests.conftest import current_database_url
from tests.e2e.conftest import ARTIFACTS, login
from tests.factories import character_create_synced
from tests.live_server import start_daphne

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REPLY_TIMEOUT_MS = 30_000
# What a production server behind the reverse proxy sends with every page.
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "browser-test-" + "k3y-" * 16,
    "SECURE_PROXY_SSL_HEADER": "true",
}


@dataclass
class Watched:
    """Console errors, uncaught exceptions and the headers of every page a browser loaded."""

    problems: list[str] = field(default_factory=list)
    documents: dict[str, dict[str, str]] = field(default_factory=dict)

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems)
        assert self.documents
        for url, headers in self.documents.items():
            policy = headers.get("content-security-policy", "")
            assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, url
            assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url
            assert "camera=()" in headers.get("permissions-policy", ""), url


def _watch(page, *, expected_statuses: tuple[int, ...] = ()) -> Watched:
    watched = Watched()

    def on_console(message) -> None:
        text = message.text
        # CSP violations and unknown Permissions-Policy features, whatever their level.
        if message.type == "error" or "Policy" in text:
            # Chromium logs the page's own status as a failed load; that one is expected.
            if any(f"status of {status}" in text for status in expected_statuses):
                return
            watched.problems.append(f"console {message.type} on {page.url}: {text}")

    def on_response(response) -> None:
        if response.request.resource_type == "document":
            watched.documents[response.url] = response.all_headers()

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.problems.append(f"page error: {error}"))
    page.on("response", on_response)
    return watched


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"csp_{name}.png"), full_page=True)


def test_the_main_pages_work_under_the_policies(live_asgi, page, sim, admin_user):
    lin = character_create_synced(
        name="Lin", introduction="A tea master in Hangzhou.", opening_line="Welcome, traveller."
    )
    character_create_synced(name="Mira", introduction="A starship captain.")
    watched = _watch(page)
    login(page, live_asgi, admin_user.username)

    page.goto(f"{live_asgi}/characters/")
    expect(page.locator(".character-card")).to_have_count(2)
    expect(page.locator(".avatar-initial").first).not_to_have_css(
        "background-color", "rgba(0, 0, 0, 0)"
    )
    page.fill("input[name=q]", "tea")
    expect(page.locator(".character-card")).to_have_count(1)
    _shot(page, "1_gallery")

    page.click(".character-card a")
    expect(page.locator("h1")).to_have_text("Lin")
    _shot(page, "2_character")
    page.get_by_role("button", name="Start chat").click()
    page.wait_for_url(re.compile(r"/chat/\d+/$"))
    expect(page.locator("[data-role=connection]")).to_have_attribute("data-status", "open")
    page.fill("#composer-input", "Tell me about tea.")
    page.press("#composer-input", "Enter")
    reply = page.locator(".msg-assistant:not(.msg-opening)").last
    expect(reply).to_have_attribute("data-state", "complete", timeout=REPLY_TIMEOUT_MS)
    expect(reply.locator(".msg-body")).not_to_be_empty()
    _shot(page, "3_chat")

    page.goto(f"{live_asgi}/accounts/profile/")
    expect(page.locator("h1")).to_have_text("Your profile")
    _shot(page, "4_profile")

    page.goto(f"{live_asgi}/admin/characters/character/")
    expect(page.locator("#result_list")).to_contain_text("Lin")
    _shot(page, "5_admin_list")
    page.goto(f"{live_asgi}/admin/characters/character/{lin.pk}/change/")
    expect(page.locator("#id_name")).to_have_value("Lin")
    _shot(page, "6_admin_change")

    watched.assert_clean()


@pytest.fixture(scope="module")
def production_asgi(django_db_setup, django_db_blocker, simulator, tmp_path_factory) -> Iterator:
    """A daphne process configured as in production, reached as through the proxy."""
    with django_db_blocker.unblock():
        database_url = current_database_url()
    server = start_daphne(
        database_url=database_url,
        simulator=simulator,
        data_dir=tmp_path_factory.mktemp("production-data"),
        # Plain HTTP in the test, so Django's own redirect to https is off: X-Forwarded-Proto
        # says https, as the proxy would.
        env={**PRODUCTION_ENV, "SECURE_SSL_REDIRECT": "false"},
    )
    yield server.base_url
    server.stop()


def test_a_missing_page_is_friendly_in_production(production_asgi, browser):
    context = browser.new_context(extra_http_headers={"X-Forwarded-Proto": "https"})
    page = context.new_page()
    watched = _watch(page, expected_statuses=(404,))

    response = page.goto(f"{production_asgi}/no-such-page/")

    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")
    _shot(page, "7_not_found")
    page.get_by_role("link", name="Back to the characters").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    watched.assert_clean()
    assert "max-age=31536000" in response.headers["strict-transport-security"]
    context.close()
