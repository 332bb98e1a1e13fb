"""Readers on real files made here: grids start at A1, values typed, fonts, merges, encodings."""
import codecs
import datetime as dt
import shutil
import unicodedata
import zipfile

import openpyxl
import pytest
import xlwt
from openpyxl.styles import Font

from bench.gen_forms import to_cp1258  # how Vietnamese Windows software spells text

from service.forms import legacy
from service.forms.read import read_workbook


# ---------------------------------------------------------------------------- .xlsx


def make_form_xlsx(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Mẫu 2"
    ws["B1"] = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    ws.merge_cells("B1:H1")
    ws["B5"], ws["C5"], ws["D5"], ws["E5"] = "STT", "Họ và tên", "Ngày sinh", "Mũi 1"
    ws.merge_cells("E5:G5")
    ws["E6"], ws["F6"], ws["G6"] = "Ngày tiêm", "Tên vắc xin", "Số lô"
    ws.merge_cells("B5:B6")
    ws["B7"], ws["C7"], ws["D7"], ws["E7"], ws["F7"], ws["G7"] = 1, "Nguyễn Văn An", dt.date(1980, 5, 17), dt.date(2021, 8, 2), "AstraZeneca", "NJ0342"
    ws["B8"], ws["C8"], ws["D8"], ws["F8"] = 2, "Trần Thị Bé", 1961, "Vero Cell"
    ws["H8"] = 890123456789  # a CCCD Excel keeps as a number
    ws["B9"] = "=B8+1"  # formula written by a library: no cached value
    hidden = wb.create_sheet("Ẩn")
    hidden.sheet_state = "hidden"
    hidden["A1"] = "tham chiếu"
    wb.save(path)


def test_xlsx_grid_starts_at_a1_and_keeps_types(tmp_path):
    path = tmp_path / "mau2.xlsx"
    make_form_xlsx(path)
    wb = read_workbook(path)
    assert wb.kind == "xlsx"
    sheet = wb.sheets[0]
    assert sheet.name == "Mẫu 2"
    rows = sheet.rows
    # rows[i][j] is Excel row i+1, column j+1
    assert rows[0][1] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert rows[0][0] is None
    assert rows[4][1:5] == ["STT", "Họ và tên", "Ngày sinh", "Mũi 1"]
    assert rows[5][4:7] == ["Ngày tiêm", "Tên vắc xin", "Số lô"]
    assert rows[6][3] == dt.date(1980, 5, 17) and rows[6][4] == dt.date(2021, 8, 2)
    assert rows[6][1] == 1 and isinstance(rows[6][1], float)
    assert rows[7][3] == 1961
    assert rows[7][4] is None  # empty cells are None, never ''
    assert rows[7][7] == 890123456789
    assert rows[1] == [None] * len(rows[1])
    assert (8, 1) in sheet.formula_without_value
    assert rows[8][1] is None
    assert (0, 1, 0, 7) in sheet.merged and (4, 4, 4, 6) in sheet.merged and (4, 1, 5, 1) in sheet.merged
    assert not sheet.hidden and not sheet.legacy_fonts
    assert wb.sheets[1].hidden and wb.sheets[1].rows[0][0] == "tham chiếu"


def test_xlsx_grid_pads_when_first_used_cell_is_far_from_a1(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["E12"] = "Họ tên"
    ws["F13"] = 3.5
    wb.save(tmp_path / "far.xlsx")
    rows = read_workbook(tmp_path / "far.xlsx").sheets[0].rows
    assert rows[11][4] == "Họ tên" and rows[12][5] == 3.5
    assert all(v is None for r in rows[:11] for v in r)


def test_xlsx_legacy_fonts_per_cell(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "DANH SÁCH"  # Calibri, Unicode
    ws["A2"] = "NguyÔn V¨n An"
    ws["A2"].font = Font(name=".VnTime")
    ws["B2"] = "Nguyeãn Vaên Bình"
    ws["B2"].font = Font(name="VNI-Times")
    ws["C2"] = "danh s¸ch"
    ws["C2"].font = Font(name=".VnTimeH", bold=True)
    ws["D2"] = 12
    ws["D2"].font = Font(name=".VnTime")
    wb.save(tmp_path / "legacy.xlsx")
    sheet = read_workbook(tmp_path / "legacy.xlsx").sheets[0]
    assert sheet.legacy_fonts and sheet.font is not None
    assert sheet.font(0, 0) == "Calibri"
    assert sheet.font(1, 0) == ".VnTime" and sheet.font(1, 1) == "VNI-Times" and sheet.font(1, 2) == ".VnTimeH"
    assert sheet.font(50, 50) == "Calibri"  # outside the used range: the default font

    def decoded(i, j):
        return legacy.decode(sheet.rows[i][j], legacy.legacy_kind(sheet.font(i, j)))

    assert decoded(0, 0) == "DANH SÁCH"
    assert decoded(1, 0) == "Nguyễn Văn An"
    assert decoded(1, 1) == "Nguyễn Văn Bình"
    assert decoded(1, 2) == "DANH SÁCH"
    assert decoded(1, 3) == 12


def test_xlsx_whole_workbook_in_vntime(tmp_path):
    """Old workbooks set .VnTime as the Normal style: cells carry no style of their own."""
    path = tmp_path / "normal.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Hå ChÝ Minh"
    wb.save(path)
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp_path / "vntime.xlsx", "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/styles.xml":
                data = data.replace(b'<name val="Calibri"', b'<name val=".VnTime"')
            zout.writestr(item, data)
    sheet = read_workbook(tmp_path / "vntime.xlsx").sheets[0]
    assert sheet.legacy_fonts and sheet.font(0, 0) == ".VnTime"
    assert legacy.decode(sheet.rows[0][0], legacy.legacy_kind(sheet.font(0, 0))) == "Hồ Chí Minh"


def test_xlsm_values_are_read_and_macros_ignored(tmp_path):
    src = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Họ và tên"
    wb.active["A2"] = "Lê Thị Hoa"
    wb.save(src)
    path = tmp_path / "macro.xlsm"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml").replace(
                    b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
            zout.writestr(item, data)
        zout.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024)
    wb = read_workbook(path)
    assert wb.kind == "xlsm"
    assert wb.sheets[0].rows == [["Họ và tên"], ["Lê Thị Hoa"]]


# ---------------------------------------------------------------------------- .xls


def make_xls(path):
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("DS")
    vntime = xlwt.easyxf("font: name .VnTime")
    vni = xlwt.easyxf("font: name VNI-Times")
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    ws.write_merge(0, 0, 0, 4, "DANH SÁCH ĐĂNG KÝ TIÊM VẮC XIN")
    ws.write(2, 0, "STT")
    ws.write(2, 1, "Hä vµ tªn", vntime)
    ws.write(2, 2, "Ngày sinh")
    ws.write(3, 0, 1)
    ws.write(3, 1, "NguyÔn V¨n An", vntime)
    ws.write(3, 2, dt.date(1975, 2, 3), date_style)
    ws.write(4, 0, 2)
    ws.write(4, 1, "Nguyeãn Thò Lan", vni)
    ws.write(4, 2, "03/02/1975")
    ws.write(4, 3, dt.datetime(2021, 8, 20, 14, 30), xlwt.easyxf(num_format_str="DD/MM/YYYY HH:MM"))
    hidden = wb.add_sheet("Ẩn")
    hidden.write(0, 0, "x")
    hidden.visibility = 1
    wb.save(str(path))


def test_xls_values_dates_merges_fonts(tmp_path):
    path = tmp_path / "ds.xls"
    make_xls(path)
    wb = read_workbook(path)
    assert wb.kind == "xls"
    sheet = wb.sheets[0]
    rows = sheet.rows
    assert rows[0][0] == "DANH SÁCH ĐĂNG KÝ TIÊM VẮC XIN" and rows[0][1] is None
    assert (0, 0, 0, 4) in sheet.merged
    assert rows[3][0] == 1.0 and isinstance(rows[3][0], float)
    assert rows[3][2] == dt.date(1975, 2, 3)
    assert rows[4][2] == "03/02/1975"
    assert rows[4][3] == dt.datetime(2021, 8, 20, 14, 30)
    assert rows[1] == [None] * len(rows[1]) or rows[1] == []
    assert sheet.legacy_fonts
    assert sheet.font(3, 1) == ".VnTime" and sheet.font(4, 1) == "VNI-Times"
    assert legacy.legacy_kind(sheet.font(2, 0)) is None
    assert legacy.decode(rows[3][1], legacy.legacy_kind(sheet.font(3, 1))) == "Nguyễn Văn An"
    assert legacy.decode(rows[4][1], legacy.legacy_kind(sheet.font(4, 1))) == "Nguyễn Thị Lan"
    assert legacy.decode(rows[2][1], legacy.legacy_kind(sheet.font(2, 1))) == "Họ và tên"
    assert not sheet.hidden and wb.sheets[1].hidden


def test_xls_named_xlsx_is_read_as_xls(tmp_path):
    make_xls(tmp_path / "real.xls")
    shutil.copy(tmp_path / "real.xls", tmp_path / "fake.xlsx")
    wb = read_workbook(tmp_path / "fake.xlsx")
    assert wb.kind == "xls" and wb.sheets[0].rows[3][0] == 1.0


def test_xlsx_named_xls_is_read_as_xlsx(tmp_path):
    make_form_xlsx(tmp_path / "real.xlsx")
    shutil.copy(tmp_path / "real.xlsx", tmp_path / "fake.xls")
    wb = read_workbook(tmp_path / "fake.xls")
    assert wb.kind == "xlsx" and wb.sheets[0].rows[6][2] == "Nguyễn Văn An"


# ---------------------------------------------------------------------------- .csv

ROWS = [["STT", "Họ và tên", "Ngày sinh", "Xã/Phường"],
        ["1", "Nguyễn Văn An", "17/05/1980", "Mỹ Hòa Hưng"],
        ["2", "Trần Thị Hường", "", "Vĩnh Trạch"]]


@pytest.mark.parametrize("encoding, delimiter", [
    ("utf-8-sig", ","), ("utf-8", ";"), ("utf-16", "\t"), ("cp1258", ";"), ("cp1258", ","),
])
def test_csv_encodings_and_delimiters(tmp_path, encoding, delimiter):
    text = "\r\n".join(delimiter.join(r) for r in ROWS) + "\r\n"
    if encoding == "cp1258":  # cp1258 writes most tone marks as combining characters
        text = to_cp1258(text)
    path = tmp_path / "ds.csv"
    path.write_bytes(text.encode(encoding))
    wb = read_workbook(path)
    assert wb.kind == "csv"
    rows = wb.sheets[0].rows
    assert rows[0] == ROWS[0]
    assert rows[1] == ROWS[1]
    assert rows[2] == ["2", "Trần Thị Hường", None, "Vĩnh Trạch"]
    assert all(unicodedata.is_normalized("NFC", v) for r in rows for v in r if v)


def test_csv_quoted_fields(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('STT,Địa chỉ\n1,"Ấp Phú Hữu, xã Phú An"\n', encoding="utf-8")
    assert read_workbook(path).sheets[0].rows[1] == ["1", "Ấp Phú Hữu, xã Phú An"]


# ---------------------------------------------------------------------------- HTML

HTML = """<html xmlns:x="urn:schemas-microsoft-com:office:excel">
<head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<style>td {{ mso-number-format:"\\@"; }}</style><title>Danh sách</title></head>
<body>
<p>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</p>
<table border=1>
<tr><td colspan=6 align=center><b>DANH SÁCH ĐĂNG KÝ TIÊM VẮC XIN PHÒNG COVID-19</b></td></tr>
<tr><th rowspan=2>STT</th><th rowspan=2>Họ và tên</th><th colspan=3>Mũi 1</th><th rowspan=2>Ghi chú</th></tr>
<tr><th>Ngày tiêm</th><th>Tên vắc xin</th><th>Nơi tiêm</th></tr>
<tr><td>1</td><td>Nguyễn&nbsp;Văn  An</td><td>02/08/2021</td><td>AstraZeneca</td><td>TTYT Long<br>Xuyên</td><td></td></tr>
<tr><td>2</td><td>Lê Thị Hoa</td><td>05/08/2021</td><td>Vero Cell</td><td>TTYT Chợ Mới</td><td>&amp; khác</td></tr>
<tr><td x:num>3</td><td>Võ Văn Tư</td><td x:num="44414">06/08/2021</td><td>Pfizer</td><td>TTYT Tri Tôn</td>
<td x:num="89123456789">8.91235E+10</td></tr>
</table></body></html>"""


def _check_html_grid(sheet):
    rows = sheet.rows
    assert rows[0][0] == "DANH SÁCH ĐĂNG KÝ TIÊM VẮC XIN PHÒNG COVID-19"
    assert rows[1] == ["STT", "Họ và tên", "Mũi 1", None, None, "Ghi chú"]
    assert rows[2] == [None, None, "Ngày tiêm", "Tên vắc xin", "Nơi tiêm", None]
    assert rows[3] == ["1", "Nguyễn Văn An", "02/08/2021", "AstraZeneca", "TTYT Long\nXuyên", None]
    assert rows[4][5] == "& khác"
    assert rows[5][0] == "3" and rows[5][2] == "06/08/2021"
    assert rows[5][5] == "89123456789"  # Excel's exact x:num, not the rounded display
    assert set(sheet.merged) == {(0, 0, 0, 5), (1, 0, 2, 0), (1, 1, 2, 1), (1, 2, 1, 4), (1, 5, 2, 5)}


@pytest.mark.parametrize("charset, encoding", [("utf-8", "utf-8"), ("windows-1258", "cp1258")])
def test_html_saved_as_xls(tmp_path, charset, encoding):
    text = HTML.format(charset=charset)
    if encoding == "cp1258":
        text = to_cp1258(text)
    path = tmp_path / "bao_cao.xls"
    path.write_bytes(text.encode(encoding))
    wb = read_workbook(path)
    assert wb.kind == "html" and len(wb.sheets) == 1
    _check_html_grid(wb.sheets[0])


def test_single_file_web_page_mht(tmp_path):
    html = HTML.format(charset="utf-8")
    qp = codecs.encode(html.encode("utf-8"), "quopri").decode("ascii")
    mht = ("MIME-Version: 1.0\r\nX-Document-Type: Workbook\r\n"
           'Content-Type: multipart/related; boundary="----=_NextPart_01D79"\r\n\r\n'
           "------=_NextPart_01D79\r\nContent-Location: file:///C:/x/ds.htm\r\n"
           "Content-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=\"utf-8\"\r\n\r\n"
           + qp + "\r\n------=_NextPart_01D79--\r\n")
    path = tmp_path / "ds.xls"
    path.write_bytes(mht.encode("ascii"))
    wb = read_workbook(path)
    assert wb.kind == "html"
    _check_html_grid(wb.sheets[0])


def test_html_each_table_is_a_sheet_and_nested_tables_do_not_leak(tmp_path):
    path = tmp_path / "t.html"
    path.write_text("<table><tr><td>a<table><tr><td>inner</td></tr></table></td><td>b</td></tr></table>"
                    "<table><tr><td>c</td></tr></table>", encoding="utf-8")
    wb = read_workbook(path)
    grids = [s.rows for s in wb.sheets]
    assert [["inner"]] in grids and [["a", "b"]] in grids and [["c"]] in grids


def test_formula_with_cached_value_is_not_flagged(tmp_path):
    path = tmp_path / "f.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = 1
    wb.active["A2"] = "=A1+1"
    wb.active["A3"] = "=A2+1"
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    xml = xml.replace(b"<f>A1+1</f><v />", b"<f>A1+1</f><v>2</v>")  # as Excel saves it
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp_path / "g.xlsx", "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, xml if item.filename == "xl/worksheets/sheet1.xml" else zin.read(item))
    sheet = read_workbook(tmp_path / "g.xlsx").sheets[0]
    assert sheet.rows[1][0] == 2
    assert sheet.formula_without_value == {(2, 0)}
    assert len(sheet.rows) == 3 and sheet.rows[2][0] is None
