"""Vietnamese mobile numbers: letters, repairs, the 2018 conversion, phonenumbers validity."""
import random

import phonenumbers
import pytest

from service.forms.checks import phones
from tests.test_checks_support import FIRST_ROW, assert_names_cell, check, codes, only, values


def _fix(report):
    [fix] = report.fixes
    assert (fix.row, fix.field, fix.column) == (FIRST_ROW, "phone", "F")
    return fix.to, fix.code


def test_a_ten_digit_mobile_number_passes_untouched():
    report = check({"phone": "0912345678"})
    assert codes(report) == [] and report.fixes == []


def test_a_number_cell_that_lost_its_leading_zero_is_repaired():
    report = check({"phone": 912345678.0})
    assert codes(report) == [] and values(report)["phone"] == "0912345678"
    assert _fix(report) == ("0912345678", "phone-leading-zero")
    assert report.fixes[0].as_json()["from"] == 912345678


@pytest.mark.parametrize("cell", ["+84912345678", "84912345678", "+84 91 234 5678", "0084912345678",
                                  "+840912345678"])
def test_the_country_code_is_replaced_by_a_zero(cell):
    report = check({"phone": cell})
    assert codes(report) == [] and _fix(report) == ("0912345678", "phone-country-code")


@pytest.mark.parametrize("cell", ["0912 345 678", "0912.345.678", "0912-345-678", "(091) 2345678",
                                  "'0912345678"])
def test_spaces_dots_dashes_and_parentheses_are_removed(cell):
    report = check({"phone": cell})
    assert codes(report) == [] and _fix(report) == ("0912345678", "phone-separators")


@pytest.mark.parametrize("old, new", sorted(phones.CONVERSION_2018.items()))
def test_eleven_digit_numbers_follow_the_2018_conversion(old, new):
    report = check({"phone": old + "4567890"[:7]})
    assert codes(report) == []
    assert _fix(report) == (new + "4567890", "phone-2018-conversion")


def test_an_eleven_digit_number_that_lost_its_zero_is_converted_too():
    report = check({"phone": 1234567890.0})  # 0123 456 7890 → 083 456 7890
    assert _fix(report) == ("0834567890", "phone-2018-conversion")


def test_the_2018_conversion_after_a_country_code():
    report = check({"phone": "+84 162 345 6789"})
    assert _fix(report) == ("0323456789", "phone-2018-conversion")


@pytest.mark.parametrize("cell", ["09l2345678", "0912345678a", "O912345678", "không có", "0912 ABC 678"])
def test_letters_are_an_error_before_parsing(cell):
    issue = only(check({"phone": cell}), "phone-letters")
    assert_names_cell(issue, "phone")
    assert "chữ cái" in issue.message


def test_089_is_a_mobile_prefix_only_as_0896_to_0899():
    assert codes(check({"phone": "0896123456"})) == []
    assert codes(check({"phone": "0899123456"})) == []
    issue = only(check({"phone": "0891234567"}), "phone-invalid")
    assert_names_cell(issue, "phone")


@pytest.mark.parametrize("cell", ["091234567", "09123456789", "0012345678", "1234", "0112345678",
                                  "+1 202 555 0100", "01701234567"])
def test_numbers_that_are_not_vietnamese_mobiles_are_errors(cell):
    assert codes(check({"phone": cell})) == ["phone-invalid"]


def test_a_landline_is_an_error_that_asks_for_a_mobile():
    issue = only(check({"phone": "0296 3500 666"}), "phone-not-mobile")
    assert "cố định" in issue.message and "di động" in issue.message
    assert issue.value == "0296 3500 666"


def test_two_numbers_in_one_cell_keep_the_first_with_a_warning():
    report = check({"phone": "0912345678 / 0987654321"})
    issue = only(report, "phone-multiple")
    assert issue.severity == "warning" and "0912345678" in issue.message
    assert values(report)["phone"] == "0912345678" and report.records[0].ok


def test_the_fast_check_agrees_with_phonenumbers():
    """Our metadata-pattern check = parse + is_valid_number + MOBILE/FIXED_LINE_OR_MOBILE."""
    rnd = random.Random(7)
    mobile_types = {phonenumbers.PhoneNumberType.MOBILE,
                    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
    for prefix in range(10, 100):
        for _ in range(6):
            number = f"0{prefix}{rnd.randrange(10 ** 7):07d}"
            parsed = phonenumbers.parse(number, "VN")
            expected = (phonenumbers.is_valid_number(parsed)
                        and phonenumbers.number_type(parsed) in mobile_types)
            value, problem, _ = phones.parse_phone(number)
            assert (problem is None) == expected, number


def test_two_numbers_joined_by_a_word_keep_the_first_too():
    report = check({"phone": "0912345678 hoặc 0987654321"})
    assert codes(report) == ["phone-multiple"] and values(report)["phone"] == "0912345678"
