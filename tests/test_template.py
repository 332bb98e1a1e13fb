"""write_template(): blank Mẫu 1 / Mẫu 2 workbooks that the engine reads back once filled."""
from __future__ import annotations

from datetime import date, datetime

from openpyxl import load_workbook

import pytest

from service.directory import load_default
from service.forms.engine import check_file
from service.forms.template import DATA_SHEET, GUIDE_SHEET, LIST_SHEET, load_priority_groups, write_template

TODAY = date(2021, 8, 25)


def _find(ws, text):
    for row in ws.iter_rows():
        for c in row:
            if c.value == text:
                return c
    raise AssertionError(text)


def test_priority_groups_config():
    groups = load_priority_groups()
    assert [n for n, _ in groups] == list(range(1, 17))
    assert groups[0][1].startswith("Người làm việc trong các cơ sở y tế")


@pytest.mark.slow
def test_template_mau1(tmp_path):
    directory = load_default()
    out = tmp_path / "mau1.xlsx"
    write_template("mau1", str(out), directory)
    wb = load_workbook(out)
    assert wb.sheetnames == [DATA_SHEET, GUIDE_SHEET, LIST_SHEET]
    assert wb[LIST_SHEET].sheet_state == "hidden"
    ws = wb[DATA_SHEET]
    assert ws["A1"].value == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert ws["A2"].value == "Độc lập - Tự do - Hạnh phúc"
    assert any(str(c.value).startswith("Đơn vị:") for c in ws["A"][:6] if c.value)
    head = _find(ws, "Họ và tên")
    assert head.font.b and head.alignment.wrap_text
    phone, cccd, dob = _find(ws, "Số điện thoại"), _find(ws, "Số CMND/CCCD"), _find(ws, "Ngày sinh")
    first = head.row + 1
    assert ws.cell(first, cccd.column).number_format == "@"
    assert ws.cell(first, phone.column).number_format == "@"
    assert ws.cell(first, dob.column).number_format == "dd/mm/yyyy"
    assert "12 chữ số" in cccd.comment.text and "10 chữ số" in phone.comment.text
    assert ws.freeze_panes == f"C{first}"
    assert ws.column_dimensions[cccd.column_letter].number_format == "@"
    lists = {dv.formula1: dv for dv in ws.data_validations.dataValidation}
    assert '"Nam,Nữ,Khác"' in lists
    assert any(f.startswith(f"{LIST_SHEET}!$A$2:$A$17") for f in lists)
    assert any("INDIRECT" in f for f in lists)
    names = set(wb.defined_names)
    assert "PX_883" in names and "DS_XaPhuong" in names
    dm = wb[LIST_SHEET]
    assert sum(1 for c in dm["H"][1:] if c.value) == 156
    assert sum(1 for c in dm["C"][1:] if c.value) == 11
    assert [c.value for c in dm["F"][1:9]][:2] == ["AstraZeneca", "Pfizer"]


@pytest.mark.slow
def test_template_mau2_header_groups(tmp_path):
    out = tmp_path / "mau2.xlsx"
    write_template("mau2", str(out), load_default())
    ws = load_workbook(out)[DATA_SHEET]
    m1 = _find(ws, "Mũi 1")
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert any(r.startswith(m1.coordinate + ":") for r in merged)
    assert ws.cell(m1.row + 1, m1.column).value == "Ngày tiêm"
    assert _find(ws, "Mũi 2")
    assert "Nhóm ưu tiên" not in [c.value for c in ws[m1.row]]


@pytest.mark.slow
def test_filled_templates_read_back(tmp_path):
    directory = load_default()
    for form in ("mau1", "mau2"):
        out = tmp_path / f"{form}.xlsx"
        write_template(form, str(out), directory)
        wb = load_workbook(out)
        ws = wb[DATA_SHEET]
        col = {c.value: c.column for c in ws[_find(ws, "Họ và tên").row] if c.value}
        if form == "mau2":
            sub = {}
            for c in ws[_find(ws, "Ngày tiêm").row]:
                if c.value:
                    sub.setdefault(c.value, c.column)  # the Mũi 1 group comes first
        r = _find(ws, "Họ và tên").row + (2 if form == "mau2" else 1)
        for k, (name, dob, g, cccd) in enumerate([("Nguyễn Văn An", datetime(1980, 3, 5), "Nam", "089080001234"),
                                                  ("Trần Thị Bình", datetime(1985, 6, 1), "Nữ", "089185004321")]):
            ws.cell(r + k, col["STT"], k + 1)
            ws.cell(r + k, col["Họ và tên"], name)
            ws.cell(r + k, col["Ngày sinh"], dob)
            ws.cell(r + k, col["Giới tính"], g)
            ws.cell(r + k, col["Số điện thoại"], f"091234567{k}")
            ws.cell(r + k, col["Số CMND/CCCD"], cccd)
            ws.cell(r + k, col["Quận/Huyện"], "Huyện Chợ Mới")
            ws.cell(r + k, col["Xã/Phường"], "Xã Kiến An")
            if form == "mau1":
                ws.cell(r + k, col["Nhóm ưu tiên"], 4)
            else:
                ws.cell(r + k, sub["Ngày tiêm"], datetime(2021, 7, 1))
                ws.cell(r + k, sub["Tên vắc xin"], "AstraZeneca")
                ws.cell(r + k, sub["Nơi tiêm"], "Trung tâm Y tế huyện Chợ Mới")
        wb.save(out)
        rep = check_file(out, today=TODAY, directory=directory)
        assert rep.form == form and rep.fatal is None, rep.as_json()
        assert rep.rows == 2 and rep.valid_rows == 2, rep.as_json()["errors"]
