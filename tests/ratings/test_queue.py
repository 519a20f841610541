"""The rating queue at /staff/ratings/: what a rater sees of each reply, the filters, and saving
a rating in place with htmx."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from conversations.models import Message
from ratings.models import Rating, RatingRevision, ReasonTag, Thumb, UserFeedback
from ratings.queue_views import PAGE_SIZE
from tests.factories import character_create, chat_session_create, message_create
from tests.ratings.conftest import HTMX

pytestmark = pytest.mark.django_db

QUEUE = reverse("ratings:queue")


def _rate_url(message: Message) -> str:
    return reverse("ratings:rate", args=[message.pk])


def _card(html: str, message: Message) -> str:
    """The markup of one reply's card in a page or list."""
    match = re.search(rf'<article id="reply-{message.pk}".*?</article>', html, re.S)
    assert match, f"no card for reply {message.pk}"
    return match.group(0)


def _rated(message: Message, rater, verdict: str, *slugs: str, comment: str = "") -> Rating:
    rating = Rating.objects.create(message=message, rater=rater, verdict=verdict, comment=comment)
    rating.reasons.set(ReasonTag.objects.filter(slug__in=slugs))
    return rating


def _chat_with_replies(user, count: int, name: str = "Mei") -> list[Message]:
    session = chat_session_create(user=user, character=character_create(name=name))
    found = []
    for n in range(count):
        asked = message_create(session=session, content=f"Question {n}")
        found.append(
            message_create(session=session, role="assistant", query=asked, content=f"Answer {n}")
        )
    return found


def test_a_reply_shows_with_the_turns_before_it_and_its_character(rater_client, replies):
    last = replies[-1]
    response = rater_client.get(QUEUE)

    assert response.status_code == 200
    card = _card(response.content.decode(), last)
    assert "Lin" in card
    assert "You are character" in card  # the persona's excerpt
    assert card.index("What did you do today?") < card.index("Tell me a secret.")
    assert card.index("Tell me a secret.") < card.index("turn-reply")
    # four turns back (first answer, second question and answer, third question), the reply
    turns = re.findall(r'class="turn turn-(\w+)"', card)
    assert turns == ["assistant", "user", "assistant", "user", "reply"]
    assert 'data-rated="false"' in card


def test_a_reply_flagged_by_its_user_comes_first_with_the_users_reason(
    rater_client, replies, alice
):
    oldest = replies[0]
    UserFeedback.objects.create(
        message=oldest, user=alice, thumb=Thumb.DOWN, reason="She forgot my name"
    )
    UserFeedback.objects.create(message=replies[1], user=alice, thumb=Thumb.UP)

    html = rater_client.get(QUEUE).content.decode()

    card = _card(html, oldest)
    assert html.index(card) < html.index(_card(html, replies[-1]))
    assert "Flagged by a user" in card
    assert "She forgot my name" in card
    assert "Flagged by a user" not in _card(html, replies[1])  # a 👍 is no flag


def test_other_raters_ratings_show_beside_the_raters_own_form(
    rater_client, rater, make_rater, replies
):
    reply = replies[0]
    _rated(reply, make_rater("otto"), "bad", "repetitive", comment="Says the same twice")
    _rated(reply, rater, "good", "too-long", comment="Fine but long")

    card = _card(rater_client.get(QUEUE).content.decode(), reply)

    others = card[card.index("other-ratings") : card.index("<form")]
    assert "otto" in others and "Bad" in others and "Repetitive" in others
    assert "Says the same twice" in others
    assert "rita" not in others  # her own rating is her form, not a line among the others
    assert 'value="good" checked' in card
    assert 'value="too-long" data-key="4" checked' in card
    assert "Fine but long</textarea>" in card
    assert 'data-rated="true"' in card


def test_the_reasons_have_keys_one_to_eight_in_their_order(rater_client, replies):
    ReasonTag.objects.create(slug="rude", label="Rude", position=200)

    card = _card(rater_client.get(QUEUE).content.decode(), replies[0])

    keys = re.findall(r'value="([a-z-]+)" data-key="(\d)"', card)
    assert [key for _, key in keys] == [str(n) for n in range(1, 9)]
    assert keys[0][0] == "out-of-character"
    assert 'value="rude">' in card  # the ninth is there, without a key


