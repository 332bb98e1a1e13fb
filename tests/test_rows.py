"""No person lost silently: every non-empty row below the header is a person, a recognised
non-person row (group heading, subtotal, column-number row, repeated header, signature
block) or a row the report names — on workbooks shaped the way units make them."""
from __future__ import annotations

import json
from datetime import date

import openpyxl
import pytest
import xlwt

from service.forms.engine import check_file

TODAY = date(2021, 8, 25)
HEADER = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CMND/CCCD", "Số điện thoại",
          "Quận/Huyện", "Xã/Phường", "Địa chỉ", "Nhóm ưu tiên"]
PEOPLE = [  # name, dob, gender, CCCD, phone
    ("Nguyễn Văn An", "05/09/1980", "Nam", "089080123456", "0912345678"),
    ("Trần Thị Bé", "12/01/1990", "Nữ", "089190123457", "0987654321"),
    ("Lê Văn Cường", "30/04/1975", "Nam", "089075123458", "0356789012"),
    ("Phạm Thị Dung", "01/02/1985", "Nữ", "089185123459", "0912345679"),
    ("Võ Văn Em", "03/03/1970", "Nam", "089070123450", "0912345680"),
    ("Huỳnh Thị Phúc", "04/04/1992", "Nữ", "089192123451", "0912345681"),
]


def person(k: int, *, stt=None, address=None, phone=None) -> list:
    name, dob, gender, cccd, tel = PEOPLE[k]
    return [stt if stt is not None else k + 1, name, dob, gender, cccd, phone or tel,
            "TP Long Xuyên", "Mỹ Bình", address, 4]


def book(rows: list[list], merges: list[str] = ()) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "DS"
    ws.append(["DANH SÁCH ĐĂNG KÝ TIÊM VẮC XIN PHÒNG COVID-19"])
    ws.append([])
    ws.append(HEADER)  # row 3
    for r in rows:
        ws.append(r)
    for m in merges:
        ws.merge_cells(m)
    return wb


def check(wb, tmp_path, name="f.xlsx"):
    path = tmp_path / name
    wb.save(path)
    return check_file(str(path), today=TODAY), str(path)


def test_a_list_in_groups_is_read_past_every_subtotal_and_headings_give_the_address(tmp_path):
    rows = [
        ["I. Ấp Mỹ Hòa"], person(0), person(1), [None, "Cộng: 2 người"],
        ["II. Ấp Mỹ Thạnh"], person(2), person(3, phone="09123"), [None, "Cộng", None, None, None, 2],
        [None, "Tổng cộng: 4 người"],
    ]
    wb = book(rows, merges=["A4:J4", "A8:J8"])
    r, _ = check(wb, tmp_path)
    assert r.rows == 4  # the people after the first subtotal are not lost
    assert r.exit_code == 1  # … nor their errors
    assert [(e.row, e.field) for e in r.errors] == [(10, "phone")]
    assert r.skipped == {"heading": [4, 8], "subtotal": [7, 11, 12]}
    addresses = {rec.row: rec.values["address"] for rec in r.records}
    assert addresses == {5: "Ấp Mỹ Hòa", 6: "Ấp Mỹ Hòa", 9: "Ấp Mỹ Thạnh", 10: "Ấp Mỹ Thạnh"}
    said = [w for w in r.warnings if w.code == "group-heading-fill"]
    assert [w.row for w in said] == [4, 8] and "Ấp Mỹ Hòa" in said[0].message and "dòng 5–6" in said[0].message
    assert r.as_json()["skipped"] == {"heading": 2, "subtotal": 3}


def test_a_heading_gives_a_workplace_only_where_the_cell_is_empty(tmp_path):
    header = HEADER[:-2] + ["Đơn vị công tác", "Nhóm ưu tiên"]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    ws.append(["A. Khối văn phòng"])
    ws.merge_cells("A2:J2")
    ws.append(person(0))
    ws.append(person(1)[:8] + ["Phòng Kế toán", 4])
    r, _ = check(wb, tmp_path)
    assert [rec.values["workplace"] for rec in r.records] == ["Khối văn phòng", "Phòng Kế toán"]
    assert r.exit_code == 0 and r.skipped == {"heading": [2]}


