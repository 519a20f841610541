"""The memory panel: in the chat sidebar and on its own page; correcting and deleting facts;
nobody but the owner sees or changes them."""

from __future__ import annotations

import re

import pytest

from memories.models import Fact, Summary
from tests.factories import chat_session_create

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def name_fact(alice, keeper) -> Fact:
    return Fact.objects.create(
        user=alice, character=keeper, key="name", values=["Alice Wong"], source_message_ids=[1]
    )


@pytest.fixture
def summary(alice, keeper) -> Summary:
    return Summary.objects.create(
        user=alice,
        character=keeper,
        sentences=["The user's name is Alice Wong."],
        through_message_id=2,
    )


def _no_inline_script_or_style(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert " style=" not in html and "<style" not in html and " on" + "click=" not in html


def test_the_chat_sidebar_lists_the_facts_and_the_latest_summary(
    alice_client, alice, keeper, name_fact, summary
):
    session = chat_session_create(user=alice, character=keeper)
    html = alice_client.get(f"/chat/{session.pk}/").content.decode()
    assert 'id="memory-panel"' in html and "Alice Wong" in html
    assert "The user&#x27;s name is Alice Wong." in html
    assert f"/memories/facts/{name_fact.pk}/delete/" in html
    _no_inline_script_or_style(html)


def test_the_panel_is_a_fragment_for_htmx_and_a_page_without(alice_client, keeper, name_fact):
    fragment = alice_client.get(f"/memories/{keeper.pk}/", **HTMX).content.decode()
    page = alice_client.get(f"/memories/{keeper.pk}/").content.decode()
    assert "<html" not in fragment and "Alice Wong" in fragment
    assert "<html" in page and "Alice Wong" in page
    _no_inline_script_or_style(page)


def test_an_unchanged_panel_is_not_sent_again_but_a_changed_one_is(
    alice, alice_client, keeper, name_fact
):
    fragment = alice_client.get(f"/memories/{keeper.pk}/", **HTMX).content.decode()
    version = re.search(r"\?v=([^\"]+)\"", fragment).group(1)
    url = f"/memories/{keeper.pk}/?v={version}"
    assert alice_client.get(url, **HTMX).status_code == 204

    Fact.objects.create(user=alice, character=keeper, key="job", values=["nurse"])
    changed = alice_client.get(url, **HTMX)
    assert changed.status_code == 200 and "nurse" in changed.content.decode()


def test_the_panel_answers_only_get(alice_client, keeper):
    assert alice_client.post(f"/memories/{keeper.pk}/").status_code == 405


def test_the_panel_shows_only_the_users_own_facts(bob_client, keeper, name_fact):
    html = bob_client.get(f"/memories/{keeper.pk}/").content.decode()
    assert "Alice Wong" not in html and "Nothing yet" in html


def test_correcting_a_fact_over_htmx_swaps_in_the_edit_form_then_the_corrected_row(
    alice_client, name_fact
):
    form = alice_client.get(f"/memories/facts/{name_fact.pk}/edit/", **HTMX).content.decode()
    assert "<textarea" in form and "Alice Wong" in form and "csrfmiddlewaretoken" in form

    row = alice_client.post(
        f"/memories/facts/{name_fact.pk}/", {"values": "Ally\n\n"}, **HTMX
    ).content.decode()
    assert f'id="fact-{name_fact.pk}"' in row and "Ally" in row and "corrected" in row
    name_fact.refresh_from_db()
    assert name_fact.values == ["Ally"] and name_fact.state == Fact.State.CORRECTED


def test_cancelling_an_edit_brings_the_row_back(alice_client, name_fact):
    row = alice_client.get(f"/memories/facts/{name_fact.pk}/", **HTMX).content.decode()
    assert "<textarea" not in row and "Alice Wong" in row


def test_an_empty_correction_is_refused_with_a_reason(alice_client, name_fact):
    response = alice_client.post(f"/memories/facts/{name_fact.pk}/", {"values": " \n"}, **HTMX)
    assert response.status_code == 400
    assert "delete the fact instead" in response.content.decode()
    name_fact.refresh_from_db()
    assert name_fact.values == ["Alice Wong"]


def test_without_htmx_editing_is_a_page_and_saving_goes_back_to_it(alice_client, keeper, name_fact):
    page = alice_client.get(f"/memories/facts/{name_fact.pk}/edit/").content.decode()
    assert "<html" in page and "<textarea" in page
    response = alice_client.post(f"/memories/facts/{name_fact.pk}/", {"values": "Ally"})
    assert response.status_code == 302 and response.url == f"/memories/{keeper.pk}/"


def test_deleting_a_fact_over_htmx_returns_the_panel_without_it(alice_client, name_fact):
    html = alice_client.post(f"/memories/facts/{name_fact.pk}/delete/", **HTMX).content.decode()
    assert 'id="memory-panel"' in html and "Alice Wong" not in html
    assert alice_client.get(f"/memories/facts/{name_fact.pk}/edit/").status_code == 404


def test_deleting_and_correcting_need_a_post(alice_client, name_fact):
    assert alice_client.get(f"/memories/facts/{name_fact.pk}/delete/").status_code == 405
    assert alice_client.put(f"/memories/facts/{name_fact.pk}/").status_code == 405


def test_bob_cannot_see_correct_or_delete_alices_facts(bob_client, name_fact):
    base = f"/memories/facts/{name_fact.pk}/"
    assert bob_client.get(base).status_code == 404
    assert bob_client.get(base + "edit/").status_code == 404
    assert bob_client.post(base, {"values": "Mallory"}).status_code == 404
    assert bob_client.post(base + "delete/").status_code == 404
    name_fact.refresh_from_db()
    assert name_fact.values == ["Alice Wong"] and name_fact.is_remembered()


def test_a_visitor_is_sent_to_log_in(client, keeper):
    response = client.get(f"/memories/{keeper.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_job_centre_shows_what_a_memory_job_remembered(alice_client, alice, keeper):
    from jobs.models import Job
    from jobs.services import job_create

    job = job_create(owner=alice, kind=Job.Kind.MEMORY, character=keeper, params={"through": 1})
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.SUCCEEDED,
        result={"facts": [{"key": "name", "values": ["Alice"]}], "summary": [], "messages": [1]},
    )
    html = alice_client.get("/jobs/").content.decode()
    assert "From 1 message with Mei" in html and "Alice" in html


def test_the_character_admin_sets_whether_a_reset_forgets(admin_user, keeper):
    from django.test import Client

    from characters import services

    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/admin/characters/character/{keeper.pk}/change/").content.decode()
    assert 'name="reset_forgets_memories"' in page

    keeper.reset_forgets_memories = True
    services.character_update(character=keeper)
    keeper.refresh_from_db()
    assert keeper.reset_forgets_memories


def test_the_panel_takes_the_same_queries_for_one_fact_or_many(
    alice_client, alice, keeper, name_fact, summary, django_assert_num_queries
):
    url = f"/memories/{keeper.pk}/"
    alice_client.get(url, **HTMX)  # the session and user are cached after the first request
    with django_assert_num_queries(5):
        alice_client.get(url, **HTMX)
    for n in range(5):
        Fact.objects.create(user=alice, character=keeper, key=f"key {n}", values=["v"])
    with django_assert_num_queries(5):
        response = alice_client.get(url, **HTMX)
    assert response.content.decode().count('class="memory-fact"') == 6
