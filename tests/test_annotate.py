"""annotate(): fills, comments, the "Lỗi" column and the summary sheet, on real workbooks."""
from __future__ import annotations

import random
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from service.forms.annotate import ERROR_FILL, SUMMARY_SHEET, WARNING_FILL, annotate
from service.forms.model import Column, Issue, Layout, Record, Report, Sheet

HEAD1 = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số điện thoại", "Số CMND/CCCD", "Mũi 1", None, None]
HEAD2 = [None, None, None, None, None, None, "Ngày tiêm", "Tên vắc xin", "Nơi tiêm"]
FIELDS = ["stt", "full_name", "dob", "gender", "phone", "id_number", "dose1_date", "dose1_vaccine",
          "dose1_facility"]


def _make_form(path, n=6):
    """A Mẫu 2 workbook: title block (merged, bold), 2-row header, data rows, a second sheet."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    ws["A1"] = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    ws["A1"].font = Font(bold=True, name="Times New Roman", size=13)
    ws.merge_cells("A1:I1")
    ws["A2"] = "DANH SÁCH BỔ SUNG THÔNG TIN TIÊM VẮC XIN PHÒNG COVID-19 (MẪU 2)"
    ws["A2"].font = Font(bold=True, size=14)
    ws.merge_cells("A2:I2")
    ws.append([])
    ws.append(HEAD1)
    ws.append(HEAD2)
    for c in range(1, 10):
        ws.cell(4, c).font = Font(bold=True)
        ws.cell(5, c).font = Font(bold=True)
    for c in range(1, 7):
        ws.merge_cells(start_row=4, start_column=c, end_row=5, end_column=c)
    ws.merge_cells("G4:I4")
    for i in range(n):
        ws.append([i + 1, f"Nguyễn Văn {chr(65 + i)}", datetime(1980, 1, 1 + i), "Nam",
                   "0912345678", "089080000123", datetime(2021, 7, 1), "AstraZeneca", "TTYT Chợ Mới"])
        ws.cell(6 + i, 3).number_format = "dd/mm/yyyy"
        ws.cell(6 + i, 7).number_format = "dd/mm/yyyy"
    ws.column_dimensions["B"].width = 28
    ws.append([])
    ws.append(["", "Người lập biểu"])
    other = wb.create_sheet("Ghi chú")
    other["A1"] = "Sheet khác"
    other["A1"].font = Font(italic=True)
    wb.save(path)


def _layout():
    cols = {f: Column(f, i, (HEAD1[i] or "Mũi 1") if i < 6 else f"Mũi 1 / {HEAD2[i]}")
            for i, f in enumerate(FIELDS)}
    return Layout(sheet="Danh sách", header_rows=(3, 4), data_start=5, columns=cols, form="mau2")


def _report(path, n=6):
    rep = Report(path=str(path), form="mau2", sheet="Danh sách", layout=_layout(),
                 checked_on=date(2021, 8, 25))
    rep.records = [Record(row=6 + i, values={}, ok=True) for i in range(n)]
    rep.errors = [
        Issue("date-invalid", 'Cột "Ngày sinh" (ô C7): "31/02/1980" không phải ngày có thật. Vui lòng ghi lại.',
              row=7, column="C", field="dob", header="Ngày sinh", value="31/02/1980"),
        Issue("phone-letters", 'Cột "Số điện thoại" (ô E7): "09a" có chữ cái. Số điện thoại chỉ gồm chữ số.',
              row=7, column="E", field="phone", header="Số điện thoại", value="09a"),
        Issue("id-invalid", 'Cột "Số CMND/CCCD" (ô F9): "123" không phải số CMND/CCCD hợp lệ.',
              row=9, column="F", field="id_number", header="Số CMND/CCCD", value="123"),
        Issue("id-duplicate", 'Cột "Số CMND/CCCD" (ô F9): trùng với dòng 6.',
              row=9, column="F", field="id_number", header="Số CMND/CCCD", value="123"),
    ]
    rep.warnings = [
        Issue("dob-year-only", 'Cột "Ngày sinh" (ô C10): chỉ ghi năm sinh "1950".', row=10, column="C",
              field="dob", header="Ngày sinh", value=1950, severity="warning"),
    ]
    for r in rep.records:
        r.ok = r.row not in (7, 9)
    return rep


def _rgb(cell):
    return (cell.fill.fgColor.rgb or "")[-6:] if cell.fill and cell.fill.fill_type == "solid" else None


def _check_annotated(out, layout_sheet="Danh sách", src_styles=True):
    wb = load_workbook(out)
    assert wb.sheetnames[0] == SUMMARY_SHEET
    assert wb.active.title == SUMMARY_SHEET
    ws = wb[layout_sheet]
    filled = {(c.row, c.column_letter): _rgb(c) for row in ws.iter_rows() for c in row if _rgb(c)}
    assert filled == {(7, "C"): ERROR_FILL, (7, "E"): ERROR_FILL, (9, "F"): ERROR_FILL, (10, "C"): WARNING_FILL}
    assert "không phải ngày có thật" in ws["C7"].comment.text
    assert "không phải số CMND/CCCD" in ws["F9"].comment.text and "trùng với dòng 6" in ws["F9"].comment.text
    assert ws["C10"].comment.text.startswith("Cảnh báo")
    assert ws["C6"].comment is None and ws["B7"].comment is None
    # the Lỗi column after the header's last column (I), bold
    assert ws["J4"].value == "Lỗi" and ws["J4"].font.b
    assert ws["J7"].value.startswith("Ngày sinh: ") and "Số điện thoại: " in ws["J7"].value
    assert "; " in ws["J7"].value and "Vui lòng" not in ws["J7"].value
    assert ws["J6"].value is None and ws["J8"].value is None
    assert "Cảnh báo" in ws["J10"].value
    # the rest untouched
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:I1", "A2:I2", "G4:I4", "A4:A5"} <= merged
    assert ws["C7"].number_format == "dd/mm/yyyy" and ws["C6"].number_format == "dd/mm/yyyy"
    assert ws["C7"].value == datetime(1980, 1, 2)
    assert ws["B7"].value == "Nguyễn Văn B"
    if src_styles:
        assert ws["A1"].font.b and ws["A2"].font.b
        assert ws.column_dimensions["B"].width == 28
        assert wb["Ghi chú"]["A1"].font.i
    s = wb[SUMMARY_SHEET]
    texts = [str(c.value) for row in s.iter_rows() for c in row if c.value is not None]
    joined = "\n".join(texts)
    assert "Mẫu 2" in joined and "date-invalid" in joined and "id-duplicate" in joined
    assert "Số dòng hợp lệ:" in joined
    return wb


def test_annotate_xlsx_keeps_formatting(tmp_path):
    src, out = tmp_path / "ds.xlsx", tmp_path / "ds.checked.xlsx"
    _make_form(src)
    annotate(_report(src), str(src), str(out))
    wb = _check_annotated(out)
    # the Lỗi header covers both header rows
    assert "J4:J5" in {str(r) for r in wb["Danh sách"].merged_cells.ranges}
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
    assert any(n.startswith("xl/comments") for n in names) and any(n.endswith(".vml") for n in names)


def test_annotate_twice_replaces_summary(tmp_path):
    src, once, twice = tmp_path / "ds.xlsx", tmp_path / "once.xlsx", tmp_path / "twice.xlsx"
    _make_form(src)
    annotate(_report(src), str(src), str(once))
    # the sender sends the annotated file back: old summary replaced, comments merged (openpyxl)
    rep = _report(once)
    rep.layout.extra_headers = {9: "Lỗi"}  # what the engine sees in an annotated file
    annotate(rep, str(once), str(twice))
    wb = load_workbook(twice)
    assert wb.sheetnames.count(SUMMARY_SHEET) == 1 and wb.sheetnames[0] == SUMMARY_SHEET
    ws = wb["Danh sách"]
    assert ws["J4"].value == "Lỗi" and ws["K4"].value is None


def test_annotate_existing_comment_falls_back(tmp_path):
    src, out = tmp_path / "c.xlsx", tmp_path / "c.out.xlsx"
    _make_form(src)
    wb = load_workbook(src)
    wb["Danh sách"]["C7"].comment = Comment("ghi chú cũ", "x")
    wb.save(src)
    annotate(_report(src), str(src), str(out))
    wb = _check_annotated(out)
    assert "ghi chú cũ" in wb["Danh sách"]["C7"].comment.text


def test_annotate_from_grid_for_xls(tmp_path):
    src, out = tmp_path / "ds.xlsx", tmp_path / "ds.from-xls.xlsx"
    _make_form(src)
    ws = load_workbook(src)["Danh sách"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    merged = [(r.min_row - 1, r.min_col - 1, r.max_row - 1, r.max_col - 1) for r in ws.merged_cells.ranges]
    grid = Sheet(name="Danh sách", rows=rows, merged=merged)
    fake_xls = tmp_path / "ds.xls"
    fake_xls.write_bytes(b"not read: the grid is used")
    annotate(_report(fake_xls), str(fake_xls), str(out), grid=grid)
    _check_annotated(out, src_styles=False)


def test_annotate_missing_cells_and_rows(tmp_path):
    """A required cell that was never written (no <c>) still gets its fill and comment."""
    src, out = tmp_path / "m.xlsx", tmp_path / "m.out.xlsx"
    _make_form(src)
    wb = load_workbook(src)
    wb["Danh sách"]["E8"] = None
    wb.save(src)
    rep = _report(src)
    rep.errors.append(Issue("required-missing", 'Cột "Số điện thoại" (ô E8) đang để trống.', row=8,
                            column="E", field="phone", header="Số điện thoại"))
    annotate(rep, str(src), str(out))
    ws = load_workbook(out)["Danh sách"]
    assert _rgb(ws["E8"]) == ERROR_FILL and "để trống" in ws["E8"].comment.text
    assert ws["J8"].value == "Số điện thoại: đang để trống"


def test_annotate_streaming_20k_rows(tmp_path):
    src, out = tmp_path / "big.xlsx", tmp_path / "big.out.xlsx"
    n = 20000
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("DS")
    ws.append(["DANH SÁCH ĐĂNG KÝ TIÊM VẮC XIN PHÒNG COVID-19"])
    ws.append(["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số điện thoại", "Số CMND/CCCD"])
    for i in range(n):
        ws.append([i + 1, f"Người {i}", "01/01/1980", "Nữ", "0912345678", f"0891800{i:05d}"])
    wb.save(src)
    rnd = random.Random(7)
    fields = ["stt", "full_name", "dob", "gender", "phone", "id_number"]
    layout = Layout(sheet="DS", header_rows=(1,), data_start=2,
                    columns={f: Column(f, i, f) for i, f in enumerate(fields)}, form="mau1")
    rep = Report(path=str(src), form="mau1", sheet="DS", layout=layout)
    rep.records = [Record(row=3 + i, values={}) for i in range(n)]
    bad = sorted(rnd.sample(range(3, n + 3), 1000))
    for r in bad:
        rep.errors.append(Issue("phone-invalid", f'Cột "Số điện thoại" (ô E{r}): sai.', row=r, column="E",
                                field="phone", header="Số điện thoại", value="x"))
    annotate(rep, str(src), str(out))
    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames == [SUMMARY_SHEET, "DS"]
    ws = wb["DS"]
    loi = {}
    for row in ws.iter_rows(min_row=2, values_only=False):
        for c in row:
            if c.column == 7 and c.value:
                loi[c.row] = c.value
    assert loi.pop(2) == "Lỗi"
    assert sorted(loi) == bad
    wb.close()
    full = load_workbook(out)["DS"]
    assert _rgb(full[f"E{bad[0]}"]) == ERROR_FILL and _rgb(full[f"E{bad[0] + 1}"]) is None or bad[0] + 1 in bad
    assert full[f"E{bad[-1]}"].comment.text.endswith("sai.")
