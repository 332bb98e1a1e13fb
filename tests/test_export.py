"""export(): the canonical layout, text IDs, real dates, and a round trip through the engine."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from service.forms.engine import check_file
from service.forms.export import (CANONICAL_COLUMNS, COLUMN_WIDTHS, export, export_bytes, header_merges,
                                  header_rows)
from service.forms.model import Record, Report, column_letter
from service.forms.xlsx_writer import Cell, SheetSpec, Style, write_xlsx

TODAY = date(2021, 8, 25)


def _person(i: int, **extra) -> dict:
    male = i % 2 == 0
    born = date(1980 + i, 3, 5)
    g = "0" if male else "1"
    v = {
        "full_name": f"Nguyễn Văn {chr(65 + i)}" if male else f"Trần Thị {chr(65 + i)}",
        "dob": born,
        "gender": "Nam" if male else "Nữ",
        "occupation": "Công nhân",
        "workplace": "Công ty TNHH Đại Phát",
        "phone": f"09123456{i:02d}",
        "id_number": f"089{g}{born.year % 100:02d}00{i:04d}",
        "insurance_number": f"GD48989{i:08d}",
        "ethnicity": "Kinh",
        "nationality": "Việt Nam",
        "province": "Tỉnh An Giang",
        "district": "Huyện Chợ Mới",
        "ward": "Xã Kiến An",
        "address": "Ấp An Thái",
        "district_code": 892,  # extras are ignored
        "note": None,
    }
    v.update(extra)
    return v


def _read(path):
    ws = load_workbook(path).active
    return ws, [[c.value for c in r] for r in ws.iter_rows()]


def test_export_mau1_layout_and_types(tmp_path):
    recs = [Record(row=10 + i, values=_person(i, priority_group="4")) for i in range(3)]
    recs.append(Record(row=20, values=_person(3, dob=1953, priority_group="9")))  # a bare birth year
    recs.append(Record(row=21, values=_person(4), ok=False))  # not valid: not exported
    rep = Report(path="/x/ds.xlsx", form="mau1", records=recs)
    out = tmp_path / "mau1.xlsx"
    export(rep, str(out), title="UBND Xã Kiến An")
    ws, rows = _read(out)
    assert rows[0][0] == "DANH SÁCH ĐĂNG KÝ TIÊM VẮC XIN PHÒNG COVID-19 (MẪU 1)"
    assert rows[1][0] == "UBND Xã Kiến An"
    head_i = next(i for i, r in enumerate(rows) if r[0] == "STT")
    assert rows[head_i] == [h for _, h in CANONICAL_COLUMNS["mau1"]]
    data = rows[head_i + 1:]
    assert len(data) == 4
    col = {f: j for j, (f, _) in enumerate(CANONICAL_COLUMNS["mau1"])}
    first = data[0]
    assert first[col["stt"]] == 1 and first[col["source_row"]] == 10
    assert first[col["id_number"]] == "089080000000"  # leading zero kept, as text
    assert first[col["phone"]] == "0912345600"
    assert first[col["dob"]] == datetime(1980, 3, 5)
    assert first[col["priority_group"]] == 4
    assert data[3][col["dob"]] == 1953
    r0 = head_i + 2
    assert ws.cell(r0, col["id_number"] + 1).number_format == "@"
    assert ws.cell(r0, col["phone"] + 1).number_format == "@"
    assert ws.cell(r0, col["dob"] + 1).number_format == "dd/mm/yyyy"
    assert ws.cell(r0, col["id_number"] + 1).data_type == "s"


def test_export_subset_and_mau2_header(tmp_path):
    vals = _person(0, dose1_date=date(2021, 7, 1), dose1_vaccine="AstraZeneca", dose1_lot="0012",
                   dose1_facility="Trung tâm Y tế huyện Chợ Mới", dose2_date=date(2021, 8, 20),
                   dose2_vaccine="AstraZeneca", dose2_lot="A77", dose2_facility="Trung tâm Y tế huyện Chợ Mới")
    recs = [Record(row=7, values=vals), Record(row=8, values=_person(1, dose1_date=date(2021, 6, 1),
                                                                    dose1_vaccine="Sinopharm",
                                                                    dose1_facility="Trung tâm Y tế huyện Chợ Mới"))]
    rep = Report(path="/x/ds.xlsx", form="mau2", records=recs)
    out = tmp_path / "mau2.xlsx"
    export(rep, str(out), records=recs[1:])
    ws, rows = _read(out)
    top, bottom = header_rows("mau2")
    hi = next(i for i, r in enumerate(rows) if r[0] == "STT")
    assert rows[hi] == top and rows[hi + 1] == bottom
    assert "Mũi 1" in top and "Mũi 2" in top
    merged = {str(m) for m in ws.merged_cells.ranges}
    g1 = top.index("Mũi 1")
    assert any(m.startswith(f"{chr(65 + g1)}{hi + 1}:") for m in merged)
    data = rows[hi + 2:]
    assert len(data) == 1 and data[0][-1] == 8


def test_export_round_trip_through_engine(tmp_path):
    m1 = [Record(row=5 + i, values=_person(i, priority_group=str(1 + i))) for i in range(4)]
    out1 = tmp_path / "rt1.xlsx"
    export(Report(path="a.xlsx", form="mau1", records=m1), str(out1), title="Công ty TNHH Đại Phát")
    rep = check_file(out1, today=TODAY)
    assert rep.fatal is None and rep.form == "mau1", rep.as_json()
    assert rep.rows == 4 and rep.valid_rows == 4, rep.as_json()["errors"]
    assert [r.values["id_number"] for r in rep.records] == [r.values["id_number"] for r in m1]
    assert [r.values["phone"] for r in rep.records] == [r.values["phone"] for r in m1]

    m2 = [Record(row=5 + i, values=_person(i, dose1_date=date(2021, 7, 1 + i), dose1_vaccine="AstraZeneca",
                                             dose1_lot="A1", dose1_facility="Trung tâm Y tế huyện Chợ Mới"))
          for i in range(3)]
    out2 = tmp_path / "rt2.xlsx"
    export(Report(path="b.xlsx", form="mau2", records=m2), str(out2))
    rep2 = check_file(out2, today=TODAY)
    assert rep2.fatal is None and rep2.form == "mau2", rep2.as_json()
    assert rep2.rows == 3 and rep2.valid_rows == 3, rep2.as_json()["errors"]
    assert [r.values["dose1_date"] for r in rep2.records] == [date(2021, 7, 1 + i) for i in range(3)]


# ---------------------------------------------------------------------------- formats, merges, panes


def _mau2_records(n: int) -> list[Record]:
    return [Record(row=9 + i, values=_person(i, dose1_date=date(2021, 7, 1 + i), dose1_vaccine="AstraZeneca",
                                             dose1_lot="0012", dose1_facility="Trung tâm Y tế huyện Chợ Mới",
                                             dose2_date=date(2021, 8, 20 + i) if i % 2 else None,
                                             dose2_vaccine="AstraZeneca" if i % 2 else None,
                                             dose2_lot="0077" if i % 2 else None,
                                             dose2_facility="Trạm Y tế Xã Kiến An" if i % 2 else None,
                                             note="Đã tiêm & theo dõi <30 phút>" if i == 1 else None))
            for i in range(3)]


def test_export_bytes_formats_merges_and_panes(tmp_path):
    recs = _mau2_records(3)
    rep = Report(path="/x/ds.xlsx", form="mau2", records=recs)
    data = export_bytes(rep, title="UBND Xã Kiến An")
    assert data[:2] == b"PK"
    ws = load_workbook(io.BytesIO(data)).active
    cols = CANONICAL_COLUMNS["mau2"]
    col = {f: j + 1 for j, (f, _) in enumerate(cols)}
    last = column_letter(len(cols) - 1)
    # title block merged across the columns, header merged as header_merges() says
    merged = {str(m) for m in ws.merged_cells.ranges}
    assert {f"A1:{last}1", f"A2:{last}2", f"A3:{last}3"} <= merged
    assert set(header_merges("mau2", 5)) <= merged and f"A4:{last}4" not in merged
    assert ws["A3"].value == "Số người: 3" and ws["A3"].font.i
    assert ws["A1"].font.b and ws["A1"].font.sz == 14 and ws["A1"].alignment.horizontal == "center"
    # header: bold, filled, boxed, wrapped; the covered cells of a merge are written styled too
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert '<c r="A6" s="' in sheet_xml and '<c r="Q5" s="' in sheet_xml
    for ref in ("A5", "P5", "P6", "Q6"):
        c = ws[ref]
        assert c.font.b and c.fill.fgColor.rgb == "FFDDEBF7" and c.border.left.style == "thin", ref
        assert c.alignment.wrap_text
    assert ws.freeze_panes == "C7"
    for f, j in col.items():
        assert ws.column_dimensions[column_letter(j - 1)].width == COLUMN_WIDTHS[f]
    # data: text IDs "@", real dates dd/mm/yyyy, plain numbers General, empty cells absent
    for f in ("phone", "id_number", "insurance_number", "dose1_lot"):
        c = ws.cell(7, col[f])
        assert c.data_type == "s" and c.number_format == "@", f
    assert ws.cell(8, col["dose2_lot"]).value == "0077" and ws.cell(8, col["dose2_lot"]).number_format == "@"
    for f, want in (("dob", datetime(1980, 3, 5)), ("dose1_date", datetime(2021, 7, 1))):
        c = ws.cell(7, col[f])
        assert c.value == want and c.number_format == "dd/mm/yyyy", f
    assert ws.cell(7, col["stt"]).value == 1 and ws.cell(7, col["stt"]).number_format == "General"
    assert ws.cell(9, col["source_row"]).value == 11
    assert ws.cell(7, col["dose2_date"]).value is None
    assert ws.cell(8, col["note"]).value == "Đã tiêm & theo dõi <30 phút>"

    # read-only mode (uses <dimension>) sees the same grid
    ro = load_workbook(io.BytesIO(data), read_only=True).active
    assert (ro.max_row, ro.max_column) == (9, len(cols))
    rows = list(ro.iter_rows(min_row=7))
    assert [r[col["id_number"] - 1].number_format for r in rows] == ["@"] * 3
    assert [r[col["dob"] - 1].value for r in rows] == [datetime(1980 + i, 3, 5) for i in range(3)]

    # the same rows come back through the engine
    out = tmp_path / "bytes.xlsx"
    out.write_bytes(data)
    back = check_file(out, today=TODAY)
    assert back.fatal is None and back.form == "mau2" and back.valid_rows == 3, back.as_json()["errors"]
    for a, b in zip(back.records, recs):
        for f in ("full_name", "id_number", "phone", "insurance_number", "dose1_lot", "dose2_lot"):
            assert a.values.get(f) == b.values.get(f), f
        assert a.values["dose1_date"] == b.values["dose1_date"]


def test_export_to_path_matches_export_bytes(tmp_path):
    rep = Report(path="/x/ds.xlsx", form="mau1", records=[Record(row=5, values=_person(0, priority_group="2"))])
    out = tmp_path / "p.xlsx"
    export(rep, out)
    a, b = load_workbook(out).active, load_workbook(io.BytesIO(export_bytes(rep))).active
    assert [[c.value for c in r] for r in a.iter_rows()] == [[c.value for c in r] for r in b.iter_rows()]
    assert a.freeze_panes == "C5" and b.freeze_panes == "C5"  # no unit line: one header row, row 4


# ---------------------------------------------------------------------------- the writer underneath


def test_xlsx_writer_escapes_styles_and_sheets(tmp_path):
    nasty = "a & b <c> \"q\" 'x'\x00\x07\x1f\ud800\ufffe end"
    rows = [
        [Cell("Tiêu đề", Style(bold=True, italic=True, size=16, align="center", fill="FFC000", border=True))],
        ["  lề  ", nasty, True, 1.5, 10**12, datetime(2021, 8, 25, 12, 0), date(2021, 8, 25)],
        [Cell(date(2021, 8, 25), Style(number_format="yyyy-mm-dd")), Cell(7, Style(number_format="0.00")),
         Cell(None, Style(border=True)), "", None, Cell("0089", Style(number_format="@", font="Arial", wrap=True))],

        [date(1900, 1, 15), date(1900, 3, 1), datetime(1900, 2, 28, 6, 0)],
    ]
    buf = io.BytesIO()
    write_xlsx(buf, [SheetSpec("Danh sách & <1>", rows, merged=[(0, 0, 0, 3)], widths={0: 20.5}, freeze=(2, 0)),
                     SheetSpec("DanhMuc", iter([["x"]]), hidden=True)])
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        for name in z.namelist():
            ET.fromstring(z.read(name))  # every part is well-formed XML
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    ws = wb["Danh sách & <1>"]
    assert wb["DanhMuc"].sheet_state == "hidden" and wb["DanhMuc"]["A1"].value == "x"
    assert [str(m) for m in ws.merged_cells.ranges] == ["A1:D1"] and ws.freeze_panes == "A3"
    assert ws.column_dimensions["A"].width == 20.5
    a1 = ws["A1"]
    assert (a1.font.b, a1.font.i, a1.font.sz, a1.alignment.horizontal) == (True, True, 16, "center")
    assert a1.fill.fgColor.rgb == "FFFFC000" and a1.border.bottom.style == "thin"
    assert ws["A2"].value == "  lề  "
    assert ws["B2"].value == "a & b <c> \"q\" 'x' end"  # control chars, lone surrogate, U+FFFE dropped
    assert ws["C2"].value is True and ws["D2"].value == 1.5 and ws["E2"].value == 10**12
    assert ws["F2"].value == datetime(2021, 8, 25, 12, 0) and ws["G2"].number_format == "dd/mm/yyyy"
    assert ws["A3"].value == datetime(2021, 8, 25) and ws["A3"].number_format == "yyyy-mm-dd"
    assert ws["B3"].value == 7 and ws["B3"].number_format == "0.00"
    assert ws["C3"].value is None and ws["C3"].border.left.style == "thin"
    assert ws["D3"].value is None and ws["E3"].value is None
    assert [c.value for c in ws[4]][:3] == [datetime(1900, 1, 15), datetime(1900, 3, 1), datetime(1900, 2, 28, 6, 0)]
    assert ws["F3"].value == "0089" and ws["F3"].font.name == "Arial" and ws["F3"].alignment.wrap_text

    with pytest.raises(ValueError):
        Style(align="middle")
    with pytest.raises(ValueError):
        Style(fill="blue")
    with pytest.raises(ValueError):
        write_xlsx(io.BytesIO(), [SheetSpec("a", [[float("nan")]])])
    with pytest.raises(ValueError):
        write_xlsx(io.BytesIO(), [SheetSpec("a/b", [])])
    with pytest.raises(TypeError):
        write_xlsx(io.BytesIO(), [SheetSpec("a", [[object()]])])
