"""export(): the canonical layout, text IDs, real dates, and a round trip through the engine."""
from __future__ import annotations

from datetime import date, datetime

from openpyxl import load_workbook

from service.forms.engine import check_file
from service.forms.export import CANONICAL_COLUMNS, export, header_rows
from service.forms.model import Record, Report

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
