"""Shared fixtures: named users, the simulator as the upstream, and Celery.

Celery tasks run eagerly unless a test asks for `celery_worker`: then, with REDIS_URL set, a real
worker process consumes a queue of this test run against the test database; on the embedded
defaults (SQLite, filesystem broker) tasks stay eager.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from project.celery import app as celery_app
from project.upstream import reset_clients

pytest_plugins = [
    "tests.simulator_fixture",
    "tests.dms_simulator_fixture",
    "tests.lingma_simulator_fixture",
]

ROOT = Path(__file__).resolve().parent.parent
TEST_QUEUE = f"studio-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def _upstream_is_simulator(
    settings, simulator, dms_simulator, lingma_simulator, tmp_path
) -> Iterator[None]:
    settings.XINGCHEN_BASE_URL = simulator.base_url
    settings.XINGCHEN_API_KEY = simulator.api_key
    settings.XINGCHEN_USES_SIMULATOR = True
    settings.DMS_ENDPOINT = dms_simulator.base_url
    settings.DMS_ACCESS_KEY_ID = dms_simulator.access_key_id
    settings.DMS_ACCESS_KEY_SECRET = dms_simulator.access_key_secret
    settings.DMS_INSTANCE_ID = dms_simulator.instance_id
    settings.LINGMA_BASE_URL = lingma_simulator.base_url
    settings.LINGMA_TOKEN = lingma_simulator.token
    settings.LINGMA_ORGANIZATION_ID = lingma_simulator.organization_id
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    reset_clients()
    yield
    reset_clients()


def pytest_configure(config) -> None:
    # Counters in a shared Redis cache (rate limits) belong to this run alone.
    cache = django_settings.CACHES["default"]
    if "redis" in cache["BACKEND"].lower():
        cache["KEY_PREFIX"] = f"{cache.get('KEY_PREFIX', '')}-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def _fresh_local_cache() -> Iterator[None]:
    # The in-process cache outlives a test, and on SQLite a new user can get an earlier one's id.
    yield
    from django.core.cache import cache

    if "locmem" in django_settings.CACHES["default"]["BACKEND"].lower():
        cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _celery_eager() -> None:
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    celery_app.conf.task_default_queue = TEST_QUEUE


def password() -> str:
    return "correct-horse-battery"


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password=password())


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password=password())


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staff", password=password(), is_staff=True)


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("root", password=password())


def current_database_url() -> str:
    from django.db import connection

    info = connection.settings_dict
    if info["ENGINE"].endswith("postgresql"):
        host = info.get("HOST") or "127.0.0.1"
        port = info.get("PORT") or "5432"
        user = info.get("USER") or "postgres"
        return f"postgres://{user}@{host}:{port}/{info['NAME']}"
    return f"sqlite:///{info['NAME']}"


@pytest.fixture(scope="session")
def _worker_process(django_db_setup, django_db_blocker, simulator, tmp_path_factory):
    if not django_settings.REDIS_URL:
        yield None
        return
    with django_db_blocker.unblock():
        database_url = current_database_url()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "XINGCHEN_API_KEY": simulator.api_key,
        "XINGCHEN_BASE_URL": simulator.base_url,
        "DATA_DIR": str(tmp_path_factory.mktemp("worker-data")),
    }
    log = tmp_path_factory.mktemp("worker-log") / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "project",
                "worker",
                "--pool",
                "solo",
                "--queues",
                TEST_QUEUE,
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("Celery worker did not start:\n" + log.read_text()[-4000:])
        time.sleep(0.2)
    yield proc
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture
def celery_worker(_worker_process, settings):
    """A real worker when REDIS_URL is set (use with transactional tests); eager otherwise."""
    if _worker_process is None:
        yield None
        return
    celery_app.conf.task_always_eager = False
    yield _worker_process
    celery_app.conf.task_always_eager = True
    _wait_until_worker_idle()


def _wait_until_worker_idle(deadline_s: float = 30.0) -> None:
    """Lets the worker finish what the test queued (retries scheduled for later included), so
    it does not write into the next test's database while that one is being cleaned."""
    inspect = celery_app.control.inspect(timeout=1.0)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        busy = [inspect.active() or {}, inspect.reserved() or {}, inspect.scheduled() or {}]
        if not any(tasks for replies in busy for tasks in replies.values()):
            return
        time.sleep(0.2)


@pytest.fixture
def gate(simulator):
    """A proxy before the simulator that can hold picture polls (tests.jobs.helpers.PollGate)."""
    from tests.jobs.helpers import PollGate

    proxy = PollGate(simulator.base_url)
    yield proxy
    proxy.shut()


@pytest.fixture
async def replies_end_with_the_test():
    """Lets every reply and import a test started finish before the database is cleaned."""
    from conversations import history, streaming

    yield
    await streaming.wait_for_generations(timeout=20)
    await history.wait_for_imports(timeout=20)
