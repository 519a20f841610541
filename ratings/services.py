"""Ratings business logic: staff ratings with their history, the consensus pushed to Xingchen
through an outbox, and chat users' own 👍/👎.

A rating is saved together with its outbox entry in one transaction; the push runs later in a
Celery task. Xingchen keeps one value per message, so the outbox holds the staff consensus
(5 good, 0 bad) and sends it again whenever the consensus changes.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from conversations.models import Message
from platforms.xingchen.errors import XingchenError
from project import holders
from project.upstream import call_sync
from ratings import tasks
from ratings.models import (
    Rating,
    RatingPush,
    RatingRevision,
    ReasonTag,
    Thumb,
    UserFeedback,
    Verdict,
)
from ratings.stats import Vote, consensus_of

logger = logging.getLogger(__name__)

# Xingchen's two rating values (anything else is refused with a 400).
VALUE_OF_VERDICT = {Verdict.GOOD: 5, Verdict.BAD: 0}
MAX_AUTO_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 600.0
FAILED_RETRY_INTERVAL = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=2)
PUSH_TIMEOUT_SECONDS = 60.0
_OPEN_STATES = (RatingPush.State.PENDING, RatingPush.State.FAILED)


class RatingRefused(Exception):
    """A rating or feedback that cannot be saved; `message` says why, for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PushOutcome:
    """What one push attempt did. `retry_in` is set when the task should try again later."""

    state: Literal["sent", "retry", "failed", "not_sent", "skipped"]
    message: str
    retry_in: float | None = None


# --- staff ratings -----------------------------------------------------------------------------


def is_rateable(message: Message) -> bool:
    """A finished assistant reply with text: what staff rate and users mark."""
    return message.is_reply() and message.is_final() and bool(message.content)


def rating_save(
    *,
    message: Message,
    rater: AbstractBaseUser,
    verdict: str,
    reasons: Iterable[str],
    comment: str = "",
    ideal_reply: str = "",
) -> Rating:
    """Creates or edits `rater`'s one rating of `message`, keeping the previous state as a
    revision, and queues the new consensus for Xingchen (or marks it not sent when the reply
    has no Xingchen message id).

    Raises RatingRefused for a message that is not a finished reply, an unknown verdict or
    unknown reason slugs; nothing is saved then.
    """
    if not is_rateable(message):
        raise RatingRefused(gettext("Only finished replies of a character can be rated."))
    if verdict not in Verdict.values:
        raise RatingRefused(
            gettext("Unknown verdict %(verdict)r: choose good or bad.") % {"verdict": verdict}
        )
    tags = _reason_tags(reasons)
    comment, ideal_reply = comment.strip(), ideal_reply.strip()
    with transaction.atomic():
        # One writer per message at a time: the consensus below must see every rating.
        Message.objects.select_for_update().filter(pk=message.pk).first()
        rating = Rating.objects.filter(message=message, rater_id=rater.pk).first()
        now = timezone.now()
        if rating is None:
            rating = Rating.objects.create(
                message=message,
                rater=rater,
                verdict=verdict,
                comment=comment,
                ideal_reply=ideal_reply,
                created_at=now,
                updated_at=now,
            )
        elif _differs(rating, verdict, tags, comment, ideal_reply):
            _revision_keep(rating, changed_by=rater, at=now)
            rating.verdict, rating.comment, rating.ideal_reply = verdict, comment, ideal_reply
            rating.updated_at = now
            rating.save(update_fields=["verdict", "comment", "ideal_reply", "updated_at"])
        else:
            return rating
        rating.reasons.set(tags)
        _push_record(message)
    return rating


def _reason_tags(slugs: Iterable[str]) -> list[ReasonTag]:
    wanted = {slug for slug in slugs if slug}
    tags = list(ReasonTag.objects.filter(slug__in=wanted))
    unknown = wanted - {tag.slug for tag in tags}
    if unknown:
        raise RatingRefused(
            gettext("Unknown reasons: %(reasons)s.") % {"reasons": ", ".join(sorted(unknown))}
        )
    return tags


def _slugs(rating: Rating) -> list[str]:
    return sorted(rating.reasons.values_list("slug", flat=True))


def _differs(
    rating: Rating, verdict: str, tags: list[ReasonTag], comment: str, ideal_reply: str
) -> bool:
    before = (rating.verdict, _slugs(rating), rating.comment, rating.ideal_reply)
    return before != (verdict, sorted(tag.slug for tag in tags), comment, ideal_reply)


def _revision_keep(rating: Rating, *, changed_by: AbstractBaseUser, at: object) -> None:
    RatingRevision.objects.create(
        rating=rating,
        verdict=rating.verdict,
        reasons=_slugs(rating),
        comment=rating.comment,
        ideal_reply=rating.ideal_reply,
        changed_by=changed_by,
        changed_at=at,
    )


