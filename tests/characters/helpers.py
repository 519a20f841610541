"""Helpers for character tests: look at and change the upstream (the simulator) directly."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

from platforms.xingchen.types import Character as RemoteCharacter
from platforms.xingchen.types import CharacterInput
from project.upstream import call_sync


def remote_character(remote_id: str) -> RemoteCharacter:
    return call_sync(lambda client: client.character_details(character_id=remote_id))


def edit_remotely(remote_id: str, **changes: Any) -> RemoteCharacter:
    """Changes a character on the upstream itself, as someone using Xingchen's own site would."""
    current = remote_character(remote_id).to_input()
    changed = dataclasses.replace(current, **changes)
    call_sync(lambda client: client.character_update(character_id=remote_id, character=changed))
    return remote_character(remote_id)


def create_remotely(**fields: Any) -> str:
    payload = CharacterInput(**{"basic_information": "Made on Xingchen itself.", **fields})
    return call_sync(lambda client: client.character_create(payload))


def set_remote_status(sim: Any, remote_id: str, **statuses: str) -> None:
    """auditStatus / greenStatus / configStatus of a simulator character."""
    response = httpx.post(
        f"{sim.base_url}/_simulator/characters/{remote_id}/status",
        json=statuses,
        headers={"Authorization": f"Bearer {sim.api_key}"},
        timeout=10,
    )
    response.raise_for_status()
