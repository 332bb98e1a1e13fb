"""Province, district, ward and vaccination facility against the An Giang directory."""
import unicodedata

import pytest

from tests.test_checks_support import FIRST_ROW, assert_names_cell, check, codes, only, values


@pytest.mark.parametrize("cell", ["Thành phố Long Xuyên", "TP Long Xuyên", "TP. Long Xuyên", "Long Xuyen",
                                  "LONG XUYÊN", "tp.long xuyên", 883.0,
                                  unicodedata.normalize("NFD", "Thành phố Long Xuyên")])
def test_districts_match_however_they_are_written(cell):
    report = check({"district": cell})
    assert codes(report) == []
    assert (values(report)["district"], values(report)["district_code"]) == ("Thành phố Long Xuyên", 883)


def test_a_district_written_with_its_short_kind_word():
    report = check({"district": "H. Chợ Mới", "ward": "Thị trấn Chợ Mới",
                    "dose1_facility": "TTYT Chợ Mới", "dose2_facility": None})
    assert codes(report) == []
    assert values(report)["district"] == "Huyện Chợ Mới"
    assert values(report)["ward"] == "Thị trấn Chợ Mới"


@pytest.mark.parametrize("cell", ["Xã Mỹ Hoà Hưng", "Mỹ Hòa Hưng", "xa my hoa hung", "X. Mỹ Hòa Hưng",
                                  unicodedata.normalize("NFD", "Mỹ Hoà Hưng")])
def test_wards_match_across_old_and_new_tone_placement(cell):
    report = check({"ward": cell})
    assert codes(report) == []
    assert (values(report)["ward"], values(report)["ward_code"]) == ("Xã Mỹ Hòa Hưng", 30313)


def test_a_ward_of_another_district_is_an_error_naming_where_it_is():
    issue = only(check({"district": "Huyện Chợ Mới", "ward": "Mỹ Bình",
                        "dose1_facility": "TTYT Chợ Mới", "dose2_facility": None}), "ward-not-in-district")
    assert_names_cell(issue, "ward")
    assert "Huyện Chợ Mới" in issue.message and "Thành phố Long Xuyên" in issue.message
    assert '"Huyện/Thị xã/TP"' in issue.message  # the district column as written


def test_an_unknown_district_is_an_error():
    report = check({"district": "Quận 1", "ward": "Phường Bến Nghé", "dose2_facility": None})
    assert sorted(codes(report)) == ["district-unknown", "ward-unknown"]
    issue = report.errors[0]
    assert_names_cell(issue, "district")
    assert "Quận 1" in issue.message and "An Giang" in issue.message
    assert not report.records[0].ok


def test_an_unknown_ward_is_an_error_suggesting_a_ward_of_the_district():
    issue = only(check({"ward": "Phường 99"}), "ward-unknown")
    assert_names_cell(issue, "ward")
    assert "Thành phố Long Xuyên" in issue.message and "Phường Mỹ Bình" in issue.message


@pytest.mark.parametrize("cell", ["An Giang", "AG", "Tỉnh An Giang", "tinh an giang", "T. An Giang"])
def test_an_giang_is_recognised_in_the_province_column(cell):
    report = check({"province": cell})
    assert codes(report) == [] and values(report)["province"] == "Tỉnh An Giang"


def test_another_province_is_a_warning_and_its_places_are_kept_as_written():
    report = check({"province": "Cần Thơ", "district": "Quận Ninh Kiều", "ward": "Phường An Hòa",
                    "dose2_facility": None})
    issue = only(report, "province-other")
    assert issue.severity == "warning"
    assert values(report)["district"] == "Quận Ninh Kiều" and values(report)["district_code"] is None
    assert report.records[0].ok


@pytest.mark.parametrize("field", ["district", "ward"])
def test_district_and_ward_are_required(field):
    issue = only(check({field: None}, form="mau1"), "required-missing")
    assert_names_cell(issue, field)


def test_a_blank_province_means_an_giang():
    assert codes(check({"province": None})) == []


# ------------------------------------------------------------------ facilities
@pytest.mark.parametrize("cell, key", [
    ("Trạm Y tế Phường Mỹ Bình", "tyt-30280"),
    ("TYT P. Mỹ Bình", "tyt-30280"),
    ("Trạm y tế Mỹ Bình", "tyt-30280"),
    ("TYT xã Mỹ Khánh, TP Long Xuyên", "tyt-30310"),
    ("TTYT Chợ Mới", "ttyt-893"),
    ("Trung tâm Y tế thành phố Long Xuyên", "ttyt-883"),
    ("BVĐK Trung tâm An Giang", "cs-1"),
    ("tyt.mybinh.longxuyen@angiang.example", "tyt-30280"),
])
def test_dose_facilities_match_the_directory(cell, key):
    report = check({"dose1_facility": cell})
    assert codes(report) == []
    assert values(report)["dose1_facility_key"] == key


def test_an_unknown_dose1_facility_in_mau2_is_an_error_and_the_row_is_still_checked():
    report = check({"dose1_facility": "BV Chợ Rẫy", "phone": "09l2345678"})
    assert sorted(codes(report)) == ["facility-unknown", "phone-letters"]
    issue = next(i for i in report.errors if i.code == "facility-unknown")
    assert_names_cell(issue, "dose1_facility")
    assert "BV Chợ Rẫy" in issue.message
    assert values(report)["dose1_facility"] == "BV Chợ Rẫy"
    assert values(report)["dose1_facility_key"] is None
    assert not report.records[0].ok


def test_an_unknown_dose2_facility_is_only_a_warning():
    report = check({"dose2_facility": "Bệnh viện Chợ Rẫy"})
    issue = only(report, "facility-unknown")
    assert issue.severity == "warning" and issue.row == FIRST_ROW
    assert report.records[0].ok
