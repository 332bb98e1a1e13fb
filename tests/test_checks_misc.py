"""Names, gender, priority groups, BHYT, required fields, records and the error catalog."""
import re

import pytest

from service.forms import issues
from service.forms.checks.config import required_fields
from tests.test_checks_support import (FIRST_ROW, GOOD, HEADERS, assert_names_cell, check, codes,
                                       only, values)

VIETNAMESE = re.compile(r"[ăâđêôơưàáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵ]", re.I)


# ------------------------------------------------------------------ names
@pytest.mark.parametrize("cell, tidied", [
    ("Nguyễn  Văn   An", "Nguyễn Văn An"), ("NGUYỄN VĂN AN", "NGUYỄN VĂN AN"),
    ("Lê Thị Hoà", "Lê Thị Hòa"), ("H'Hen Niê", "H'Hen Niê"), ("Nguyễn-Trần Minh", "Nguyễn-Trần Minh"),
    ("Neáng Sóc Kha", "Neáng Sóc Kha"),
])
def test_names_are_tidied_and_kept_as_written(cell, tidied):
    report = check({"full_name": cell})
    assert codes(report) == [] and values(report)["full_name"] == tidied


@pytest.mark.parametrize("cell", ["Nguyễn Văn 2", "Trần Thị B1", 123.0])
def test_a_name_with_digits_is_an_error(cell):
    issue = only(check({"full_name": cell}), "name-invalid")
    assert_names_cell(issue, "full_name")
    assert "chữ số" in issue.message


@pytest.mark.parametrize("cell", ["Nguyễn Văn An (con)", "Lê @ Văn", "Phạm T. Lan"])
def test_a_name_with_symbols_is_an_error_naming_them(cell):
    issue = only(check({"full_name": cell}), "name-invalid")
    assert "ký tự không hợp lệ" in issue.message


def test_a_missing_name_is_required():
    issue = only(check({"full_name": None}), "required-missing")
    assert issue.message == ('Cột "Họ và tên" (ô B8) đang để trống. Đây là thông tin bắt buộc, '
                             "vui lòng ghi đầy đủ.")


# ------------------------------------------------------------------ gender
@pytest.mark.parametrize("cell, gender", [
    ("Nam", "Nam"), ("nam", "Nam"), ("NAM", "Nam"), ("Nữ", "Nữ"), ("nu", "Nữ"), ("NỮ", "Nữ"),
    ("Nu", "Nữ"), ("Khác", "Khác"), ("khac", "Khác"), (0.0, "Nam"), (1.0, "Nữ"), (0, "Nam"), ("1", "Nữ"),
    ("M", "Nam"), ("F", "Nữ"),
])
def test_gender_is_read_in_its_usual_spellings(cell, gender):
    report = check({"gender": cell, "id_number": None if gender != "Nam" else "089080123456"})
    assert values(report)["gender"] == gender
    assert "gender-invalid" not in codes(report)


@pytest.mark.parametrize("cell", ["x", "2", "Trai gái", True])
def test_other_genders_are_errors(cell):
    issue = only(check({"gender": cell}), "gender-invalid")
    assert_names_cell(issue, "gender")
    assert "Nam, Nữ hoặc Khác" in issue.message


# ------------------------------------------------------------------ priority groups
@pytest.mark.parametrize("cell", ["4", 4.0, 4, "Nhóm 4", "N4", "nhóm 04", "NHÓM 4",
                                  "4. Người làm việc trong các cơ quan, đơn vị"])
def test_priority_groups_are_read(cell):
    report = check({"priority_group": cell}, form="mau1")
    assert codes(report) == [] and values(report)["priority_group"] == 4


@pytest.mark.parametrize("cell", ["0", 17.0, "Nhóm 17", "abc", "Nhóm IV"])
def test_priority_groups_outside_1_to_16_are_errors(cell):
    issue = only(check({"priority_group": cell}, form="mau1"), "priority-invalid")
    assert_names_cell(issue, "priority_group")
    assert "3355/QĐ-BYT" in issue.message


def test_the_priority_group_is_required_in_mau1_only():
    assert codes(check({"priority_group": None}, form="mau1")) == ["required-missing"]
    assert codes(check({"priority_group": None}, form="mau2")) == []
    assert "priority_group" in required_fields("mau1")
    assert {"dose1_date", "dose1_vaccine", "dose1_facility"} <= required_fields("mau2")


