"""Chat users' own 👍/👎 on the replies of their conversations."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from ratings.models import UserFeedback
from ratings.queries import rateable_replies
from ratings.services import RatingRefused, feedback_save, rating_save
from tests.ratings.conftest import HTMX

pytestmark = pytest.mark.django_db


def _url(reply) -> str:
    return f"/replies/{reply.pk}/feedback/"


def test_alice_marks_a_reply_down_with_a_reason_and_sees_her_choice(alice_client, alice, replies):
    response = alice_client.post(
        _url(replies[1]), {"thumb": "down", "reason": "It forgot my name."}, **HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "You marked this reply 👎" in html and "It forgot my name." in html
    assert "<html" not in html
    feedback = UserFeedback.objects.get(message=replies[1])
    assert (feedback.user, feedback.thumb, feedback.reason) == (alice, "down", "It forgot my name.")


def test_a_users_thumbs_down_flags_the_reply_first_in_the_rating_queue(
    alice_client, rater_client, replies
):
    alice_client.post(_url(replies[0]), {"thumb": "down", "reason": "Wrong tea."}, **HTMX)

    queue = list(rateable_replies())
    assert queue[0] == replies[0] and queue[0].flagged
    assert not any(reply.flagged for reply in queue[1:])
    html = rater_client.get(reverse("ratings:queue")).content.decode()
    first_card = html[html.index("<article") : html.index("</article>")]
    assert f'id="reply-{replies[0].pk}"' in first_card
    assert "Flagged by a user" in first_card and "Wrong tea." in first_card


def test_changing_her_mind_replaces_the_choice(alice_client, replies):
    alice_client.post(_url(replies[0]), {"thumb": "down", "reason": "Dull."}, **HTMX)
    alice_client.post(_url(replies[0]), {"thumb": "up"}, **HTMX)

    [feedback] = UserFeedback.objects.filter(message=replies[0])
    assert (feedback.thumb, feedback.reason) == ("up", "")
    assert not rateable_replies().get(pk=replies[0].pk).flagged


def test_the_chat_page_shows_the_users_own_choice(alice_client, alice_chat, replies):
    alice_client.post(_url(replies[2]), {"thumb": "up"}, **HTMX)

    html = alice_client.get(f"/chat/{alice_chat.pk}/").content.decode()

    assert html.count("You marked this reply 👍") == 1
    assert html.count(f'hx-post="{_url(replies[0])}"') == 1  # the controls of an unmarked reply


def test_bob_cannot_mark_alices_reply(bob_client, bob, replies):
    response = bob_client.post(_url(replies[0]), {"thumb": "down"}, **HTMX)
    assert response.status_code == 404
    with pytest.raises(RatingRefused):
        feedback_save(message=replies[0], user=bob, thumb="down")
    assert not UserFeedback.objects.exists()


def test_a_rater_cannot_mark_a_reply_of_someone_elses_chat_either(rater_client, replies):
    assert rater_client.post(_url(replies[0]), {"thumb": "up"}, **HTMX).status_code == 404


def test_only_replies_can_be_marked(alice_client, replies):
    question = replies[0].query
    assert alice_client.post(_url(question), {"thumb": "up"}, **HTMX).status_code == 404
    assert alice_client.post("/replies/999999/feedback/", {"thumb": "up"}).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in_and_mark_nothing(client, replies):
    response = client.post(_url(replies[0]), {"thumb": "down"}, **HTMX)

    assert response.status_code == 302 and response.url.startswith(settings.LOGIN_URL)
    assert not UserFeedback.objects.exists()


def test_feedback_answers_only_post(alice_client, replies):
    assert alice_client.get(_url(replies[0])).status_code == 405


def test_an_unknown_choice_is_refused(alice_client, replies):
    response = alice_client.post(_url(replies[0]), {"thumb": "meh"}, **HTMX)
    assert response.status_code == 400
    assert not UserFeedback.objects.exists()


def test_without_htmx_the_choice_is_saved_and_the_chat_shown_again(
    alice_client, alice_chat, replies
):
    response = alice_client.post(_url(replies[0]), {"thumb": "up"})
    assert response.status_code == 302 and response.url == f"/chat/{alice_chat.pk}/"
    assert UserFeedback.objects.get(message=replies[0]).thumb == "up"


def test_feedback_needs_the_csrf_token(alice, replies):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(_url(replies[0]), {"thumb": "up"}, **HTMX).status_code == 403


def test_the_chat_page_never_shows_staff_ratings(alice_client, alice_chat, replies, rater):
    rating_save(
        message=replies[0],
        rater=rater,
        verdict="bad",
        reasons=["memory-error"],
        comment="Staff-only remark",
        ideal_reply="A staff-written ideal reply",
    )

    html = alice_client.get(f"/chat/{alice_chat.pk}/").content.decode()

    assert "Staff-only remark" not in html and "A staff-written ideal reply" not in html
    assert "Memory error" not in html and "You marked this reply" not in html
