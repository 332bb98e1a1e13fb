"""Dates: day-first, Excel serials, bare years, bounds (SPEC "Facts the checks rest on")."""
from datetime import date, datetime

import pytest

from tests.test_checks_support import FIRST_ROW, NO_DOSE2, TODAY, assert_names_cell, check, codes, only, values


@pytest.mark.parametrize("cell", ["05/09/1980", "5/9/1980", "05-09-1980", "5.9.1980", "05 / 09 / 1980",
                                  "05/09/1980 00:00:00", "1980-09-05", "ngày 5 tháng 9 năm 1980",
                                  "05091980", datetime(1980, 9, 5), date(1980, 9, 5), 29469.0, 29469])
def test_birth_dates_are_read_day_first_in_every_shape(cell):
    report = check({"dob": cell})
    assert codes(report) == []
    assert values(report)["dob"] == date(1980, 9, 5)


def test_an_ambiguous_date_is_day_first():
    assert values(check({"dob": "03/04/1990"}))["dob"] == date(1990, 4, 3)


def test_a_two_digit_birth_year_is_repaired_with_a_fix():
    report = check({"dob": "05/09/80"})
    assert values(report)["dob"] == date(1980, 9, 5)
    [fix] = report.fixes
    assert (fix.row, fix.field, fix.column, fix.from_, fix.to, fix.code) == (
        FIRST_ROW, "dob", "C", "05/09/80", "05/09/1980", "date-two-digit-year")


def test_a_two_digit_birth_year_not_after_this_year_is_in_the_2000s():
    assert values(check({"dob": "05/09/03", "id_number": "089203123456"}))["dob"] == date(2003, 9, 5)


@pytest.mark.parametrize("cell", [1950, 1950.0, "1950"])
def test_a_bare_birth_year_is_accepted_with_a_warning(cell):
    report = check({"dob": cell, "id_number": "089050123456"})
    issue = only(report, "dob-year-only")
    assert issue.severity == "warning"
    assert_names_cell(issue, "dob")
    assert '"1950"' in issue.message  # a float year is shown as the sender typed it
    assert values(report)["dob"] == 1950
    assert report.records[0].ok


def test_the_current_year_is_a_year_not_an_excel_serial():
    report = check({"dob": float(TODAY.year), "id_number": "089221123456"})
    assert values(report)["dob"] == TODAY.year


def test_an_impossible_date_is_an_error_with_the_exact_message():
    issue = only(check({"dob": "31/02/1980"}), "date-invalid")
    assert issue.message == ('Cột "Ngày sinh" (ô C8): "31/02/1980" không phải ngày có thật. '
                             "Vui lòng ghi theo dạng ngày/tháng/năm, ví dụ 05/09/1980.")
    assert issue.value == "31/02/1980"


def test_a_month_first_date_is_reported_with_the_day_first_spelling():
    issue = only(check({"dob": "09/25/1980"}), "date-month-first")
    assert "25/09/1980" in issue.message
    assert_names_cell(issue, "dob")


@pytest.mark.parametrize("cell", ["abc", "5/9", "32/13/1980", "1980/13/45", True, 12.0])
def test_unreadable_dates_are_errors(cell):
    report = check({"dob": cell})
    assert codes(report) == ["date-invalid"]
    assert not report.records[0].ok


def test_a_birth_date_in_the_future_is_an_error():
    issue = only(check({"dob": "02/09/2021", "id_number": "089221123456"}), "date-future")
    assert "01/09/2021" in issue.message
    assert_names_cell(issue, "dob")


def test_a_birth_date_of_today_is_valid_as_a_date_but_flags_a_child():
    report = check({"dob": TODAY, "id_number": "089221123456"})
    assert codes(report) == ["dob-too-young"]
    assert report.records[0].ok


def test_birth_dates_before_1900_are_errors_and_1900_itself_is_valid():
    assert codes(check({"dob": "31/12/1899"})) == ["date-too-early"]
    assert codes(check({"dob": "01/01/1900", "id_number": "089000123456"})) == []


def test_dose_dates_from_the_first_vaccination_day_to_today_inclusive():
    assert codes(check({"dose1_date": "08/03/2021", **NO_DOSE2})) == []
    assert codes(check({"dose1_date": 44263.0, **NO_DOSE2})) == []
    assert codes(check({"dose1_date": "07/03/2021", **NO_DOSE2})) == ["dose-date-before-start"]
    assert codes(check({"dose2_date": "01/09/2021"})) == []
    issue = only(check({"dose2_date": "02/09/2021"}), "dose-date-future")
    assert_names_cell(issue, "dose2_date")
    assert "01/09/2021" in issue.message


def test_a_dose_date_from_the_day_the_file_arrived_is_judged_against_that_day():
    report = check({"dose2_date": "20/09/2021"}, today=date(2021, 9, 20))
    assert codes(report) == []


def test_a_bare_year_in_a_dose_date_is_an_error():
    issue = only(check({"dose1_date": 2021.0, **NO_DOSE2}), "date-invalid")
    assert_names_cell(issue, "dose1_date")
    assert "chỉ là năm" in issue.message


def test_a_two_digit_dose_year_is_2021():
    report = check({"dose1_date": "1/7/21"})
    assert values(report)["dose1_date"] == date(2021, 7, 1)
    assert [f.code for f in report.fixes] == ["date-two-digit-year"]


def test_an_excel_serial_dose_date():
    assert values(check({"dose1_date": 44392.0}))["dose1_date"] == date(2021, 7, 15)
