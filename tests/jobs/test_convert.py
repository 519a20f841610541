"""Excel to Word: a workbook uploaded at /jobs/convert/ comes back as a Word document holding its
cells. Xingchen (the simulator) fetches the workbook from the product's public address, served
here by pytest-django's live server, and converts it for real."""

from __future__ import annotations

import io
import uuid
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from docx import Document

from jobs import services
from jobs.kinds.convert import UNCONVERTIBLE
from jobs.models import Job
from jobs.storage import private_storage
from tests.factories import png_bytes
from tests.jobs.helpers import job_ended, wait_until
from tests.worker_process import WorkerProcess

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BUDGET = {
    "Budget": [["Item", "Cost"], ["Tea", 3.5], ["Cake", 12]],
    "People": [["Name", "City"], ["星尘", "杭州"]],
}


def workbook_bytes(sheets: dict[str, list[list[object]]] = BUDGET) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client: Client, content: bytes, name: str = "budget.xlsx"):
    return client.post(
        reverse("jobs:convert"), {"workbook": SimpleUploadedFile(name, content, XLSX)}
    )


def document_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([*(p.text for p in document.paragraphs), *cells])


def downloaded(client: Client, job: Job):
    stored = job.files.get()
    return client.get(reverse("jobs:file", args=[stored.pk]))


def stored_sources() -> list[str]:
    return private_storage.listdir("sources")[1] if private_storage.exists("sources") else []


@pytest.fixture
def public_site(live_server, settings) -> str:
    """The product's public address, reachable by the simulator."""
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server.url


@pytest.fixture
def convert_worker(idle_worker, public_site) -> WorkerProcess:
    """A real worker that gives Xingchen the live server's address for workbooks."""
    idle_worker.env["PUBLIC_BASE_URL"] = public_site
    idle_worker.start()
    idle_worker.wait_ready()
    return idle_worker


@pytest.fixture
def alice_client(client, alice) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob) -> Client:
    other = Client()
    other.force_login(bob)
    return other


def _step_until_ended(job: Job) -> Job:
    """Runs the job's steps in this process as a worker would, each when it is due."""

    def ended() -> Job | None:
        services.job_step(job.pk)
        fresh = Job.objects.get(pk=job.pk)
        return None if fresh.is_active() else fresh

    return wait_until(ended, f"job {job.pk} ends")


# --- the whole way, with a real worker -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_alice_gets_a_word_document_holding_her_workbooks_cells(
    convert_worker, alice_client, bob_client, client
):
    response = upload(alice_client, workbook_bytes())
    job = Job.objects.get(kind=Job.Kind.CONVERT)
    assert response.status_code == 302 and response.url.endswith(f"#job-{job.pk}")

    job = job_ended(job, convert_worker)
    assert job.status == Job.Status.SUCCEEDED, job.error
    document = downloaded(alice_client, job)
    assert document.status_code == 200
    assert document["Content-Type"] == DOCX
    assert 'filename="budget.docx"' in document["Content-Disposition"]
    text = document_text(b"".join(document.streaming_content))
    for expected in ("Budget", "Item", "Cost", "Tea", "3.5", "Cake", "12", "People", "星尘"):
        assert expected in text
    assert downloaded(bob_client, job).status_code == 404
    # The card of the finished job offers the document.
    page = alice_client.get(reverse("jobs:convert")).content.decode()
    assert "Download budget.docx" in page
    # Once the job has ended the workbook is neither served nor kept.
    source = reverse("jobs:convert_source", kwargs={"token": job.public_token})
    assert Client().get(source).status_code == 404
    assert stored_sources() == []


@pytest.mark.django_db(transaction=True)
def test_a_conversion_xingchen_refuses_fails_readably_and_try_again_converts_it(
    convert_worker, sim, alice_client
):
    sim.inject("aca-doc-converter-submit", status=400, count=1)
    upload(alice_client, workbook_bytes())
    job = job_ended(Job.objects.get(kind=Job.Kind.CONVERT), convert_worker)
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("Xingchen rejected the request (HTTP 400)")
    card = alice_client.get(reverse("jobs:card", args=[job.pk])).content.decode()
    assert job.error in card and "Try again" in card

    alice_client.post(reverse("jobs:retry", args=[job.pk]))
    job = job_ended(job, convert_worker)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert "Cake" in document_text(b"".join(downloaded(alice_client, job).streaming_content))


# --- steps run here ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_busy_xingchen_only_delays_the_document(public_site, sim, alice_client):
    sim.inject("aca-doc-converter-result", status=503, count=2)
    upload(alice_client, workbook_bytes())
    job = _step_until_ended(Job.objects.get(kind=Job.Kind.CONVERT))
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert "Tea" in document_text(b"".join(downloaded(alice_client, job).streaming_content))


