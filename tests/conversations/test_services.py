"""Chat business rules: starting, resetting, and ending replies whose process died."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from conversations import services, tasks
from conversations.models import ChatSession, Message
from conversations.services import ChatRefused, biz_user_id
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
    _streaming_reply(alice_chat, heartbeat_age=0)
    with pytest.raises(ChatRefused) as refused:
        services.session_reset(session=alice_chat, user=alice)
    assert refused.value.code == "busy"


def test_a_failed_upstream_reset_keeps_the_session(sim, alice, alice_chat):
    sim.inject("aca-chat-reset", status=500, count=5)
    with pytest.raises(ChatRefused, match="server error"):
        services.session_reset(session=alice_chat, user=alice)
    alice_chat.refresh_from_db()
    assert alice_chat.is_active()


def _streaming_reply(session, *, heartbeat_age: float | None, content: str = "Half"):
    question = message_create(session=session)
    heartbeat = None if heartbeat_age is None else timezone.now() - timedelta(seconds=heartbeat_age)
    return message_create(
        session=session,
        role="assistant",
        query=question,
        state="streaming",
        content=content,
        heartbeat_at=heartbeat,
    )


def test_a_reply_whose_lease_ran_out_is_ended_at_start_up_with_its_text(settings, alice_chat):
    settings.CHAT_REPLY_LEASE = 20
    reply = _streaming_reply(alice_chat, heartbeat_age=60)
    call_command("recover_interrupted")
    reply.refresh_from_db()
    assert reply.state == Message.State.INTERRUPTED and reply.content == "Half"
    assert "cut off when the server stopped" in reply.error


def test_a_reply_still_renewing_its_lease_is_left_alone(settings, alice_chat):
    settings.CHAT_REPLY_LEASE = 20
    reply = _streaming_reply(alice_chat, heartbeat_age=2)
    assert tasks.reply_sweep() == 0
    reply.refresh_from_db()
    assert reply.state == Message.State.STREAMING


def test_the_periodic_sweep_ends_a_reply_whose_process_died(settings, alice_chat):
    settings.CHAT_REPLY_LEASE = 20
    reply = _streaming_reply(alice_chat, heartbeat_age=21)
    assert tasks.reply_sweep() == 1
    reply.refresh_from_db()
    assert reply.state == Message.State.INTERRUPTED and reply.content == "Half"


def test_the_sweep_is_scheduled_to_run_more_often_than_a_lease_lasts(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["conversations-reply-sweep"]
    assert entry["task"] == "conversations.tasks.reply_sweep"
    assert entry["schedule"] < settings.CHAT_REPLY_LEASE


def test_a_user_whose_reply_was_abandoned_can_send_again_at_once(settings, alice, alice_chat):
    settings.CHAT_REPLY_LEASE = 20
    abandoned = _streaming_reply(alice_chat, heartbeat_age=30)
    result = services.message_send(
        session=alice_chat, user=alice, content="Hello again", client_id=None
    )
    assert result.turn is not None
    abandoned.refresh_from_db()
    assert abandoned.state == Message.State.INTERRUPTED
