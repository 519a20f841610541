"""What DMS and Lingma characters send: the persona as a system prompt, the recent turns."""

from __future__ import annotations

import pytest

from conversations import persona
from conversations.models import Message
from conversations.replies import ReplyRequest, TranscriptLine
from conversations.transcript import estimate_tokens, transcript_before
from memories.services import ChatMemory, Extracted
from tests.factories import character_create, chat_session_create, message_create

pytestmark = pytest.mark.django_db


def _request(character, **overrides) -> ReplyRequest:
    fields = {
        "character": character,
        "user_id": "user-1",
        "content": "What should I read next?",
        "user_name": "Alice",
        "user_basic_info": "Likes long novels.",
        "scenario": "A rainy afternoon in a bookshop.",
    }
    fields.update(overrides)
    return ReplyRequest(**fields)


def test_the_system_prompt_carries_the_persona_the_user_and_the_scene():
    lin = character_create(
        name="Lin",
        basic_information="A poet from Suzhou.",
        traits="Quotes poems.",
        chat_example="{{user}}: Hi\n{{char}}: Greetings, friend.",
        opening_line="Welcome to my garden.",
    )
    memory = ChatMemory(facts=(Extracted("favourite food", ("noodles",)),), summary=("Met once.",))

    prompt = persona.system_prompt(_request(lin, memory=memory))

    assert prompt.startswith("You are Lin.")
    for expected in (
        "A poet from Suzhou.",
        "Quotes poems.",
        "Alice: Hi\nLin: Greetings, friend.",
        "Welcome to my garden.",
        "Name: Alice\nLikes long novels.",
        "A rainy afternoon in a bookshop.",
        "- favourite food: noodles",
        "Met once.",
    ):
        assert expected in prompt


def test_messages_are_the_system_prompt_then_the_transcript_then_the_question():
    lin = character_create(name="Lin")
    transcript = (TranscriptLine("assistant", "Hello."), TranscriptLine("user", "Hi Lin."))

    messages = persona.chat_messages(_request(lin, transcript=transcript))

    assert [role for role, _ in messages] == ["system", "assistant", "user", "user"]
    assert messages[1:] == [
        ("assistant", "Hello."),
        ("user", "Hi Lin."),
        ("user", "What should I read next?"),
    ]


def test_the_transcript_keeps_the_newest_turns_within_the_budget(alice):
    session = chat_session_create(user=alice)
    old = message_create(session=session, content="old " * 400)  # about 400 tokens
    question = message_create(session=session, content="Which tea do you like?")
    message_create(session=session, role="assistant", query=question, content="Jasmine.")
    message_create(
        session=session, role="assistant", query=question, content="Oolong.", is_chosen=False
    )
    failed = message_create(session=session, content="lost")
    message_create(session=session, role="assistant", query=failed, state="failed", content="")
    now = message_create(session=session, content="And you?")

    lines = transcript_before(session_id=session.pk, message_id=now.pk, budget=100)

    assert [(line.role, line.content) for line in lines] == [
        ("user", "Which tea do you like?"),
        ("assistant", "Jasmine."),
        ("user", "lost"),
    ]
    everything = transcript_before(session_id=session.pk, message_id=now.pk, budget=10_000)
    assert everything[0].content == old.content


def test_a_flagged_reply_is_sent_back_as_its_safe_answer(alice):
    session = chat_session_create(user=alice)
    question = message_create(session=session, content="Tell me something.")
    message_create(
        session=session,
        role="assistant",
        query=question,
        content="(risky text)",
        has_risk=True,
        safety_std_answer="Let us talk about something else.",
    )
    now = message_create(session=session, content="OK.")

    lines = transcript_before(session_id=session.pk, message_id=now.pk, budget=1000)

    assert lines[-1] == TranscriptLine("assistant", "Let us talk about something else.")
    assert Message.objects.filter(content="(risky text)").exists()


def test_token_estimates_count_chinese_characters_one_each():
    assert estimate_tokens("你好世界") == 4
    assert estimate_tokens("abcdefgh") == 2
