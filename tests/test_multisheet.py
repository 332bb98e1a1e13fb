"""A workbook with its people on several sheets (one per hamlet): every sheet that holds a list
is read, counted, checked and forwarded; every issue names its sheet (SPEC, issue 9).

Real .xlsx (openpyxl) and .xls (xlwt) files with "Ấp 1", "Ấp 2", "Ấp 3" and a notes sheet.
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from service.forms.annotate import annotate
from service.forms.engine import check_file
from service.forms.render import render_text
from tests import multisheet as M
from tests.factory import People
from tests.outbox_reader import read_outbox

ROOT = Path(__file__).resolve().parent.parent
SENDER = "ubnd.mybinh.longxuyen@angiang.example"  # UBND Phường Mỹ Bình (Long Xuyên)
# person 3 of "Ấp 2" (Excel row FIRST + 2) has a phone with letters; its phone is column H
BAD = {("Ấp 2", 3): {"Số điện thoại": "0912abc678"}}
BAD_ROW = M.FIRST + 2
COUNTS = (3, 4, 2)


def write(tmp_path: Path, kind: str, **kw) -> Path:
    path = tmp_path / f"Danh sách ba ấp.{kind}"
    path.write_bytes(M.workbook(kind, COUNTS, **kw))
    return path


@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_every_sheet_with_a_list_is_read_and_every_issue_names_its_sheet(tmp_path, kind):
    path = write(tmp_path, kind, bad=BAD)
    out = subprocess.run([sys.executable, "-m", "service.cli", "check", str(path), "--json",
                          "--today", "2021-08-25"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)
    assert data["form"] == "mau1"
    assert data["rows"] == sum(COUNTS) and data["valid_rows"] == sum(COUNTS) - 1
    assert data["sheets"] == list(M.SHEETS)  # the notes sheet holds no list
    (err,) = data["errors"]
    assert (err["sheet"], err["row"], err["column"], err["field"], err["code"]) == (
        "Ấp 2", BAD_ROW, "H", "phone", "phone-letters")
    assert all("sheet" in x for x in data["warnings"] + data["fixes"])
    assert data["skipped"] == {"column_numbers": 3, "footer": 3}  # counted on all sheets


def test_fixes_and_warnings_carry_the_sheet_they_were_found_on(tmp_path):
    path = write(tmp_path, "xlsx", bad={("Ấp 3", 1): {"Số điện thoại": "+84912345678"},
                                        ("Ấp 1", 2): {"Nhóm ưu tiên": None, "Số thẻ BHYT": "abc"}})
    r = check_file(path)
    assert [(f.sheet, f.row, f.code) for f in r.fixes] == [("Ấp 3", M.FIRST, "phone-country-code")]
    assert r.fixes[0].as_json()["sheet"] == "Ấp 3"
    assert {(i.sheet, i.row) for i in r.errors + r.warnings} == {("Ấp 1", M.FIRST + 1)}
    assert {rec.sheet for rec in r.records} == set(M.SHEETS)


def test_the_text_view_names_the_sheet_of_each_problem(tmp_path):
    r = check_file(write(tmp_path, "xls", bad=BAD))
    text = render_text(r)
    assert '"Ấp 1", "Ấp 2", "Ấp 3"' in text and '"Ấp 2": 4' in text
    line = next(line for line in text.splitlines() if "0912abc678" in line)
    assert line.startswith("Ấp 2") and f"H{BAD_ROW}" in line


def test_a_single_sheet_file_reads_as_before_with_its_sheet_named(tmp_path):
    path = tmp_path / "one.xlsx"
    path.write_bytes(M.workbook("xlsx", lists={"Ấp 1": M.people((3,))["Ấp 1"]},
                                bad={("Ấp 1", 1): {"Số điện thoại": "12"}}))
    r = check_file(path)
    assert not r.multi_sheet and r.rows == 3 and r.sheet == "Ấp 1"
    assert [e.as_json()["sheet"] for e in r.errors] == ["Ấp 1"]
    assert {rec.sheet for rec in r.records} == {None}
    assert "Trang " not in render_text(r).split("LỖI:")[1].splitlines()[1]  # no sheet column


def test_an_id_number_on_two_sheets_is_a_duplicate_naming_the_first_sheet(tmp_path):
    lists = M.people(COUNTS)
    lists["Ấp 3"][1] = dict(lists["Ấp 3"][1], cccd=lists["Ấp 1"][0]["cccd"])
    path = tmp_path / "dup.xlsx"
    path.write_bytes(M.workbook("xlsx", lists=lists))
    r = check_file(path)
    (dup,) = [e for e in r.errors if e.code == "id-duplicate"]
    assert (dup.sheet, dup.row, dup.column) == ("Ấp 3", M.FIRST + 1, "I")
    assert f"dòng {M.FIRST} của trang tính “Ấp 1”" in dup.message
    assert r.valid_rows == sum(COUNTS) - 1


def test_sheets_of_different_forms_keep_each_person_in_its_own_form(tmp_path):
    from tests.factory import build
    people = People(5)
    one = openpyxl.load_workbook(io.BytesIO(M.workbook("xlsx", (2,))))
    two = openpyxl.load_workbook(io.BytesIO(build.mau2_xlsx(
        "UBND Phường Mỹ Bình", [people.person("Thành phố Long Xuyên", "Phường Mỹ Bình") for _ in range(3)],
        ["Trung tâm Y tế thành phố Long Xuyên"])))
    dst = one.create_sheet("Đã tiêm")
    for row in two.active.iter_rows(values_only=True):
        dst.append(list(row))
    path = tmp_path / "mixed.xlsx"
    one.save(path)
    r = check_file(path)
    assert r.form == "mau2" and r.rows == 5
    assert Counter((rec.sheet, rec.form) for rec in r.records) == {("Ấp 1", "mau1"): 2, ("Đã tiêm", "mau2"): 3}


@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_the_annotated_copy_marks_the_cell_on_the_right_sheet(tmp_path, kind):
    path = write(tmp_path, kind, bad=BAD)
    r = check_file(path)
    out = tmp_path / "kiem-tra.xlsx"
    annotate(r, str(path), str(out), grid=r.grid)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "Kết quả kiểm tra" and set(M.SHEETS) <= set(wb.sheetnames)
    bad = wb["Ấp 2"][f"H{BAD_ROW}"]
    assert bad.fill.fgColor.rgb.endswith("FFC7CE") and "0912abc678" in bad.comment.text
    for name in ("Ấp 1", "Ấp 3"):  # the same cell on the other sheets is untouched
        cell = wb[name][f"H{BAD_ROW}"]
        assert cell.comment is None and not (cell.fill.fgColor.rgb or "").endswith("FFC7CE")
    loi = [c.value for c in wb["Ấp 2"][2] if c.value == "Lỗi"]
    assert loi and "0912abc678" in str(wb["Ấp 2"].cell(BAD_ROW, len(M.HEADER) + 1).value)
    summary = [row for row in wb.worksheets[0].iter_rows(values_only=True) if any(row)]
    assert any(row[0] == "Trang tính:" and "“Ấp 2”" in row[2] for row in summary)
    (listed,) = [row for row in summary if row[0] == BAD_ROW]
    assert listed[1] == "H" and listed[6] == "Ấp 2"


# ---------------------------------------------------------------------------- the pipeline


def _config(tmp: Path) -> Path:
    maildir = tmp / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    cfg = tmp / "vaxmail.toml"
    cfg.write_text(f'[mailbox]\nurl = "maildir:{maildir}"\n[smtp]\nurl = "file:{tmp / "out"}"\n'
                   f'[state]\npath = "{tmp / "state"}"\n', encoding="utf-8")
    return cfg


def _mail(n: int, kind: str, data: bytes) -> bytes:
    from email.message import EmailMessage
    from email.utils import format_datetime
    from datetime import datetime, timezone
    m = EmailMessage()
    m["From"] = f"UBND Phường Mỹ Bình <{SENDER}>"
    m["To"] = "tiemchung@angiang.example"
    m["Subject"] = f"Danh sách đăng ký tiêm ba ấp ({kind})"
    m["Date"] = format_datetime(datetime.now(timezone.utc))
    m["Message-ID"] = f"<multisheet-{n}@angiang.example>"
    m.set_content("Kính gửi, đơn vị gửi danh sách ba ấp, mỗi ấp một trang tính.")
    sub = ("vnd.openxmlformats-officedocument.spreadsheetml.sheet" if kind == "xlsx" else "vnd.ms-excel")
    m.add_attachment(data, maintype="application", subtype=sub, filename=f"DS ba ap.{kind}")
    return bytes(m)


@pytest.mark.slow
def test_the_pipeline_forwards_the_people_of_every_sheet_and_the_reply_names_the_sheet(tmp_path):
    from service.config import load_settings
    from service.runner import Service
    cfg = _config(tmp_path)
    xlsx_people = M.people(COUNTS, seed=21)
    xls_people = M.people(COUNTS, seed=22)
    mails = [_mail(1, "xlsx", M.workbook("xlsx", lists=xlsx_people, bad=BAD)),
             _mail(2, "xls", M.workbook("xls", lists=xls_people, bad=BAD))]
    for n, data in enumerate(mails):
        (tmp_path / "Maildir" / "new" / f"1629853200.{n}.test").write_bytes(data)
    svc = Service(load_settings(cfg))
    try:
        svc.run_once()
    finally:
        svc.close()
    sent = read_outbox(tmp_path / "out")
    forwards = [m for m in sent if m["kind"] == "forward"]
    assert len(forwards) == 2 and all(m["to"] == ["ttyt.longxuyen@angiang.example"] for m in forwards)
    got_ids = []
    for m in forwards:
        got = m["attachments"][0]["check"]  # the forward read back by the engine
        assert got["national"] and not got["errors"] and got["rows"] == sum(COUNTS) - 1
        got_ids.append(frozenset(pid for _, _, pid in got["people"]))
    expected = []
    for lists in (xlsx_people, xls_people):
        ids = {p["cccd"] for name in M.SHEETS for p in lists[name]}
        ids.discard(lists["Ấp 2"][2]["cccd"])  # the row with the bad phone is reported, not sent
        expected.append(frozenset(ids))
    assert sorted(got_ids, key=sorted) == sorted(expected, key=sorted)
    reports = [m for m in sent if m["kind"] == "error-report" and m["to"] == [SENDER]]
    assert len(reports) == 2
    for rep in reports:
        assert f"Trang tính “Ấp 2”, dòng {BAD_ROW}: Cột \"Số điện thoại\" (ô H{BAD_ROW})" in rep["text"]
        assert "đã đọc tất cả: “Ấp 1” 3 người; “Ấp 2” 4 người; “Ấp 3” 2 người" in rep["text"]
        assert any(a["name"].endswith(".xlsx") for a in rep["attachments"])
        html = rep["msg"].get_body(("html",)).get_content()
        assert ">Trang tính</th>" in html and ">Ấp 2</td>" in html


@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_a_sheet_of_people_without_a_header_is_an_error_naming_it(tmp_path, kind):
    lists = M.people((3, 4, 2))
    path = tmp_path / f"no-header.{kind}"
    path.write_bytes(M.workbook(kind, lists=lists, headerless={"Ấp 3"}))
    r = check_file(path)
    assert r.rows == 7 and [p.name for p in r.parts] == ["Ấp 1", "Ấp 2"]
    (err,) = [e for e in r.errors if e.code == "sheet-not-read"]
    assert err.sheet == "Ấp 3" and "“Ấp 3”" in err.message and "(2 dòng" in err.message
    assert r.exit_code == 1
    # the notes sheet (one phone number) and an empty sheet are not lists: no error for them
    assert {e.sheet for e in r.errors} == {"Ấp 3"}


@pytest.mark.parametrize("layout", ["canonical", "quocgia"])
def test_export_writes_the_valid_people_of_every_sheet(tmp_path, layout):
    lists = M.people(COUNTS)
    src = tmp_path / "ba-ap.xls"
    src.write_bytes(M.workbook("xls", lists=lists, bad=BAD))
    out = tmp_path / f"{layout}.xlsx"
    run = subprocess.run([sys.executable, "-m", "service.cli", "export", str(src), "--out", str(out),
                          "--layout", layout], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1, run.stderr  # the bad row is left out and reported
    back = check_file(out)
    assert back.exit_code == 0 and back.rows == sum(COUNTS) - 1
    ids = {p["cccd"] for name in M.SHEETS for p in lists[name]} - {lists["Ấp 2"][2]["cccd"]}
    assert {rec.values["id_number"] for rec in back.records} == ids


@pytest.mark.slow
def test_the_folder_receipt_names_the_sheet_of_each_bad_row(tmp_path):
    from tests.test_folder import MYBINH, day_dirs, drop, run_once, write_config
    cfg = write_config(tmp_path)
    unit = tmp_path / "share" / MYBINH.folder
    drop(unit, "Ba ấp.xlsx", M.workbook("xlsx", COUNTS, bad=BAD))
    run_once(cfg)
    day = day_dirs(unit, "Cần sửa")[0].name
    text = (unit / "Cần sửa" / day / "Ba ấp - kết quả.txt").read_text("utf-8")
    assert f"Trang tính “Ấp 2”, dòng {BAD_ROW}: Cột \"Số điện thoại\" (ô H{BAD_ROW})" in text
    assert "“Ấp 1” 3 người; “Ấp 2” 4 người; “Ấp 3” 2 người" in text
    assert f"Số người trong tệp: {sum(COUNTS)}; hợp lệ: {sum(COUNTS) - 1}" in text
    from service.pipeline.handlers.files_out import annotated_name
    wb = openpyxl.load_workbook(unit / "Cần sửa" / day / annotated_name("Ba ấp.xlsx"))
    assert wb["Ấp 2"][f"H{BAD_ROW}"].comment is not None and wb["Ấp 1"][f"H{BAD_ROW}"].comment is None


def test_an_annotated_copy_sent_back_is_marked_again_with_one_summary(tmp_path):
    path = write(tmp_path, "xlsx", bad=BAD)
    first = tmp_path / "kiem-tra.xlsx"
    annotate(check_file(path), str(path), str(first))
    again = check_file(first)  # the sender returns our copy unchanged
    assert again.rows == sum(COUNTS) and [(e.sheet, e.row) for e in again.errors] == [("Ấp 2", BAD_ROW)]
    second = tmp_path / "kiem-tra-2.xlsx"
    annotate(again, str(first), str(second))
    wb = openpyxl.load_workbook(second)
    assert wb.sheetnames.count("Kết quả kiểm tra") == 1 and wb.sheetnames[0] == "Kết quả kiểm tra"
    assert wb["Ấp 2"][f"H{BAD_ROW}"].comment.text.count("0912abc678") == 1  # not doubled
    assert [c.value for c in wb["Ấp 2"][2]].count("Lỗi") == 1


def test_national_template_lists_on_two_sheets_with_the_catalogues_beside_them(tmp_path):
    """Two PL1 sheets (registrations on one, a dosed person on the other) and the PL2–PL5
    catalogues of the template: both lists read, the catalogues are not lists, the form per row."""
    from service.forms.template import write_template
    from tests import national_files as N
    src = N.build(tmp_path / "pl1.xlsx", [N.REG, N.REG_F])
    other = N.build(tmp_path / "pl1b.xlsx", [N.DOSED])
    blank = tmp_path / "quocgia.xlsx"
    from service.directory import load_default
    write_template("quocgia", str(blank), load_default())
    wb = openpyxl.load_workbook(src)
    second = wb.create_sheet("PL1 (2)")
    for row in openpyxl.load_workbook(other).active.iter_rows(values_only=True):
        second.append(list(row))
    for ws in openpyxl.load_workbook(blank).worksheets[1:]:  # PL2–PL5
        copy = wb.create_sheet(ws.title)
        for row in ws.iter_rows(values_only=True):
            copy.append(list(row))
    path = tmp_path / "two-pl1.xlsx"
    wb.save(path)
    r = check_file(path)
    assert [p.name for p in r.parts] == ["PL1_Danh sach doi tuong tiem", "PL1 (2)"]
    assert len(wb.sheetnames) == 6 and r.rows == 3 and r.form == "mau2"
    assert not [e for e in r.errors if e.code == "sheet-not-read"]
    assert Counter((rec.sheet, rec.form) for rec in r.records) == {
        ("PL1_Danh sach doi tuong tiem", "mau1"): 2, ("PL1 (2)", "mau2"): 1}


def test_a_sheet_whose_rows_are_not_people_is_named_not_dropped(tmp_path):
    blank = {h: None for h in M.HEADER}
    blank["Địa chỉ"] = "Chuyển đi nơi khác"  # no name, no ID, no birth date: not a person
    path = tmp_path / "ap3.xlsx"
    path.write_bytes(M.workbook("xlsx", COUNTS, bad={("Ấp 3", 1): blank, ("Ấp 3", 2): blank}))
    r = check_file(path)
    assert [p.name for p in r.parts] == list(M.SHEETS) and r.rows == 7
    assert [(e.code, e.sheet) for e in r.errors] == [("empty-form", "Ấp 3")] and r.exit_code == 1
    assert "Trang tính “Ấp 3”" in r.errors[0].message
