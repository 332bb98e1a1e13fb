"""CMND/CCCD/passport numbers: structure, Excel damage, cross-checks, duplicates."""
import pytest

from tests.test_checks_support import FIRST_ROW, assert_names_cell, check, codes, only, values


def test_a_valid_cccd_agreeing_with_gender_and_birth_year_passes():
    report = check({"id_number": "089080123456", "gender": "Nam", "dob": "05/09/1980"})
    assert codes(report) == [] and report.fixes == []
    assert values(report)["id_number"] == "089080123456"


def test_a_cccd_whose_sex_digit_says_female_on_a_row_marked_nam_is_an_error():
    issue = only(check({"id_number": "089180123456", "gender": "Nam"}), "id-gender-mismatch")
    assert_names_cell(issue, "id_number")
    assert 'cột "Giới tính" ghi "Nam"' in issue.message
    assert "nữ" in issue.message


def test_a_cccd_whose_sex_digit_says_male_on_a_row_marked_nu_is_an_error():
    assert codes(check({"id_number": "089080123456", "gender": "nữ"})) == ["id-gender-mismatch"]


def test_gender_khac_is_not_compared():
    assert codes(check({"id_number": "089180123456", "gender": "Khác"})) == []


def test_a_cccd_whose_year_digits_disagree_with_the_birth_date_is_an_error():
    issue = only(check({"id_number": "089081123456", "dob": "05/09/1980"}), "id-year-mismatch")
    assert_names_cell(issue, "id_number")
    assert "1981" in issue.message and "1980" in issue.message and '"Ngày sinh"' in issue.message


def test_the_century_digit_counts_in_the_year_check():
    # G=2: a man born in 2003
    assert codes(check({"id_number": "089203123456", "dob": "05/09/2003", "gender": "Nam"})) == []
    assert codes(check({"id_number": "089003123456", "dob": "05/09/2003"})) == ["id-year-mismatch"]


def test_a_bare_birth_year_is_compared_too():
    report = check({"id_number": "089051123456", "dob": 1950.0})
    assert sorted(codes(report)) == ["dob-year-only", "id-year-mismatch"]


def test_the_year_check_is_skipped_when_the_birth_date_is_wrong():
    assert codes(check({"id_number": "089081123456", "dob": "31/02/1980"})) == ["date-invalid"]


@pytest.mark.parametrize("cell, ppp", [("000080123456", "000"), ("097080123456", "097"),
                                       ("003080123456", "003")])
def test_a_cccd_whose_first_three_digits_are_not_a_province_code_is_an_error(cell, ppp):
    issue = only(check({"id_number": cell}), "id-invalid")
    assert f'"{ppp}"' in issue.message and "089" in issue.message


def test_a_cccd_with_an_impossible_century_digit_is_an_error():
    issue = only(check({"id_number": "089580123456"}), "id-invalid")
    assert "chữ số thứ tư là 5" in issue.message


@pytest.mark.parametrize("cell", ["35123456", "12345", "0891234567890", "ABC", "08908012345X", 12.5])
def test_numbers_of_no_known_shape_are_errors(cell):
    issue = only(check({"id_number": cell}), "id-invalid")
    assert_names_cell(issue, "id_number")


def test_a_cmnd_of_nine_digits_is_valid():
    report = check({"id_number": "351234567"})
    assert codes(report) == [] and values(report)["id_number"] == "351234567"


def test_a_passport_is_a_letter_and_seven_digits():
    report = check({"id_number": "b1234567"})
    assert codes(report) == [] and values(report)["id_number"] == "B1234567"


def test_a_float_cccd_that_lost_its_leading_zero_is_restored_with_a_fix():
    report = check({"id_number": 89080123456.0})
    assert codes(report) == []
    assert values(report)["id_number"] == "089080123456"
    [fix] = report.fixes
    assert (fix.row, fix.field, fix.column, fix.to, fix.code) == (
        FIRST_ROW, "id_number", "G", "089080123456", "id-leading-zero")
    assert fix.as_json()["from"] == 89080123456  # shown as the sender typed it


def test_an_int_cmnd_is_turned_into_text_with_a_fix():
    report = check({"id_number": 351234567})
    assert values(report)["id_number"] == "351234567"
    assert [(f.to, f.code) for f in report.fixes] == [("351234567", "id-from-number")]


def test_an_eight_digit_number_is_a_cmnd_that_lost_its_leading_zero():
    report = check({"id_number": 12345678.0})
    assert values(report)["id_number"] == "012345678"
    assert [(f.to, f.code) for f in report.fixes] == [("012345678", "id-leading-zero")]


def test_eleven_digit_text_not_starting_with_zero_gets_its_zero_back():
    report = check({"id_number": "89080123456"})
    assert values(report)["id_number"] == "089080123456"
    assert [f.code for f in report.fixes] == ["id-leading-zero"]


@pytest.mark.parametrize("cell", ["8.9123E+10", "8,91235E+10", "8.91234568E+11", 89123400000.0,
                                  891234568000.0])
def test_scientific_notation_that_lost_digits_is_an_error_asking_for_a_text_column(cell):
    issue = only(check({"id_number": cell}), "id-lost-digits")
    assert_names_cell(issue, "id_number")
    assert "Văn bản (Text)" in issue.message


@pytest.mark.parametrize("cell", ["089 080 123 456", "089.080.123.456", "089-080-123456"])
def test_spaces_dots_and_dashes_inside_an_id_are_repaired(cell):
    report = check({"id_number": cell})
    assert codes(report) == [] and values(report)["id_number"] == "089080123456"
    [fix] = report.fixes
    assert (fix.from_, fix.to, fix.code) == (cell, "089080123456", "id-separators")


def test_the_same_id_twice_is_an_error_on_the_later_row_naming_the_first():
    report = check({}, {"full_name": "Trần Thị Bé"}, {"id_number": 89080123456.0})
    assert [(i.code, i.row) for i in report.errors] == [("id-duplicate", FIRST_ROW + 1),
                                                        ("id-duplicate", FIRST_ROW + 2)]
    assert f"dòng {FIRST_ROW}" in report.errors[0].message
    assert [r.ok for r in report.records] == [True, False, False]
