"""A picture drawn by a real worker appears in the open chat without a reload.

The server here queues job steps on a real worker (the shared live server runs Celery eagerly,
which would leave a picture job waiting for a sweep). The worker reaches Xingchen through a gate
that holds its polls, so the test sees the placeholder first and then lets the picture come.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from playwright.sync_api import expect

from conversations import services
from jobs.models import Job
from tests.conftest import current_database_url
from tests.e2e.conftest import ARTIFACTS, login
from tests.factories import character_create_synced
from tests.jobs.helpers import DRAWS
from tests.live_server import start_daphne
from tests.worker_process import WorkerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PICTURE_TIMEOUT_MS = 60_000


@pytest.fixture
def picture_worker(simulator, gate, tmp_path) -> Iterator[WorkerProcess]:
    process = WorkerProcess(tmp_path / "worker-data", simulator, base_url=gate.base_url)
    process.start()
    try:
        process.wait_ready()
        yield process
    finally:
        gate.open()
        process.stop()


@pytest.fixture
def server_with_worker(simulator, picture_worker, tmp_path) -> Iterator[str]:
    """A daphne process that queues job steps for `picture_worker` instead of running them."""
    env = {
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_QUEUE": picture_worker.queue,
        "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
    }
    if "CELERY_BROKER_DIR" in picture_worker.env:
        env["CELERY_BROKER_DIR"] = picture_worker.env["CELERY_BROKER_DIR"]
    server = start_daphne(
        database_url=current_database_url(),
        simulator=simulator,
        data_dir=tmp_path / "asgi-data",
        env=env,
    )
    yield server.base_url
    server.stop()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"picture_{name}.png"), full_page=True)


def _open_chat(page, base_url: str, user) -> tuple[object, list[str]]:
    """Alice's chat with a painter, open in the page; returns the session and console errors."""
    painter = character_create_synced(
        name="Mei", opening_line="Hello! I paint.", platform_plugins=DRAWS
    )
    session = services.session_start(user=user, character=painter)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    login(page, base_url, user.username)
    page.goto(f"{base_url}/chat/{session.pk}/")
    expect(page.locator("[data-role=connection]")).to_have_attribute("data-status", "open")
    page.evaluate("window.samePage = true")  # gone if the page reloads
    return session, problems


def test_a_picture_appears_in_the_chat_without_a_reload(
    server_with_worker, page, alice, gate, picture_worker
):
    session, problems = _open_chat(page, server_with_worker, alice)

    gate.close_after(1)  # Xingchen answers "drawing" once; the next poll waits at the gate
    page.fill("#composer-input", "Please draw a lighthouse at dusk.")
    page.press("#composer-input", "Enter")

    reply = page.locator(".msg-assistant:not(.msg-opening)").last
    expect(reply).to_have_attribute("data-state", "complete", timeout=PICTURE_TIMEOUT_MS)
    card = reply.locator(".msg-jobs .job-card")
    expect(card.locator(".job-skeleton")).to_be_visible(timeout=PICTURE_TIMEOUT_MS)
    expect(card.locator("progress")).to_be_visible()
    expect(card.locator(".job-image")).to_have_count(0)
    _shot(page, "1_drawing")

    gate.open()
    image = card.locator("img.job-image")
    expect(image).to_be_visible(timeout=PICTURE_TIMEOUT_MS)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    expect(card.locator(".job-skeleton")).to_have_count(0)
    expect(image).to_be_in_viewport(ratio=1)  # the chat kept its end, now the picture, in view
    _shot(page, "2_drawn")

    job = Job.objects.get(message__session=session)
    assert job.status == Job.Status.SUCCEEDED and job.files.count() == 1
    assert image.get_attribute("src") == f"/jobs/files/{job.files.get().pk}/"
    assert page.evaluate("window.samePage") is True

    page.goto(f"{server_with_worker}/jobs/")  # the job centre shows the same picture
    listed = page.locator(f"#job-{job.pk}")
    expect(listed.locator(".job-status")).to_have_text("Done")
    expect(listed.locator("img.job-image")).to_be_visible()
    _shot(page, "3_job_centre")
    assert problems == []


def test_a_refused_picture_says_why_and_try_again_in_the_chat_draws_it(
    server_with_worker, page, alice, sim, picture_worker
):
    session, problems = _open_chat(page, server_with_worker, alice)
    sim.inject("aca-polling-image", status=403, count=1)
    page.fill("#composer-input", "Draw me a cat on a windowsill.")
    page.press("#composer-input", "Enter")

    card = page.locator(".msg-assistant:not(.msg-opening)").last.locator(".msg-jobs .job-card")
    expect(card.locator(".job-error")).to_contain_text(
        "Could not ask for the picture: Xingchen refused access", timeout=PICTURE_TIMEOUT_MS
    )
    _shot(page, "4_refused")
    card.get_by_role("button", name="Try again").click()

    try:
        expect(card.locator("img.job-image")).to_be_visible(timeout=PICTURE_TIMEOUT_MS)
    except AssertionError:
        job = Job.objects.get(message__session=session)
        raise AssertionError(f"{job} {job.note}\n{picture_worker.log()}") from None
    expect(card.locator(".job-error")).to_have_count(0)
    _shot(page, "5_drawn_on_second_try")
    assert Job.objects.get(message__session=session).status == Job.Status.SUCCEEDED
    assert page.evaluate("window.samePage") is True
    assert problems == []