def consensus(message: Message) -> str | None:
    """ "good" or "bad" as most staff ratings say; a tie goes to the latest rating."""
    ratings = Rating.objects.filter(message=message).values_list(
        "rater_id", "verdict", "updated_at", "pk"
    )
    return consensus_of(
        Vote(message.pk, rater_id, verdict, updated_at, pk)
        for rater_id, verdict, updated_at, pk in ratings
    )


# --- the outbox --------------------------------------------------------------------------------


def _push_record(message: Message) -> RatingPush | None:
    """Points the message's outbox entry at the current consensus; call inside a transaction."""
    verdict = consensus(message)
    if verdict is None:
        return None
    wanted, now = VALUE_OF_VERDICT[Verdict(verdict)], timezone.now()
    push = RatingPush.objects.select_for_update().filter(message=message).first()
    if push is None:
        push = RatingPush(message=message, wanted=wanted)
    changed, push.wanted, queue = push.pk is None or push.wanted != wanted, wanted, False
    if not message.remote_message_id:
        push.state, push.next_attempt_at = RatingPush.State.NOT_SENT, None
        push.last_error = "This reply has no Xingchen message id, so the rating stays local."
    elif push.sent == wanted and not _claimed(push, now):
        push.state, push.next_attempt_at, push.last_error = RatingPush.State.SENT, None, ""
    elif changed or push.state == RatingPush.State.SENT:
        # A new value to send gets its own attempts; an open push of the same value keeps its
        # backoff.
        push.state, push.next_attempt_at, push.attempts = RatingPush.State.PENDING, now, 0
        queue = True
    push.save()
    if queue:
        tasks.rating_push.delay_on_commit(push.pk)
    return push


def _claimed(push: RatingPush, now: object) -> bool:
    return bool(push.claimed_until and push.claimed_until > now)


@dataclass(frozen=True)
class _Claim:
    push_id: int
    remote_message_id: str
    value: int
    attempts: int


def rating_push_run(*, push_id: int) -> PushOutcome:
    """Sends the consensus of one outbox entry to Xingchen (idempotent: a value already sent,
    or a push being sent by another process, is skipped)."""
    claim = _push_claim(push_id)
    if isinstance(claim, PushOutcome):
        return claim
    try:
        accepted = call_sync(
            lambda client: client.message_rate(
                message_id=claim.remote_message_id, rating=claim.value
            ),
            timeout=PUSH_TIMEOUT_SECONDS,
        )
    except TimeoutError as exc:
        return _push_failed(claim, XingchenError(str(exc), kind="timeout"))
    except XingchenError as exc:
        return _push_failed(claim, exc)
    if not accepted:
        return _push_failed(claim, XingchenError("Xingchen did not accept the rating", kind="api"))
    return _push_succeeded(claim)


def _push_claim(push_id: int) -> _Claim | PushOutcome:
    now = timezone.now()
    with transaction.atomic():
        push = (
            RatingPush.objects.select_for_update()
            .select_related("message")
            .filter(pk=push_id)
            .first()
        )
        if push is None or push.state not in _OPEN_STATES:
            return PushOutcome("skipped", "Nothing left to push.")
        if _claimed(push, now):
            return PushOutcome("skipped", "This rating is being sent right now.")
        if not push.message.remote_message_id:
            push.state, push.next_attempt_at = RatingPush.State.NOT_SENT, None
            push.save(update_fields=["state", "next_attempt_at", "updated_at"])
            return PushOutcome("not_sent", "This reply has no Xingchen message id.")
        push.attempts += 1
        push.claimed_until, push.claimed_by = now + CLAIM_LEASE, holders.current()
        push.save(update_fields=["attempts", "claimed_until", "claimed_by", "updated_at"])
    return _Claim(push.pk, push.message.remote_message_id, push.wanted, push.attempts)


def _push_succeeded(claim: _Claim) -> PushOutcome:
    now = timezone.now()
    with transaction.atomic():
        push = RatingPush.objects.select_for_update().get(pk=claim.push_id)
        push.sent, push.sent_at, push.last_error = claim.value, now, ""
        push.claimed_until, push.claimed_by = None, ""
        if push.wanted != claim.value:
            # The consensus changed while this value was on the wire: send the new one too.
            push.state, push.next_attempt_at, push.attempts = RatingPush.State.PENDING, now, 0
            tasks.rating_push.delay_on_commit(push.pk)
        else:
            push.state, push.next_attempt_at = RatingPush.State.SENT, None
        push.save()
    return PushOutcome("sent", "Xingchen holds the rating.")


def _push_failed(claim: _Claim, exc: XingchenError) -> PushOutcome:
    if exc.retryable and claim.attempts < MAX_AUTO_ATTEMPTS:
        delay = _backoff(claim.attempts, exc.retry_after)
        message = f"Xingchen is unavailable ({_describe(exc)}); trying again automatically."
        _push_reschedule(claim, state=RatingPush.State.PENDING, error=message, delay=delay)
        return PushOutcome("retry", message, retry_in=delay)
    if exc.retryable:
        # An outage must not lose the rating: retries go on, slowly.
        message = (
            f"Xingchen stayed unavailable after {claim.attempts} attempts ({_describe(exc)}); "
            "trying again every hour."
        )
        delay = FAILED_RETRY_INTERVAL.total_seconds()
        _push_reschedule(claim, state=RatingPush.State.FAILED, error=message, delay=delay)
        return PushOutcome("failed", message)
    message = f"Xingchen refused the rating: {_describe(exc)}."
    _push_reschedule(claim, state=RatingPush.State.FAILED, error=message, delay=None)
    return PushOutcome("failed", message)


