from __future__ import annotations

import pytest

from conversations import history, services, streaming
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


@pytest.fixture
async def replies_end_with_the_test():
    """Lets every reply and import a test started finish before the database is cleaned."""
    yield
    await streaming.wait_for_generations(timeout=20)
    await history.wait_for_imports(timeout=20)
