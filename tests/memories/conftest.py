"""Fixtures for memory: a character with kv memory slots, chat turns over the real socket, and
clients for the owner and an outsider."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from conversations import services as chat_services
from conversations import streaming
from conversations.models import ChatSession, Message
from jobs.models import Job
from tests.conversations.helpers import open_socket, send_and_finish
from tests.factories import character_create_synced
from tests.jobs.helpers import wait_until
from tests.worker_process import WorkerProcess

DEADLINE_SECONDS = 30.0
EVERY = 3
SLOTS = [
    {
        "enabled": True,
        "memoryType": "kv",
        "kvMemoryConfigs": [
            {"enabled": True, "memoryText": "name"},
            {"enabled": True, "memoryText": "hobby"},
            {"enabled": True, "memoryText": "job"},
        ],
    }
]


@pytest.fixture(autouse=True)
def _memory_every_few_turns(settings) -> None:
    settings.MEMORY_EVERY_TURNS = EVERY


@pytest.fixture
def keeper(sim):
    """A character on Xingchen with kv memory slots for name, hobby and job."""
    return character_create_synced(
        name="Mei", opening_line="Hi, tell me about you.", long_term_memories=SLOTS
    )


@pytest.fixture
def alice_keeps(alice, keeper) -> ChatSession:
    return chat_services.session_start(user=alice, character=keeper)


async def _talk(user, session_id: int, texts: list[str]) -> None:
    socket = await open_socket(user, session_id)
    try:
        for text in texts:
            await send_and_finish(socket, text)
    finally:
        await socket.disconnect()
    await streaming.wait_for_generations(timeout=20)


def chat(user, session: ChatSession, *texts: str) -> list[Message]:
    """Sends each text through the chat socket, one finished turn after another; returns the
    user's messages."""
    async_to_sync(_talk)(user, session.pk, list(texts))
    return list(
        Message.objects.filter(session=session, role=Message.Role.USER).order_by("-pk")[
            : len(texts)
        ]
    )[::-1]


@pytest.fixture
def worker(sim, tmp_path) -> Iterator[WorkerProcess]:
    """A real Celery worker process; the jobs this test queues run there."""
    process = WorkerProcess(tmp_path / "worker-data", sim)
    try:
        with process.routed_here():
            process.start()
            process.wait_ready()
            yield process
    finally:
        process.stop()


def memory_jobs(user) -> list[Job]:
    return list(Job.objects.filter(owner=user, kind=Job.Kind.MEMORY).order_by("pk"))


def memory_job_ended(user, worker: WorkerProcess | None = None) -> Job:
    """The user's latest memory job, once it ended."""

    def ended() -> Job | None:
        jobs = memory_jobs(user)
        return jobs[-1] if jobs and not jobs[-1].is_active() else None

    return wait_until(ended, "a memory job ends", log=worker.log if worker else str)


def last_chat_memory(sim) -> dict[str, Any] | None:
    """The `memory` the latest chat request carried upstream."""
    sent = sim.requests("aca-chat-send-sse")[-1]["json"]
    return sent["input"]["aca"].get("memory")


def tags_of(memory: dict[str, Any] | None) -> dict[str, list[str]]:
    return {tag["key"]: tag["value"] for tag in (memory or {}).get("tags", [])}


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob) -> Client:
    client = Client()
    client.force_login(bob)
    return client
