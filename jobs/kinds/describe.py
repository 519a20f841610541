"""Character descriptions: Xingchen's auto-desc writes one from text or a file, in one call.

Files Xingchen reads itself (.txt, .md, .docx) are handed over by URL, as its API asks: it
fetches them from PUBLIC_BASE_URL with the job's token while the job runs. Its API names no PDF
support, so a PDF's text is read here and sent as text. An upload is deleted once its
description is written; a failed or cancelled job keeps it for "Try again". The result waits on
the job until staff accept it as the basic information or discard it (characters.services)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_noop
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from jobs.models import Job
from jobs.steps import Failed, Step, Succeeded
from jobs.storage import private_storage
from platforms.xingchen.types import AutoDescRequest
from project.upstream import call_sync

# Past this much text a PDF says enough about a character; longer requests only cost more.
MAX_PDF_CHARS = 20_000


class _Unreadable(Exception):
    """The source cannot be turned into a request; the message is meant for people."""


def step(job: Job) -> Step:
    if job.result.get("description"):
        return Succeeded(
            job.result, note=gettext_noop("Description ready")
        )  # an earlier run got it
    try:
        request = _request(job)
    except _Unreadable as exc:
        return Failed(str(exc))
    described = call_sync(lambda c: c.character_auto_desc(request))
    content = described.content.strip()
    if not content:
        return Failed(
            gettext_noop("Xingchen wrote an empty description; try again or give it more to go on.")
        )
    if job.params.get("file"):
        private_storage.delete(job.params["file"])
    return Succeeded({"description": content}, note=gettext_noop("Description ready"))


def _request(job: Job) -> AutoDescRequest:
    params = job.params
    if params.get("source") != "file":
        return AutoDescRequest(type="text", text=params["text"])
    name = params["file_name"]
    if not private_storage.exists(params["file"]):
        raise _Unreadable(f"The uploaded file {name} is no longer here; upload it again.")
    if name.lower().endswith(".pdf"):
        return AutoDescRequest(type="text", text=_pdf_text(params["file"]))
    path = reverse("characters:describe_source", args=[job.public_token])
    return AutoDescRequest(
        type="file", file_url=f"{settings.PUBLIC_BASE_URL}{path}", file_name=name
    )


def _pdf_text(stored: str) -> str:
    try:
        with private_storage.open(stored) as handle:
            pages = [page.extract_text() or "" for page in PdfReader(handle).pages]
    except (PyPdfError, ValueError, OSError) as exc:
        raise _Unreadable(f"The PDF could not be read: {exc}") from exc
    text = "\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise _Unreadable("The PDF holds no text (a scanned document?); paste its text instead.")
    return text[:MAX_PDF_CHARS]