@pytest.mark.django_db(transaction=True)
def test_a_workbook_xingchen_cannot_fetch_fails_with_a_reason_and_converts_when_tried_again(
    public_site, settings, alice_client
):
    # A wrong public address (nothing listens there): Xingchen's conversion fails.
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"
    upload(alice_client, workbook_bytes())
    job = _step_until_ended(Job.objects.get(kind=Job.Kind.CONVERT))
    assert job.status == Job.Status.FAILED
    assert job.error == UNCONVERTIBLE
    assert len(stored_sources()) == 1  # kept for "Try again"

    settings.PUBLIC_BASE_URL = public_site
    alice_client.post(reverse("jobs:retry", args=[job.pk]))
    job = _step_until_ended(job)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert "Cake" in document_text(b"".join(downloaded(alice_client, job).streaming_content))
    assert stored_sources() == []


# --- uploads that are refused --------------------------------------------------------------


def _docx_bytes() -> bytes:
    out = io.BytesIO()
    Document().save(out)
    return out.getvalue()


def _zip_of_notes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hi")
    return out.getvalue()


NOT_WORKBOOKS = {
    "a PDF renamed .xlsx": b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
    "a PNG renamed .xlsx": png_bytes(),
    "a damaged workbook": workbook_bytes()[:900],
    "a Word document renamed .xlsx": _docx_bytes(),
    "a zip of something else": _zip_of_notes(),
}


@pytest.mark.django_db
@pytest.mark.parametrize("content", NOT_WORKBOOKS.values(), ids=NOT_WORKBOOKS.keys())
def test_a_file_that_is_not_a_workbook_is_refused_and_starts_no_job(alice_client, content):
    response = upload(alice_client, content)
    assert response.status_code == 400
    assert "This file is not an Excel workbook (.xlsx)." in response.content.decode()
    assert not Job.objects.exists()
    assert stored_sources() == []


@pytest.mark.django_db
def test_an_old_excel_file_is_refused_with_how_to_fix_it(alice_client):
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    response = upload(alice_client, ole2, name="old.xls")
    assert response.status_code == 400
    assert "Save it as an unprotected .xlsx workbook" in response.content.decode()
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_workbooks_over_the_limits_are_refused_with_the_limit_named(alice_client, settings):
    settings.JOB_CONVERT_MAX_SHEETS, settings.JOB_CONVERT_MAX_ROWS = 2, 3
    three_sheets = workbook_bytes({"A": [[1]], "B": [[2]], "C": [[3]]})
    assert "has 3 sheets; at most 2 are accepted" in upload(alice_client, three_sheets).text
    long_sheet = workbook_bytes({"Long": [[n] for n in range(4)]})
    assert "Sheet “Long” has more than 3 rows" in upload(alice_client, long_sheet).text
    settings.JOB_CONVERT_MAX_BYTES = 1024
    too_big = upload(alice_client, workbook_bytes())
    assert too_big.status_code == 400 and "the largest accepted is 1.0\xa0KB" in too_big.text
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_uploads_beyond_the_rate_are_refused_and_say_when_to_come_back(alice_client, settings):
    settings.JOB_CONVERT_RATE = "1/h"
    assert upload(alice_client, workbook_bytes()).status_code == 302
    response = upload(alice_client, workbook_bytes())
    assert response.status_code == 429
    assert "You converted many workbooks lately; try again in" in response.text
    assert Job.objects.count() == 1


# --- the public address of the workbook ----------------------------------------------------


@pytest.mark.django_db
def test_the_workbook_is_served_without_sign_in_only_while_its_job_runs(alice_client):
    content = workbook_bytes()
    upload(alice_client, content)  # the job stays queued: nothing commits in this test
    job = Job.objects.get(kind=Job.Kind.CONVERT)
    source = reverse("jobs:convert_source", kwargs={"token": job.public_token})
    anonymous = Client()

    served = anonymous.get(source)
    assert served.status_code == 200
    assert served["Content-Type"] == XLSX
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == content
    assert anonymous.post(source).status_code == 405
    unknown = reverse("jobs:convert_source", kwargs={"token": uuid.uuid4()})
    assert anonymous.get(unknown).status_code == 404

    alice_client.post(reverse("jobs:cancel", args=[job.pk]))
    assert anonymous.get(source).status_code == 404


# --- the page ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_convert_page_shows_the_form_and_only_alices_conversions(
    alice, bob, alice_client, django_assert_num_queries
):
    for owner, name in ((alice, "mine.xlsx"), (alice, "also-mine.xlsx"), (bob, "theirs.xlsx")):
        services.job_create(owner=owner, kind=Job.Kind.CONVERT, params={"name": name, "sheets": 2})
    with django_assert_num_queries(4):  # session, user, jobs, their files: none per job
        response = alice_client.get(reverse("jobs:convert"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'type="file" name="workbook"' in page and "Up to 5.0\xa0MB, 20 sheets" in page
    assert "From mine.xlsx (2 sheets)" in page and "From also-mine.xlsx" in page
    assert "theirs.xlsx" not in page


@pytest.mark.django_db
def test_the_convert_page_needs_sign_in_and_takes_only_get_and_post(alice_client):
    url = reverse("jobs:convert")
    assert Client().get(url).status_code == 302
    assert alice_client.put(url).status_code == 405
