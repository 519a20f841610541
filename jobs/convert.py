"""Excel to Word: an uploaded workbook is kept in private storage and offered to Xingchen at an
unguessable address under PUBLIC_BASE_URL for as long as its job runs; jobs.kinds.convert
submits it and brings the document back.

The workbook is deleted once its document is stored. A failed or cancelled job keeps it (never
served, since the job is not running) so that "Try again" can send it again.
"""

from __future__ import annotations

import uuid
from pathlib import PurePath
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db.models import QuerySet
from django.urls import reverse

from jobs.models import Job
from jobs.services import job_create, jobs_visible_to
from jobs.storage import private_storage
from jobs.workbooks import WorkbookSummary, display_name

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SOURCE_FOLDER = "sources"


class SourceNotFound(Exception):
    """No workbook to serve: unknown token, a job that has ended, or a file already removed."""


def convert_start(*, owner: AbstractBaseUser, workbook: File, summary: WorkbookSummary) -> Job:
    """Stores a validated workbook and queues its conversion."""
    stored = private_storage.save(f"{SOURCE_FOLDER}/{uuid.uuid4().hex}.xlsx", workbook)
    params = {
        "source": stored,
        "name": display_name(workbook.name or ""),
        "sheets": summary.sheets,
        "rows": summary.rows,
    }
    try:
        return job_create(owner=owner, kind=Job.Kind.CONVERT, params=params)
    except Exception:
        private_storage.delete(stored)
        raise


def conversions_of(user: AbstractBaseUser) -> QuerySet[Job]:
    """The user's own conversions, newest first (staff see others' in the job centre)."""
    return jobs_visible_to(user).filter(owner=user, kind=Job.Kind.CONVERT)


def convert_source_url(job: Job) -> str:
    path = reverse("jobs:convert_source", kwargs={"token": job.public_token})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def convert_source(token: UUID) -> tuple[Job, File]:
    """The workbook of the running conversion `token` names, opened for reading."""
    job = Job.objects.filter(
        public_token=token, kind=Job.Kind.CONVERT, status__in=Job.ACTIVE
    ).first()
    name = job.params.get("source") if job else None
    if job is None or not name or not private_storage.exists(name):
        raise SourceNotFound(token)
    return job, private_storage.open(name, "rb")


def source_exists(job: Job) -> bool:
    name = job.params.get("source")
    return bool(name) and private_storage.exists(name)


def convert_discard_source(job: Job) -> None:
    name = job.params.get("source")
    if name:
        private_storage.delete(name)


def document_name(job: Job) -> str:
    """`budget.xlsx` becomes `budget.docx`."""
    stem = PurePath(job.params.get("name") or "").stem or "workbook"
    return f"{stem}.docx"
