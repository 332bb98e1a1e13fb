"""What a file is, from its first bytes: the one place for the magic numbers.

The form engine's guard (``forms/read/guard.py``) decides with these what reader opens a
file; the mail intake which extension a misnamed attachment really has; the folder intake
whether a dropped file is complete yet.
"""
from __future__ import annotations

import io
import zipfile

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: .xls (BIFF), .doc, encrypted .xlsx
ZIP_LOCAL = b"PK\x03\x04"  # a zip's first local header: .xlsx, .xlsm, .ods, .zip
ZIP_EMPTY = b"PK\x05\x06"  # a zip that is only its end-of-central-directory record
ZIP_END = ZIP_EMPTY  # the end-of-central-directory signature (a complete zip has it near the end)


def is_zip(head: bytes) -> bool:
    return head.startswith(ZIP_LOCAL) or head.startswith(ZIP_EMPTY)


def is_ole2(head: bytes) -> bool:
    return head.startswith(OLE2)


def ole_holds_workbook(data: bytes) -> bool:
    """An OLE2 file with an Excel stream ("Workbook", or "Book" of Excel 5/95)."""
    return is_ole2(data) and ("Workbook".encode("utf-16-le") in data or "Book\0".encode("utf-16-le") in data)


def zip_names(data: bytes) -> list[str] | None:
    """The member names of a zip held in memory; None when it is not a readable zip."""
    if not data.startswith(b"PK"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.namelist()
    except Exception:  # noqa: BLE001 - BadZipFile, truncated data, …
        return None


def workbook_suffix(names: list[str] | None) -> str | None:
    """".xlsx" or ".xlsm" when the zip members are an Excel workbook's, else None."""
    if names is None:
        return None
    lowered = {n.lower() for n in names}
    if "xl/workbook.xml" in lowered:
        return ".xlsm" if "xl/vbaproject.bin" in lowered else ".xlsx"
    return None
