"""Staff ratings as a fine-tuning / evaluation set: one row per staff rating, CSV or JSONL.

Rows are produced lazily, a batch of ratings at a time, so a large export streams instead of
being built in memory.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, TypedDict

from django.db.models import Q, QuerySet

from conversations.models import Message
from ratings.models import Rating
from ratings.stats import Vote, consensus_of

FIELDS = [
    "reply_id",
    "conversation_id",
    "character",
    "persona",
    "context",
    "reply",
    "rater",
    "verdict",
    "reasons",
    "comment",
    "ideal_reply",
    "consensus",
    "rated_at",
]
DEFAULT_CONTEXT_MESSAGES = 10
BATCH = 200
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ContextMessage(TypedDict):
    role: str
    content: str


class ExportRow(TypedDict):
    reply_id: int
    conversation_id: int
    character: str
    persona: str
    context: list[ContextMessage]
    reply: str
    rater: str
    verdict: str
    reasons: list[str]
    comment: str
    ideal_reply: str
    consensus: str | None
    rated_at: str


def export_rows(
    *, replies: QuerySet[Message], matching: Q | None = None, context_messages: int
) -> Iterator[ExportRow]:
    """The staff ratings of `replies` (only those `matching` says, when given), oldest reply
    first."""
    ids = Message.objects.filter(pk__in=replies.order_by().values("pk")).values("pk")
    ratings = (
        Rating.objects.filter(matching or Q(), message__in=ids)
        .select_related("rater", "message__session__character")
        .prefetch_related("reasons")
        .order_by("message__created_at", "message_id", "rater__username", "pk")
    )
    iterator = ratings.iterator(chunk_size=BATCH)
    while batch := list(islice(iterator, BATCH)):
        yield from _batch_rows(batch, context_messages)


def _batch_rows(batch: list[Rating], context_messages: int) -> Iterator[ExportRow]:
    consensus = _consensus(rating.message_id for rating in batch)
    contexts: dict[int, list[ContextMessage]] = {}
    for rating in batch:
        reply = rating.message
        if reply.pk not in contexts:
            contexts[reply.pk] = reply_context(reply, context_messages)
        yield ExportRow(
            reply_id=reply.pk,
            conversation_id=reply.session_id,
            character=reply.session.character.name,
            persona=reply.session.character.basic_information,
            context=contexts[reply.pk],
            reply=reply.content,
            rater=rating.rater.get_username(),
            verdict=rating.verdict,
            reasons=sorted(tag.slug for tag in rating.reasons.all()),
            comment=rating.comment,
            ideal_reply=rating.ideal_reply,
            consensus=consensus.get(reply.pk),
            rated_at=rating.updated_at.isoformat(),
        )


def _consensus(message_ids: Iterable[int]) -> dict[int, str | None]:
    """Every rater's vote counts here, even when the export shows one rater's rows."""
    votes: dict[int, list[Vote]] = {}
    rows = Rating.objects.filter(message_id__in=set(message_ids)).values_list(
        "message_id", "rater_id", "verdict", "updated_at", "pk"
    )
    for row in rows:
        votes.setdefault(row[0], []).append(Vote(*row))
    return {message_id: consensus_of(group) for message_id, group in votes.items()}


def reply_context(reply: Message, size: int) -> list[ContextMessage]:
    """The `size` messages shown before the reply in its conversation, oldest first.

    Alternatives of the same question (regenerations) are not part of the conversation the
    reply answered, so they are left out.
    """
    if size <= 0:
        return []
    earlier = Message.objects.filter(session_id=reply.session_id, pk__lt=reply.pk, is_chosen=True)
    earlier = earlier.exclude(content="")
    if reply.query_id:
        earlier = earlier.exclude(query_id=reply.query_id)
    rows = earlier.order_by("-pk").values_list("role", "content")[:size]
    return [ContextMessage(role=role, content=content) for role, content in reversed(rows)]


def jsonl_chunks(rows: Iterable[ExportRow]) -> Iterator[str]:
    for batch in _batched(rows):
        yield "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in batch)


def csv_chunks(rows: Iterable[ExportRow]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    for batch in _batched(rows):
        writer.writerows([_csv_cells(row) for row in batch])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # the header of an empty export
        yield buffer.getvalue()


def _csv_cells(row: ExportRow) -> list[Any]:
    cells = dict(row)
    cells["context"] = json.dumps(row["context"], ensure_ascii=False)
    cells["reasons"] = ",".join(row["reasons"])
    cells["consensus"] = row["consensus"] or ""
    return [csv_safe(cells[name]) for name in FIELDS]


def csv_safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _batched(rows: Iterable[ExportRow]) -> Iterator[list[ExportRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH)):
        yield batch
