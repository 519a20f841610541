"""Chat business rules: starting, resetting, history import and start-up recovery."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from conversations import services
from conversations.models import ChatSession, Message
from conversations.services import ChatRefused, biz_user_id
from platforms.xingchen.types import ChatRequest
from platforms.xingchen.types import Message as UpstreamMessage
from project.upstream import call_sync
from tests.factories import character_create, message_create

pytestmark = pytest.mark.django_db


def test_xingchen_knows_users_by_the_installs_prefix(settings, sim, alice, alice_chat):
    settings.XINGCHEN_USER_ID_PREFIX = "studio-a-"

    services.session_reset(session=alice_chat, user=alice)

    assert sim.requests("aca-chat-reset")[-1]["json"]["userId"] == f"studio-a-{alice.pk}"


def test_a_new_session_begins_with_the_opening_line(alice, character):
    session = services.session_start(user=alice, character=character)
    [opening] = session.messages.all()
    assert opening.role == "assistant" and opening.kind == "opening"
    assert opening.content == character.opening_line


def test_starting_again_resumes_the_active_session(alice, character, alice_chat):
    assert services.session_start(user=alice, character=character) == alice_chat
    assert alice_chat.messages.count() == 1


def test_a_character_not_on_xingchen_cannot_be_chatted_with(alice):
    with pytest.raises(ChatRefused, match="not on Xingchen"):
        services.session_start(user=alice, character=character_create())


def test_reset_archives_the_session_and_starts_a_new_one_with_the_opening_line(
    sim, alice, character, alice_chat
):
    message_create(session=alice_chat, content="Remember me?")
    fresh = services.session_reset(session=alice_chat, user=alice)

    alice_chat.refresh_from_db()
    assert alice_chat.status == ChatSession.Status.ARCHIVED
    assert alice_chat.messages.filter(content="Remember me?").exists()
    assert fresh.is_active() and fresh.pk != alice_chat.pk
    assert [m.kind for m in fresh.messages.all()] == ["opening"]
    reset = sim.requests("aca-chat-reset")[-1]["json"]
    assert reset == {"characterId": character.remote_id, "userId": biz_user_id(alice.pk)}


def test_reset_is_refused_while_a_reply_is_being_written(alice, alice_chat):
    question = message_create(session=alice_chat)
    message_create(session=alice_chat, role="assistant", query=question, state="streaming")
    with pytest.raises(ChatRefused) as refused:
        services.session_reset(session=alice_chat, user=alice)
    assert refused.value.code == "busy"


def test_a_failed_upstream_reset_keeps_the_session(sim, alice, alice_chat):
    sim.inject("aca-chat-reset", status=500, count=5)
    with pytest.raises(ChatRefused, match="server error"):
        services.session_reset(session=alice_chat, user=alice)
    alice_chat.refresh_from_db()
    assert alice_chat.is_active()


def test_replies_left_streaming_by_a_crash_are_marked_interrupted_at_start_up(alice_chat):
    question = message_create(session=alice_chat)
    reply = message_create(
        session=alice_chat, role="assistant", query=question, state="streaming", content="Half"
    )
    call_command("recover_interrupted")
    reply.refresh_from_db()
    assert reply.state == Message.State.INTERRUPTED and reply.content == "Half"
    assert "server restarted" in reply.error


# --- history import ---------------------------------------------------------------------------


def _remind(character, user, content: str) -> None:
    call_sync(
        lambda c: c.chat_reminder(
            character_id=character.remote_id, biz_user_id=biz_user_id(user.pk), content=content
        )
    )


def _chat_elsewhere(character, user, content: str) -> str:
    request = ChatRequest(
        character_id=character.remote_id,
        user_id=biz_user_id(user.pk),
        messages=[UpstreamMessage(role="user", content=content)],
    )
    return call_sync(lambda c: c.chat_send(request)).text


def test_a_reminder_made_on_xingchen_is_imported_as_a_message_from_the_character(
    sim, alice, character, alice_chat
):
    _remind(character, alice, "Did you drink water today?")
    [reminder] = services.history_import(session=alice_chat)
    assert reminder.role == "assistant" and reminder.kind == "reminder"
    assert reminder.content == "Did you drink water today?"
    assert alice_chat.messages.filter(kind="opening").count() == 1


def test_importing_again_adds_nothing(sim, alice, character, alice_chat):
    _remind(character, alice, "Hello again!")
    services.history_import(session=alice_chat)
    assert services.history_import(session=alice_chat) == []
    assert alice_chat.messages.count() == 2


def test_a_turn_from_another_client_is_imported_as_a_question_and_its_reply(
    sim, alice, character, alice_chat
):
    reply_text = _chat_elsewhere(character, alice, "Written on my phone.")
    question, reply = services.history_import(session=alice_chat)
    assert (question.role, question.content) == ("user", "Written on my phone.")
    assert (reply.role, reply.kind, reply.content) == ("assistant", "chat", reply_text)
    assert reply.query == question


def test_an_archived_session_imports_nothing(sim, alice, character, alice_chat):
    _remind(character, alice, "Hi!")
    ChatSession.objects.filter(pk=alice_chat.pk).update(status=ChatSession.Status.ARCHIVED)
    alice_chat.refresh_from_db()
    assert services.history_import(session=alice_chat) == []
