"""Fixtures of the relay benchmark: a paced simulator, the product on daphne, users with chats.

The configuration follows the environment, like the product's: the embedded defaults (SQLite
file, in-memory channel layer), or PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set
(daphne gets them too).
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client, override_settings

from project.upstream import reset_clients
from tests.bench.relay import (
    CONNECTS_AT_ONCE,
    ROOT,
    ChatSpec,
    DaphneServer,
    IdleResult,
    Row,
    markdown,
    raise_open_files_limit,
    start_stamping_simulator,
)
from tests.conftest import current_database_url
from tests.factories import character_create_synced
from tests.simulator_fixture import SimulatorHandle

raise_open_files_limit()

PACING = {"tokens_per_second": 30, "first_token_ms": 300}
# daphne runs with DEBUG off, like production; it must share the key the test process signs the
# session cookies with.
BENCH_SECRET_KEY = "relay-bench-" + uuid.uuid4().hex


def config_name() -> str:
    database = "postgres" if os.environ.get("DATABASE_URL", "").startswith("postgres") else ""
    layer = "redis" if os.environ.get("REDIS_URL") else ""
    if not database and not layer:
        return "embedded"
    return "-".join(part for part in (database or "sqlite", layer or "inmemory"))


def config_title() -> str:
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    return f"Relay benchmark: {config_name()} ({engine} database, {layer})"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """A PostgreSQL test database of the bench's own, so a `make test` running beside
    `make bench` on the same server does not share (and drop) it. SQLite ones are per run."""
    for db in settings.DATABASES.values():
        if db["ENGINE"].endswith("sqlite3"):
            continue
        test = db.setdefault("TEST", {})
        test["NAME"] = f"{test.get('NAME') or 'test_' + db['NAME']}_bench{os.getpid()}"


@pytest.fixture(autouse=True, scope="module")
def _quiet_upstream_log() -> Iterator[None]:
    """The baseline's clients would log a line per stream in this process."""
    upstream_log = logging.getLogger("platforms.xingchen")
    level = upstream_log.level
    upstream_log.setLevel(logging.WARNING)
    yield
    upstream_log.setLevel(level)


@pytest.fixture(scope="module")
def relay_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorHandle]:
    """A simulator paced like a real model, stamping every result event it writes."""
    handle = start_stamping_simulator(tmp_path_factory.mktemp("relay-sim"), **PACING)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def relay_server(
    django_db_setup: None,
    django_db_blocker: Any,
    relay_simulator: SimulatorHandle,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DaphneServer]:
    """The product on daphne (`tests.bench.asgi`), on the test database, upstream the simulator."""
    with django_db_blocker.unblock():
        database_url = current_database_url()
    data_dir = tmp_path_factory.mktemp("relay-daphne")
    sim = relay_simulator
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "XINGCHEN_API_KEY": "",
        "XINGCHEN_SIM_API_KEY": sim.api_key,
        "XINGCHEN_BASE_URL": sim.base_url,
        "XINGCHEN_USER_ID_PREFIX": settings.XINGCHEN_USER_ID_PREFIX,
        "DATA_DIR": str(data_dir),
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "DJANGO_ALLOW_ASYNC_UNSAFE": "",
        "DEBUG": "0",
        "SECRET_KEY": BENCH_SECRET_KEY,
    }
    server = DaphneServer(env, data_dir / "daphne.log")
    print(f"\nrelay bench: daphne pid {server.pid} on {server.base_url}, log {server.log_path}")
    yield server
    server.stop()


@dataclass
class Character:
    pk: int
    remote_id: str


@pytest.fixture
def relay_character(django_db_blocker: Any, relay_simulator: SimulatorHandle) -> Character:
    """The one character every chat talks to, created on the simulator through the outbox.

    Per test: the tests are transactional (daphne must see their rows), so the database is
    emptied after each.
    """
    sim = relay_simulator
    with (
        django_db_blocker.unblock(),
        override_settings(XINGCHEN_BASE_URL=sim.base_url, XINGCHEN_API_KEY=sim.api_key),
    ):
        reset_clients()
        try:
            character = character_create_synced(
                name="Storyteller",
                basic_information="You are a storyteller who tells long, vivid stories.",
                opening_line="",
            )
        finally:
            reset_clients()
            connections.close_all()
    assert character.remote_id
    return Character(character.pk, character.remote_id)


