"""A push whose worker was killed mid-send goes out as soon as a worker starts again.

Neither broker keeps the message of a task a killed worker held (the filesystem broker deletes
it when read, Redis keeps it unacknowledged for an hour): the outbox row is what survives.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from characters import services
from characters.models import Character, CharacterPush, PushState, SyncState
from project.upstream import call_sync
from tests.worker_process import WorkerProcess

DEADLINE_SECONDS = 60.0


def _wait_until(condition: Callable[[], object], worker: WorkerProcess, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Gave up waiting until {what}.\n{worker.log()}")
        time.sleep(0.1)


@pytest.fixture
def worker(sim, tmp_path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(tmp_path / "worker-data", sim)
    yield process
    process.stop()


def _request_ids(sim, operation: str) -> set[str]:
    # Compared by id: the simulator keeps only the latest requests, so counts stop growing.
    return {request["requestId"] for request in sim.requests(f"aca-character-{operation}")}


def _remote_named(name: str) -> list[str]:
    page = call_sync(lambda client: client.character_search(scope="my", name=name, page_size=50))
    return [remote.character_id for remote in page.items if remote.name == name]


def _waiting_change(sim, operation: str) -> tuple[Character, CharacterPush]:
    """A change saved while Xingchen was rate limiting: it waits in the outbox for a worker."""
    sim.inject(f"aca-character-{operation}", status=429, count=1)
    name = f"Kept {uuid.uuid4().hex[:8]}"
    character = Character(name=name, basic_information="Survives a killed worker.")
    if operation == "update":
        character = services.character_create(character=character)
        character.name = f"{name} edited"
        services.character_update(character=character)
    else:
        services.character_create(character=character)
    return character, CharacterPush.objects.get(character=character, state=PushState.PENDING)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("operation", ["create", "update"])
def test_a_push_held_by_a_killed_worker_is_sent_once_a_worker_starts_again(sim, worker, operation):
    character, push = _waiting_change(sim, operation)
    # The worker's attempt then hangs: Xingchen makes the change but does not answer.
    sim.inject(f"aca-character-{operation}", kind="slow_response", seconds=120)
    seen = _request_ids(sim, operation)

    worker.start()
    worker.send("characters.tasks.character_push", push.pk)
    _wait_until(
        lambda: _request_ids(sim, operation) - seen,
        worker,
        "the worker sends the change",
    )
    worker.kill()
    push.refresh_from_db()
    lease = push.claimed_until
    assert push.state == PushState.PENDING and push.claimed_by and lease is not None

    worker.start()
    _wait_until(
        lambda: CharacterPush.objects.get(pk=push.pk).state == PushState.SENT,
        worker,
        "the restarted worker sends the change",
    )

    push.refresh_from_db()
    character.refresh_from_db()
    assert push.sent_at < lease  # long before the killed worker's claim ran out
    assert character.sync_state == SyncState.SYNCED
    # The change the killed worker made is recognised, never made a second time.
    assert _remote_named(character.name) == [character.remote_id]
