"""Pictures in chat, drawn by a real worker: asked for, stored privately, shown in the reply."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.urls import reverse

from jobs import services
from jobs.models import Job
from tests.conversations.helpers import frames_until, open_socket, send_and_finish
from tests.jobs.helpers import chat_turn, job_ended, job_of

pytestmark = pytest.mark.django_db(transaction=True)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _message_html(page: str, message_id: int) -> str:
    """The part of the chat page that is one message's article."""
    start = page.index(f'id="msg-{message_id}"')
    end = page.find('<article class="msg', start)
    return page[start : end if end != -1 else len(page)]


def test_a_picture_asked_for_is_drawn_stored_privately_and_shown_in_the_reply(
    client, alice, alice_paints, worker
):
    reply, done = chat_turn(alice, alice_paints, "Could you draw a lighthouse at dusk?")
    job = job_of(reply)
    # The reply arrives with an unseen placeholder that looks for the picture.
    assert f'id="job-{job.pk}"' in done["html"] and "every 2s" in done["html"]

    job = job_ended(job, worker)
    assert job.status == Job.Status.SUCCEEDED, job.error
    [stored] = job.files.all()
    path = Path(stored.file.path)
    assert path.is_relative_to(Path(settings.PRIVATE_MEDIA_ROOT).resolve())
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert not path.is_relative_to(Path(settings.MEDIA_ROOT).resolve())

    client.force_login(alice)
    page = client.get(reverse("conversations:chat", args=[alice_paints.pk])).content.decode()
    shown = _message_html(page, reply.pk)
    file_url = reverse("jobs:file", args=[stored.pk])
    assert f'id="job-{job.pk}"' in shown and f'src="{file_url}"' in shown
    assert "job-skeleton" not in shown

    picture = client.get(file_url)
    assert picture.status_code == 200 and picture["Content-Type"] == "image/png"
    assert b"".join(picture.streaming_content).startswith(PNG_SIGNATURE)


def test_the_picture_file_is_refused_to_other_users_and_to_visitors(
    client, alice, bob, alice_paints, worker
):
    reply, _ = chat_turn(alice, alice_paints, "Draw me a red kite, please.")
    job = job_ended(job_of(reply), worker)
    [stored] = job.files.all()
    file_url = reverse("jobs:file", args=[stored.pk])

    visitor = client.get(file_url)
    assert visitor.status_code == 302 and visitor["Location"].startswith(settings.LOGIN_URL)
    client.force_login(bob)
    assert client.get(file_url).status_code == 404
    assert client.get(reverse("jobs:card", args=[job.pk])).status_code == 404


def test_a_reply_without_a_picture_ends_quietly_and_shows_nothing(
    client, alice, alice_paints, worker
):
    reply, _ = chat_turn(alice, alice_paints, "How was your day?")

    job = job_ended(job_of(reply), worker)
    assert job.status == Job.Status.EMPTY and not job.files.exists() and not job.error
    client.force_login(alice)
    page = client.get(reverse("conversations:chat", args=[alice_paints.pk])).content.decode()
    jobs_part = _message_html(page, reply.pk).split('class="msg-jobs">', 1)[1]
    placeholder = jobs_part.split("</div>", 1)[0]
    assert f'id="job-{job.pk}"' in placeholder and "hidden" in placeholder
    assert "hx-get" not in placeholder  # it stopped looking


def test_a_character_without_the_plugin_starts_no_picture_job(alice, talker, client):
    from conversations.services import session_start

    session = session_start(user=alice, character=talker)
    reply, done = chat_turn(alice, session, "Draw me a picture of the sea.")

    assert not Job.objects.filter(message=reply).exists()
    assert "job-card" not in done["html"]


