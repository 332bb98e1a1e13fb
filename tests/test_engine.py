"""The form engine on whole workbooks as units really make them: header found under title
blocks, columns recognised by text (never position), rows counted exactly, the form decided."""
from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from datetime import date, datetime

import openpyxl
import pytest
from openpyxl.styles import Font

from service.forms.engine import check_file

TODAY = date(2021, 8, 25)

PEOPLE = [
    ["Nguyễn Văn An", "05/09/1980", "Nam", "089080123456", "0912345678", "TP Long Xuyên", "Mỹ Bình"],
    ["Trần Thị Bé", "12/01/1990", "Nữ", "089190123457", "0987654321", "Long Xuyên", "Phường Mỹ Long"],
    ["Lê Văn Cường", "30/04/1975", "Nam", "089075123458", "0356789012", "Huyện Chợ Mới", "TT Chợ Mới"],
]


def save(wb, tmp_path, name="f.xlsx"):
    path = tmp_path / name
    wb.save(path)
    return str(path)


def mau1(tmp_path, *, title=True, numbers=True, signature=True, blank_inside=False, header=None, nfd=False):
    header = header or ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CMND/CCCD", "Số điện thoại",
                        "Quận/Huyện", "Xã/Phường", "Nhóm ưu tiên"]
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append(["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"])
        ws.append(["Độc lập - Tự do - Hạnh phúc"])
        ws.append(["DANH SÁCH ĐĂNG KÝ TIÊM VẮC XIN PHÒNG COVID-19"])
        ws.append([])
    fix = (lambda s: unicodedata.normalize("NFD", s)) if nfd else (lambda s: s)
    ws.append([fix(h) for h in header])
    if numbers:
        ws.append([f"({i})" for i in range(1, len(header) + 1)])
    for i, p in enumerate(PEOPLE, 1):
        values = dict(zip(["full_name", "dob", "gender", "id", "phone", "district", "ward"], p))
        row = []
        for h in header:
            k = h.lower()
            row.append({"stt": i, "họ và tên": values["full_name"], "ho ten": values["full_name"],
                        "ngày sinh": values["dob"], "giới tính": values["gender"],
                        "số cmnd/cccd": values["id"], "số điện thoại": values["phone"],
                        "quận/huyện": values["district"], "xã/phường": values["ward"],
                        "nhóm ưu tiên": 4}.get(k, values.get(k)))
        ws.append([fix(v) if isinstance(v, str) else v for v in row])
        if blank_inside and i == 1:
            ws.append([])
    if signature:
        ws.append([])
        ws.append([None, "Người lập biểu", None, None, None, "Thủ trưởng đơn vị"])
        ws.append([None, "Nguyễn Thị Lập", None, None, None, "Trần Văn Trưởng"])
    return save(wb, tmp_path)


def test_a_plain_mau1_is_read_and_every_row_passes(tmp_path):
    r = check_file(mau1(tmp_path, title=False, numbers=False, signature=False), today=TODAY)
    assert (r.form, r.rows, r.valid_rows, r.errors) == ("mau1", 3, 3, [])


def test_title_block_number_row_signature_and_blank_rows_do_not_count_as_people(tmp_path):
    r = check_file(mau1(tmp_path, blank_inside=True), today=TODAY)
    assert r.form == "mau1"
    assert r.rows == 3
    assert [x.row for x in r.records] == [7, 9, 10]  # Excel rows as the sender sees them
    assert r.errors == []


def test_headers_are_matched_by_text_in_any_case_order_and_normal_form(tmp_path):
    header = ["SỐ ĐIỆN THOẠI", "xã/phường", "Họ và tên", "STT", "Ngày sinh", "Nhóm ưu tiên",
              "Giới tính", "Quận/Huyện", "Số CMND/CCCD"]
    r = check_file(mau1(tmp_path, header=header, nfd=True), today=TODAY)
    assert (r.form, r.rows, r.valid_rows) == ("mau1", 3, 3)
    cols = r.layout.columns
    assert cols["phone"].letter == "A" and cols["full_name"].letter == "C" and cols["id_number"].letter == "I"