class ChatMaker:
    """Creates users, each with a chat session on the character and a logged-in cookie."""

    def __init__(self, django_db_blocker: Any, character: Character) -> None:
        self._blocker = django_db_blocker
        self._character = character

    def make(self, n: int) -> list[ChatSpec]:
        from conversations.models import ChatSession

        users = get_user_model().objects
        specs = []
        with self._blocker.unblock(), override_settings(SECRET_KEY=BENCH_SECRET_KEY):
            try:
                for _ in range(n):
                    user = users.create_user(f"relay-{uuid.uuid4().hex[:12]}")
                    session = ChatSession.objects.create(user=user, character_id=self._character.pk)
                    client = Client()
                    client.force_login(user)
                    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
                    xingchen_id = f"{settings.XINGCHEN_USER_ID_PREFIX}{user.pk}"
                    specs.append(ChatSpec(user.pk, xingchen_id, session.pk, cookie))
            finally:
                connections.close_all()
        return specs

    def replies(self, ids: list[int]) -> dict[int, tuple[str, str]]:
        """(content, state) of each reply in the database."""
        from conversations.models import Message

        with self._blocker.unblock():
            try:
                rows = Message.objects.filter(pk__in=ids).values_list("pk", "content", "state")
                return {pk: (content, state) for pk, content, state in rows}
            finally:
                connections.close_all()


@pytest.fixture
def relay_chats(django_db_blocker: Any, relay_character: Character) -> ChatMaker:
    return ChatMaker(django_db_blocker, relay_character)


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    idle: IdleResult | None = None


_PROBLEM_LINE = re.compile(r"\b(WARNING|ERROR|CRITICAL|Traceback)\b")
_VARYING = re.compile(r"\d+|0x[0-9a-f]+|'[^']*'|<[^>]*>")


@pytest.fixture(scope="module")
def relay_report(relay_server: DaphneServer) -> Iterator[Report]:
    """Collects the rows; at the end prints the markdown and writes data/bench-relay-<config>.md."""
    report = Report()
    yield report
    if not report.rows and report.idle is None:
        return
    log = relay_server.log_path.read_text(errors="replace")
    problems = Counter(
        _VARYING.sub("…", line.split(" ", 2)[-1])[:200]
        for line in log.splitlines()
        if _PROBLEM_LINE.search(line)
    )
    pacing = ", ".join(f"{k} {v}" for k, v in PACING.items())
    preamble = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores: daphne (one "
        f"process, DEBUG off), the simulator ({pacing}) and the clients on one machine. Each chat "
        "is its own user on one character; its socket is opened first (at most "
        f"{CONNECTS_AT_ONCE} handshakes at a time), then all N send at once. *Added* latency is "
        "a delta's receive time minus the time the simulator wrote the event that completed its "
        "text: what daphne, the channel layer and the database add once the upstream answers. "
        "*Send → first delta* is what the user waits, including everything before the upstream "
        "call. The direct SSE clients read the simulator in a second pass of the same N, right "
        "after the sockets'.",
    ]
    footer = [
        "Socket bytes are the frames' payloads (all frames of the chat: message, start, deltas, "
        "done); reply bytes the final text in UTF-8. DB writes are INSERT/UPDATE/DELETE "
        "statements run by the daphne process during the pass, divided by N. daphne CPU is "
        "from the first handshake until daphne went quiet after the sockets closed; peak RSS is "
        "VmHWM over the same pass."
    ]
    if any(not row.peak_is_per_phase for row in report.rows):
        footer.append("\\* peak RSS over daphne's whole life (the kernel refused to reset it).")
    footer.append(
        f"daphne log: {relay_server.log_path} ({sum(problems.values())} WARNING/ERROR lines)"
        + "".join(f"\n    {count}× {line}" for line, count in problems.most_common(8))
    )
    text = markdown(config_title(), preamble, report.rows, report.idle, footer)
    out = Path(ROOT) / "data" / f"bench-relay-{config_name()}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)
    print(f"\n\n{text}\n(written to {out})")