def test_a_failing_upstream_ends_the_job_with_a_readable_error_and_try_again_draws_it(
    sim, client, alice, alice_paints, worker
):
    sim.inject("aca-polling-image", status=403, count=1)
    reply, _ = chat_turn(alice, alice_paints, "Draw the old harbour.")

    job = job_ended(job_of(reply), worker)
    assert job.status == Job.Status.FAILED
    assert job.error == (
        "Could not ask for the picture: Xingchen refused access (HTTP 403): Injected failure."
    )
    assert not job.files.exists()
    client.force_login(alice)
    card = client.get(reverse("jobs:card", args=[job.pk]), {"in": "chat"}).content.decode()
    assert job.error in card and "Try again" in card

    retried = client.post(
        reverse("jobs:retry", args=[job.pk]), {"in": "chat"}, HTTP_HX_REQUEST="true"
    )
    card = retried.content.decode()
    assert retried.status_code == 200 and 'hx-trigger="every 2s"' in card  # it runs again
    assert job.error not in card and "Try again" not in card
    job = job_ended(job, worker)
    assert job.status == Job.Status.SUCCEEDED and job.files.count() == 1 and not job.error


def test_a_picture_xingchen_fails_to_draw_ends_failed_and_says_why(
    client, alice, alice_paints, gate, gated_worker
):
    gate.answer_polls_with(
        {"taskId": "t-1", "status": "failed", "errorMessage": "The prompt did not pass review."}
    )
    reply, _ = chat_turn(alice, alice_paints, "Draw a storm over the sea.")

    job = job_ended(job_of(reply), gated_worker)
    assert job.status == Job.Status.FAILED and not job.files.exists()
    assert job.error == "Xingchen could not draw this picture: The prompt did not pass review."
    client.force_login(alice)
    card = client.get(reverse("jobs:card", args=[job.pk]), {"in": "chat"}).content.decode()
    assert job.error in card and "Try again" in card and "hidden" not in card


def test_a_busy_upstream_is_polled_again_until_the_picture_is_ready(
    sim, alice, alice_paints, worker
):
    sim.inject("aca-polling-image", status=503, count=2)
    reply, _ = chat_turn(alice, alice_paints, "Draw a paper boat.")

    job = job_ended(job_of(reply), worker)
    assert job.status == Job.Status.SUCCEEDED and job.files.count() == 1


async def _run_steps_until_done(job_id: int) -> None:
    """Runs the job's steps in this process, as a worker would, until it ends."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = await database_sync_to_async(Job.objects.get)(pk=job_id)
        if not job.is_active():
            return
        await database_sync_to_async(services.job_step)(job_id)
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end")


async def test_job_frames_bring_the_picture_to_the_open_chat(alice, alice_paints):
    socket = await open_socket(alice, alice_paints.pk)
    try:
        frames = await send_and_finish(socket, "Please draw two cranes over a lake.")
        reply_id = frames[-1]["message_id"]
        job = await database_sync_to_async(Job.objects.get)(message_id=reply_id)
        await _run_steps_until_done(job.pk)
        frames = await frames_until(
            socket, lambda f: f["type"] == "job" and f["status"] == "succeeded"
        )
    finally:
        await socket.disconnect()

    done = frames[-1]
    stored = await database_sync_to_async(lambda: job.files.get())()
    assert done["job_id"] == job.pk and done["message_id"] == reply_id
    assert f'src="{reverse("jobs:file", args=[stored.pk])}"' in done["html"]
    assert "job-in-chat" in done["html"]


@pytest.mark.skipif(
    not settings.REDIS_URL, reason="a worker's frames reach chat sockets only through Redis"
)
async def test_the_workers_job_frame_brings_the_picture_to_the_open_chat(
    alice, alice_paints, worker
):
    socket = await open_socket(alice, alice_paints.pk)
    try:
        frames = await send_and_finish(socket, "Please draw a stone bridge in the fog.")
        reply_id = frames[-1]["message_id"]
        frames = await frames_until(
            socket, lambda f: f["type"] == "job" and f["status"] == "succeeded", timeout=60
        )
    finally:
        await socket.disconnect()

    statuses = [f["status"] for f in frames if f["type"] == "job"]
    assert "running" in statuses  # the card showed progress before the picture
    job = await database_sync_to_async(Job.objects.get)(message_id=reply_id)
    stored = await database_sync_to_async(lambda: job.files.get())()
    assert frames[-1]["message_id"] == reply_id
    assert f'src="{reverse("jobs:file", args=[stored.pk])}"' in frames[-1]["html"]