def test_a_chinese_rater_reads_the_built_in_reasons_in_chinese_and_staffs_own_as_typed(
    rater_client, replies
):
    ReasonTag.objects.create(slug="rude", label="Rude", position=200)
    ReasonTag.objects.filter(slug="too-long").update(label="Far too long")

    card = _card(rater_client.get(QUEUE, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode(), replies[0])

    assert "不符合角色" in card and "Out of character" not in card
    assert "Rude" in card and "Far too long" in card


def test_filters_narrow_the_list_and_htmx_gets_the_list_alone(rater_client, replies, alice):
    other = _chat_with_replies(alice, 2, name="Bo")
    lin = replies[0].session.character

    response = rater_client.get(QUEUE, {"character": lin.pk}, **HTMX)

    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<section id="queue-list"')
    assert all(f'id="reply-{reply.pk}"' in html for reply in replies)
    assert not any(f'id="reply-{reply.pk}"' in html for reply in other)
    assert "4 replies" in html  # the opening line is a reply of Lin too


def test_rated_and_verdict_filters(rater_client, rater, replies):
    _rated(replies[0], rater, "bad", "unsafe")
    _rated(replies[1], rater, "good")

    unrated = rater_client.get(QUEUE, {"rated": "no"}, **HTMX).content.decode()
    bad = rater_client.get(QUEUE, {"verdict": "bad"}, **HTMX).content.decode()

    assert f'id="reply-{replies[2].pk}"' in unrated
    assert f'id="reply-{replies[0].pk}"' not in unrated
    assert f'id="reply-{replies[0].pk}"' in bad
    assert f'id="reply-{replies[1].pk}"' not in bad


def test_flagged_rated_reason_and_rater_filters(rater_client, rater, make_rater, replies, alice):
    flagged, by_otto, by_rita = replies
    UserFeedback.objects.create(message=flagged, user=alice, thumb=Thumb.DOWN)
    otto = make_rater("otto")
    _rated(by_otto, otto, "bad", "unsafe")
    _rated(by_rita, rater, "good")
    unsafe = ReasonTag.objects.get(slug="unsafe")

    def shown(**filters) -> set[int]:
        html = rater_client.get(QUEUE, filters, **HTMX).content.decode()
        return {reply.pk for reply in replies if f'id="reply-{reply.pk}"' in html}

    assert shown(flagged="on") == {flagged.pk}
    assert shown(rated="yes") == {by_otto.pk, by_rita.pk}
    assert shown(reason=unsafe.pk) == {by_otto.pk}
    assert shown(rater=otto.pk) == {by_otto.pk}
    assert shown(rater=rater.pk, verdict="bad") == set()


def test_a_history_restore_gets_the_whole_queue_page(rater_client, replies):
    restore = {**HTMX, "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}

    html = rater_client.get(QUEUE, {"rated": "no"}, **restore).content.decode()

    assert "<html" in html and 'class="queue-filters"' in html
    assert f'id="reply-{replies[0].pk}"' in html


def test_the_list_pages_and_the_pager_keeps_the_filters(rater_client, alice):
    made = _chat_with_replies(alice, PAGE_SIZE + 1)
    character = made[0].session.character

    first = rater_client.get(QUEUE, {"character": character.pk}).content.decode()
    second = rater_client.get(QUEUE, {"character": character.pk, "page": 2}, **HTMX)

    assert first.count("data-reply-card") == PAGE_SIZE
    assert f"?character={character.pk}&amp;page=2" in first
    assert second.content.decode().count("data-reply-card") == 1
    assert f'id="reply-{made[0].pk}"' in second.content.decode()  # the oldest comes last


def test_the_queue_reads_the_same_number_of_queries_for_more_replies(
    rater_client, alice, make_rater, django_assert_num_queries
):
    otto = make_rater("otto")

    def page_with(count: int) -> None:
        for reply in _chat_with_replies(alice, count):
            _rated(reply, otto, "bad", "repetitive", "too-long")
            UserFeedback.objects.create(message=reply, user=alice, thumb=Thumb.DOWN, reason="meh")
        rater_client.get(QUEUE)  # warm the session and permission caches of the client

    page_with(2)
    with django_assert_num_queries(14):
        rater_client.get(QUEUE)
    page_with(8)
    with django_assert_num_queries(14):
        assert rater_client.get(QUEUE).content.decode().count("data-reply-card") == 10


def test_saving_with_htmx_returns_the_saved_card_alone(rater_client, rater, replies):
    reply = replies[1]

    response = rater_client.post(
        _rate_url(reply),
        {"verdict": "bad", "reasons": ["repetitive", "too-long"], "comment": "Loops."},
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<article id="reply-{reply.pk}"')
    assert 'data-saved="true"' in html and 'data-rated="true"' in html
    assert 'value="bad" checked' in html and "Loops.</textarea>" in html
    assert html.count("data-reply-card") == 1
    rating = Rating.objects.get(message=reply, rater=rater)
    assert rating.verdict == "bad" and rating.comment == "Loops."
    assert sorted(rating.reasons.values_list("slug", flat=True)) == ["repetitive", "too-long"]


def test_saving_again_edits_the_one_rating_and_keeps_the_old_one(rater_client, rater, replies):
    reply = replies[0]
    rater_client.post(_rate_url(reply), {"verdict": "bad", "reasons": ["unsafe"]}, **HTMX)
    rater_client.post(
        _rate_url(reply), {"verdict": "good", "ideal_reply": "Yes, I love tea."}, **HTMX
    )

    rating = Rating.objects.get(message=reply)
    assert (rating.rater, rating.verdict, rating.ideal_reply) == (rater, "good", "Yes, I love tea.")
    assert RatingRevision.objects.get(rating=rating).verdict == "bad"


def test_a_save_without_a_verdict_shows_why_and_keeps_what_was_typed(rater_client, replies):
    response = rater_client.post(
        _rate_url(replies[0]), {"reasons": ["too-short"], "comment": "Terse"}, **HTMX
    )

    html = response.content.decode()
    assert "Choose good (g) or bad (b)." in html
    assert 'value="too-short" data-key="5" checked' in html and "Terse</textarea>" in html
    assert 'data-saved="true"' not in html
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    ("target", "data", "why"),
    [
        ("question", {"verdict": "good"}, "Only finished replies of a character can be rated."),
        ("reply", {"verdict": "good", "reasons": ["boring"]}, "Unknown reasons: boring."),
    ],
)
def test_a_refused_rating_shows_the_refusal_in_the_card(rater_client, replies, target, data, why):
    message = replies[0].query if target == "question" else replies[0]

    response = rater_client.post(_rate_url(message), data, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<article id="reply-{message.pk}"')
    assert why in html and 'role="alert"' in html
    assert not Rating.objects.exists()


def test_a_local_reply_is_rated_too(rater_client, rater, local_reply):
    rater_client.post(_rate_url(local_reply), {"verdict": "good"}, **HTMX)

    assert Rating.objects.get(message=local_reply).verdict == "good"
    assert local_reply.rating_push.state == "not_sent"


def test_saving_without_htmx_goes_back_to_the_queue(rater_client, rater, replies):
    response = rater_client.post(_rate_url(replies[0]), {"verdict": "good"}, follow=True)

    assert response.redirect_chain == [(QUEUE, 302)]
    assert "Rating saved." in response.content.decode()
    assert Rating.objects.filter(rater=rater).count() == 1


def test_rating_an_unknown_message_is_not_found(rater_client):
    url = reverse("ratings:rate", args=[999999])
    assert rater_client.post(url, {"verdict": "good"}, **HTMX).status_code == 404


def test_wrong_methods_are_refused(rater_client, replies):
    assert rater_client.post(QUEUE).status_code == 405
    assert rater_client.get(_rate_url(replies[0])).status_code == 405


def test_the_queue_page_keeps_to_the_content_security_policy(rater_client, replies):
    html = rater_client.get(QUEUE).content.decode()

    assert "style=" not in html
    assert not re.search(r"\son[a-z]+=", html) and "hx-on" not in html
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all("src=" in tag for tag in scripts)
    assert "/static/js/ratings.js" in html and "/static/css/ratings.css" in html


def test_streaming_and_empty_replies_are_not_in_the_queue(rater_client, alice, replies):
    session = replies[0].session
    streaming = message_create(session=session, role="assistant", state="streaming", content="Hal")
    empty = message_create(session=session, role="assistant", content="")

    html = rater_client.get(QUEUE).content.decode()

    assert f'id="reply-{streaming.pk}"' not in html
    assert f'id="reply-{empty.pk}"' not in html
