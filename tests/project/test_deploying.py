"""Two web server processes started the way deploy/ says, behind a (simulated) reverse proxy.

They run with the environment of deploy/env.example and the command of the daphne systemd unit,
on the test database and the test run's Redis. Requests carry what nginx adds (Host,
X-Forwarded-For, X-Forwarded-Proto): a login and a chat made through one process are seen
through the other.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie

import httpx
import pytest
from django.conf import settings
from websockets.asyncio.client import connect

from tests.conftest import current_database_url, password
from tests.factories import character_create_synced
from tests.live_server import LiveServer, free_port
from tests.project.deploy_files import daphne_command, env_from_example

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.REDIS_URL, reason="several server processes need a channel layer on Redis"
    ),
]

HOST = "studio.test"
ORIGIN = f"https://{HOST}"
PROXY_HEADERS = {"Host": HOST, "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
START_DEADLINE_SECONDS = 60.0
FRAME_DEADLINE_SECONDS = 30.0


def _start_as_deployed(env: dict[str, str], log_dir) -> LiveServer:
    port = free_port()
    log_path = log_dir / f"daphne-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(daphne_command(port), env=env, stdout=log, stderr=subprocess.STDOUT)
    server = LiveServer(proc, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while True:
        try:  # the health probe speaks to the process directly, as a load balancer would
            httpx.get(f"{server.base_url}/healthz", timeout=2)
            return server
        except httpx.TransportError as exc:
            if proc.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("daphne did not start:\n" + server.log()[-4000:]) from exc
            time.sleep(0.1)


@pytest.fixture
def servers(simulator, tmp_path) -> Iterator[tuple[LiveServer, LiveServer]]:
    env = env_from_example(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=f"{HOST},127.0.0.1",
        PUBLIC_BASE_URL=ORIGIN,
        CSRF_TRUSTED_ORIGINS=ORIGIN,
        DATABASE_URL=current_database_url(),
        REDIS_URL=settings.REDIS_URL,
        CHANNELS_PREFIX=settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
        DATA_DIR=str(tmp_path / "data"),
        XINGCHEN_API_KEY="",
        XINGCHEN_SIM_API_KEY=simulator.api_key,
        XINGCHEN_BASE_URL=simulator.base_url,
        # No Celery worker in this test: jobs run in the web process instead of queueing.
        CELERY_TASK_ALWAYS_EAGER="1",
    )
    env = {**os.environ, **env}
    pair = (_start_as_deployed(env, tmp_path), _start_as_deployed(env, tmp_path))
    yield pair
    for server in pair:
        server.stop()


def _through_proxy(server: LiveServer, cookies: dict[str, str] | None = None) -> httpx.Client:
    cookie = "; ".join(f"{name}={value}" for name, value in (cookies or {}).items())
    headers = {**PROXY_HEADERS, **({"Cookie": cookie} if cookie else {})}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=20)


def _set_cookies(response: httpx.Response) -> SimpleCookie:
    jar = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return jar


def _log_in(server: LiveServer, username: str) -> dict[str, str]:
    with _through_proxy(server) as client:
        form = client.get("/accounts/login/")
        csrf = _set_cookies(form)[settings.CSRF_COOKIE_NAME]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    with _through_proxy(server, {csrf.key: csrf.value}) as client:
        response = client.post(
            "/accounts/login/",
            data={"username": username, "password": password(), "csrfmiddlewaretoken": token},
            headers={"Origin": ORIGIN},
        )
    assert response.status_code == 302, response.text
    session = _set_cookies(response)[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"]
    return {csrf.key: csrf.value, session.key: session.value}


def _socket(server: LiveServer, cookies: dict[str, str], session_id: int):
    return connect(
        f"{server.base_url.replace('http://', 'ws://')}/ws/chat/{session_id}/",
        origin=ORIGIN,
        additional_headers={
            "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
            "X-Forwarded-For": PROXY_HEADERS["X-Forwarded-For"],
            "X-Forwarded-Proto": "https",
        },
        open_timeout=10,
    )


async def _frames_until_done(socket) -> list[dict]:
    frames: list[dict] = []
    deadline = time.monotonic() + FRAME_DEADLINE_SECONDS
    while not frames or frames[-1]["type"] != "done":
        remaining = deadline - time.monotonic()
        try:
            frames.append(json.loads(await asyncio.wait_for(socket.recv(), max(remaining, 0))))
        except TimeoutError as exc:
            raise AssertionError(f"no `done` before the deadline; got {frames}") from exc
    return frames


async def _send_through_one_watch_through_other(
    writer_server: LiveServer, watcher_server: LiveServer, cookies: dict[str, str], session_id: int
) -> tuple[list[dict], list[dict]]:
    async with (
        _socket(writer_server, cookies, session_id) as writer,
        _socket(watcher_server, cookies, session_id) as watcher,
    ):
        await writer.send(
            json.dumps({"type": "send", "content": "Hello there.", "client_id": str(uuid.uuid4())})
        )
        return await _frames_until_done(writer), await _frames_until_done(watcher)


def test_each_process_is_healthy_and_sends_plain_http_to_https(servers):
    for server in servers:
        health = httpx.get(f"{server.base_url}/healthz", timeout=20)
        assert health.status_code == 200, health.text
        assert health.json()["status"] == "ok"

        plain = httpx.get(f"{server.base_url}/characters/", headers={"Host": HOST})
        assert plain.status_code == 301
        assert plain.headers["location"] == f"{ORIGIN}/characters/"

        with _through_proxy(server) as client:
            page = client.get("/accounts/login/")
        assert page.status_code == 200
        assert page.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "camera=()" in page.headers["permissions-policy"]


def test_a_login_and_a_chat_through_one_process_are_seen_through_the_other(servers, alice):
    first, second = servers
    lin = character_create_synced(name="Lin", opening_line="Hi.")
    cookies = _log_in(first, alice.username)

    with _through_proxy(second, cookies) as client:
        gallery = client.get("/characters/")
        started = client.post(
            f"/characters/{lin.pk}/chat/",
            data={"csrfmiddlewaretoken": cookies[settings.CSRF_COOKIE_NAME]},
            headers={"Origin": ORIGIN},
        )
    assert gallery.status_code == 200 and "Lin" in gallery.text
    assert started.status_code == 302, started.text
    session_id = int(re.search(r"/chat/(\d+)/", started.headers["location"]).group(1))

    written, seen = asyncio.run(
        _send_through_one_watch_through_other(first, second, cookies, session_id)
    )

    assert written[-1]["state"] == "complete"
    assert seen[-1]["message_id"] == written[-1]["message_id"]
    assert seen[-1]["html"] == written[-1]["html"]
    seen_messages = [frame["message"] for frame in seen if frame["type"] == "message"]
    assert {"role": "user", "content": "Hello there."}.items() <= seen_messages[0].items()
