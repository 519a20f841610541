"""A rater works through the queue in headless Chromium with the keyboard alone, then sees the
dashboard count the ratings. daphne serves the site on the test database."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ratings.models import Rating
from tests.conftest import password
from tests.e2e.conftest import ARTIFACTS, login
from tests.factories import character_create, chat_session_create, message_create
from tests.ratings.conftest import raters_group

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SELECTED = re.compile(r"\bis-selected\b")


@pytest.fixture
def rita(django_user_model):
    user = django_user_model.objects.create_user("rita", password=password(), is_staff=True)
    user.groups.add(raters_group())
    return user


@pytest.fixture
def lin_replies(alice):
    """Three replies of Lin to Alice, oldest first."""
    lin = character_create(name="Lin", basic_information="A calm tea master from Hangzhou.")
    session = chat_session_create(user=alice, character=lin)
    found = []
    for question in ("Do you like tea?", "Which tea for winter?", "How hot should the water be?"):
        asked = message_create(session=session, content=question)
        answer = f"Lin answers: {question.lower()}"
        found.append(message_create(session=session, role="assistant", query=asked, content=answer))
    return found


def _character_row(page, character_id: int) -> dict[str, str]:
    row = page.locator(f"#characters tr[data-character='{character_id}']")
    expect(row).to_be_visible()
    cells = row.locator("td").all_inner_texts()
    return dict(zip(["replies", "rated", "good", "bad", "good_rate"], cells, strict=False))


def test_a_rater_rates_three_replies_with_the_keyboard_and_the_dashboard_counts_them(
    live_asgi, page, rita, lin_replies, django_user_model
):
    otto = django_user_model.objects.create_user("otto", is_staff=True)
    Rating.objects.create(message=lin_replies[0], rater=otto, verdict="bad", comment="Too curt.")
    oldest, middle, newest = (page.locator(f"#reply-{reply.pk}") for reply in lin_replies)
    lin_id = lin_replies[0].session.character_id
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    login(page, live_asgi, "rita")

    page.goto(f"{live_asgi}/staff/ratings/dashboard/")
    before = _character_row(page, lin_id)
    assert (before["rated"], before["good"], before["bad"], before["good_rate"]) == (
        "1",
        "0",
        "1",
        "0%",
    )

    page.goto(f"{live_asgi}/staff/ratings/")
    expect(page.locator("[data-reply-card]")).to_have_count(3)
    expect(newest).to_have_class(SELECTED)  # the newest comes first and is selected
    expect(newest).to_contain_text("How hot should the water be?")
    expect(newest).to_contain_text("A calm tea master from Hangzhou.")
    page.evaluate("window.stillTheSamePage = true")

    page.keyboard.press("g")
    page.keyboard.press("Enter")
    expect(newest.locator(".saved-note")).to_have_text("Saved")
    expect(middle).to_have_class(SELECTED)

    page.keyboard.press("b")
    page.keyboard.press("3")
    page.screenshot(path=str(ARTIFACTS / "ratings_queue_before_save.png"), full_page=True)
    page.keyboard.press("Enter")
    expect(middle.locator(".saved-note")).to_have_text("Saved")
    expect(oldest).to_have_class(SELECTED)
    expect(oldest.locator(".other-ratings")).to_contain_text("otto")

    page.keyboard.press("k")
    expect(middle).to_have_class(SELECTED)
    page.keyboard.press("j")
    expect(oldest).to_have_class(SELECTED)
    page.keyboard.press("b")
    page.keyboard.press("1")
    page.keyboard.press("c")
    page.keyboard.type("Lin would never say that.")
    page.keyboard.press("Escape")
    page.keyboard.press("i")
    page.keyboard.type("Yes, every morning.")
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    expect(oldest.locator(".saved-note")).to_have_text("Saved")
    expect(oldest.locator("textarea[name=comment]")).to_have_value("Lin would never say that.")
    expect(oldest.locator("textarea[name=ideal_reply]")).to_have_value("Yes, every morning.")

    page.keyboard.press("?")
    expect(page.locator("#keys-help")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "ratings_queue_keys.png"))
    page.keyboard.press("Escape")
    expect(page.locator("#keys-help")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "ratings_queue_rated.png"), full_page=True)

    page.select_option("select[name=rated]", "no")
    expect(page.locator(".queue-empty")).to_have_text("No replies match these filters.")
    expect(page).to_have_url(re.compile(r"\?.*rated=no"))
    page.select_option("select[name=verdict]", "bad")
    page.select_option("select[name=rated]", "yes")
    expect(page.locator("[data-reply-card]")).to_have_count(2)
    expect(middle).to_have_class(SELECTED)  # the first of the new list
    assert page.evaluate("window.stillTheSamePage") is True  # no full reload on the way

    ratings = {r.message_id: r for r in Rating.objects.filter(rater=rita)}
    assert [ratings[reply.pk].verdict for reply in lin_replies] == ["bad", "bad", "good"]
    reasons = {pk: list(r.reasons.values_list("slug", flat=True)) for pk, r in ratings.items()}
    assert [reasons[reply.pk] for reply in lin_replies] == [
        ["out-of-character"],
        ["repetitive"],
        [],
    ]
    assert ratings[lin_replies[0].pk].comment == "Lin would never say that."
    assert ratings[lin_replies[0].pk].ideal_reply == "Yes, every morning."

    page.goto(f"{live_asgi}/staff/ratings/dashboard/")
    row = _character_row(page, lin_id)
    assert (row["rated"], row["good"], row["bad"], row["good_rate"]) == ("3", "1", "2", "33%")
    assert problems == []
