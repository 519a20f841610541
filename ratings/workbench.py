"""What the rating queue shows of each reply: the turns before it, users' flags, the ratings of
other raters and the current rater's own, read in a fixed number of queries per page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django import forms
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from conversations.models import Message
from ratings.models import Rating, ReasonTag, Thumb, UserFeedback, Verdict

TURNS_BEFORE = 4  # enough to judge a reply in context, few enough to read at a glance
REASON_KEYS = 8  # the first eight active reasons get the keys 1–8


@dataclass(frozen=True)
class Draft:
    """The values the rating form of a reply shows."""

    verdict: str = ""
    reasons: frozenset[str] = frozenset()
    comment: str = ""
    ideal_reply: str = ""


@dataclass
class ReplyCard:
    reply: Message
    turns: list[Message]
    flags: list[UserFeedback]
    others: list[Rating]
    mine: Rating | None
    draft: Draft = field(default_factory=Draft)
    errors: list[str] = field(default_factory=list)
    saved: bool = False


class _SlugsField(forms.MultipleChoiceField):
    """Reason slugs as sent: rating_save refuses unknown ones with a message for the rater."""

    def valid_value(self, value: Any) -> bool:
        return True


class RatingForm(forms.Form):
    verdict = forms.ChoiceField(
        choices=Verdict.choices, error_messages={"required": _("Choose good (g) or bad (b).")}
    )
    reasons = _SlugsField(required=False)
    comment = forms.CharField(required=False, max_length=2000)
    ideal_reply = forms.CharField(required=False, max_length=8000)

    def draft(self) -> Draft:
        """What the rater sent, to show again beside the errors."""
        return Draft(
            verdict=self.data.get("verdict", ""),
            reasons=frozenset(self.data.getlist("reasons")),
            comment=self.data.get("comment", ""),
            ideal_reply=self.data.get("ideal_reply", ""),
        )


def queue_replies(replies: QuerySet[Message]) -> QuerySet[Message]:
    """`replies` with what the cards need fetched alongside (apply before paginating)."""
    before = (
        _turns()
        .filter(session=OuterRef("session"), pk__lt=OuterRef("pk"))
        .order_by("-pk")
        .values("pk")[TURNS_BEFORE - 1 : TURNS_BEFORE]
    )
    ratings = Rating.objects.select_related("rater").prefetch_related("reasons")
    flags = UserFeedback.objects.filter(thumb=Thumb.DOWN).select_related("user")
    return replies.annotate(turns_from=Subquery(before)).prefetch_related(
        Prefetch("ratings", queryset=ratings.order_by("-updated_at"), to_attr="all_ratings"),
        Prefetch("feedback", queryset=flags.order_by("created_at"), to_attr="flags"),
    )


def reply_cards(replies: Sequence[Message], *, rater: Any) -> list[ReplyCard]:
    turns = _turns_of(replies)
    return [_card(reply, turns.get(reply.pk, []), rater) for reply in replies]


def reply_card(message_id: int, *, rater: Any) -> ReplyCard | None:
    """The card of one message (any role: saving decides whether it can be rated)."""
    queryset = Message.objects.filter(pk=message_id).select_related("session__character")
    reply = queue_replies(queryset).first()
    return reply_cards([reply], rater=rater)[0] if reply else None


def keyed_reasons() -> list[tuple[str, ReasonTag]]:
    """Active reasons in order, the first eight paired with their key."""
    tags = ReasonTag.objects.filter(is_active=True).order_by("position", "label")
    return [(str(n) if n <= REASON_KEYS else "", tag) for n, tag in enumerate(tags, start=1)]


def _card(reply: Message, turns: list[Message], rater: Any) -> ReplyCard:
    ratings = getattr(reply, "all_ratings", [])
    mine = next((rating for rating in ratings if rating.rater_id == rater.pk), None)
    others = [rating for rating in ratings if rating.rater_id != rater.pk]
    draft = Draft()
    if mine is not None:
        reasons = frozenset(tag.slug for tag in mine.reasons.all())
        draft = Draft(mine.verdict, reasons, mine.comment, mine.ideal_reply)
    return ReplyCard(reply, turns, getattr(reply, "flags", []), others, mine, draft)


def _turns() -> QuerySet[Message]:
    # The conversation as its user saw it: no system rows, no replies they regenerated away.
    return Message.objects.filter(is_chosen=True).exclude(role=Message.Role.SYSTEM)


def _turns_of(replies: Sequence[Message]) -> dict[int, list[Message]]:
    """The few messages before each reply, in one query for the whole page."""
    if not replies:
        return {}
    spans = [
        Q(session_id=reply.session_id, pk__gte=reply.turns_from or 0, pk__lt=reply.pk)
        for reply in replies
    ]
    rows = list(_turns().filter(reduce(or_, spans)).order_by("pk"))
    found: dict[int, list[Message]] = {}
    for reply in replies:
        low = reply.turns_from or 0
        found[reply.pk] = [
            row
            for row in rows
            if row.session_id == reply.session_id
            and low <= row.pk < reply.pk
            # another answer to the same question is not a turn before this one
            and not (reply.query_id and row.is_reply() and row.query_id == reply.query_id)
        ]
    return found
