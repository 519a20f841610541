from __future__ import annotations

import pytest

from conversations import services
from tests.factories import character_create_synced


@pytest.fixture
def character(sim):
    """A character that exists on the upstream (the simulator)."""
    return character_create_synced(
        name="Lin", opening_line="Hello, I am Lin. What brings you here?"
    )


@pytest.fixture
def alice_chat(alice, character):
    """Alice's active session with Lin, begun with the opening line."""
    return services.session_start(user=alice, character=character)
