"""Uploaded workbooks judged by their content: only what openpyxl reads as an .xlsx workbook
within the size, sheet and row limits goes to Xingchen, whatever the file is called."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import PurePath

import openpyxl
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel 97-2003 files and password-protected workbooks are OLE2 containers, not zip archives.
_OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A few MB of zip can unpack to gigabytes; openpyxl would read them all into memory.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
NAME_MAX_CHARS = 120

NOT_A_WORKBOOK = _(
    "This file is not an Excel workbook (.xlsx). Save it as .xlsx from Excel or LibreOffice "
    "and upload it again."
)
OLD_OR_LOCKED = _(
    "This is an Excel 97-2003 (.xls) or password-protected workbook. Save it as an "
    "unprotected .xlsx workbook and upload it again."
)


@dataclass(frozen=True)
class WorkbookSummary:
    sheets: int
    rows: int  # rows holding at least one value, over all sheets


def validate_workbook(file: File) -> WorkbookSummary:
    """Raises ValidationError with a message for the person who uploaded `file`."""
    limit = settings.JOB_CONVERT_MAX_BYTES
    if file.size is not None and file.size > limit:
        raise ValidationError(
            _("The workbook is %(size)s; the largest accepted is %(limit)s.")
            % {"size": filesizeformat(file.size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    file.seek(0)
    head = file.read(len(_OLE2_SIGNATURE))
    file.seek(0)
    if head == _OLE2_SIGNATURE:
        raise ValidationError(OLD_OR_LOCKED, code="old_or_locked")
    try:
        _check_archive(file)
        return _summarise(file)
    finally:
        file.seek(0)


def _check_archive(file: File) -> None:
    try:
        with zipfile.ZipFile(file) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ValidationError(NOT_A_WORKBOOK, code="not_workbook") from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise ValidationError(
            _("The workbook unpacks to more than %(limit)s; split it into smaller workbooks.")
            % {"limit": filesizeformat(MAX_UNPACKED_BYTES)},
            code="too_large",
        )


def _summarise(file: File) -> WorkbookSummary:
    max_sheets, max_rows = settings.JOB_CONVERT_MAX_SHEETS, settings.JOB_CONVERT_MAX_ROWS
    file.seek(0)
    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (KeyError, XML errors...) for junk
        raise ValidationError(NOT_A_WORKBOOK, code="not_workbook") from exc
    try:
        sheets = workbook.worksheets
        if not sheets:
            raise ValidationError(_("The workbook has no worksheets."), code="empty")
        if len(sheets) > max_sheets:
            raise ValidationError(
                _("The workbook has %(count)d sheets; at most %(limit)d are accepted.")
                % {"count": len(sheets), "limit": max_sheets},
                code="too_many_sheets",
            )
        total = 0
        for sheet in sheets:
            rows = _rows_with_values(sheet, stop_after=max_rows)
            if rows > max_rows:
                raise ValidationError(
                    _("Sheet “%(sheet)s” has more than %(limit)d rows; split it and try again.")
                    % {"sheet": sheet.title, "limit": max_rows},
                    code="too_many_rows",
                )
            total += rows
    except ValidationError:
        raise
    except Exception as exc:  # a sheet whose XML is damaged fails only when it is read
        raise ValidationError(NOT_A_WORKBOOK, code="not_workbook") from exc
    finally:
        workbook.close()
    if total == 0:
        raise ValidationError(_("The workbook is empty: there is nothing to convert."), "empty")
    return WorkbookSummary(sheets=len(sheets), rows=total)


def _rows_with_values(sheet, *, stop_after: int) -> int:  # noqa: ANN001 - openpyxl worksheet
    count = 0
    for values in sheet.iter_rows(values_only=True):
        if any(value is not None for value in values):
            count += 1
            if count > stop_after:
                break
    return count


def display_name(name: str) -> str:
    """The uploaded file's own name, without folders, cut to a length fit for the page."""
    name = PurePath(name.replace("\\", "/")).name.strip() or "workbook.xlsx"
    return name[-NAME_MAX_CHARS:]


class WorkbookForm(forms.Form):
    workbook = forms.FileField(
        label=_("Excel workbook (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": f".xlsx,{XLSX_CONTENT_TYPE}"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["workbook"].help_text = _(
            "Up to %(size)s, %(sheets)d sheets and %(rows)d rows a sheet."
        ) % {
            "size": filesizeformat(settings.JOB_CONVERT_MAX_BYTES),
            "sheets": settings.JOB_CONVERT_MAX_SHEETS,
            "rows": settings.JOB_CONVERT_MAX_ROWS,
        }
        self.summary: WorkbookSummary | None = None

    def clean_workbook(self) -> File:
        workbook = self.cleaned_data["workbook"]
        self.summary = validate_workbook(workbook)
        return workbook
