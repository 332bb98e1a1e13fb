"""annotate(): fills, comments, the "Lỗi" column and the summary sheet, on real workbooks."""
from __future__ import annotations

import random
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font

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


def _lean_path_used(caplog) -> bool:
    return not [r for r in caplog.records if "lean path" in r.getMessage()]


def test_annotate_xlsx_keeps_formatting(tmp_path, caplog):
    caplog.set_level("INFO")
    src, out = tmp_path / "ds.xlsx", tmp_path / "ds.checked.xlsx"
    _make_form(src)
    annotate(_report(src), str(src), str(out))
    assert _lean_path_used(caplog)
    wb = _check_annotated(out)
    # the Lỗi header covers both header rows
    assert "J4:J5" in {str(r) for r in wb["Danh sách"].merged_cells.ranges}
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
    assert any(n.startswith("xl/comments") for n in names) and any(n.endswith(".vml") for n in names)


def test_annotate_twice_replaces_summary(tmp_path, caplog):
    caplog.set_level("INFO")
    src, once, twice = tmp_path / "ds.xlsx", tmp_path / "once.xlsx", tmp_path / "twice.xlsx"
    _make_form(src)
    annotate(_report(src), str(src), str(once))
    # the sender sends the annotated file back: old summary replaced, our old comments replaced
    rep = _report(once)
    rep.layout.extra_headers = {9: "Lỗi"}  # what the engine sees in an annotated file
    annotate(rep, str(once), str(twice))
    wb = load_workbook(twice)
    assert wb.sheetnames.count(SUMMARY_SHEET) == 1 and wb.sheetnames[0] == SUMMARY_SHEET
    ws = wb["Danh sách"]
    assert ws["J4"].value == "Lỗi" and ws["K4"].value is None
    assert ws["J7"].value.startswith("Ngày sinh") and ws["C7"].comment.text.count("không phải ngày có thật") == 1
    # the sender fixed row 9 and sends again: its old marks disappear
    rep = _report(twice)
    rep.layout.extra_headers = {9: "Lỗi"}
    rep.errors = [e for e in rep.errors if e.row != 9]
    third = tmp_path / "third.xlsx"
    annotate(rep, str(twice), str(third))
    ws = load_workbook(third)["Danh sách"]
    assert ws["J9"].value is None and ws["F9"].comment is None and _rgb(ws["F9"]) is None
    assert _rgb(ws["C7"]) == ERROR_FILL and ws["J7"].value
    assert _lean_path_used(caplog)  # our own comments are replaced without openpyxl
    assert ws["C6"].number_format == "dd/mm/yyyy" and ws["F9"].number_format == "General"


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


def test_annotate_missing_cells_and_rows(tmp_path, caplog):
    caplog.set_level("INFO")
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
    assert _lean_path_used(caplog)
    ws = load_workbook(out)["Danh sách"]
    assert _rgb(ws["E8"]) == ERROR_FILL and "để trống" in ws["E8"].comment.text
    assert ws["J8"].value == "Số điện thoại: đang để trống"


def _big_xlsx(path, n):
    """A workbook whose sheet XML is written directly (fast): title, header, n data rows."""
    tiny = path.with_suffix(".tiny.xlsx")
    wb = Workbook()
    wb.active.title = "DS"
    wb.active["A1"] = "x"
    wb.active["A1"].font = Font(bold=True)
    wb.save(tiny)
    head = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số điện thoại", "Số CMND/CCCD"]
    parts = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.'
             'openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:F%d"/><sheetViews><sheetView '
             'tabSelected="1" workbookViewId="0"/></sheetViews><sheetData>' % (n + 2),
             '<row r="1"><c r="A1" s="1" t="inlineStr"><is><t>DANH SÁCH ĐĂNG KÝ</t></is></c></row><row r="2">']
    parts += ['<c r="%s2" t="inlineStr"><is><t>%s</t></is></c>' % (chr(65 + j), h) for j, h in enumerate(head)]
    parts.append("</row>")
    for i in range(n):
        r = i + 3
        parts.append(f'<row r="{r}" spans="1:6"><c r="A{r}"><v>{i + 1}</v></c><c r="B{r}" t="inlineStr"><is><t>'
                     f'Người {i}</t></is></c><c r="C{r}" t="inlineStr"><is><t>01/01/1980</t></is></c><c r="D{r}" '
                     f't="inlineStr"><is><t>Nữ</t></is></c><c r="E{r}" t="inlineStr"><is><t>0912345678</t></is>'
                     f'</c><c r="F{r}" t="inlineStr"><is><t>0891800{i:05d}</t></is></c></row>')
    parts.append('</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
                 'footer="0.3"/></worksheet>')
    with zipfile.ZipFile(tiny) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = "".join(parts).encode() if info.filename == "xl/worksheets/sheet1.xml" else zin.read(info)
            zout.writestr(info.filename, data)


