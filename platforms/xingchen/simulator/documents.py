"""Excel-to-docx conversion, done for real: openpyxl reads the workbook, python-docx writes one
table per sheet. The first result poll reports `init`, later polls the outcome."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import zipfile
from typing import Any

import openpyxl
from docx import Document
from openpyxl.utils.exceptions import InvalidFileException

from .errors import bad_request, not_found
from .files import FetchError, fetch
from .params import integer, text
from .state import Simulator

CONVERT_TYPE = "excelToDocx"
MAX_ROWS = 2000
MAX_COLUMNS = 50


class ConversionError(Exception):
    pass


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def excel_to_docx(workbook_bytes: bytes) -> bytes:
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(workbook_bytes), read_only=True, data_only=True
        )
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ConversionError("The source file is not a readable Excel (.xlsx) workbook.") from exc
    document = Document()
    for sheet in workbook.worksheets:
        document.add_heading(sheet.title, level=2)
        rows = [
            [_cell_text(v) for v in row[:MAX_COLUMNS]]
            for row in sheet.iter_rows(max_row=MAX_ROWS, values_only=True)
        ]
        width = max((len(r) for r in rows), default=0)
        if not rows or width == 0:
            document.add_paragraph("(empty sheet)")
            continue
        table = document.add_table(rows=len(rows), cols=width)
        table.style = "Table Grid"
        for row_cells, values in zip(table.rows, rows, strict=True):
            for cell, value in zip(row_cells.cells, values, strict=False):
                cell.text = value
    workbook.close()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


async def submit(sim: Simulator, body: dict[str, Any]) -> dict[str, Any]:
    convert_type = text(body, "type", required=True)
    if convert_type != CONVERT_TYPE:
        raise bad_request("UnsupportedConvertType", f"type must be {CONVERT_TYPE}.")
    source_url = text(body, "sourceUrl", required=True)
    file_name = error = None
    try:
        response = await fetch(sim.http, source_url, timeout=10.0)
        converted = await asyncio.to_thread(excel_to_docx, response.content)
    except (FetchError, ConversionError) as exc:
        outcome, error = "failed", str(exc)
    else:
        outcome = "success"
    cursor = sim.store.run(
        "INSERT INTO conversions (source_url, outcome, error) VALUES (?, ?, ?)",
        (source_url, outcome, error),
    )
    task_id = int(cursor.lastrowid or 0)
    if outcome == "success":
        file_name = f"converted-{task_id}.docx"
        sim.files.save(file_name, converted)
        sim.store.run("UPDATE conversions SET file_name = ? WHERE id = ?", (file_name, task_id))
    return {"id": task_id, "status": "init", "url": ""}


def result(sim: Simulator, query: dict[str, str]) -> dict[str, Any]:
    task_id = integer(query.get("taskId"), "taskId")
    if task_id is None:
        raise bad_request("MissingParameter", "taskId is required.")
    row = sim.store.one("SELECT * FROM conversions WHERE id = ?", (task_id,))
    if row is None:
        raise not_found("ConvertTaskNotFound", f"Conversion task {task_id} does not exist.")
    polls = row["polls"] + 1
    sim.store.run("UPDATE conversions SET polls = ? WHERE id = ?", (polls, task_id))
    if polls == 1:
        return {"id": task_id, "status": "init", "url": ""}
    if row["outcome"] == "success":
        return {"id": task_id, "status": "success", "url": sim.files.signed_url(row["file_name"])}
    return {"id": task_id, "status": "failed", "url": "", "errorMessage": row["error"]}
