"""What the job runner promises with a real worker: a killed worker's job is finished once, a lost
broker message is found by the sweep, an overdue job ends with a reason, a cancel sticks."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from jobs import services
from jobs.models import Job
from project.celery import app as celery_app
from tests.jobs.helpers import chat_turn, job_ended, job_of, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

STEP_DONE = re.compile(r"Task jobs\.tasks\.job_step\[[^\]]+\] succeeded")


def _poll_ids(sim) -> set[str]:
    # By id: the simulator keeps only its latest requests, so counts stop growing.
    return {request["requestId"] for request in sim.requests("aca-polling-image")}


def _stored_files() -> list[Path]:
    return [path for path in Path(settings.PRIVATE_MEDIA_ROOT).rglob("*") if path.is_file()]


def test_a_worker_killed_mid_poll_and_restarted_finishes_the_picture_once(
    alice, alice_paints, gate, gated_worker
):
    gate.close_after(0)  # the first poll reaches Xingchen only once the gate opens
    reply, _ = chat_turn(alice, alice_paints, "Draw a windmill in the rain.")
    job = job_of(reply)
    wait_until(gate.holds_a_poll, "the worker polls for the picture", log=gated_worker.log)

    gated_worker.kill()
    job.refresh_from_db()
    lease = job.claimed_until
    assert job.status == Job.Status.RUNNING and job.claimed_by  # held by a dead process
    gate.open()
    gated_worker.start()

    job = job_ended(job, gated_worker)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.files.count() == 1 and len(_stored_files()) == 1
    assert job.finished_at < lease  # resumed at the restart, not when the lease ran out


def test_the_sweep_queues_again_a_job_whose_broker_message_was_lost(
    alice, alice_paints, idle_worker
):
    reply, _ = chat_turn(alice, alice_paints, "Draw a lantern festival.")
    job = job_of(reply)
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge(idle_worker.queue)  # the message is gone
    Job.objects.filter(pk=job.pk).update(next_run_at=timezone.now() - 2 * services.SWEEP_GRACE)
    idle_worker.start()
    idle_worker.wait_ready()

    assert services.job_sweep() == 1  # what the beat runs every 15 s

    job = job_ended(job, idle_worker)
    assert job.status == Job.Status.SUCCEEDED and job.files.count() == 1


def test_a_job_past_its_deadline_ends_failed_with_the_reason(client, alice, alice_paints):
    # No worker: the first poll runs in this process and finds Xingchen still drawing.
    reply, _ = chat_turn(alice, alice_paints, "Draw a slow sunrise.")
    job = job_of(reply)
    assert job.status == Job.Status.RUNNING and not job.claimed_by
    Job.objects.filter(pk=job.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))

    services.job_sweep()

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.finished_at is not None
    assert job.error == "Gave up after 5 min: the upstream did not finish in time."
    client.force_login(alice)
    card = client.get(reverse("jobs:card", args=[job.pk]), {"in": "chat"}).content.decode()
    assert job.error in card and "Try again" in card


def test_a_job_cancelled_from_the_job_centre_stays_cancelled_when_a_late_step_returns(
    sim, client, alice, alice_paints, gate, gated_worker
):
    gate.close_after(2)  # two "still drawing" polls pass; the one bringing the picture waits
    reply, _ = chat_turn(alice, alice_paints, "Draw a fox asleep in the snow.")
    job = job_of(reply)
    wait_until(gate.holds_a_poll, "the worker asks for the finished picture", log=gated_worker.log)
    steps_done = len(STEP_DONE.findall(gated_worker.log()))

    client.force_login(alice)
    page = client.get(reverse("jobs:list")).content.decode()
    assert f'hx-post="{reverse("jobs:cancel", args=[job.pk])}"' in page
    answer = client.post(reverse("jobs:cancel", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and "Cancelled" in answer.content.decode()

    polls = _poll_ids(sim)
    gate.open()
    wait_until(
        lambda: len(STEP_DONE.findall(gated_worker.log())) > steps_done,
        "the late step ends",
        log=gated_worker.log,
    )

    job.refresh_from_db()
    assert _poll_ids(sim) - polls  # the late step did fetch the finished picture
    assert job.status == Job.Status.CANCELLED and job.note == "Cancelled"
    assert not job.files.exists() and not _stored_files()
    card = client.get(reverse("jobs:card", args=[job.pk])).content.decode()
    assert "Cancelled" in card and "<img" not in card and "Try again" in card
