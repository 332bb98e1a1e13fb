"""Odd values are cell errors, never item failures: inf, nan, error cells (#REF!, #DIV/0!),
a time (or a negative serial) in a date column — each reported at its cell, the rest of the
list checked and forwarded as usual."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date

from service.forms.engine import check_file
from service.config import load_settings
from service.runner import Service
from tests.factory import mau1_xlsx, provincial_people, submission
from tests.outbox_reader import read_outbox
from tests.test_pipeline_samples import write_config

CELLS = {  # what some libraries write into a sheet's XML
    "F7": b'<c r="F7"><v>inf</v></c>',
    "G8": b'<c r="G8"><v>nan</v></c>',
    "F10": b'<c r="F10" t="e"><v>#DIV/0!</v></c>',
    "I11": b'<c r="I11" t="e"><v>#N/A</v></c>',
    "H12": b'<c r="H12"><v>-Infinity</v></c>',
}


def odd_list(tmp_path) -> bytes:
    data = mau1_xlsx("Sở Y tế", provincial_people(5, 8))
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            part = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                for ref, cell in CELLS.items():
                    part, n = re.subn(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', cell, part)
                    assert n == 1, ref
            z.writestr(info, part)
    return out.getvalue()


def test_odd_cells_are_errors_at_their_cells(tmp_path):
    path = tmp_path / "odd.xlsx"
    path.write_bytes(odd_list(tmp_path))
    report = check_file(path, today=date(2021, 9, 1))
    assert report.fatal is None
    got = {(e.column + str(e.row)): (e.code, e.value) for e in report.errors}
    assert got == {"F7": ("cell-not-a-number", "inf"), "G8": ("cell-not-a-number", "nan"),
                   "F10": ("cell-error", "#DIV/0!"), "I11": ("cell-error", "#N/A"),
                   "H12": ("cell-not-a-number", "-inf")}
    assert report.rows == 8 and report.valid_rows == 3
    msg = next(e.message for e in report.errors if e.code == "cell-error")
    assert msg.startswith('Cột "Nghề nghiệp" (ô F10) đang hiện lỗi #DIV/0! của Excel')


def test_a_list_with_odd_cells_is_answered_and_its_clean_rows_forwarded(tmp_path):
    cfg = write_config(tmp_path)
    (tmp_path / "Maildir" / "new" / "1.1.test").write_bytes(
        submission("vanthu@syt.angiang.example", odd_list(tmp_path)))
    svc = Service(load_settings(cfg))
    try:
        svc.run_once()
        assert svc.inq.counts() == {"new": 0, "claimed": 0, "bad": 0}
    finally:
        svc.close()
    sent = read_outbox(tmp_path / "out")
    assert sorted(m["kind"] for m in sent) == ["error-report", "forward"]
    (fw,) = [m for m in sent if m["kind"] == "forward"]
    assert fw["attachments"][0]["rows"] == 3
    assert not (tmp_path / "state" / "crash").exists()


def test_a_time_in_a_date_column_is_a_date_error():
    from datetime import time
    from service.forms.checks.dates import parse_dob
    value, (itype, _extra), fix = parse_dob(time(0, 0), date(2021, 9, 1))
    assert itype.code == "date-invalid" and "chỉ chứa giờ" in itype.template and fix is None


def xls_of(tmp_path, skip=None, extra=None):
    """The factory's list as a real BIFF8 .xls (xlwt), with ``extra(sheet)`` applied."""
    import openpyxl
    import xlwt
    ws = openpyxl.load_workbook(io.BytesIO(mau1_xlsx("Sở Y tế", provincial_people(6, 3)))).active
    book = xlwt.Workbook()
    sheet = book.add_sheet("DS")
    for i, row in enumerate(ws.iter_rows(values_only=True)):
        for j, v in enumerate(row):
            if v is not None and (i, j) != skip:
                sheet.write(i, j, v)
    extra(sheet)
    path = tmp_path / "ds.xls"
    book.save(str(path))
    return path


def test_an_error_cell_of_an_xls_is_an_error_at_its_cell(tmp_path):
    path = xls_of(tmp_path, skip=(7, 5), extra=lambda s: s.row(7).set_cell_error(5, "#REF!"))
    report = check_file(path, today=date(2021, 9, 1))
    assert [(e.code, e.column, e.row, e.value) for e in report.errors] == [("cell-error", "F", 8, "#REF!")]


def test_a_sparse_xls_is_read_without_padding_every_row(tmp_path):
    """One stray value at IV60001: xlrd padded every row to 256 cells (338 MB, 16 s)."""
    import json
    import subprocess
    import sys
    from tests.test_hostile import ROOT
    path = xls_of(tmp_path, extra=lambda s: s.write(60000, 255, "x"))
    code = ("import json,resource,sys; sys.path.insert(0, sys.argv[2]);"
            "from service.forms.engine import check_file; from datetime import date;"
            "r = check_file(sys.argv[1], today=date(2021, 9, 1));"
            "print(json.dumps({'rows': r.rows, 'fatal': r.fatal and r.fatal.code,"
            "'mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))")
    out = json.loads(subprocess.run([sys.executable, "-c", code, str(path), str(ROOT)], capture_output=True,
                                    text=True, check=True).stdout)
    assert out["rows"] == 3 and out["fatal"] is None and out["mb"] < 250  # 338 MB padded