def _push_reschedule(claim: _Claim, *, state: str, error: str, delay: float | None) -> None:
    """Closes this attempt; `delay` None means no automatic retry (a person must act)."""
    now = timezone.now()
    with transaction.atomic():
        push = RatingPush.objects.select_for_update().get(pk=claim.push_id)
        push.claimed_until, push.claimed_by, push.last_error = None, "", error[:500]
        if push.wanted != claim.value and push.state == RatingPush.State.PENDING:
            # A newer value arrived meanwhile: it deserves its own first attempt now.
            push.next_attempt_at = now
            tasks.rating_push.delay_on_commit(push.pk)
        else:
            push.state = state
            push.next_attempt_at = now + timedelta(seconds=delay) if delay is not None else None
        push.save()


def _backoff(attempts: int, retry_after: float | None) -> float:
    step = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    delay = random.uniform(step / 2, step)  # jitter spreads the retries of many pushes apart
    return max(delay, retry_after or 0.0)


def _describe(exc: XingchenError) -> str:
    status = f"HTTP {exc.status}: " if exc.status else ""
    return f"{status}{exc.message}"[:300]


def rating_push_retry(*, push: RatingPush) -> bool:
    """Re-arms a pending or failed push for an immediate attempt (admin "retry now");
    False when there is nothing to send (already sent, or no Xingchen message id)."""
    with transaction.atomic():
        current = RatingPush.objects.select_for_update().filter(pk=push.pk).first()
        if current is None or current.state not in _OPEN_STATES:
            return False
        current.state, current.next_attempt_at = RatingPush.State.PENDING, timezone.now()
        current.save(update_fields=["state", "next_attempt_at", "updated_at"])
        tasks.rating_push.delay_on_commit(current.pk)
    return True


def rating_push_sweep(*, grace: timedelta = timedelta(minutes=2)) -> int:
    """Re-queues open pushes whose attempt is overdue (a lost task, a restarted worker)."""
    rating_push_release_orphans()
    now = timezone.now()
    due = _overdue_pushes(now - grace).exclude(claimed_until__gt=now)
    ids = list(due.values_list("pk", flat=True))
    for push_id in ids:
        tasks.rating_push.delay(push_id)
    return len(ids)


def _overdue_pushes(before: object) -> QuerySet[RatingPush]:
    return RatingPush.objects.filter(state__in=_OPEN_STATES, next_attempt_at__lte=before)


def rating_push_release_orphans() -> int:
    """Frees the claims of processes on this host that are gone, and queues their pushes
    (a live holder, or one on another host, keeps its claim until the lease ends)."""
    now = timezone.now()
    open_pushes = RatingPush.objects.filter(state__in=_OPEN_STATES)
    released = holders.release_dead_claims(open_pushes, next_attempt_at=now, updated_at=now)
    for push_id, holder in released:
        logger.info("Rating push %s was held by %s, which is gone: sending again", push_id, holder)
        tasks.rating_push.delay(push_id)
    return len(released)


# --- users' own feedback -----------------------------------------------------------------------


def reply_for_feedback(*, user: AbstractBaseUser, message_id: int) -> Message:
    """The reply `user` may mark: one of their own conversations. Raises RatingRefused."""
    message = (
        Message.objects.select_related("session__character")
        .filter(pk=message_id, session__user_id=user.pk)
        .first()
    )
    if message is None or not is_rateable(message):
        raise RatingRefused(gettext("No such reply in your conversations."))
    return message


def feedback_save(
    *, message: Message, user: AbstractBaseUser, thumb: str, reason: str = ""
) -> UserFeedback:
    """Records the conversation owner's 👍/👎 (with an optional reason) on a reply, replacing
    their earlier choice. Raises RatingRefused for anyone else, or for a message that is not a
    finished reply."""
    if message.session.user_id != user.pk or not is_rateable(message):
        raise RatingRefused(gettext("No such reply in your conversations."))
    if thumb not in Thumb.values:
        raise RatingRefused(gettext("Unknown choice %(thumb)r.") % {"thumb": thumb})
    feedback, _ = UserFeedback.objects.update_or_create(
        message=message,
        user=user,
        defaults={"thumb": thumb, "reason": reason.strip()[:500], "updated_at": timezone.now()},
    )
    return feedback


def feedback_of(message: Message) -> UserFeedback | None:
    """The owner's feedback on `message` (only the owner can give one); uses a prefetch."""
    return next(iter(message.feedback.all()), None) if message.pk else None
