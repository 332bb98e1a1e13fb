"""Helpers for the tests of service.forms.checks (no tests here).

``check(rows…)`` runs ``check_rows`` on plain dicts with the default An Giang directory and
columns whose headers are written the way units write them.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache

from service.directory import Directory, load_default
from service.forms.checks import CheckContext, check_rows
from service.forms.model import Column, Issue, Report

TODAY = date(2021, 9, 1)
FIRST_ROW = 8  # data starts under a title block, a header and a column-number row

# Column order and headers as a sender wrote them (not the canonical labels).
HEADERS = {
    "stt": "STT",
    "full_name": "Họ và tên",
    "dob": "Ngày sinh",
    "gender": "Giới tính",
    "priority_group": "Nhóm ưu tiên",
    "phone": "SĐT",
    "id_number": "Số CMND/CCCD",
    "insurance_number": "Số thẻ BHYT",
    "province": "Tỉnh/TP",
    "district": "Huyện/Thị xã/TP",
    "ward": "Xã/Phường/Thị trấn",
    "address": "Địa chỉ",
    "dose1_date": "Mũi 1 / Ngày tiêm",
    "dose1_vaccine": "Mũi 1 / Tên vắc xin",
    "dose1_lot": "Mũi 1 / Số lô",
    "dose1_facility": "Mũi 1 / Nơi tiêm",
    "dose2_date": "Mũi 2 / Ngày tiêm",
    "dose2_vaccine": "Mũi 2 / Tên vắc xin",
    "dose2_lot": "Mũi 2 / Số lô",
    "dose2_facility": "Mũi 2 / Nơi tiêm",
}
FIELDS = list(HEADERS)
LETTER = {f: Column(f, i, HEADERS[f]).letter for i, f in enumerate(FIELDS)}

# A person whose every cell is right (Mẫu 2 with both doses).
GOOD = {
    "stt": 1.0,
    "full_name": "Nguyễn Văn An",
    "dob": "05/09/1980",
    "gender": "Nam",
    "priority_group": "Nhóm 4",
    "phone": "0912345678",
    "id_number": "089080123456",
    "insurance_number": "GD4898912345678",
    "province": "An Giang",
    "district": "Thành phố Long Xuyên",
    "ward": "Phường Mỹ Bình",
    "address": "Số 5, Khóm Đông Thịnh",
    "dose1_date": "01/07/2021",
    "dose1_vaccine": "AstraZeneca",
    "dose1_lot": "A1234",
    "dose1_facility": "Trạm Y tế Phường Mỹ Bình",
    "dose2_date": "05/08/2021",
    "dose2_vaccine": "AstraZeneca",
    "dose2_lot": "B5678",
    "dose2_facility": "Trung tâm Y tế thành phố Long Xuyên",
}
NO_DOSE2 = {"dose2_date": None, "dose2_vaccine": None, "dose2_lot": None, "dose2_facility": None}
MAU1_FIELDS = [f for f in FIELDS if not f.startswith("dose")]


@lru_cache(maxsize=1)
def directory() -> Directory:
    return load_default()


def check(*changes: dict, form: str = "mau2", today: date = TODAY,
          fields: list[str] | None = None) -> Report:
    """Check rows made of GOOD updated with each dict of changes (rows 8, 9, …)."""
    fields = fields or (FIELDS if form == "mau2" else MAU1_FIELDS)
    columns = {f: Column(f, FIELDS.index(f), HEADERS[f]) for f in fields}
    report = Report(path="test.xlsx", form=form)
    rows = []
    for i, change in enumerate(changes):
        row = {f: GOOD.get(f) for f in fields}
        row.update({k: v for k, v in change.items() if k in columns})
        rows.append((FIRST_ROW + i, row))
    check_rows(rows, CheckContext(directory(), form, today, columns, report))
    return report


def issues(report: Report) -> list[Issue]:
    return report.errors + report.warnings


def codes(report: Report) -> list[str]:
    return [i.code for i in issues(report)]


def only(report: Report, code: str) -> Issue:
    """The single issue with this code (and assert it is the only issue at all)."""
    found = issues(report)
    assert [i.code for i in found] == [code], [i.message for i in found]
    return found[0]


def values(report: Report, row: int = 0) -> dict:
    return report.records[row].values


def assert_names_cell(issue: Issue, field: str, row: int = FIRST_ROW) -> None:
    """The issue points at the cell and its message names the header as written."""
    assert issue.row == row
    assert issue.field == field
    assert issue.column == LETTER[field]
    assert issue.header == HEADERS[field]
    assert issue.message.startswith(f'Cột "{HEADERS[field]}" (ô {LETTER[field]}{row})')
    assert "vui lòng" in issue.message.lower()  # says how to fix it