def test_a_family_name_alone_in_the_name_column_is_a_person_not_a_heading(tmp_path):
    # "Trương", "Tô", "Đoàn" are family names: such a row is a person with cells missing
    wb = book([person(0), [None, "Trương Văn Sáu"], person(1)])
    r, _ = check(wb, tmp_path)
    assert r.rows == 3 and r.skipped == {}
    assert {e.row for e in r.errors} == {5}


def test_values_merged_down_belong_to_every_row_they_cover(tmp_path):
    rows = [person(k) for k in range(4)]
    for k in range(1, 4):
        rows[k][6] = rows[k][7] = None
    wb = book(rows, merges=["G4:G7", "H4:H7", "I4:J4"])  # district, ward down; I4:J4 across
    wb.active["I4"] = "Khóm Đông Thịnh"
    r, _ = check(wb, tmp_path)
    assert [rec.values["ward"] for rec in r.records] == ["Phường Mỹ Bình"] * 4
    # a horizontal merge's value belongs to its first column only: J4 (priority) is empty
    assert r.records[0].values["address"] == "Khóm Đông Thịnh"
    assert [(e.row, e.column, e.code) for e in r.errors] == [(4, "J", "required-missing")]
    assert r.valid_rows == 3


def test_an_error_in_a_merged_down_cell_is_marked_on_the_cell_the_sender_wrote(tmp_path):
    from service.forms.annotate import annotate

    rows = [person(k) for k in range(3)]
    rows[0][6] = "Huyện Không Có"
    for k in (1, 2):
        rows[k][6] = None
    wb = book(rows, merges=["G4:G6"])
    r, path = check(wb, tmp_path)
    assert sorted((e.row, e.field) for e in r.errors if e.field == "district") == [(4, "district"), (5, "district"), (6, "district")]
    out = tmp_path / "out.xlsx"
    annotate(r, path, str(out))
    ws = openpyxl.load_workbook(out)["DS"]
    assert ws["G4"].comment is not None and "G5" in ws["G4"].comment.text
    assert "G6:G4" not in str(ws.merged_cells) and "G4:G6" in str(ws.merged_cells)


def test_formulas_without_values_are_ignored_in_stt_and_one_error_each_in_checked_columns(tmp_path):
    rows = [person(k, stt=f"=ROW()-3") for k in range(3)]
    rows[1][5] = '="09"&"12345678"'  # a phone computed by a formula nobody calculated
    wb = book(rows)  # openpyxl writes formulas without cached values
    r, _ = check(wb, tmp_path)
    assert r.rows == 3
    assert [(e.row, e.field, e.code) for e in r.errors] == [(5, "phone", "formula-no-value")]
    assert r.valid_rows == 2


@pytest.mark.parametrize("groups", [("M1", "M2"), ("Lần 1", "Lần 2"), ("Mũi thứ nhất", "Mũi thứ hai"),
                                    ("Mũi 01", "Mũi 02")])
def test_abbreviated_dose_groups_are_recognised_and_dose_2_is_checked(tmp_path, groups):
    wb = openpyxl.Workbook()
    ws = wb.active
    head = ["STT", "Họ tên", "Ngày sinh", "Giới tính", "CCCD", "SĐT", "Huyện", "Xã"]
    ws.append(head + [groups[0], None, None, groups[1], None, None])
    ws.append([None] * len(head) + ["Ngày tiêm", "Vắc xin", "Nơi tiêm"] * 2)
    for c in range(1, len(head) + 1):
        ws.merge_cells(start_row=1, start_column=c, end_row=2, end_column=c)
    ws.merge_cells("I1:K1")
    ws.merge_cells("L1:N1")
    ws.append(person(0)[:8] + ["15/07/2021", "AstraZeneca", "Trạm Y tế Phường Mỹ Bình",
                               "20/07/2021", "AstraZeneca", "Trạm Y tế Phường Mỹ Bình"])
    r, _ = check(wb, tmp_path)
    assert r.form == "mau2"
    assert {"dose1_date", "dose2_date", "dose2_vaccine"} <= set(r.layout.columns)
    assert [(e.row, e.code) for e in r.errors] == [(3, "dose-interval-too-short")]