@pytest.mark.slow
def test_annotate_streaming_20k_rows(tmp_path, caplog):
    import re

    from defusedxml import ElementTree as ET
    from python_calamine import CalamineWorkbook

    src, out = tmp_path / "big.xlsx", tmp_path / "big.out.xlsx"
    n = 20000
    _big_xlsx(src, n)
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
        if r % 2:
            rep.errors.append(Issue("required-missing", f'Cột "Ngày sinh" (ô C{r}) đang để trống.', row=r,
                                    column="C", field="dob", header="Ngày sinh"))
    caplog.set_level("INFO")
    annotate(rep, str(src), str(out))
    assert _lean_path_used(caplog)
    cal = CalamineWorkbook.from_path(str(out))
    assert cal.sheet_names == [SUMMARY_SHEET, "DS"]
    rows = cal.get_sheet_by_name("DS").to_python()
    assert rows[1][6] == "Lỗi" and len(rows) == n + 2
    loi = {i + 1: r[6] for i, r in enumerate(rows[2:], 2) if len(r) > 6 and r[6]}
    assert sorted(loi) == bad
    assert loi[bad[1]].startswith("Số điện thoại: sai") or loi[bad[1]].startswith("Ngày sinh")
    assert [r[4] for r in rows[2:5]] == ["0912345678"] * 3  # values untouched
    with zipfile.ZipFile(out) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        comments = ET.fromstring(z.read("xl/comments1.xml"))
    styled = {int(m.group(1)) for m in re.finditer(r'<c r="E(\d+)"[^>]*\ss="\d+"', sheet)}
    assert styled == set(bad)
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    refs = {c.get("ref") for c in comments.iter(ns + "comment")}
    assert refs == {f"E{r}" for r in bad} | {f"C{r}" for r in bad if r % 2}
    assert '<dimension ref="A1:G%d"/>' % (n + 2) in sheet
    ro = load_workbook(out, read_only=True)
    first = next(ro["DS"].iter_rows(min_row=bad[0], max_row=bad[0]))
    assert _rgb(first[4]) == ERROR_FILL and _rgb(first[3]) is None
    assert _rgb(first[2]) == (ERROR_FILL if bad[0] % 2 else None)
    ro.close()


def test_annotate_unreadable_report_adds_summary_only(tmp_path):
    from service.forms.model import Unreadable

    src, out = tmp_path / "ds.xlsx", tmp_path / "ds.out.xlsx"
    _make_form(src)
    rep = Report(path=str(src), form=None, fatal=Unreadable("not-a-form", "Không tìm thấy danh sách."))
    annotate(rep, str(src), str(out))
    wb = load_workbook(out)
    assert wb.sheetnames == [SUMMARY_SHEET, "Danh sách", "Ghi chú"]
    texts = [c.value for row in wb[SUMMARY_SHEET].iter_rows() for c in row if c.value]
    assert "Không tìm thấy danh sách." in texts
    assert wb["Danh sách"]["A1"].font.b and wb["Danh sách"]["J4"].value is None


def test_annotate_prefixed_namespace_package(tmp_path, caplog):
    """Some writers (e.g. .NET libraries) use <x:row>, <x:c> with a prefixed main namespace."""
    import re

    src, pref, out = tmp_path / "ds.xlsx", tmp_path / "pref.xlsx", tmp_path / "pref.out.xlsx"
    _make_form(src)
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

    def prefix(xml: str) -> str:
        xml = re.sub(r"<(/?)([A-Za-z]\w*)(?=[\s/>])", r"<\1x:\2", xml)
        return xml.replace(f'xmlns="{main}"', f'xmlns:x="{main}"')

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(pref, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in ("xl/worksheets/sheet1.xml", "xl/styles.xml"):
                data = prefix(data.decode()).encode()
            zout.writestr(info.filename, data)
    assert b"<x:row" in zipfile.ZipFile(pref).read("xl/worksheets/sheet1.xml")
    caplog.set_level("INFO")
    annotate(_report(pref), str(pref), str(out))
    assert _lean_path_used(caplog)
    _check_annotated(out)


def test_summary_is_capped():
    from service.forms.annotate import MAX_LINES, summary_rows

    rep = Report(path="/in/ds.xlsx", form="mau1", records=[Record(row=i, values={}) for i in range(7000)])
    rep.errors = [Issue("phone-invalid", "sai", row=i + 5, column="E", header="Số điện thoại") for i in range(6000)]
    rows = summary_rows(rep)
    detail = [r for r in rows if r and r[0] is not None and isinstance(r[0].value, int) and len(r) == 6]
    assert len(detail) == MAX_LINES
    assert "Chỉ liệt kê 5.000 dòng đầu tiên trong tổng số 6.000" in rows[-1][0].value
