"""Browser tests: headless Debian Chromium driven by Playwright against a real daphne process.

The server runs in a subprocess (websockets need ASGI), on the test database, so browser tests
are transactional (`@pytest.mark.django_db(transaction=True)`) to make their rows visible to it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.conftest import ROOT, _database_url, password

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_asgi(django_db_setup, django_db_blocker, simulator, tmp_path_factory) -> Iterator[str]:
    """Base URL of a daphne process serving the project on the test database."""
    with django_db_blocker.unblock():
        database_url = _database_url()
    port = _free_port()
    data_dir = tmp_path_factory.mktemp("asgi-data")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "XINGCHEN_API_KEY": "",
        "XINGCHEN_SIM_API_KEY": simulator.api_key,
        "XINGCHEN_BASE_URL": simulator.base_url,
        "DATA_DIR": str(data_dir),
        "PORT": str(port),
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "DJANGO_ALLOW_ASYNC_UNSAFE": "",
    }
    log_path = data_dir / "daphne.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "project.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base_url}/accounts/login/", timeout=2)
            break
        except OSError as exc:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(
                    "daphne did not start:\n" + log_path.read_text()[-4000:]
                ) from exc
            time.sleep(0.2)
    yield base_url
    proc.terminate()
    proc.wait(timeout=20)


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
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
