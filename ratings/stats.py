"""The numbers behind the ratings dashboard, computed over the replies the filters select.

Good-rates use the consensus of each reply (the majority of its staff ratings, ties going to the
latest rating): the value Xingchen receives, so one reply counts once however many rated it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations

from django.db.models import Count, QuerySet
from django.utils import timezone

from conversations.models import Message
from ratings.defaults import reason_label
from ratings.models import Rating, Thumb, UserFeedback, Verdict

# Fewer shared replies than this and a kappa says more about chance than about the raters.
MIN_KAPPA_OVERLAP = 5
# Periods longer than this are charted per ISO week instead of per day.
DAILY_TREND_MAX_DAYS = 62
TOP_REASONS = 8


@dataclass(frozen=True)
class Vote:
    message_id: int
    rater_id: int
    verdict: str
    updated_at: dt.datetime
    rating_id: int


def consensus_of(votes: Iterable[Vote]) -> str | None:
    """The majority verdict of one reply's votes; a tie goes to the latest vote."""
    votes = list(votes)
    if not votes:
        return None
    tally = Counter(vote.verdict for vote in votes)
    if tally[Verdict.GOOD] != tally[Verdict.BAD]:
        return Verdict.GOOD if tally[Verdict.GOOD] > tally[Verdict.BAD] else Verdict.BAD
    return max(votes, key=lambda vote: (vote.updated_at, vote.rating_id)).verdict


@dataclass
class CharacterRow:
    character_id: int
    name: str
    replies: int = 0
    rated: int = 0
    good: int = 0
    ratings: int = 0
    with_feedback: int = 0
    thumbs_down: int = 0

    @property
    def bad(self) -> int:
        return self.rated - self.good

    @property
    def good_rate(self) -> float | None:
        return self.good / self.rated if self.rated else None

    @property
    def thumbs_down_rate(self) -> float | None:
        return self.thumbs_down / self.with_feedback if self.with_feedback else None


@dataclass(frozen=True)
class TrendPoint:
    start: dt.date
    rated: int
    good: int

    @property
    def good_rate(self) -> float | None:
        return self.good / self.rated if self.rated else None


@dataclass(frozen=True)
class ReasonRow:
    slug: str
    label: str
    count: int
    share: float  # of all staff ratings in the selection


@dataclass(frozen=True)
class Agreement:
    rater_a: str
    rater_b: str
    shared: int
    observed: float
    kappa: float | None  # None: too little overlap, or both raters gave one verdict only

    @property
    def enough_overlap(self) -> bool:
        return self.shared >= MIN_KAPPA_OVERLAP


@dataclass
class Dashboard:
    characters: list[CharacterRow] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)
    trend_unit: str = "day"
    reasons: list[ReasonRow] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)
    total_ratings: int = 0


def dashboard_stats(
    *, replies: QuerySet[Message], since: dt.date | None = None, until: dt.date | None = None
) -> Dashboard:
    """Everything the dashboard shows for `replies` (already filtered); a handful of queries."""
    ids = Message.objects.filter(pk__in=replies.order_by().values("pk")).values("pk")
    votes, vote_meta = _votes(ids)
    consensus = {
        message_id: consensus_of(group) for message_id, group in _by_message(votes).items()
    }
    result = Dashboard(total_ratings=len(votes))
    result.characters = _character_rows(ids, votes, vote_meta, consensus)
    result.trend_unit, result.trend = _trend(consensus, vote_meta, since, until)
    result.reasons = _top_reasons(ids, len(votes))
    result.agreements = _agreements(votes, vote_meta)
    return result


def _votes(ids: QuerySet) -> tuple[list[Vote], dict]:
    rows = Rating.objects.filter(message__in=ids).values_list(
        "message_id",
        "rater_id",
        "verdict",
        "updated_at",
        "pk",
        "rater__username",
        "message__session__character_id",
        "message__created_at",
    )
    votes, meta = [], {"rater": {}, "character": {}, "created": {}}
    for message_id, rater_id, verdict, updated_at, pk, username, character_id, created in rows:
        votes.append(Vote(message_id, rater_id, verdict, updated_at, pk))
        meta["rater"][rater_id] = username
        meta["character"][message_id] = character_id
        meta["created"][message_id] = created
    return votes, meta


def _by_message(votes: list[Vote]) -> dict[int, list[Vote]]:
    grouped: dict[int, list[Vote]] = defaultdict(list)
    for vote in votes:
        grouped[vote.message_id].append(vote)
    return grouped


