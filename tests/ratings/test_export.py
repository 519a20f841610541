"""The ratings export: one row per staff rating, as CSV or JSONL, with the queue's filters."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient
from django.urls import reverse

from ratings.models import Rating, ReasonTag
from tests.factories import character_create, chat_session_create, message_create
from tests.ratings.conftest import logged_in, new_rater

pytestmark = pytest.mark.django_db

EXPORT = reverse("ratings:export")
MARCH_1 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
MARCH_5 = dt.datetime(2025, 3, 5, 9, 0, tzinfo=dt.UTC)


def rate(reply, rater, verdict, *, reasons=(), comment="", ideal="", at=MARCH_5) -> Rating:
    rating = Rating.objects.create(
        message=reply,
        rater=rater,
        verdict=verdict,
        comment=comment,
        ideal_reply=ideal,
        created_at=at,
        updated_at=at,
    )
    rating.reasons.set(ReasonTag.objects.filter(slug__in=reasons))
    return rating


@pytest.fixture
def ann(django_user_model):
    return new_rater(django_user_model, "ann")


@pytest.fixture
def ben(django_user_model):
    return new_rater(django_user_model, "ben")


@pytest.fixture
def world(alice, ann, ben):
    return build_world(alice, ann, ben)


def build_world(alice, ann, ben) -> dict:
    """Alice's chat with Mei (two turns, the second regenerated) and one with Rin; ratings by
    two raters with reasons, a comment and an ideal reply."""
    mei = character_create(name="Mei", basic_information="You are Mei, a shy tea-house owner.")
    rin = character_create(name="Rin", basic_information="You are Rin, a loud sailor.")
    chat = chat_session_create(user=alice, character=mei)
    q1 = message_create(session=chat, content="Hello Mei", created_at=MARCH_1)
    r1 = message_create(
        session=chat,
        role="assistant",
        query=q1,
        content="Welcome, have some tea.",
        created_at=MARCH_1,
    )
    q2 = message_create(session=chat, content="Any cake?", created_at=MARCH_1)
    dropped = message_create(
        session=chat, role="assistant", query=q2, content="No.", is_chosen=False, created_at=MARCH_1
    )
    r2 = message_create(
        session=chat,
        role="assistant",
        query=q2,
        content="Only biscuits, sorry.",
        alternative_index=1,
        created_at=MARCH_1,
    )
    other = chat_session_create(user=alice, character=rin)
    q3 = message_create(session=other, content="Ahoy", created_at=MARCH_5)
    r3 = message_create(
        session=other, role="assistant", query=q3, content="=HYPERLINK(1)", created_at=MARCH_5
    )
    rate(r1, ann, "good", at=MARCH_5)
    rate(
        r1,
        ben,
        "bad",
        reasons=["too-long", "repetitive"],
        comment="Says tea twice",
        ideal="Welcome!",
        at=MARCH_5 + dt.timedelta(hours=1),
    )
    rate(r2, ann, "bad", reasons=["out-of-character"], comment="-rude", ideal="+Biscuits?")
    rate(r3, ben, "good", at=MARCH_5 + dt.timedelta(hours=2))
    return {"mei": mei, "rin": rin, "chat": chat, "other": other, "q1": q1, "r1": r1,
            "q2": q2, "r2": r2, "dropped": dropped, "q3": q3, "r3": r3}  # fmt: skip


def expected_rows(w) -> list[dict]:
    mei, rin = w["mei"].basic_information, w["rin"].basic_information
    r1_context = [{"role": "user", "content": "Hello Mei"}]
    r2_context = [
        {"role": "user", "content": "Hello Mei"},
        {"role": "assistant", "content": "Welcome, have some tea."},
        {"role": "user", "content": "Any cake?"},
    ]
    base = {"comment": "", "ideal_reply": "", "reasons": []}
    return [
        {**base, "reply_id": w["r1"].pk, "conversation_id": w["chat"].pk, "character": "Mei",
         "persona": mei, "context": r1_context, "reply": "Welcome, have some tea.", "rater": "ann",
         "verdict": "good", "consensus": "bad", "rated_at": "2025-03-05T09:00:00+00:00"},
        {"reply_id": w["r1"].pk, "conversation_id": w["chat"].pk, "character": "Mei",
         "persona": mei, "context": r1_context, "reply": "Welcome, have some tea.", "rater": "ben",
         "verdict": "bad", "reasons": ["repetitive", "too-long"], "comment": "Says tea twice",
         "ideal_reply": "Welcome!", "consensus": "bad", "rated_at": "2025-03-05T10:00:00+00:00"},
        {"reply_id": w["r2"].pk, "conversation_id": w["chat"].pk, "character": "Mei",
         "persona": mei, "context": r2_context, "reply": "Only biscuits, sorry.", "rater": "ann",
         "verdict": "bad", "reasons": ["out-of-character"], "comment": "-rude",
         "ideal_reply": "+Biscuits?", "consensus": "bad", "rated_at": "2025-03-05T09:00:00+00:00"},
        {**base, "reply_id": w["r3"].pk, "conversation_id": w["other"].pk, "character": "Rin",
         "persona": rin, "context": [{"role": "user", "content": "Ahoy"}], "reply": "=HYPERLINK(1)",
         "rater": "ben", "verdict": "good", "consensus": "good",
         "rated_at": "2025-03-05T11:00:00+00:00"},
    ]  # fmt: skip


def jsonl_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in body.splitlines()]


def csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def as_csv(row: dict) -> dict:
    """What the CSV holds for an expected row: text cells, formula starts quoted."""
    cells = {
        **row,
        "context": json.dumps(row["context"], ensure_ascii=False),
        "reasons": ",".join(row["reasons"]),
    }
    cells = {key: str(value) for key, value in cells.items()}
    return {k: "'" + v if v[:1] and v[0] in "=+-@" else v for k, v in cells.items()}


def test_jsonl_export_has_one_row_per_staff_rating_with_context_persona_and_consensus(world, ann):
    response = logged_in(ann).get(EXPORT, {"format": "jsonl"})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("application/jsonl")
    assert response["Content-Disposition"].startswith('attachment; filename="ratings-')
    assert response["Content-Disposition"].endswith('.jsonl"')
    assert jsonl_rows(response) == expected_rows(world)


def test_csv_export_holds_the_same_rows_with_formula_cells_quoted(world, ann):
    response = logged_in(ann).get(EXPORT, {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('.csv"')
    rows = csv_rows(response)
    assert rows == [as_csv(row) for row in expected_rows(world)]
    # The spreadsheet-dangerous cells, spelled out.
    assert rows[2]["comment"] == "'-rude"
    assert rows[2]["ideal_reply"] == "'+Biscuits?"
    assert rows[3]["reply"] == "'=HYPERLINK(1)"
    assert json.loads(rows[1]["context"]) == [{"role": "user", "content": "Hello Mei"}]


def test_export_applies_the_character_and_date_filters(world, ann):
    client = logged_in(ann)

    only_rin = jsonl_rows(client.get(EXPORT, {"format": "jsonl", "character": world["rin"].pk}))
    assert [row["reply_id"] for row in only_rin] == [world["r3"].pk]

    march_1 = {"format": "jsonl", "since": "2025-03-01", "until": "2025-03-01"}
    assert [row["reply_id"] for row in jsonl_rows(client.get(EXPORT, march_1))] == [
        world["r1"].pk,
        world["r1"].pk,
        world["r2"].pk,
    ]
    assert jsonl_rows(client.get(EXPORT, {"format": "jsonl", "since": "2025-03-06"})) == []


def test_export_filtered_by_rater_has_only_that_raters_rows_but_the_full_consensus(world, ann, ben):
    response = logged_in(ann).get(EXPORT, {"format": "jsonl", "rater": ann.pk})

    rows = jsonl_rows(response)
    assert [(row["reply_id"], row["rater"]) for row in rows] == [
        (world["r1"].pk, "ann"),
        (world["r2"].pk, "ann"),
    ]
    assert rows[0]["consensus"] == "bad"  # ben's later rating wins the tie


def test_export_filtered_by_verdict_or_reason_has_only_the_matching_ratings(world, ann):
    client = logged_in(ann)
    too_long = ReasonTag.objects.get(slug="too-long")

    by_reason = jsonl_rows(client.get(EXPORT, {"format": "jsonl", "reason": too_long.pk}))
    assert [(row["reply_id"], row["rater"]) for row in by_reason] == [(world["r1"].pk, "ben")]
    good = jsonl_rows(client.get(EXPORT, {"format": "jsonl", "verdict": "good"}))
    assert [(row["reply_id"], row["rater"], row["verdict"]) for row in good] == [
        (world["r1"].pk, "ann", "good"),
        (world["r3"].pk, "ben", "good"),
    ]
    assert good[0]["consensus"] == "bad"  # still every rater's vote: ben's later bad wins


def test_export_filtered_by_rater_and_verdict_needs_both_in_one_rating(world, ann, ben):
    query = {"format": "jsonl", "rater": ben.pk, "verdict": "good"}

    rows = jsonl_rows(logged_in(ann).get(EXPORT, query))

    assert [(row["reply_id"], row["rater"]) for row in rows] == [(world["r3"].pk, "ben")]


def test_export_context_size_can_be_chosen(world, ann):
    rows = jsonl_rows(logged_in(ann).get(EXPORT, {"format": "jsonl", "context": 1}))

    r2_row = next(row for row in rows if row["reply_id"] == world["r2"].pk)
    assert r2_row["context"] == [{"role": "user", "content": "Any cake?"}]


def test_csv_export_of_nothing_is_just_the_header(world, ann):
    response = logged_in(ann).get(EXPORT, {"format": "csv", "since": "2030-01-01"})

    body = b"".join(response.streaming_content).decode()
    assert body.strip() == (
        "reply_id,conversation_id,character,persona,context,reply,rater,verdict,reasons,"
        "comment,ideal_reply,consensus,rated_at"
    )


def test_export_refuses_an_unknown_format(world, ann):
    assert logged_in(ann).get(EXPORT, {"format": "xlsx"}).status_code == 400
    assert logged_in(ann).get(EXPORT).status_code == 400


def test_export_is_for_raters_only(world, alice, staff, client):
    assert logged_in(alice).get(EXPORT, {"format": "csv"}).status_code == 403
    assert logged_in(staff).get(EXPORT, {"format": "csv"}).status_code == 403
    anonymous = client.get(EXPORT, {"format": "csv"})
    assert anonymous.status_code == 302
    assert reverse("login") in anonymous["Location"]


def test_export_refuses_other_methods(world, ann):
    assert logged_in(ann).post(EXPORT, {"format": "csv"}).status_code == 405


@pytest.mark.django_db(transaction=True)
async def test_export_streams_asynchronously_under_asgi(alice, ann, ben):
    try:
        await sync_to_async(build_world)(alice, ann, ben)
        client = AsyncClient()
        await client.aforce_login(ann)
        response = await client.get(EXPORT, {"format": "jsonl"})
        assert response.is_async  # daphne sends it chunk by chunk, never reading it all first
        body = b"".join([chunk async for chunk in response.streaming_content]).decode()
    finally:
        # The export ran in the thread-sensitive worker; its connection must not outlive the test.
        await sync_to_async(connections.close_all)()

    raters = [json.loads(line)["rater"] for line in body.splitlines()]
    assert raters == ["ann", "ben", "ann", "ben"]
