"""Browser tests: headless Debian Chromium driven by Playwright against a real daphne process.

The server runs in a subprocess (websockets need ASGI), on the test database, so browser tests
are transactional (`@pytest.mark.django_db(transaction=True)`) to make their rows visible to it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.conftest import ROOT, current_database_url, password
from tests.live_server import start_daphne

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"


def _serve(django_db_blocker, simulators: tuple, folder) -> Iterator[str]:
    with django_db_blocker.unblock():
        database_url = current_database_url()
    simulator, dms, lingma = simulators
    server = start_daphne(
        database_url=database_url, simulator=simulator, dms=dms, lingma=lingma, data_dir=folder
    )
    yield server.base_url
    server.stop()


@pytest.fixture(scope="session")
def live_asgi(
    django_db_setup, django_db_blocker, simulator, dms_simulator, lingma_simulator, tmp_path_factory
) -> Iterator[str]:
    """Base URL of a daphne process serving the project on the test database."""
    simulators = (simulator, dms_simulator, lingma_simulator)
    yield from _serve(django_db_blocker, simulators, tmp_path_factory.mktemp("asgi-data"))


@pytest.fixture(scope="module")
def own_asgi(
    django_db_setup, django_db_blocker, simulator, dms_simulator, lingma_simulator, tmp_path_factory
) -> Iterator[str]:
    """A server process of the module's own, for modules that save in the admin: Django caches
    content types per process, and the database flush after each test renumbers them, so a
    long-lived server's admin change log would point at ids that no longer exist."""
    simulators = (simulator, dms_simulator, lingma_simulator)
    yield from _serve(django_db_blocker, simulators, tmp_path_factory.mktemp("own-asgi-data"))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium for one test module; ending it with the module ends Playwright's event loop,
    which would otherwise break the async tests that run after."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in the test thread; the ORM calls these tests
    # make meanwhile are still plain synchronous code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, request) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def login(page, base_url: str, username: str) -> None:
    """Logs in through the real login form."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password())
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
