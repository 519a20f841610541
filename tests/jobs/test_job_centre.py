"""The job centre: everyone sees their own jobs; staff see and filter everyone's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jobs.models import Job
from tests.factories import character_create

pytestmark = pytest.mark.django_db


def _job(owner, kind: str = Job.Kind.PICTURE, status: str = Job.Status.SUCCEEDED, **fields) -> Job:
    now = timezone.now()
    note = f"{owner.get_username()}'s {kind} {status}"
    return Job.objects.create(
        owner=owner,
        kind=kind,
        status=status,
        note=note,
        deadline_at=now + timedelta(minutes=5),
        **fields,
    )


@pytest.fixture
def jobs_of_alice_and_bob(alice, bob) -> dict[str, Job]:
    return {
        "alice_picture": _job(alice),
        "alice_convert": _job(alice, Job.Kind.CONVERT, Job.Status.FAILED, error="Bad workbook."),
        "bob_picture": _job(bob, status=Job.Status.RUNNING),
        "bob_describe": _job(bob, Job.Kind.DESCRIBE, character=character_create()),
    }


def _listed(response) -> set[int]:
    html = response.content.decode()
    return {job.pk for job in Job.objects.all() if f'id="job-{job.pk}"' in html}


def test_the_job_centre_lists_only_the_users_own_jobs(client, alice, jobs_of_alice_and_bob):
    client.force_login(alice)
    response = client.get(reverse("jobs:list"))

    mine = {jobs_of_alice_and_bob["alice_picture"].pk, jobs_of_alice_and_bob["alice_convert"].pk}
    assert response.status_code == 200 and _listed(response) == mine
    assert "Bad workbook." in response.content.decode()
    assert 'name="owner"' not in response.content.decode()  # no filter by user for her


def test_the_job_centre_lists_in_a_fixed_number_of_queries(
    client, alice, jobs_of_alice_and_bob, django_assert_num_queries
):
    client.force_login(alice)
    for _ in range(5):
        _job(alice)
    with django_assert_num_queries(5):  # session, user, count, jobs, their files
        client.get(reverse("jobs:list"))


def test_staff_see_everyones_jobs_and_filter_them_by_user_kind_and_status(
    client, staff, bob, jobs_of_alice_and_bob
):
    client.force_login(staff)
    everyone = client.get(reverse("jobs:list"))
    assert _listed(everyone) == {job.pk for job in jobs_of_alice_and_bob.values()}
    assert 'name="owner"' in everyone.content.decode()

    bobs_pictures = client.get(reverse("jobs:list"), {"owner": bob.pk, "kind": "picture"})
    assert _listed(bobs_pictures) == {jobs_of_alice_and_bob["bob_picture"].pk}
    failed = client.get(reverse("jobs:list"), {"status": "failed"})
    assert _listed(failed) == {jobs_of_alice_and_bob["alice_convert"].pk}


def test_filters_answer_an_htmx_request_with_the_same_page(client, alice, jobs_of_alice_and_bob):
    client.force_login(alice)
    response = client.get(reverse("jobs:list"), {"kind": "convert"}, HTTP_HX_REQUEST="true")
    assert _listed(response) == {jobs_of_alice_and_bob["alice_convert"].pk}
    assert 'id="job-list"' in response.content.decode()


def test_the_job_centre_is_read_only(client, alice):
    client.force_login(alice)
    assert client.post(reverse("jobs:list")).status_code == 405


def test_a_card_of_another_users_job_is_not_found(client, bob, jobs_of_alice_and_bob):
    job = jobs_of_alice_and_bob["alice_picture"]
    client.force_login(bob)
    assert client.get(reverse("jobs:card", args=[job.pk])).status_code == 404
    assert client.post(reverse("jobs:cancel", args=[job.pk])).status_code == 404
    assert client.post(reverse("jobs:retry", args=[job.pk])).status_code == 404


def test_staff_can_open_anyones_card(client, staff, jobs_of_alice_and_bob):
    job = jobs_of_alice_and_bob["bob_picture"]
    client.force_login(staff)
    card = client.get(reverse("jobs:card", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert card.status_code == 200 and 'hx-trigger="every 2s"' in card.content.decode()
    assert "bob" in card.content.decode()  # whose job it is


def test_a_card_cannot_be_changed_with_get(client, alice, jobs_of_alice_and_bob):
    job = jobs_of_alice_and_bob["alice_convert"]
    client.force_login(alice)
    assert client.get(reverse("jobs:retry", args=[job.pk])).status_code == 405
    assert client.post(reverse("jobs:card", args=[job.pk])).status_code == 405


def test_an_ended_job_cannot_be_cancelled(client, alice, jobs_of_alice_and_bob):
    job = jobs_of_alice_and_bob["alice_picture"]
    client.force_login(alice)
    answer = client.post(reverse("jobs:cancel", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert "This job has already ended." in answer.content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED


def test_the_admin_shows_a_jobs_card_whose_buttons_and_polling_work_there(
    admin_client, jobs_of_alice_and_bob
):
    job = jobs_of_alice_and_bob["alice_convert"]
    page = admin_client.get(reverse("admin:jobs_job_change", args=[job.pk])).content.decode()

    assert f'id="job-{job.pk}"' in page and "Bad workbook." in page
    assert f'hx-post="{reverse("jobs:retry", args=[job.pk])}"' in page
    # htmx is loaded and sends the CSRF token, so "Try again" posts and a running card polls.
    assert "htmx" in page and '"X-CSRFToken"' in page
