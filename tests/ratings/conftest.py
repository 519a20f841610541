"""Fixtures of the rating tests: raters, a staff user without the permission, and a chat whose
replies are real Xingchen messages (made on the simulator, so ratings of them can be pushed).

`alice` owns the chat; `bob` is another chat user; `staff` (tests/conftest.py) is staff without
the rate permission; `rater` (and `make_rater` for more) are in the "Raters" group.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from conversations.models import ChatSession, Message
from conversations.services import biz_user_id, session_start
from platforms.xingchen.types import ChatRequest
from platforms.xingchen.types import Message as UpstreamMessage
from project.upstream import call_sync
from ratings.defaults import ensure_defaults
from tests.conftest import password
from tests.factories import character_create_synced

HTMX = {"HTTP_HX_REQUEST": "true"}
QUESTIONS = ("Do you like tea?", "What did you do today?", "Tell me a secret.")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def raters_group() -> Group:
    """The Raters group and reason tags, made again because a transactional test's flush removes
    what data migrations made (permissions are recreated by Django itself)."""
    return ensure_defaults()


@pytest.fixture(autouse=True)
def _workbench_defaults(db) -> None:
    ensure_defaults()


def new_rater(user_model, username: str):
    """A staff user in the Raters group."""
    user = user_model.objects.create_user(username, password=password(), is_staff=True)
    user.groups.add(raters_group())
    return user


@pytest.fixture
def make_rater(django_user_model) -> Callable[[str], object]:
    """make_rater("rob") makes a staff user in the Raters group."""
    return lambda username: new_rater(django_user_model, username)


@pytest.fixture
def rater(make_rater):
    return make_rater("rita")


@pytest.fixture
def staff_without_permission(staff):
    return staff


@pytest.fixture
def rater_client(rater) -> Client:
    return logged_in(rater)


@pytest.fixture
def staff_client(staff) -> Client:
    return logged_in(staff)


@pytest.fixture
def alice_client(alice) -> Client:
    return logged_in(alice)


@pytest.fixture
def bob_client(bob) -> Client:
    return logged_in(bob)


@pytest.fixture
def character(sim):
    """A character that exists on Xingchen (the simulator)."""
    return character_create_synced(name="Lin", opening_line="Hello, I am Lin.")


def add_turn(session: ChatSession, question: str, *, remote: bool = True) -> Message:
    """A question and its finished reply in `session`; with `remote` the turn is made on the
    simulator and the reply carries its Xingchen message id (else: a reply stopped before one
    arrived). Returns the reply."""
    text, answer_id, query_id = f"A reply to: {question}", "", ""
    if remote:
        request = ChatRequest(
            character_id=session.character.remote_id,
            user_id=biz_user_id(session.user_id),
            messages=[UpstreamMessage(role="user", content=question)],
        )
        result = call_sync(lambda client: client.chat_send(request))
        text = result.text
        context = result.context
        answer_id = context.answer_id or context.message_id or ""
        query_id = context.query_id or context.reply_message_id or ""
    asked = Message.objects.create(
        session=session, role=Message.Role.USER, content=question, remote_message_id=query_id
    )
    return Message.objects.create(
        session=session,
        role=Message.Role.ASSISTANT,
        query=asked,
        content=text,
        state=Message.State.COMPLETE if remote else Message.State.STOPPED,
        remote_message_id=answer_id,
        remote_query_id=query_id,
    )


@pytest.fixture
def alice_chat(alice, character) -> ChatSession:
    """Alice's chat with Lin: the opening line, then three answered questions."""
    session = session_start(user=alice, character=character)
    for question in QUESTIONS:
        add_turn(session, question)
    return session


@pytest.fixture
def replies(alice_chat) -> list[Message]:
    """The three replies of `alice_chat`, oldest first, each with a Xingchen message id."""
    return list(
        alice_chat.messages.filter(role=Message.Role.ASSISTANT, kind=Message.Kind.CHAT).order_by(
            "pk"
        )
    )


@pytest.fixture
def local_reply(alice_chat) -> Message:
    """A reply of `alice_chat` stopped before Xingchen gave it an id."""
    return add_turn(alice_chat, "Are you still there?", remote=False)


def rating_on_xingchen(reply: Message) -> int | None:
    """The rating Xingchen holds for `reply`, read back from its message histories."""
    from platforms.xingchen.types import HistoryQuery

    session = reply.session
    query = HistoryQuery(
        character_id=session.character.remote_id,
        biz_user_id=biz_user_id(session.user_id),
        message_ids=[reply.remote_message_id],
    )
    [found] = call_sync(lambda client: client.message_histories(query)).items
    return found.rating
