"""Fixtures for jobs: characters that draw, a real worker, and a gate in front of Xingchen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conversations import services as chat_services
from conversations.models import ChatSession
from tests.factories import character_create_synced
from tests.jobs.helpers import DRAWS
from tests.worker_process import WorkerProcess


@pytest.fixture
def painter(sim):
    """A character on Xingchen with the text-to-image plugin on."""
    return character_create_synced(name="Mei", opening_line="Hi, I paint.", platform_plugins=DRAWS)


@pytest.fixture
def talker(sim):
    """A character on Xingchen that never draws."""
    return character_create_synced(name="Tao", opening_line="Hi, I only talk.")


@pytest.fixture
def alice_paints(alice, painter) -> ChatSession:
    return chat_services.session_start(user=alice, character=painter)


@pytest.fixture
def idle_worker(sim, tmp_path) -> Iterator[WorkerProcess]:
    """A worker not started yet; what this test queues waits on its queue."""
    process = WorkerProcess(tmp_path / "worker-data", sim)
    try:
        with process.routed_here():
            yield process
    finally:
        process.stop()


@pytest.fixture
def worker(idle_worker) -> WorkerProcess:
    """A running worker; what this test queues goes to it."""
    idle_worker.start()
    idle_worker.wait_ready()
    return idle_worker


@pytest.fixture
def gated_worker(sim, gate, tmp_path) -> Iterator[WorkerProcess]:
    """A running worker that reaches Xingchen through the gate."""
    process = WorkerProcess(tmp_path / "worker-data", sim, base_url=gate.base_url)
    process.start()
    try:
        process.wait_ready()
        with process.routed_here():
            yield process
    finally:
        gate.open()
        process.stop()
