"""Excel to Word on Xingchen: submit the workbook's public address once (the task id is kept in
job.upstream_id), poll the task with backoff, then fetch the document into private storage."""

from __future__ import annotations

import io

from django.conf import settings
from django.utils.translation import gettext_noop
from docx import Document

from jobs.convert import (
    DOCX_CONTENT_TYPE,
    convert_discard_source,
    convert_source_url,
    document_name,
    source_exists,
)
from jobs.models import Job
from jobs.steps import Again, Failed, Step, Succeeded, poll_delay
from platforms.http_download import DownloadError
from platforms.xingchen.errors import XingchenError
from project.upstream import call_sync, downloader, run_sync

CONVERT_TYPE = "excelToDocx"
_FAILED_STATUSES = frozenset({"failed", "error"})
UNCONVERTIBLE = (
    "Xingchen could not convert this workbook. Check that it opens in Excel, then try again."
)


def step(job: Job) -> Step:
    if job.files.exists():
        return _done(job)  # stored by an earlier run of this step, cut off before it ended
    if not job.upstream_id:
        return _submit(job)
    return _poll(job)


def prepare_retry(job: Job) -> None:
    """A retried conversion is submitted afresh: the failed task cannot be resumed."""
    job.upstream_id = ""


def _submit(job: Job) -> Step:
    if not source_exists(job):
        return Failed(gettext_noop("The uploaded workbook is no longer here; upload it again."))
    url = convert_source_url(job)
    task = call_sync(lambda c: c.file_convert_submit(source_url=url, type=CONVERT_TYPE))
    if not task.id:
        return Failed(gettext_noop("Xingchen accepted the workbook but gave no task to follow."))
    job.upstream_id = str(task.id)
    job.save(update_fields=["upstream_id"])
    return Again(delay=poll_delay(1), progress=20, note=gettext_noop("Converting on Xingchen…"))


def _poll(job: Job) -> Step:
    try:
        task = call_sync(lambda c: c.file_convert_result(task_id=int(job.upstream_id)))
    except XingchenError as exc:
        if exc.error_name == "ConvertTaskNotFound":
            return Failed(gettext_noop("Xingchen no longer knows this conversion; try again."))
        raise
    if task.status in _FAILED_STATUSES:
        return Failed(UNCONVERTIBLE)
    if task.status != "success":
        progress = min(90, 20 + 10 * job.steps)
        return Again(
            delay=poll_delay(job.steps),
            progress=progress,
            note=gettext_noop("Converting on Xingchen…"),
        )
    if not task.url:
        return Failed(gettext_noop("Xingchen finished the conversion but sent no document."))
    return _fetch(job, task.url)


def _fetch(job: Job, url: str) -> Step:
    from jobs.services import store_file

    limit = settings.JOB_CONVERT_MAX_DOCUMENT_BYTES
    try:
        content = run_sync(lambda: downloader().download(url, max_bytes=limit))
    except DownloadError as exc:
        return Failed(f"The document could not be fetched from Xingchen: {exc}")
    try:
        Document(io.BytesIO(content))
    except Exception:  # python-docx raises many kinds for a damaged file
        return Failed(gettext_noop("Xingchen sent a file that is not a Word document."))
    store_file(
        job, position=0, name=document_name(job), content=content, content_type=DOCX_CONTENT_TYPE
    )
    return _done(job)


def _done(job: Job) -> Step:
    convert_discard_source(job)
    return Succeeded({"document": document_name(job)}, note=gettext_noop("Document ready"))