def test_invisible_characters_are_removed_before_any_check_and_reported_as_fixes(tmp_path):
    rows = [person(0), person(1), person(2)]
    rows[0][1] = "\ufeffNguyễn Văn An"
    rows[1][4] = "0891901\u200b23457"
    rows[2][1] = "Lê\u00a0Văn Cư\u00adờng"
    r, _ = check(wb := book(rows), tmp_path)
    assert r.errors == [] and r.valid_rows == 3
    assert r.records[0].values["full_name"] == "Nguyễn Văn An"
    assert r.records[2].values["full_name"] == "Lê Văn Cường"
    got = {(f.row, f.field) for f in r.fixes if f.code == "invisible-chars"}
    assert got == {(4, "full_name"), (5, "id_number"), (6, "full_name")}


def test_page_break_headers_number_rows_and_the_signature_block_are_counted_not_read(tmp_path):
    rows = [[f"({i})" for i in range(1, 11)], person(0), person(1), HEADER, list(range(1, 11)),
            person(2), [], [None, "Người lập biểu", None, None, None, "Thủ trưởng đơn vị"],
            [None, "Nguyễn Thị Lập", None, None, None, "Trần Văn Trưởng"]]
    r, _ = check(book(rows), tmp_path)
    assert (r.rows, r.valid_rows, r.errors) == (3, 3, [])
    assert r.skipped == {"column_numbers": [4, 8], "repeated_header": [7], "footer": [11, 12]}


def test_a_row_that_is_not_a_person_and_not_recognised_is_named_in_a_warning(tmp_path):
    rows = [person(0), [None, None, None, None, None, None, None, None, "chuyển đi nơi khác"], person(1)]
    r, _ = check(book(rows), tmp_path)
    assert r.rows == 2 and r.skipped == {"other": [5]}
    w = [w for w in r.warnings if w.code == "row-skipped"]
    assert len(w) == 1 and w[0].row == 5 and "chuyển đi nơi khác" in w[0].message


def test_groups_and_merges_in_an_xls_from_excel_97(tmp_path):
    wb = xlwt.Workbook()
    ws = wb.add_sheet("DS")
    for c, h in enumerate(HEADER):
        ws.write(0, c, h)
    ws.write_merge(1, 1, 0, 9, "Ấp Hòa Long")
    r = 2
    for k in range(3):
        for c, v in enumerate(person(k)):
            if c in (6, 7) and k:
                continue
            if v is not None:
                ws.write(r, c, v)
        r += 1
    ws.merge(2, 4, 6, 6)
    ws.merge(2, 4, 7, 7)
    ws.write(r, 1, "Cộng: 3")
    ws.write_merge(r + 1, r + 1, 0, 9, "Ấp Hòa Bình")
    for c, v in enumerate(person(3)):
        if v is not None:
            ws.write(r + 2, c, v)
    path = tmp_path / "f.xls"
    wb.save(str(path))
    rep = check_file(str(path), today=TODAY)
    assert (rep.rows, rep.valid_rows) == (4, 4), rep.errors
    assert rep.skipped == {"heading": [2, 7], "subtotal": [6]}
    assert [rec.values["address"] for rec in rep.records] == ["Ấp Hòa Long"] * 3 + ["Ấp Hòa Bình"]