def _character_rows(
    ids: QuerySet, votes: list[Vote], meta: dict, consensus: dict[int, str | None]
) -> list[CharacterRow]:
    counts = (
        Message.objects.filter(pk__in=ids)
        .values("session__character_id", "session__character__name")
        .annotate(n=Count("pk"))
        .values_list("session__character_id", "session__character__name", "n")
    )
    rows = {pk: CharacterRow(pk, name, replies=n) for pk, name, n in counts}
    for message_id, verdict in consensus.items():
        row = rows[meta["character"][message_id]]
        row.rated += 1
        row.good += verdict == Verdict.GOOD
    for vote in votes:
        rows[meta["character"][vote.message_id]].ratings += 1
    _add_feedback(ids, rows)
    return sorted(rows.values(), key=lambda row: row.name.lower())


def _add_feedback(ids: QuerySet, rows: dict[int, CharacterRow]) -> None:
    """Per reply with any user feedback: is any of it 👎 (only the owner can give feedback)."""
    down_by_reply: dict[int, bool] = {}
    character_of: dict[int, int] = {}
    feedback = UserFeedback.objects.filter(message__in=ids).values_list(
        "message_id", "thumb", "message__session__character_id"
    )
    for message_id, thumb, character_id in feedback:
        down_by_reply[message_id] = down_by_reply.get(message_id, False) or thumb == Thumb.DOWN
        character_of[message_id] = character_id
    for message_id, down in down_by_reply.items():
        row = rows[character_of[message_id]]
        row.with_feedback += 1
        row.thumbs_down += down


def _trend(
    consensus: dict[int, str | None],
    meta: dict,
    since: dt.date | None,
    until: dt.date | None,
) -> tuple[str, list[TrendPoint]]:
    """Good-rate per day (per ISO week over long periods), by the day the reply was written."""
    days = {mid: timezone.localdate(meta["created"][mid]) for mid in consensus}
    if not days:
        return "day", []
    first, last = since or min(days.values()), until or max(days.values())
    weekly = (last - first).days + 1 > DAILY_TREND_MAX_DAYS
    unit = "week" if weekly else "day"

    def bucket(day: dt.date) -> dt.date:
        return day - dt.timedelta(days=day.weekday()) if weekly else day

    rated: Counter[dt.date] = Counter()
    good: Counter[dt.date] = Counter()
    for mid, verdict in consensus.items():
        rated[bucket(days[mid])] += 1
        good[bucket(days[mid])] += verdict == Verdict.GOOD
    step = dt.timedelta(days=7 if weekly else 1)
    points, start = [], bucket(first)
    while start <= last:
        points.append(TrendPoint(start, rated[start], good[start]))
        start += step
    return unit, points


def _top_reasons(ids: QuerySet, total_ratings: int) -> list[ReasonRow]:
    through = Rating.reasons.through
    counts = (
        through.objects.filter(rating__message__in=ids)
        .values("reasontag__slug", "reasontag__label")
        .annotate(n=Count("pk"))
        .order_by("-n", "reasontag__position", "reasontag__label")[:TOP_REASONS]
    )
    return [
        ReasonRow(
            row["reasontag__slug"],
            reason_label(row["reasontag__slug"], row["reasontag__label"]),
            row["n"],
            row["n"] / total_ratings,
        )
        for row in counts
    ]


def cohen_kappa(pairs: list[tuple[str, str]]) -> tuple[float, float | None]:
    """Observed agreement and Cohen's kappa of two raters' verdicts on the same replies.

    Kappa is None when chance agreement is total (both raters only ever gave one same verdict).
    """
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    left, right = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(left[v] * right[v] for v in Verdict.values) / (n * n)
    if expected == 1:
        return observed, None
    return observed, (observed - expected) / (1 - expected)


def _agreements(votes: list[Vote], meta: dict) -> list[Agreement]:
    """Every pair of raters who rated at least one same reply, most shared replies first."""
    by_rater: dict[int, dict[int, str]] = defaultdict(dict)
    for vote in votes:
        by_rater[vote.rater_id][vote.message_id] = vote.verdict
    names = meta["rater"]
    result = []
    for a, b in combinations(sorted(by_rater, key=lambda r: names[r]), 2):
        shared = by_rater[a].keys() & by_rater[b].keys()
        if not shared:
            continue
        pairs = [(by_rater[a][m], by_rater[b][m]) for m in shared]
        observed, kappa = cohen_kappa(pairs)
        if len(shared) < MIN_KAPPA_OVERLAP:
            kappa = None
        result.append(Agreement(names[a], names[b], len(shared), observed, kappa))
    return sorted(result, key=lambda agreement: -agreement.shared)
