"""The ratings dashboard: good-rates by consensus, the trend chart, reasons, kappa and 👎 rate."""

from __future__ import annotations

import datetime as dt
import re
from xml.etree import ElementTree

import pytest
from django.urls import reverse

from ratings.models import Rating, ReasonTag, UserFeedback
from tests.factories import character_create, chat_session_create, message_create
from tests.ratings.conftest import logged_in, new_rater

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("ratings:dashboard")
DAY_1 = dt.datetime(2025, 4, 1, 9, 0, tzinfo=dt.UTC)
DAY_2 = dt.datetime(2025, 4, 2, 9, 0, tzinfo=dt.UTC)
SVG = "{http://www.w3.org/2000/svg}"


def rate(reply, rater, verdict, *, reasons=(), at):
    rating = Rating.objects.create(
        message=reply, rater=rater, verdict=verdict, created_at=at, updated_at=at
    )
    rating.reasons.set(ReasonTag.objects.filter(slug__in=reasons))


def replies_of(session, count: int, *, at: dt.datetime) -> list:
    replies = []
    for n in range(count):
        question = message_create(session=session, content=f"Question {n}", created_at=at)
        replies.append(
            message_create(
                session=session,
                role="assistant",
                query=question,
                content=f"Reply {n}",
                created_at=at,
            )  # fmt: skip
        )
    return replies


@pytest.fixture
def ann(django_user_model):
    return new_rater(django_user_model, "ann")


@pytest.fixture
def world(alice, ann, django_user_model):
    """Mei: six replies rated by ann and ben (ben later), two also by cal; Rin: one bad, one
    unrated reply. Worked by hand:

    - ann G G G G B B, ben G G G B B G: agreed on 4 of 6, p_o = 2/3; each said good 4 times,
      so p_e = (4·4 + 2·2)/36 = 5/9 and kappa = (2/3 − 5/9)/(1 − 5/9) = 0.25.
    - consensus: replies 1–2 have 2 good of 3; 3 and 5 agree; 4 and 6 tie and go to ben (the
      latest): good, good, good, bad, bad, good → Mei 4 of 6 good = 67 %.
    - reasons: repetitive 3, too-long 2, unsafe 1, of 15 ratings → repetitive 20 %.
    - 👎: Mei's users rated 4 replies, 2 of them 👎 → 50 %; Rin 1 of 1 → 100 %.
    """
    ben = new_rater(django_user_model, "ben")
    cal = new_rater(django_user_model, "cal")
    mei = character_create(name="Mei")
    rin = character_create(name="Rin")
    mei_replies = replies_of(chat_session_create(user=alice, character=mei), 6, at=DAY_1)
    rin_replies = replies_of(chat_session_create(user=alice, character=rin), 2, at=DAY_2)
    ann_says = ["good", "good", "good", "good", "bad", "bad"]
    ben_says = ["good", "good", "good", "bad", "bad", "good"]
    ann_reasons = [(), (), (), (), ("repetitive",), ("repetitive", "too-long")]
    ben_reasons = [(), (), (), ("too-long",), ("repetitive",), ()]
    for reply, a, b, ar, br in zip(
        mei_replies, ann_says, ben_says, ann_reasons, ben_reasons, strict=True
    ):
        rate(reply, ann, a, reasons=ar, at=DAY_2)
        rate(reply, ben, b, reasons=br, at=DAY_2 + dt.timedelta(hours=1))
    for reply in mei_replies[:2]:
        rate(reply, cal, "bad", at=DAY_2 + dt.timedelta(hours=2))
    rate(rin_replies[0], ann, "bad", reasons=["unsafe"], at=DAY_2)
    for reply, thumb in zip(mei_replies[:4], ["down", "up", "down", "up"], strict=True):
        UserFeedback.objects.create(message=reply, user=alice, thumb=thumb)
    UserFeedback.objects.create(message=rin_replies[0], user=alice, thumb="down")
    return {"mei": mei, "rin": rin}


def rows_by_name(response) -> dict:
    return {row.name: row for row in response.context["stats"].characters}


def test_dashboard_shows_good_rate_by_consensus_with_counts(world, ann):
    response = logged_in(ann).get(DASHBOARD)

    assert response.status_code == 200
    mei, rin = rows_by_name(response)["Mei"], rows_by_name(response)["Rin"]
    assert (mei.replies, mei.rated, mei.good, mei.bad, mei.ratings) == (6, 6, 4, 2, 14)
    assert (rin.replies, rin.rated, rin.good, rin.bad, rin.ratings) == (2, 1, 0, 1, 1)
    html = response.content.decode()
    assert '<td class="good-rate">67%</td>' in html
    assert '<td class="good-rate">0%</td>' in html