def test_cli_json_carries_the_skipped_counts(tmp_path, capsys):
    from service.cli import main

    path = tmp_path / "f.xlsx"
    book([["Ấp Mỹ Hòa"], person(0), [None, "Cộng: 1"]], merges=["A4:J4"]).save(path)
    code = main(["check", str(path), "--json", "--today", "2021-08-25"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["rows"] == 1 and out["skipped"] == {"heading": 1, "subtotal": 1}
    assert {"form", "rows", "valid_rows", "errors", "fixes", "warnings"} <= out.keys()


def test_the_reply_names_the_rows_that_are_not_people(tmp_path):
    import io

    from tests.factory import submission
    from tests.test_pipeline_rules import Box

    rows = [["I. Ấp Mỹ Hòa"], person(0), person(1), [None, "Cộng: 2 người"],
            ["II. Ấp Mỹ Thạnh"], person(2), [None, "Cộng: 1 người"]]
    buf = io.BytesIO()
    book(rows, merges=["A4:J4", "A8:J8"]).save(buf)
    box = Box(tmp_path)
    box.drop(submission("vanthu@syt.angiang.example", buf.getvalue()))
    sent = box.run()
    (fw,) = [m for m in sent if m["kind"] == "forward"]
    assert fw["attachments"][0]["rows"] == 3
    (receipt,) = [m for m in sent if m["kind"] != "forward"]
    assert "2 dòng tiêu đề nhóm; 2 dòng cộng/tổng" in receipt["text"]
    assert "Ấp Mỹ Hòa" in receipt["text"]  # the heading that gave the address is named
    assert 'Dòng 4 "I. Ấp Mỹ Hòa"' not in receipt["text"] and "Dòng 4: Dòng 4" not in receipt["text"]
    import email
    from email import policy
    html = [m.get_body(("html",)).get_content() for m in
            (email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in (tmp_path / "out").glob("*.eml"))
            if m["X-Vaxmail-Kind"] in ("receipt", "error-report")]
    assert len(html) == 1 and "2 dòng tiêu đề nhóm" in html[0] and "Ấp Mỹ Hòa" in html[0]


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_every_generated_layout_accounts_for_every_non_empty_row(tmp_path, fmt):
    """The invariant, on the second generator's layouts: people + skipped rows by kind =
    the non-empty rows below the header; no person lost, none invented."""
    from bench.gen_layouts import Layouts, make

    for k, classes in enumerate([("groups", "vmerge"), ("page_headers", "footer", "invisible"),
                                 ("groups", "abbreviated", "footer", "page_headers", "vmerge"),
                                 ("national", "groups", "footer")]):
        lay = Layouts(fmt=fmt, formulas="cached" if fmt == "xls" else "uncached")
        for c in classes:
            setattr(lay, c, True)
        path = tmp_path / f"l{k}.{fmt}"
        truth = make(path, "mau2" if k % 2 else "mau1", rows=45, seed=100 + k, lay=lay)
        extra = truth.extra
        r = check_file(str(path), today=TODAY)
        assert r.rows == truth.rows, (classes, r.skipped)
        assert r.rows + sum(len(v) for v in r.skipped.values()) == extra["nonempty_below_header"], classes
        for kind, n in extra["non_person"].items():
            assert len(r.skipped.get(kind, [])) >= n, (kind, r.skipped)


def test_tcvn3_letters_on_the_soft_hyphen_byte_are_decoded_not_stripped_as_invisible(tmp_path):
    from openpyxl.styles import Font

    wb = book([person(0), person(1)])
    ws = wb.active
    ws["B4"] = "Tr\u00adêng V¨n An"  # TCVN3 "Trương Văn An": 0xAD is "ư", not a soft hyphen
    ws["B4"].font = Font(name=".VnTime")
    ws["B5"] = "Trần\u00a0Thị B\u00adé"  # Unicode text: NBSP and soft hyphen are removed
    r, _ = check(wb, tmp_path)
    assert [rec.values["full_name"] for rec in r.records] == ["Trường Văn An", "Trần Thị Bé"]
    assert [(f.row, f.code) for f in r.fixes] == [(4, "legacy-tcvn3"), (5, "invisible-chars")]


def test_a_total_row_with_counts_in_many_columns_is_a_subtotal_not_a_person(tmp_path):
    rows = [person(0), person(1), [None, "Tổng cộng", 2, 1, 1, 2, 2, 2, 2, 2]]
    r, _ = check(book(rows), tmp_path)
    assert (r.rows, r.errors, r.skipped) == (2, [], {"subtotal": [6]})
