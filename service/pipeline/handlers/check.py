"""Run the form engine on every file (on the day the item arrived)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ...forms.engine import check_file
from ..context import Checked, Context, Work
from ..plan import FileResult


def _suffix(name: str) -> str:
    s = Path(name).suffix.lower()
    return s if s in {".xlsx", ".xlsm", ".xls", ".csv", ".htm", ".html"} else ".bin"


def handle(w: Work, ctx: Context) -> None:
    today = w.item.received_at.date()
    for f in w.item.files:
        fd, tmp = tempfile.mkstemp(suffix=_suffix(f.name), dir=ctx.workdir)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(f.data)
            report = check_file(tmp, directory=ctx.directory, today=today,
                                max_rows=ctx.limit("max_rows"))
        finally:
            os.unlink(tmp)
        report.path = f.name
        w.checked.append(Checked(f, report))
        codes: dict[str, int] = {}
        for e in report.errors:
            codes[e.code] = codes.get(e.code, 0) + 1
        w.plan.files.append(FileResult(
            f.name, report.form, report.rows, report.valid_rows, errors=len(report.errors),
            error_codes=codes, fatal=report.fatal.code if report.fatal else None))