# ------------------------------------------------------------------ BHYT
@pytest.mark.parametrize("cell, value", [
    ("GD4898912345678", "GD4898912345678"), ("gd 489 891 234 5678", "GD4898912345678"),
    ("HT3898912345678", "HT3898912345678"), ("8912345678", "8912345678"),
])
def test_health_insurance_numbers(cell, value):
    report = check({"insurance_number": cell})
    assert codes(report) == [] and values(report)["insurance_number"] == value


@pytest.mark.parametrize("cell", ["GD6898912345678", "G4898912345678", "GD48989123456789", "12345"])
def test_wrong_health_insurance_numbers_are_errors(cell):
    issue = only(check({"insurance_number": cell}), "insurance-invalid")
    assert_names_cell(issue, "insurance_number")


def test_a_number_cell_bhxh_that_lost_its_zero_is_repaired():
    report = check({"insurance_number": 123456789.0})
    assert values(report)["insurance_number"] == "0123456789"
    assert [f.code for f in report.fixes] == ["insurance-leading-zero"]


def test_insurance_is_optional():
    assert codes(check({"insurance_number": None})) == []


# ------------------------------------------------------------------ records
def test_every_row_gets_one_record_and_warnings_do_not_block_it():
    report = check({}, {"dob": 1980.0, "id_number": "089080654321"}, {"phone": "abc"})
    assert [r.row for r in report.records] == [FIRST_ROW, FIRST_ROW + 1, FIRST_ROW + 2]
    assert [r.ok for r in report.records] == [True, True, False]
    assert report.valid_rows == 2


def test_free_text_is_kept_and_number_lots_become_digits():
    report = check({"address": "Ấp Long Hòa", "dose1_lot": 210109.0})
    assert values(report)["address"] == "Ấp Long Hòa"
    assert values(report)["dose1_lot"] == "210109"


def test_a_wrong_cell_keeps_its_text_in_the_record():
    report = check({"phone": 12.0, "dob": "abc"})
    assert values(report)["phone"] == "12" and values(report)["dob"] == "abc"


def test_json_of_an_issue_carries_the_contract_fields():
    issue = only(check({"phone": 12.0}), "phone-invalid")
    assert issue.as_json() == {"sheet": None, "row": FIRST_ROW, "column": "F", "field": "phone",
                               "code": "phone-invalid", "message": issue.message, "value": 12}
    assert '"12"' in issue.message  # a whole float is shown as the sender typed it


# ------------------------------------------------------------------ the catalog
def test_the_catalog_has_stable_kebab_case_codes_and_vietnamese_messages():
    types = issues.all_types()
    assert len(types) > 30
    for t in types:
        assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", t.code), t.code
        assert t.severity in ("error", "warning")
        assert t.template.startswith("{where}") or t.code in issues.FORM_LEVEL, t.code
        assert t.title and not t.title.isascii(), t.code  # a Vietnamese short name
        assert VIETNAMESE.search(t.template), t.code
        assert "vui lòng" in t.template.lower() or t.severity == "warning", t.code


def test_every_error_message_of_a_bad_row_names_its_column_as_written():
    report = check({"full_name": "An 2", "dob": "31/02/1980", "gender": "x", "phone": "abc",
                    "id_number": "123", "insurance_number": "x", "district": "Quận 1", "ward": "x",
                    "dose1_date": "x", "dose1_vaccine": "x", "dose1_facility": "x",
                    "dose2_date": "01/01/2020", "dose2_vaccine": "x"})
    assert len(report.errors) == 13
    for issue in report.errors:
        assert issue.header == HEADERS[issue.field]
        assert issue.message.startswith(f'Cột "{HEADERS[issue.field]}" (ô {issue.column}{issue.row})')
        assert VIETNAMESE.search(issue.message)
    assert not report.records[0].ok
    assert set(GOOD) <= set(values(report))


def test_dashes_inside_a_bhyt_number_are_not_guessed_away():
    assert codes(check({"insurance_number": "GD4-89-8912345678"})) == ["insurance-invalid"]
