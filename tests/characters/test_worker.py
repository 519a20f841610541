from __future__ import annotations

import time

import pytest

from characters import services
from characters.models import Character, SyncState
from tests.characters.helpers import remote_character


def _wait_for_state(character: Character, state: str, timeout: float = 30) -> Character:
    deadline = time.monotonic() + timeout
    while True:
        character.refresh_from_db()
        if character.sync_state == state or time.monotonic() > deadline:
            return character
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_pushes_an_edit(celery_worker):
    character = services.character_create(
        character=Character(name="Worker made", basic_information="Pushed by the worker.")
    )
    _wait_for_state(character, SyncState.SYNCED)
    character.name = "Worker edited"
    services.character_update(character=character)

    character = _wait_for_state(character, SyncState.SYNCED)

    assert character.sync_state == SyncState.SYNCED
    assert remote_character(character.remote_id).name == "Worker edited"
