"""Staff reminders: sent as the character to Xingchen, kept in the history, shown live."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.test import Client
from django.urls import reverse

from conversations import history, services
from conversations.models import ChatSession, Message
from conversations.services import biz_user_id
from tests.conversations.helpers import frames_until, open_socket, wait_for_imports
from tests.factories import character_create_synced
from tests.ratings.conftest import logged_in

pytestmark = pytest.mark.django_db(transaction=True)


def _send(user, session: ChatSession, content: str):
    url = reverse("ratings:reminder", args=[session.pk])
    return logged_in(user).post(url, {"content": content})


def _sent_reminders(sim) -> list[dict]:
    return [r["json"] for r in sim.requests("aca-chat-reminder")]


def _reminders(session: ChatSession) -> list[Message]:
    return list(session.messages.filter(kind=Message.Kind.REMINDER).order_by("pk"))


def _import(session: ChatSession) -> list[Message]:
    return async_to_sync(history.history_import)(session_id=session.pk)


async def test_a_reminder_reaches_xingchen_and_shows_at_once_in_the_users_open_chat(
    sim, alice, rater, character, alice_chat, replies_end_with_the_test
):
    socket = await open_socket(alice, alice_chat.pk)
    try:
        await wait_for_imports()
        response = await database_sync_to_async(_send)(rater, alice_chat, "Time for a break?")
        [frame] = (await frames_until(socket, lambda f: f["type"] == "message"))[-1:]
    finally:
        await socket.disconnect()
    assert response.status_code == 302
    assert frame["message"]["role"] == "assistant"
    assert frame["message"]["content"] == "Time for a break?"
    assert "reminder" in frame["message"]["html"] and "Lin" in frame["message"]["html"]
    sent = (await database_sync_to_async(_sent_reminders)(sim))[-1]
    assert sent == {
        "characterId": character.remote_id,
        "bizUserId": biz_user_id(alice.pk),
        "content": "Time for a break?",
    }


def test_a_sent_reminder_stays_in_the_users_chat_history(sim, alice, rater, alice_chat):
    client = logged_in(rater)
    url = reverse("ratings:reminder", args=[alice_chat.pk])
    response = client.post(url, {"content": "Did you finish the book?"}, follow=True)
    page = response.content.decode()
    assert "Reminder sent to alice as Lin." in page

    chat = logged_in(alice).get(reverse("conversations:chat", args=[alice_chat.pk]))
    html = chat.content.decode()
    assert "Did you finish the book?" in html
    assert 'class="badge">reminder<' in html


def test_importing_the_history_later_does_not_bring_the_reminder_twice(
    sim, alice, rater, alice_chat
):
    before = alice_chat.messages.count()
    _send(rater, alice_chat, "Good morning!")
    assert _import(alice_chat) == []
    [reminder] = _reminders(alice_chat)
    assert reminder.content == "Good morning!"
    assert reminder.remote_message_id  # Xingchen's id, learnt from the import
    assert _import(alice_chat) == []
    assert alice_chat.messages.count() == before + 1


def test_the_same_text_sent_twice_is_two_reminders_and_stays_two(sim, alice, rater, alice_chat):
    _send(rater, alice_chat, "Drink water.")
    _send(rater, alice_chat, "Drink water.")
    _import(alice_chat)
    assert [m.content for m in _reminders(alice_chat)] == ["Drink water.", "Drink water."]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("   ", "Write the reminder before sending it."),
        ("x" * 41, "A reminder can be at most 40 characters long."),
    ],
)
def test_an_empty_or_too_long_reminder_is_refused_and_nothing_is_sent(
    sim, settings, rater, alice_chat, content, error
):
    settings.CHAT_MAX_MESSAGE_CHARS = 40
    before = len(_sent_reminders(sim))
    response = _send(rater, alice_chat, content)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert len(_sent_reminders(sim)) == before
    assert _reminders(alice_chat) == []


def test_a_reminder_at_the_length_limit_is_sent(sim, settings, rater, alice_chat):
    settings.CHAT_MAX_MESSAGE_CHARS = 40
    assert _send(rater, alice_chat, "y" * 40).status_code == 302
    assert [m.content for m in _reminders(alice_chat)] == ["y" * 40]


@pytest.mark.parametrize("status", [400, 503])
def test_when_xingchen_fails_the_rater_is_told_and_nothing_is_stored(
    sim, rater, alice_chat, status
):
    sim.inject("aca-chat-reminder", status=status, count=1)
    response = _send(rater, alice_chat, "Are you there?")
    assert response.status_code == 502
    page = response.content.decode()
    assert "Xingchen did not take the reminder" in page
    assert "Are you there?" in page  # the text is kept in the form for another try
    assert _reminders(alice_chat) == []
    assert _import(alice_chat) == []


def test_the_picker_finds_conversations_by_user_or_character(
    sim, alice, bob, rater, character, alice_chat, django_assert_num_queries
):
    other = character_create_synced(name="Mei", opening_line="Hi, Mei here.")
    bob_chat = services.session_start(user=bob, character=other)
    client = logged_in(rater)
    url = reverse("ratings:reminders")

    with django_assert_num_queries(6):
        everyone = client.get(url).content.decode()
    by_user = client.get(url, {"q": "bob"}, headers={"HX-Request": "true"}).content.decode()
    by_character = client.get(url, {"q": "lin"}).content.decode()

    alice_link = reverse("ratings:reminder", args=[alice_chat.pk])
    bob_link = reverse("ratings:reminder", args=[bob_chat.pk])
    assert alice_link in everyone and bob_link in everyone
    assert bob_link in by_user and alice_link not in by_user
    assert "<html" not in by_user  # search-as-you-type gets the results only
    assert alice_link in by_character and bob_link not in by_character


def test_a_history_restore_gets_the_whole_picker_page(sim, rater, alice_chat):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}

    html = logged_in(rater).get(reverse("ratings:reminders"), {"q": "alice"}, headers=headers)

    page = html.content.decode()
    assert "<html" in page and 'role="search"' in page
    assert reverse("ratings:reminder", args=[alice_chat.pk]) in page


def test_an_archived_conversation_cannot_be_reminded(sim, alice, rater, alice_chat):
    ChatSession.objects.filter(pk=alice_chat.pk).update(status=ChatSession.Status.ARCHIVED)
    assert _send(rater, alice_chat, "Hello?").status_code == 404
    assert reverse("ratings:reminder", args=[alice_chat.pk]) not in (
        logged_in(rater).get(reverse("ratings:reminders")).content.decode()
    )


def test_the_reminder_page_refuses_other_methods(sim, rater, alice_chat):
    url = reverse("ratings:reminder", args=[alice_chat.pk])
    assert logged_in(rater).put(url).status_code == 405
    assert logged_in(rater).post(reverse("ratings:reminders")).status_code == 405


@pytest.mark.parametrize("who", ["alice", "staff"])
def test_users_and_staff_without_the_permission_get_403(sim, request, who, alice_chat):
    client = logged_in(request.getfixturevalue(who))
    before = len(_sent_reminders(sim))
    assert client.get(reverse("ratings:reminders")).status_code == 403
    url = reverse("ratings:reminder", args=[alice_chat.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"content": "Hi from nobody"}).status_code == 403
    assert len(_sent_reminders(sim)) == before
    assert _reminders(alice_chat) == []


def test_anonymous_visitors_are_sent_to_log_in(sim, alice_chat):
    response = Client().get(reverse("ratings:reminder", args=[alice_chat.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_superuser_may_send_reminders(sim, admin_user, alice_chat):
    assert _send(admin_user, alice_chat, "From the admin.").status_code == 302
    assert [m.content for m in _reminders(alice_chat)] == ["From the admin."]
