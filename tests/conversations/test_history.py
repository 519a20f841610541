"""Importing messages made on the Xingchen side into a session."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from conversations import history, replies
from conversations.models import ChatSession
from conversations.replies import HistoryRecord
from conversations.services import biz_user_id
from platforms.xingchen.types import ChatRequest
from platforms.xingchen.types import Message as UpstreamMessage
from project.upstream import call_sync

pytestmark = pytest.mark.django_db(transaction=True)


def _import(session):
    return async_to_sync(history.history_import)(session_id=session.pk)


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
    [reminder] = _import(alice_chat)
    assert reminder.role == "assistant" and reminder.kind == "reminder"
    assert reminder.content == "Did you drink water today?"
    assert alice_chat.messages.filter(kind="opening").count() == 1


def test_the_history_query_names_the_user_as_the_seed_and_the_sdk_say(
    sim, alice, character, alice_chat
):
    _import(alice_chat)
    where = sim.requests("aca-message-history")[-1]["json"]["where"]
    assert where["userId"] == where["bizUserId"] == biz_user_id(alice.pk)
    assert where["characterId"] == character.remote_id


def test_importing_again_adds_nothing(sim, alice, character, alice_chat):
    _remind(character, alice, "Hello again!")
    _import(alice_chat)
    assert _import(alice_chat) == []
    assert alice_chat.messages.count() == 2


def test_a_turn_from_another_client_is_imported_as_a_question_and_its_reply(
    sim, alice, character, alice_chat
):
    reply_text = _chat_elsewhere(character, alice, "Written on my phone.")
    question, reply = _import(alice_chat)
    assert (question.role, question.content) == ("user", "Written on my phone.")
    assert (reply.role, reply.kind, reply.content) == ("assistant", "chat", reply_text)
    assert reply.query == question


def test_an_archived_session_imports_nothing(sim, alice, character, alice_chat):
    _remind(character, alice, "Hi!")
    ChatSession.objects.filter(pk=alice_chat.pk).update(status=ChatSession.Status.ARCHIVED)
    assert _import(alice_chat) == []


class _CarelessUpstream:
    """An upstream that ignores the user filter and answers with everyone's records."""

    name = "xingchen"
    keeps_history = True

    def __init__(self, records: list[HistoryRecord]) -> None:
        self.records = records

    async def history(self, **kwargs) -> list[HistoryRecord]:
        return self.records


def _record(message_id: str, owner: str | None, session_id: str = "") -> HistoryRecord:
    return HistoryRecord(
        message_id=message_id,
        role="assistant",
        is_opening=False,
        content=f"Record {message_id}",
        chat_id="",
        session_id=session_id,
        owner_id=owner,
        created_at=None,
    )


def test_another_users_records_are_never_imported(monkeypatch, alice, bob, alice_chat):
    records = [
        _record("m-alice", biz_user_id(alice.pk)),
        _record("m-bob", biz_user_id(bob.pk)),
        _record("m-unknown", None, session_id="someone-elses-session"),
    ]
    monkeypatch.setattr(replies, "upstream_for", lambda character: _CarelessUpstream(records))
    monkeypatch.setattr(history, "upstream_for", lambda character: _CarelessUpstream(records))

    imported = _import(alice_chat)

    assert [m.remote_message_id for m in imported] == ["m-alice"]
    assert not alice_chat.messages.filter(content="Record m-bob").exists()


def test_a_record_without_an_owner_is_kept_when_it_is_of_the_sessions_upstream_session(
    monkeypatch, alice, alice_chat
):
    ChatSession.objects.filter(pk=alice_chat.pk).update(remote_session_id="s-alice")
    records = [_record("m-1", None, session_id="s-alice")]
    monkeypatch.setattr(history, "upstream_for", lambda character: _CarelessUpstream(records))
    assert [m.remote_message_id for m in _import(alice_chat)] == ["m-1"]
