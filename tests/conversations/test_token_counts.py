"""Token counts under replies follow CHAT_TOKEN_COUNTS: staff only unless set otherwise, on the
page and in the frames the chat socket receives."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conversations.events import reply_done
from conversations.models import Message
from conversations.rendering import message_payload
from tests.factories import character_create, chat_session_create, message_create

pytestmark = pytest.mark.django_db

COUNTS = "120 in · 42 out tokens"


def _reply(session, **fields) -> Message:
    question = message_create(session=session)
    return message_create(
        session=session,
        role="assistant",
        query=question,
        content="Green tea, mostly.",
        input_tokens=120,
        output_tokens=42,
        **fields,
    )


def _page(client, user, session) -> str:
    client.force_login(user)
    return client.get(reverse("conversations:chat", args=[session.pk])).content.decode()


def _frame_html(reply: Message) -> str:
    """The reply as the `done` frame shows it, loaded as the service that ends a reply does."""
    reply = Message.objects.select_related("session__character").get(pk=reply.pk)
    return message_payload(reply, character=reply.session.character)["html"]


def test_staff_see_the_token_counts_of_their_replies(client, staff):
    session = chat_session_create(user=staff)
    _reply(session)

    assert COUNTS in _page(client, staff, session)


def test_users_do_not_see_token_counts_by_default(client, alice):
    session = chat_session_create(user=alice)
    _reply(session)

    page = _page(client, alice, session)

    assert COUNTS not in page and "msg-usage" not in page
    assert "Green tea, mostly." in page


def test_everyone_sees_them_when_the_setting_says_so(client, alice, settings):
    settings.CHAT_TOKEN_COUNTS = "everyone"
    session = chat_session_create(user=alice)
    _reply(session)

    assert COUNTS in _page(client, alice, session)


def test_nobody_sees_them_when_the_setting_says_so(client, staff, settings):
    settings.CHAT_TOKEN_COUNTS = "nobody"
    session = chat_session_create(user=staff)
    _reply(session)

    assert COUNTS not in _page(client, staff, session)


def test_the_socket_frame_of_a_reply_follows_the_same_rule(staff, alice, settings):
    staffs = _reply(chat_session_create(user=staff))
    alices = _reply(chat_session_create(user=alice))

    assert COUNTS in _frame_html(staffs)
    assert COUNTS not in _frame_html(alices)
    settings.CHAT_TOKEN_COUNTS = "everyone"
    assert COUNTS in _frame_html(alices)


def test_the_done_frame_carries_the_counts_only_for_those_who_may_see_them(staff, alice):
    sent: list[dict] = []
    for user in (staff, alice):
        reply = _reply(chat_session_create(user=user))
        reply = Message.objects.select_related("session__character").get(pk=reply.pk)
        with patch(
            "conversations.events._broadcast_on_commit", lambda _id, frame: sent.append(frame)
        ):
            reply_done(reply, character=reply.session.character)

    assert [frame["usage"] for frame in sent] == [
        {"input_tokens": 120, "output_tokens": 42},
        None,
    ]


def test_the_other_footer_actions_stay_without_the_counts(client, alice):
    session = chat_session_create(user=alice, character=character_create(remote_id="r-lin"))
    _reply(session)

    page = _page(client, alice, session)

    assert 'data-action="regenerate"' in page


def test_the_chat_page_queries_do_not_grow_with_the_replies_shown(client, staff):
    session = chat_session_create(user=staff)
    _reply(session)
    _page(client, staff, session)  # rate-limit and session rows settle on the first visit

    with CaptureQueriesContext(connection) as one_reply:
        _page(client, staff, session)
    for _ in range(4):
        _reply(session)
    with CaptureQueriesContext(connection) as five_replies:
        page = _page(client, staff, session)

    assert page.count(COUNTS) == 5
    assert len(five_replies) == len(one_reply)