def test_errors_name_the_excel_row_and_column_as_the_sender_sees_them(tmp_path):
    path = mau1(tmp_path)
    wb = openpyxl.load_workbook(path)
    wb.active["C8"] = "31/02/1990"
    wb.save(path)
    r = check_file(path, today=TODAY)
    (e,) = r.errors
    assert (e.row, e.column, e.field, e.code) == (8, "C", "dob", "date-invalid")
    assert "Ngày sinh" in e.message
    assert r.valid_rows == 2


def mau2_merged(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Mẫu 2"
    ws.append(["DANH SÁCH BỔ SUNG THÔNG TIN NGƯỜI ĐÃ TIÊM"])
    ws.append(["STT", "Họ tên", "Năm sinh", "Nam/Nữ", "CMND/CCCD", "SĐT", "Huyện", "Xã",
               "Mũi 1", None, None, None, "Mũi 2", None, None, None])
    ws.append([None] * 8 + ["Ngày tiêm", "Loại vắc xin", "Số lô", "Cơ sở tiêm"] * 2)
    for c in range(1, 9):
        ws.merge_cells(start_row=2, start_column=c, end_row=3, end_column=c)
    ws.merge_cells("I2:L2")
    ws.merge_cells("M2:P2")
    ws.append([1, "Nguyễn Văn An", datetime(1980, 9, 5), "Nam", "089080123456", "0912345678", "Long Xuyên",
               "Mỹ Bình", datetime(2021, 6, 1), "AstraZeneca", "A1", "TTYT Long Xuyên",
               datetime(2021, 7, 27), "AZ", "A2", "TTYT Long Xuyên"])
    ws.append([2, "Trần Thị Bé", datetime(1990, 1, 12), "Nữ", "089190123457", "0987654321", "Châu Đốc",
               "Núi Sam", datetime(2021, 7, 1), "Vero Cell", "V1", "BVĐK khu vực tỉnh An Giang",
               None, None, None, None])
    return save(wb, tmp_path)


def test_a_header_merged_over_two_rows_maps_the_dose_columns_and_makes_a_mau2(tmp_path):
    r = check_file(mau2_merged(tmp_path), today=TODAY)
    assert r.form == "mau2"
    cols = r.layout.columns
    assert cols["dose1_date"].letter == "I" and cols["dose1_facility"].letter == "L"
    assert cols["dose2_vaccine"].letter == "N" and cols["dose2_facility"].letter == "P"
    assert cols["dose1_date"].header == "Mũi 1 / Ngày tiêm"
    assert (r.rows, r.valid_rows) == (2, 2), [e.message for e in r.errors]
    assert r.records[0].values["dose1_facility_key"] == "ttyt-883"


def test_an_instruction_sheet_before_the_form_is_not_the_form(tmp_path):
    path = mau1(tmp_path)
    wb = openpyxl.load_workbook(path)
    info = wb.create_sheet("Hướng dẫn", 0)
    info.append(["Hướng dẫn điền mẫu: cột Họ và tên ghi đầy đủ, Ngày sinh ghi ngày/tháng/năm."])
    wb.save(path)
    r = check_file(path, today=TODAY)
    assert r.form == "mau1" and r.sheet != "Hướng dẫn" and r.rows == 3


def test_a_workbook_that_is_not_a_form_is_exit_2_with_one_vietnamese_sentence(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["Nội dung", "Kinh phí"])
    wb.active.append(["Mua vật tư", 1200000])
    r = check_file(save(wb, tmp_path), today=TODAY)
    assert r.form is None and r.exit_code == 2
    assert r.fatal.code == "not-a-form" and "Mẫu 1" in r.fatal.message


def test_a_missing_required_column_is_reported_once_and_no_row_is_forwarded(tmp_path):
    header = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CMND/CCCD", "Số điện thoại",
              "Quận/Huyện", "Xã/Phường"]  # no "Nhóm ưu tiên": required in Mẫu 1
    r = check_file(mau1(tmp_path, header=header), today=TODAY)
    missing = [e for e in r.errors if e.code == "column-missing"]
    assert [e.field for e in missing] == ["priority_group"]
    assert r.valid_rows == 0