def test_dashboard_shows_the_users_thumbs_down_rate_per_character(world, ann):
    response = logged_in(ann).get(DASHBOARD)

    mei, rin = rows_by_name(response)["Mei"], rows_by_name(response)["Rin"]
    assert (mei.with_feedback, mei.thumbs_down) == (4, 2)
    assert (rin.with_feedback, rin.thumbs_down) == (1, 1)
    html = response.content.decode()
    assert '<td class="thumbs-down-rate">50%</td>' in html
    assert '<td class="thumbs-down-rate">100%</td>' in html


def test_dashboard_lists_the_top_reasons(world, ann):
    response = logged_in(ann).get(DASHBOARD)

    reasons = [(r.slug, r.count) for r in response.context["stats"].reasons]
    assert reasons == [("repetitive", 3), ("too-long", 2), ("unsafe", 1)]
    assert re.search(
        r'data-reason="repetitive">.*?<td>3</td><td>20%</td>', response.content.decode()
    )


def test_dashboard_shows_cohens_kappa_and_not_enough_overlap(world, ann):
    response = logged_in(ann).get(DASHBOARD)

    pairs = {(a.rater_a, a.rater_b): a for a in response.context["stats"].agreements}
    assert pairs["ann", "ben"].shared == 6
    assert pairs["ann", "ben"].kappa == pytest.approx(0.25)
    assert pairs["ann", "cal"].shared == 2
    assert pairs["ann", "cal"].kappa is None
    html = response.content.decode()
    assert re.search(
        r'data-pair="ann\+ben">.*?<td>6</td>.*?<td class="kappa">0.25</td>', html, re.S
    )
    assert re.search(r'data-pair="ann\+cal">.*?<td>2</td>.*?not enough overlap', html, re.S)


def test_dashboard_trend_is_a_valid_accessible_svg_with_a_table_fallback(world, ann):
    html = logged_in(ann).get(DASHBOARD).content.decode()

    svg = ElementTree.fromstring(re.search(r"<svg.*?</svg>", html, re.S).group(0))
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text
    assert svg.find(f"{SVG}desc").text
    assert len(svg.findall(f"{SVG}circle")) == 2  # 1 April and 2 April
    assert "style=" not in html  # the site's CSP forbids inline styles
    assert '<th scope="row">2025-04-01</th><td>6</td><td>4</td><td>67%</td>' in html
    assert '<th scope="row">2025-04-02</th><td>1</td><td>0</td><td>0%</td>' in html


def test_dashboard_filters_by_character_and_dates(world, ann):
    client = logged_in(ann)

    only_rin = client.get(DASHBOARD, {"character": world["rin"].pk})
    assert list(rows_by_name(only_rin)) == ["Rin"]
    assert [r.slug for r in only_rin.context["stats"].reasons] == ["unsafe"]

    day_1 = client.get(DASHBOARD, {"since": "2025-04-01", "until": "2025-04-01"})
    assert list(rows_by_name(day_1)) == ["Mei"]
    assert [point.start for point in day_1.context["stats"].trend] == [dt.date(2025, 4, 1)]


def test_dashboard_htmx_request_gets_only_the_report(world, ann):
    response = logged_in(ann).get(DASHBOARD, {"character": world["mei"].pk}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="report"')
    assert "<html" not in html
    assert f"format=csv&amp;character={world['mei'].pk}" in html  # the export keeps the filters


def test_a_history_restore_gets_the_whole_dashboard_page(world, ann):
    restore = {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}

    response = logged_in(ann).get(DASHBOARD, {"character": world["rin"].pk}, **restore)

    html = response.content.decode()
    assert "<html" in html and 'class="dashboard-filters"' in html
    assert list(rows_by_name(response)) == ["Rin"]


def test_dashboard_without_ratings_says_so(ann):
    html = logged_in(ann).get(DASHBOARD).content.decode()

    assert "No rated replies in this period." in html
    assert "Not enough overlap" in html


def test_dashboard_is_for_raters_only(world, alice, staff, admin_user, client):
    assert logged_in(alice).get(DASHBOARD).status_code == 403
    assert logged_in(staff).get(DASHBOARD).status_code == 403
    assert logged_in(admin_user).get(DASHBOARD).status_code == 200
    anonymous = client.get(DASHBOARD)
    assert anonymous.status_code == 302
    assert reverse("login") in anonymous["Location"]


def test_dashboard_refuses_other_methods(ann):
    assert logged_in(ann).post(DASHBOARD).status_code == 405


def test_dashboard_queries_do_not_grow_with_the_data(world, ann, django_assert_num_queries):
    client = logged_in(ann)

    # Session, user, 2 permission lookups; 4 for the numbers; 3 for the filters' choices.
    with django_assert_num_queries(11):
        assert client.get(DASHBOARD).status_code == 200
