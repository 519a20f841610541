"""Work per click is bounded: page loads and sends are rate-limited per user, and reloads make
no upstream call (reconnecting sockets: test_consumer)."""

from __future__ import annotations

import pytest
from django.test import Client

from conversations.models import Message
from tests.conversations.helpers import frames_until, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def test_too_many_chat_page_loads_get_a_429_that_says_when_to_come_back(
    settings, alice_client, bob, alice_chat
):
    settings.CHAT_PAGE_RATE = "5/m"
    url = f"/chat/{alice_chat.pk}/"
    assert all(alice_client.get(url).status_code == 200 for _ in range(5))
    refused = alice_client.get(url)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Try again in" in refused.content.decode()
    # The limit is Alice's own: Bob's pages still load.
    bob_client = Client()
    bob_client.force_login(bob)
    assert bob_client.get("/chat/").status_code == 200


def test_an_empty_rate_turns_the_page_limit_off(settings, alice_client, alice_chat):
    settings.CHAT_PAGE_RATE = ""
    url = f"/chat/{alice_chat.pk}/"
    assert all(alice_client.get(url).status_code == 200 for _ in range(30))


async def test_sends_over_the_limit_are_refused_and_not_kept(
    settings, sim, alice, alice_chat, replies_end_with_the_test
):
    settings.CHAT_SEND_RATE = "2/m"
    sim.configure(tokens_per_second=2000)
    socket = await open_socket(alice, alice_chat.pk)
    try:
        for n in range(2):
            await socket.send_json_to({"type": "send", "content": f"Message {n}"})
            await frames_until(socket, lambda f: f["type"] == "done")
        await socket.send_json_to({"type": "send", "content": "One too many"})
        [*_, error] = await frames_until(socket, lambda f: f["type"] == "error")
        assert error["code"] == "throttled"
        assert "try again in" in error["message"] and "not sent" in error["message"]
        # Regenerating costs an upstream call too.
        await socket.send_json_to({"type": "regenerate"})
        [*_, error] = await frames_until(socket, lambda f: f["type"] == "error")
        assert error["code"] == "throttled"
    finally:
        await socket.disconnect()
    contents = [
        m.content
        async for m in Message.objects.filter(session=alice_chat, role="user").order_by("pk")
    ]
    assert contents == ["Message 0", "Message 1"]


def test_two_hundred_reloads_make_no_upstream_history_call(settings, sim, alice_client, alice_chat):
    settings.CHAT_PAGE_RATE = ""
    before = {r["requestId"] for r in sim.requests("aca-message-history")}
    for _ in range(200):
        assert alice_client.get(f"/chat/{alice_chat.pk}/").status_code == 200
    assert {r["requestId"] for r in sim.requests("aca-message-history")} <= before