def test_tcvn3_text_is_decoded_by_font_and_listed_as_a_fix(tmp_path):
    path = mau1(tmp_path, title=False, numbers=False, signature=False)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws["B2"] = "NguyÔn V¨n An"
    ws["B2"].font = Font(name=".VnTime")
    wb.save(path)
    r = check_file(path, today=TODAY)
    assert r.records[0].values["full_name"] == "Nguyễn Văn An"
    fix = [f for f in r.fixes if f.code.startswith("legacy")]
    assert [(f.row, f.field, f.to) for f in fix] == [(2, "full_name", "Nguyễn Văn An")]


def test_cli_json_contract_and_exit_codes(tmp_path):
    good = mau1(tmp_path)
    out = subprocess.run([sys.executable, "-m", "service.cli", "check", good, "--json", "--today", "2021-08-25"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"form", "rows", "valid_rows", "errors", "fixes", "warnings"} <= data.keys()
    assert (data["form"], data["rows"], data["valid_rows"]) == ("mau1", 3, 3)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(open(good, "rb").read()[:300])
    out = subprocess.run([sys.executable, "-m", "service.cli", "check", str(broken), "--json"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert json.loads(out.stdout)["form"] is None


@pytest.mark.parametrize("value", ["Nguyễn Văn An", "nguyễn văn an"])
def test_unicode_text_is_never_converted_as_legacy(tmp_path, value):
    path = mau1(tmp_path, title=False, numbers=False, signature=False)
    wb = openpyxl.load_workbook(path)
    wb.active["B2"] = value
    wb.active["B2"].font = Font(name=".VnTime")
    wb.save(path)
    r = check_file(path, today=TODAY)
    assert r.records[0].values["full_name"].lower() == "nguyễn văn an"
    assert not [f for f in r.fixes if f.code.startswith("legacy")]


def test_the_old_layout_with_birth_year_under_nam_or_nu_gives_birth_date_and_sex(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["STT", "Họ và tên", "Năm sinh", None, "Số CMND/CCCD", "Số điện thoại", "Huyện", "Xã",
               "Nhóm ưu tiên"])
    ws.append([None, None, "Nam", "Nữ"])
    for c in ("A", "B", "E", "F", "G", "H", "I"):
        ws.merge_cells(f"{c}1:{c}2")
    ws.merge_cells("C1:D1")
    ws.append([1, "Nguyễn Văn An", "05/09/1980", None, "089080123456", "0912345678", "Long Xuyên", "Mỹ Bình", 4])
    ws.append([2, "Trần Thị Bé", None, "12/01/1990", "089190123457", "0987654321", "Long Xuyên", "Mỹ Long", 4])
    ws.append([3, "Lê Thị Cúc", None, "12/01/1990", "089090123458", "0987654322", "Long Xuyên", "Mỹ Long", 4])
    r = check_file(save(wb, tmp_path), today=TODAY)
    assert (r.form, r.rows) == ("mau1", 3)
    assert [x.values["gender"] for x in r.records] == ["Nam", "Nữ", "Nữ"]
    assert r.records[1].values["dob"] == date(1990, 1, 12)
    # row 5: a CCCD whose sex digit says male, under "Nữ": the error points at the "Nữ" cell
    (e,) = [e for e in r.errors if e.row == 5]
    assert e.code == "id-gender-mismatch"
    assert not [x for x in r.errors if x.code == "column-missing"]


def test_a_name_written_in_two_columns_is_joined(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["STT", "Họ và tên đệm", "Tên", "Ngày sinh", "Giới tính", "Số CMND/CCCD", "Số điện thoại",
               "Huyện", "Xã", "Nhóm ưu tiên"])
    ws.append([1, "Nguyễn Văn", "An", "05/09/1980", "Nam", "089080123456", "0912345678", "Long Xuyên",
               "Mỹ Bình", 4])
    r = check_file(save(wb, tmp_path), today=TODAY)
    assert r.errors == [] and r.records[0].values["full_name"] == "Nguyễn Văn An"
