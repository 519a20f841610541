"""The outbox that tells Xingchen the staff consensus of a reply (5 good, 0 bad)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from project.upstream import reset_clients
from ratings import services, tasks
from ratings.models import RatingPush
from ratings.services import rating_save
from tests.conftest import password
from tests.ratings.conftest import logged_in, rating_on_xingchen
from tests.simulator_process import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def save(django_capture_on_commit_callbacks):
    """rating_save, its push queued and (eagerly) run once it commits, as in production."""

    def save_rating(**fields):
        fields.setdefault("reasons", [])
        with django_capture_on_commit_callbacks(execute=True):
            return rating_save(**fields)

    return save_rating


def _push(reply) -> RatingPush:
    return RatingPush.objects.get(message=reply)


def _sent_values(sim, reply) -> list[int]:
    """The values pushed for `reply` (the simulator keeps the requests of the whole run)."""
    requests = sim.requests("aca-message-rating")
    return [
        r["json"]["rating"]
        for r in requests
        if r["json"].get("messageId") == reply.remote_message_id
    ]


def test_a_rating_reaches_xingchen_and_is_readable_in_its_histories(sim, save, replies, rater):
    save(message=replies[0], rater=rater, verdict="good")
    assert rating_on_xingchen(replies[0]) == 5

    save(message=replies[0], rater=rater, verdict="bad", reasons=["too-long"])
    assert rating_on_xingchen(replies[0]) == 0

    push = _push(replies[0])
    assert (push.state, push.wanted, push.sent) == ("sent", 0, 0)
    assert push.sent_at is not None and push.last_error == ""
    assert rating_on_xingchen(replies[1]) is None
    assert _sent_values(sim, replies[0]) == [5, 0]
    assert _sent_values(sim, replies[1]) == []


def test_a_comment_or_reasons_alone_push_nothing_new(sim, save, replies, rater):
    save(message=replies[0], rater=rater, verdict="bad")
    save(message=replies[0], rater=rater, verdict="bad", reasons=["unsafe"], comment="Edgy.")
    assert _sent_values(sim, replies[0]) == [0]


def test_a_push_retries_after_429_and_5xx_then_lands(sim, save, replies, rater):
    sim.inject("aca-message-rating", status=429, count=1)
    sim.inject("aca-message-rating", status=503, count=1)
    save(message=replies[0], rater=rater, verdict="good")

    push = _push(replies[0])
    assert (push.state, push.attempts) == ("pending", 1)
    assert "unavailable" in push.last_error and push.next_attempt_at > timezone.now()
    assert rating_on_xingchen(replies[0]) is None

    tasks.rating_push.delay(push.pk)  # what Celery's delayed retry does
    push.refresh_from_db()
    assert (push.state, push.attempts) == ("pending", 2)
    assert "503" in push.last_error

    tasks.rating_push.delay(push.pk)
    push.refresh_from_db()
    assert (push.state, push.attempts, push.sent, push.last_error) == ("sent", 3, 5, "")
    assert rating_on_xingchen(replies[0]) == 5


def test_a_push_honours_retry_after(sim, replies, rater):
    rating_save(message=replies[0], rater=rater, verdict="good", reasons=[])
    sim.inject("aca-message-rating", status=429, count=1, retry_after=40)

    before = timezone.now()
    outcome = services.rating_push_run(push_id=_push(replies[0]).pk)

    assert outcome.state == "retry" and outcome.retry_in >= 40
    assert _push(replies[0]).next_attempt_at >= before + timedelta(seconds=40)


def test_a_push_retries_when_xingchen_cannot_be_reached(settings, sim, replies, rater):
    rating_save(message=replies[0], rater=rater, verdict="bad", reasons=[])
    push = _push(replies[0])
    settings.XINGCHEN_BASE_URL = f"http://127.0.0.1:{free_port()}"
    reset_clients()

    assert services.rating_push_run(push_id=push.pk).state == "retry"

    settings.XINGCHEN_BASE_URL = sim.base_url
    reset_clients()
    assert services.rating_push_run(push_id=push.pk).state == "sent"
    assert rating_on_xingchen(replies[0]) == 0


def test_a_refused_push_fails_with_xingchens_error_and_is_not_retried(sim, save, replies, rater):
    sim.inject("aca-message-rating", status=400, count=1)
    save(message=replies[0], rater=rater, verdict="good")

    push = _push(replies[0])
    assert (push.state, push.next_attempt_at) == ("failed", None)
    assert "refused" in push.last_error and "400" in push.last_error
    assert services.rating_push_sweep(grace=timedelta(0)) == 0
    assert rating_on_xingchen(replies[0]) is None


def test_retries_go_on_hourly_once_the_automatic_attempts_are_used_up(
    sim, monkeypatch, replies, rater
):
    monkeypatch.setattr(services, "MAX_AUTO_ATTEMPTS", 2)
    rating_save(message=replies[0], rater=rater, verdict="good", reasons=[])
    push = _push(replies[0])
    sim.inject("aca-message-rating", status=500, count=2)

    outcomes = [services.rating_push_run(push_id=push.pk).state for _ in range(2)]

    push.refresh_from_db()
    assert outcomes == ["retry", "failed"]
    assert push.state == "failed" and "every hour" in push.last_error
    assert push.next_attempt_at > timezone.now() + timedelta(minutes=59)


def test_a_changed_consensus_is_pushed_again(sim, save, replies, make_rater):
    rita, rob, ray = make_rater("rita"), make_rater("rob"), make_rater("ray")
    reply = replies[0]

    save(message=reply, rater=rita, verdict="good")
    assert rating_on_xingchen(reply) == 5
    save(message=reply, rater=rob, verdict="bad")  # a tie: the latest wins
    assert rating_on_xingchen(reply) == 0
    save(message=reply, rater=ray, verdict="good")  # two against one
    assert rating_on_xingchen(reply) == 5

    assert _sent_values(sim, reply) == [5, 0, 5]
    push = _push(reply)
    assert (push.state, push.wanted, push.sent) == ("sent", 5, 5)


def test_a_rating_that_keeps_the_consensus_sends_nothing_again(sim, save, replies, make_rater):
    save(message=replies[0], rater=make_rater("rita"), verdict="good")
    save(message=replies[0], rater=make_rater("rob"), verdict="good")
    assert _sent_values(sim, replies[0]) == [5]


def test_a_consensus_changed_while_a_push_is_failing_sends_the_new_value(
    sim, save, replies, make_rater
):
    sim.inject("aca-message-rating", status=503, count=1)
    save(message=replies[0], rater=make_rater("rita"), verdict="good")
    assert _push(replies[0]).state == "pending"

    save(message=replies[0], rater=make_rater("rob"), verdict="bad")

    assert rating_on_xingchen(replies[0]) == 0
    assert _sent_values(sim, replies[0]) == [5, 0]  # the first one failed
    assert _push(replies[0]).state == "sent"


def test_a_reply_without_a_xingchen_id_is_rated_locally_and_marked_not_sent(
    sim, save, local_reply, rater
):
    pushed_before = len(sim.requests("aca-message-rating"))
    rating = save(message=local_reply, rater=rater, verdict="bad", reasons=["too-short"])

    assert rating.pk is not None
    push = _push(local_reply)
    assert (push.state, push.wanted, push.sent) == ("not_sent", 0, None)
    assert push.get_state_display() == "Not sent (no Xingchen message id)"
    assert len(sim.requests("aca-message-rating")) == pushed_before
    assert services.rating_push_retry(push=push) is False


def test_the_sweep_requeues_overdue_pushes_only(sim, replies, make_rater):
    rating_save(message=replies[0], rater=make_rater("rita"), verdict="good", reasons=[])
    rating_save(message=replies[1], rater=make_rater("rob"), verdict="bad", reasons=[])
    # The first one's task was lost long ago; the second was just queued.
    RatingPush.objects.filter(message=replies[0]).update(
        next_attempt_at=timezone.now() - timedelta(minutes=10)
    )

    assert services.rating_push_sweep() == 1

    assert rating_on_xingchen(replies[0]) == 5
    assert (_push(replies[0]).state, _push(replies[1]).state) == ("sent", "pending")


def test_a_push_claimed_by_a_live_sender_is_not_sent_twice(sim, replies, rater):
    rating_save(message=replies[0], rater=rater, verdict="good", reasons=[])
    push = _push(replies[0])
    RatingPush.objects.filter(pk=push.pk).update(
        claimed_by="elsewhere|1|1", claimed_until=timezone.now() + timedelta(minutes=1)
    )

    assert services.rating_push_run(push_id=push.pk).state == "skipped"
    assert services.rating_push_sweep(grace=timedelta(0)) == 0
    assert _sent_values(sim, replies[0]) == []


# --- admin -------------------------------------------------------------------------------------


def test_the_admin_lists_pushes_with_their_state_and_error(sim, save, replies, admin_user, rater):
    sim.inject("aca-message-rating", status=400, count=1)
    save(message=replies[0], rater=rater, verdict="good")

    html = logged_in(admin_user).get("/admin/ratings/ratingpush/").content.decode()

    assert "Failed" in html and "Xingchen refused the rating" in html


def test_retry_now_in_the_admin_sends_a_failed_push(
    sim, save, replies, rater, django_capture_on_commit_callbacks
):
    sim.inject("aca-message-rating", status=400, count=1)
    save(message=replies[0], rater=rater, verdict="good")
    push = _push(replies[0])
    assert push.state == "failed"

    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(rater).post(
            "/admin/ratings/ratingpush/",
            {"action": "retry", "_selected_action": [push.pk]},
            follow=True,
        )

    assert "Sending 1 rating(s) again" in response.content.decode()
    assert rating_on_xingchen(replies[0]) == 5
    assert _push(replies[0]).state == "sent"


def test_staff_without_the_permission_cannot_open_the_outbox_or_ratings(
    staff_without_permission, replies
):
    client = logged_in(staff_without_permission)
    assert client.get("/admin/ratings/ratingpush/").status_code == 403
    assert client.get("/admin/ratings/rating/").status_code == 403


def test_a_rating_in_the_admin_is_read_only_and_shows_its_revisions(save, replies, admin_user):
    rating = save(message=replies[0], rater=admin_user, verdict="bad", comment="First take")
    save(message=replies[0], rater=admin_user, verdict="good", comment="Second take")
    client = logged_in(admin_user)

    html = client.get(f"/admin/ratings/rating/{rating.pk}/change/").content.decode()

    assert "First take" in html and "Second take" in html
    assert 'name="_save"' not in html
    assert client.get("/admin/ratings/rating/add/").status_code == 403


def test_staff_can_add_a_reason_tag_in_the_admin(django_user_model, replies, rater):
    from django.contrib.auth.models import Permission

    editor = django_user_model.objects.create_user("ed", password=password(), is_staff=True)
    editor.user_permissions.add(
        Permission.objects.get(codename="add_reasontag"),
        Permission.objects.get(codename="view_reasontag"),
    )
    response = logged_in(editor).post(
        "/admin/ratings/reasontag/add/",
        {"slug": "breaks-format", "label": "Breaks the format", "position": 9, "is_active": "on"},
    )
    assert response.status_code == 302
    rating = rating_save(message=replies[0], rater=rater, verdict="bad", reasons=["breaks-format"])
    assert list(rating.reasons.values_list("label", flat=True)) == ["Breaks the format"]


# --- a real worker -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_retries_a_failed_push_by_itself_until_it_lands(
    sim, celery_worker, replies, rater
):
    if celery_worker is None:
        pytest.skip("a real Celery worker needs REDIS_URL")
    sim.inject("aca-message-rating", status=503, count=1)

    rating_save(message=replies[0], rater=rater, verdict="good", reasons=[])

    deadline = time.monotonic() + 60
    while _push(replies[0]).state != "sent" and time.monotonic() < deadline:
        time.sleep(0.2)
    push = _push(replies[0])
    assert (push.state, push.attempts, push.sent) == ("sent", 2, 5)
    assert rating_on_xingchen(replies[0]) == 5
