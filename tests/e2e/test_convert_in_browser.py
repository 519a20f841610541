"""Excel to Word in a browser: upload a workbook, watch its card go from progress to a download
link without reloading, and get a document holding the cells. A daphne process serves the site
(also to the simulator, which fetches the workbook from it) and a real worker runs the job."""

from __future__ import annotations

import io
from collections.abc import Iterator

import openpyxl
import pytest
from docx import Document
from playwright.sync_api import expect

from tests.conftest import current_database_url
from tests.e2e.conftest import ARTIFACTS, login
from tests.live_server import LiveServer, start_daphne
from tests.worker_process import WorkerProcess

pytestmark = pytest.mark.e2e
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _workbook() -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "Menu"
    for row in (["Dish", "Price"], ["Dumplings", 18], ["Noodles", 22]):
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def site_with_worker(sim, tmp_path) -> Iterator[tuple[LiveServer, WorkerProcess]]:
    """daphne queueing to a real worker; both share the private files of this test."""
    worker = WorkerProcess(tmp_path / "worker-data", sim)
    env = {
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_QUEUE": worker.queue,
        "PRIVATE_MEDIA_ROOT": worker.env["PRIVATE_MEDIA_ROOT"],
    }
    if "CELERY_BROKER_DIR" in worker.env:
        env["CELERY_BROKER_DIR"] = worker.env["CELERY_BROKER_DIR"]
    server = start_daphne(
        database_url=current_database_url(),
        simulator=sim,
        data_dir=tmp_path / "site-data",
        env=env,
    )
    worker.env["PUBLIC_BASE_URL"] = server.base_url
    try:
        worker.start()
        worker.wait_ready()
        yield server, worker
    finally:
        worker.stop()
        server.stop()


@pytest.mark.django_db(transaction=True)
def test_alice_watches_her_workbook_become_a_word_document(site_with_worker, page, alice):
    server, worker = site_with_worker
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    login(page, server.base_url, "alice")

    page.goto(f"{server.base_url}/jobs/convert/")
    page.set_input_files(
        "input[name=workbook]",
        files=[{"name": "menu.xlsx", "mimeType": XLSX, "buffer": _workbook()}],
    )
    page.get_by_role("button", name="Convert to Word").click()
    page.wait_for_url("**/jobs/convert/#job-*")
    card = page.locator("article.job-card").first
    expect(card).to_contain_text("From menu.xlsx (1 sheet)")
    expect(card.locator("progress")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "convert-in-progress.png"), full_page=True)
    page.evaluate("window.stillTheSamePage = true")

    link = card.get_by_role("link", name="Download menu.docx")
    try:
        expect(link).to_be_visible(timeout=60_000)
    except AssertionError:
        raise AssertionError(worker.log() + server.log()[-3000:]) from None
    expect(card).to_contain_text("Done")
    expect(card.locator("progress")).to_have_count(0)
    assert page.evaluate("window.stillTheSamePage") is True  # no reload

    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "menu.docx"
    document = Document(download.path())
    cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    assert {"Dish", "Price", "Dumplings", "18", "Noodles", "22"} <= cells

    # The job centre keeps it, with the same card.
    page.goto(f"{server.base_url}/jobs/")
    listed = page.locator("article.job-card", has_text="menu.xlsx")
    expect(listed).to_contain_text("Done")
    expect(listed.get_by_role("link", name="Download menu.docx")).to_be_visible()
    assert problems == []
