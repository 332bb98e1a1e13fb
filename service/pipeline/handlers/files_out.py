"""Workbooks the pipeline attaches: the clean export, the annotated copy, blank templates."""
from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from ...forms.model import Record, Report
from ...item import ANNOTATED_SUFFIX

_TEMPLATES: dict[str, bytes] = {}


def _via_temp(write, suffix: str = ".xlsx") -> bytes:
    fd, path = tempfile.mkstemp(suffix=suffix)
    os.close(fd)
    try:
        write(path)
        return Path(path).read_bytes()
    finally:
        os.unlink(path)


def export_bytes(report: Report, records: list[Record], title: str, form: str | None = None) -> bytes:
    """The project's canonical layout (for receivers who chose it in the directory)."""
    from ...forms.export import write_rows
    buf = io.BytesIO()
    f = form or report.form
    write_rows(f if f in ("mau1", "mau2") else "mau1", buf, list(records), title=title)
    return buf.getvalue()


def national_bytes(records: list[Record], directory) -> bytes:
    """The national platform's import template (the default layout of forwards)."""
    from ...forms.national import write_bytes
    return write_bytes(records, directory)


def annotated_bytes(report: Report, src: bytes, name: str) -> bytes:
    """The sender's workbook with its problems marked, made safe to send out: always a plain
    .xlsx package without macros, external links, connections, hyperlinks or formulas."""
    from ...forms import annotate as annotate_mod
    from ...forms.xlsx_clean import clean
    suffix = Path(name).suffix.lower() or ".xlsx"
    fd, srcpath = tempfile.mkstemp(suffix=suffix)
    with os.fdopen(fd, "wb") as fh:
        fh.write(src)
    try:
        return clean(_via_temp(lambda p: annotate_mod.annotate(report, srcpath, p, grid=report.grid)))
    finally:
        os.unlink(srcpath)


def template_bytes(form: str, directory) -> bytes:
    from ...forms.template import write_template
    if form not in _TEMPLATES:
        _TEMPLATES[form] = _via_temp(lambda p: write_template(form, p, directory))
    return _TEMPLATES[form]


def export_name(code: str, form: str, recipient_key: str) -> str:
    return f"{code}_{'Mau1' if form == 'mau1' else 'Mau2'}_{recipient_key}.xlsx"


def annotated_name(name: str) -> str:
    """"DS.xlsx" → "DS - kiểm tra.xlsx"; a macro workbook (.xlsm) comes back as a plain .xlsx
    without its macros (never a macro-enabled file from the official address)."""
    return Path(name).stem + ANNOTATED_SUFFIX
