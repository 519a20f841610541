"""Staff ratings: one per rater and reply, editable with their history kept, and the consensus."""

from __future__ import annotations

import pytest

from conversations.models import Message
from ratings import services
from ratings.models import Rating, RatingRevision
from ratings.services import RatingRefused, consensus, rating_save

pytestmark = pytest.mark.django_db


def test_a_rater_rates_a_reply_with_reasons_a_comment_and_an_ideal_reply(replies, rater):
    rating = rating_save(
        message=replies[0],
        rater=rater,
        verdict="bad",
        reasons=["too-long", "out-of-character"],
        comment="  Rambles.  ",
        ideal_reply="Yes, green tea.",
    )

    rating.refresh_from_db()
    assert (rating.verdict, rating.comment, rating.ideal_reply) == (
        "bad",
        "Rambles.",
        "Yes, green tea.",
    )
    assert sorted(rating.reasons.values_list("slug", flat=True)) == [
        "out-of-character",
        "too-long",
    ]
    assert not rating.revisions.exists()


def test_rating_again_edits_the_one_rating_and_keeps_what_it_said_before(replies, rater):
    first = rating_save(message=replies[0], rater=rater, verdict="bad", reasons=["repetitive"])
    second = rating_save(
        message=replies[0], rater=rater, verdict="good", reasons=[], comment="On reflection, fine."
    )

    assert second.pk == first.pk
    assert Rating.objects.filter(message=replies[0]).count() == 1
    [revision] = RatingRevision.objects.filter(rating=first)
    assert (revision.verdict, revision.reasons, revision.comment) == ("bad", ["repetitive"], "")
    assert revision.changed_by == rater
    second.refresh_from_db()
    assert (second.verdict, second.comment) == ("good", "On reflection, fine.")
    assert not second.reasons.exists()


def test_every_edit_adds_a_revision_newest_first(replies, rater):
    for verdict in ("good", "bad", "good"):
        rating = rating_save(message=replies[0], rater=rater, verdict=verdict, reasons=[])
    assert list(rating.revisions.values_list("verdict", flat=True)) == ["bad", "good"]


def test_saving_the_same_rating_again_adds_no_revision(replies, rater):
    for _ in range(2):
        rating = rating_save(message=replies[0], rater=rater, verdict="good", reasons=["too-short"])
    assert not rating.revisions.exists()


def test_unknown_reasons_are_refused_and_nothing_is_saved(replies, rater):
    with pytest.raises(RatingRefused, match="no-such-reason"):
        rating_save(message=replies[0], rater=rater, verdict="bad", reasons=["no-such-reason"])
    assert not Rating.objects.exists()


def test_only_finished_replies_can_be_rated(alice_chat, replies, rater):
    question = replies[0].query
    with pytest.raises(RatingRefused):
        rating_save(message=question, rater=rater, verdict="good", reasons=[])
    Message.objects.filter(pk=replies[1].pk).update(state=Message.State.STREAMING)
    replies[1].refresh_from_db()
    with pytest.raises(RatingRefused):
        rating_save(message=replies[1], rater=rater, verdict="good", reasons=[])
    with pytest.raises(RatingRefused, match="verdict"):
        rating_save(message=replies[2], rater=rater, verdict="meh", reasons=[])
    assert not Rating.objects.exists()


def test_the_consensus_is_the_majority_and_a_tie_goes_to_the_latest_rating(replies, make_rater):
    reply = replies[0]
    assert consensus(reply) is None
    rita, rob, ray = make_rater("rita"), make_rater("rob"), make_rater("ray")

    rating_save(message=reply, rater=rita, verdict="good", reasons=[])
    assert consensus(reply) == "good"
    rating_save(message=reply, rater=rob, verdict="bad", reasons=[])
    assert consensus(reply) == "bad"  # one each: the latest wins
    rating_save(message=reply, rater=rita, verdict="good", reasons=[], comment="Still good.")
    assert consensus(reply) == "good"  # rita's edit is now the latest
    rating_save(message=reply, rater=ray, verdict="bad", reasons=[])
    assert consensus(reply) == "bad"  # two against one


def test_the_consensus_counts_only_that_replys_ratings(replies, rater):
    rating_save(message=replies[0], rater=rater, verdict="bad", reasons=[])
    assert services.consensus(replies[1]) is None
