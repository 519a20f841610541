"""Pictures in chat: Xingchen's text-to-image plugin draws after a reply, as a task found by the
reply's message id. Nothing on the reply says whether it started one, so every finished reply
of a character with the plugin on is polled; "no task" ends the job quietly."""

from __future__ import annotations

import io

from django.conf import settings
from django.utils.translation import gettext_noop
from PIL import Image, UnidentifiedImageError

from jobs.models import Job
from jobs.steps import Again, Empty, Failed, Step, Succeeded, poll_delay
from platforms.http_download import DownloadError
from platforms.xingchen.errors import XingchenError
from project.upstream import call_sync, downloader, run_sync

PLUGIN = "text_to_image_plugin"
_FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
}


def draws_pictures(character) -> bool:  # noqa: ANN001 - characters.models.Character
    return any(
        isinstance(plugin, dict) and plugin.get("name") == PLUGIN and plugin.get("enabled", True)
        for plugin in character.platform_plugins or []
    )


def start_for_reply(reply) -> Job | None:  # noqa: ANN001 - conversations.models.Message
    """Queues the poll of a finished reply's picture task when its character draws."""
    from jobs.services import job_create

    session = reply.session
    if not reply.remote_message_id or not draws_pictures(session.character):
        return None
    return job_create(
        owner=session.user,
        kind=Job.Kind.PICTURE,
        message=reply,
        character=session.character,
        note=gettext_noop("Looking for a picture"),
    )


def step(job: Job) -> Step:
    from conversations.services import biz_user_id

    message_id = job.message.remote_message_id if job.message else ""
    if not message_id:
        return Empty(gettext_noop("This reply has no Xingchen message to draw for."))
    try:
        task = call_sync(
            lambda c: c.image_poll(message_id=message_id, user_id=biz_user_id(job.owner_id))
        )
    except XingchenError as exc:
        if exc.error_name == "ImageTaskNotFound":
            return Empty(gettext_noop("No picture with this reply."))
        if exc.retryable:
            raise  # the runner asks again with backoff
        # The client's message already names Xingchen and says what it answered.
        return Failed(f"Could not ask for the picture: {exc.message}")
    if task.task_id and job.upstream_id != task.task_id:
        job.upstream_id = task.task_id
        job.save(update_fields=["upstream_id"])
    if task.status == "running":
        return Again(
            delay=poll_delay(job.steps),
            progress=min(90, 10 * job.steps),
            note=gettext_noop("Drawing…"),
        )
    if task.status != "success":
        reason = f": {task.error_message}" if task.error_message else "."
        return Failed(f"Xingchen could not draw this picture{reason}")
    if not task.file_urls:
        return Failed(gettext_noop("Xingchen finished the picture but sent no file."))
    return _store_pictures(job, task.file_urls)


def prepare_retry(job: Job) -> None:
    """The same reply's task is polled again; the card stays in sight while it is looked for."""
    job.params = {**job.params, "retried": True}


def _store_pictures(job: Job, urls: list[str]) -> Step:
    from jobs.services import store_file

    if not _still_running(job):
        # Cancelled (or taken over) while polling: the runner discards this step's outcome, and
        # the picture must not turn up on a card that says "Cancelled".
        return Empty(gettext_noop("Cancelled before the picture was stored."))
    for position, url in enumerate(urls):
        if job.files.filter(position=position).exists():
            continue  # stored by an earlier run of this step
        try:
            content = run_sync(
                lambda url=url: downloader().download(url, max_bytes=settings.JOB_MAX_PICTURE_BYTES)
            )
        except DownloadError as exc:
            return Failed(f"The picture could not be fetched from Xingchen: {exc}")
        try:
            detected = Image.open(io.BytesIO(content)).format
        except UnidentifiedImageError:
            return Failed(gettext_noop("Xingchen sent a picture that is not an image."))
        if detected not in _FORMATS:
            return Failed(f"Xingchen sent a picture in an unsupported format ({detected}).")
        suffix, content_type = _FORMATS[detected]
        store_file(
            job,
            position=position,
            name=f"picture-{job.pk}-{position + 1}.{suffix}",
            content=content,
            content_type=content_type,
        )
    return Succeeded({"pictures": len(urls)}, note=gettext_noop("Picture ready"))


def _still_running(job: Job) -> bool:
    return Job.objects.filter(
        pk=job.pk, status=Job.Status.RUNNING, claimed_by=job.claimed_by
    ).exists()
