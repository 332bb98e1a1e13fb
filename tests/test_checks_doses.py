"""Vaccines, intervals and the dose rules of Mẫu 2."""
from datetime import date, timedelta

import pytest

from service.forms.checks.config import vaccines
from tests.test_checks_support import NO_DOSE2, assert_names_cell, check, codes, only, values

DOSE1 = date(2021, 7, 1)
TWO_DOSES = [v for v in vaccines() if v.doses >= 2]  # Abdala: three doses, the 1→2 rule applies


def _ddmmyyyy(d):
    return d.strftime("%d/%m/%Y")


@pytest.mark.parametrize("cell, name", [
    ("AZ", "AstraZeneca"), ("Astra", "AstraZeneca"), ("Astra Zeneca", "AstraZeneca"),
    ("Covishield", "AstraZeneca"), ("VAXZEVRIA", "AstraZeneca"), ("AstraZeneca (Covishield)", "AstraZeneca"),
    ("Vắc xin AstraZeneca", "AstraZeneca"),
    ("Pfizer", "Pfizer"), ("Comirnaty", "Pfizer"), ("Pfizer-BioNTech", "Pfizer"),
    ("Moderna", "Moderna"), ("Spikevax", "Moderna"),
    ("Vero Cell", "Sinopharm"), ("Verocell", "Sinopharm"), ("VERO-CELL", "Sinopharm"), ("Sinopharm", "Sinopharm"),
    ("Hayat-Vax", "Hayat-Vax"), ("Hayat Vax", "Hayat-Vax"),
    ("Sputnik V", "Sputnik V"), ("Abdala", "Abdala"), ("Janssen", "Janssen"), ("J&J", "Janssen"),
])
def test_vaccine_names_and_aliases_become_canonical(cell, name):
    report = check({"dose1_vaccine": cell, **NO_DOSE2})
    assert codes(report) == []
    assert values(report)["dose1_vaccine"] == name


@pytest.mark.parametrize("cell", ["Sinovac", "abc", "1", "Pfizer + Moderna"])
def test_unknown_vaccines_are_errors_listing_the_known_names(cell):
    issue = only(check({"dose1_vaccine": cell, **NO_DOSE2}), "vaccine-unknown")
    assert_names_cell(issue, "dose1_vaccine")
    assert "AstraZeneca" in issue.message and "Janssen" in issue.message


@pytest.mark.parametrize("vaccine", TWO_DOSES, ids=lambda v: v.name)
def test_an_interval_exactly_equal_to_the_minimum_is_valid(vaccine):
    d2 = DOSE1 + timedelta(days=vaccine.min_interval_days)
    report = check({"dose1_vaccine": vaccine.name, "dose2_vaccine": vaccine.name,
                    "dose1_date": _ddmmyyyy(DOSE1), "dose2_date": _ddmmyyyy(d2)})
    assert codes(report) == []


@pytest.mark.parametrize("vaccine", TWO_DOSES, ids=lambda v: v.name)
def test_one_day_short_of_the_minimum_is_an_error(vaccine):
    d2 = DOSE1 + timedelta(days=vaccine.min_interval_days - 1)
    issue = only(check({"dose1_vaccine": vaccine.name, "dose2_vaccine": vaccine.name,
                        "dose1_date": _ddmmyyyy(DOSE1), "dose2_date": _ddmmyyyy(d2)}),
                 "dose-interval-too-short")
    assert_names_cell(issue, "dose2_date")
    assert f"{vaccine.min_interval_days} ngày" in issue.message and vaccine.name in issue.message


def test_the_minimum_intervals_are_the_ones_of_the_spec():
    assert {v.name: v.min_interval_days for v in TWO_DOSES} == {
        "AstraZeneca": 28, "Pfizer": 21, "Moderna": 28, "Sinopharm": 21, "Hayat-Vax": 21,
        "Sputnik V": 21, "Abdala": 14}


@pytest.mark.parametrize("d2", ["01/07/2021", "30/06/2021"])
def test_dose2_on_or_before_dose1_is_an_error(d2):
    issue = only(check({"dose1_date": "01/07/2021", "dose2_date": d2}), "dose2-before-dose1")
    assert_names_cell(issue, "dose2_date")
    assert "01/07/2021" in issue.message


def test_mixed_vaccines_take_the_larger_minimum():
    # Pfizer (21) then AstraZeneca (28): 25 days is too soon
    report = check({"dose1_vaccine": "Pfizer", "dose2_vaccine": "AZ",
                    "dose1_date": "01/07/2021", "dose2_date": "26/07/2021"})
    assert codes(report) == ["dose-interval-too-short"]
    report = check({"dose1_vaccine": "Pfizer", "dose2_vaccine": "AZ",
                    "dose1_date": "01/07/2021", "dose2_date": "29/07/2021"})
    assert codes(report) == []


def test_a_second_dose_after_janssen_is_an_error():
    issue = only(check({"dose1_vaccine": "Janssen", "dose2_vaccine": "Pfizer"}), "janssen-second-dose")
    assert_names_cell(issue, "dose2_vaccine")


def test_a_second_dose_of_janssen_is_an_error():
    assert codes(check({"dose2_vaccine": "J&J"})) == ["janssen-second-dose"]


def test_a_single_janssen_dose_is_fine():
    assert codes(check({"dose1_vaccine": "Janssen", **NO_DOSE2})) == []


@pytest.mark.parametrize("field", ["dose1_date", "dose1_vaccine", "dose1_facility"])
def test_mau2_requires_dose1_date_vaccine_and_facility(field):
    issue = only(check({field: None}), "required-missing")
    assert_names_cell(issue, field)
    assert "để trống" in issue.message


def test_dose2_fields_are_optional():
    assert codes(check(NO_DOSE2)) == []


def test_a_dose2_date_without_its_vaccine_is_a_warning():
    issue = only(check({"dose2_vaccine": None}), "dose2-incomplete")
    assert issue.severity == "warning"
    assert_names_cell(issue, "dose2_vaccine")
    assert '"Mũi 2 / Ngày tiêm"' in issue.message


def test_dose2_without_dose1_when_dose1_is_not_required():
    report = check({"dose1_date": None, "dose1_vaccine": None, "dose1_facility": None}, form="mau1",
                   fields=["full_name", "dob", "gender", "priority_group", "phone", "id_number",
                           "district", "ward", "dose1_date", "dose1_vaccine", "dose1_facility",
                           "dose2_date", "dose2_vaccine"])
    issue = only(report, "dose2-without-dose1")
    assert issue.field == "dose2_date"


def test_required_dose1_cells_are_not_reported_twice():
    report = check({"dose1_date": None, "dose1_vaccine": None})
    assert codes(report) == ["required-missing", "required-missing"]
