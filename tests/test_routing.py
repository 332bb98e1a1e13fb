"""The notice's routing table (items 2–7), rule by rule, against the shipped directory."""
from __future__ import annotations

import pytest

from service.defaults import config_dir
from service.directory import load_default
from service.forms.model import Record
from service.pipeline.routing import load_rules, route

D = load_default()
RULES = load_rules(config_dir() / "routing.toml")


def unit(key_or_email: str):
    u = D.unit_for_sender(key_or_email) if "@" in key_or_email else D.unit(key_or_email)
    assert u is not None, key_or_email
    return u


def rec(row: int, facility_key: str | None = None) -> Record:
    values = {"id_number": f"0891800{row:05d}"}
    if facility_key:
        values["dose1_facility_key"] = facility_key
    return Record(row, values)


def emails(recipients) -> list[str]:
    return [r.email for r in recipients]


def test_mau1_from_a_provincial_unit_goes_to_cdc_with_a_copy_to_so_tttt():
    r = route("mau1", [rec(7), rec(8)], unit("vanthu@syt.angiang.example"), D, RULES)
    assert len(r.deliveries) == 1
    d = r.deliveries[0]
    assert d.to.email == "cdc@angiang.example"
    assert emails(d.cc) == ["stttt@angiang.example"]
    assert [x.row for x in d.records] == [7, 8]


def test_mau1_from_a_commune_goes_to_its_district_health_centre_copy_culture_office():
    r = route("mau1", [rec(7)], unit("ubnd.mybinh.longxuyen@angiang.example"), D, RULES)
    (d,) = r.deliveries
    assert d.to.email == "ttyt.longxuyen@angiang.example"
    assert emails(d.cc) == ["vhtt.longxuyen@angiang.example"]


def test_mau1_from_an_enterprise_goes_to_its_district_health_centre_copy_its_supervisor():
    r = route("mau1", [rec(7)], unit("cty.binhhoa@angiang.example"), D, RULES)
    (d,) = r.deliveries
    assert d.to.name == "Trung tâm Y tế huyện Châu Thành"
    assert emails(d.cc) == ["bqlkkt@angiang.example"]
    r = route("mau1", [rec(7)], unit("cty.myquy@angiang.example"), D, RULES)
    assert emails(r.deliveries[0].cc) == ["sct@angiang.example"]


@pytest.mark.parametrize("sender, copy", [
    ("vanthu@sgddt.angiang.example", "stttt@angiang.example"),          # provincial → Sở TT&TT
    ("ubnd.khanhan.anphu@angiang.example", "vhtt.anphu@angiang.example"),  # commune → district culture office
    ("cty.myquy@angiang.example", "sct@angiang.example"),                # enterprise → its supervisor
])
def test_mau2_rows_are_split_per_dose1_facility_with_the_senders_copy(sender, copy):
    bv = D.find_facility("BVĐK Trung tâm An Giang")
    ttyt = D.find_facility("TTYT Châu Đốc")
    records = [rec(7, bv.key), rec(8, ttyt.key), rec(9, bv.key)]
    r = route("mau2", records, unit(sender), D, RULES)
    by_to = {d.to.email: d for d in r.deliveries}
    assert set(by_to) == {bv.email, ttyt.email}
    assert [x.row for x in by_to[bv.email].records] == [7, 9]
    assert [x.row for x in by_to[ttyt.email].records] == [8]
    assert all(emails(d.cc) == [copy] for d in r.deliveries)


def test_mau2_rows_with_an_unknown_facility_are_not_routed_but_kept_for_the_operator():
    bv = D.find_facility("BVĐK Trung tâm An Giang")
    r = route("mau2", [rec(7, bv.key), rec(8)], unit("vanthu@sgddt.angiang.example"), D, RULES)
    assert [x.row for d in r.deliveries for x in d.records] == [7]
    assert [(x.row, why) for x, why in r.unroutable] == [(8, "unknown-facility")]


def test_nothing_to_forward_makes_no_delivery():
    r = route("mau1", [], unit("vanthu@syt.angiang.example"), D, RULES)
    assert r.deliveries == [] and r.problem is None


def test_senders_are_known_by_exact_address_or_by_domain():
    assert D.unit_for_sender("Ai.Do@SYT.angiang.example").name == "Sở Y tế"
    assert D.unit_for_sender("ubnd.mybinh.longxuyen@angiang.example").name == "UBND Phường Mỹ Bình"
    assert D.unit_for_sender("nguoi.la@gmail.example") is None


def test_a_facility_name_shared_by_two_communes_is_settled_by_the_kind_word_or_the_district():
    assert D.find_facility("Trạm Y tế xã An Phú").district_code == 890        # Tịnh Biên
    assert D.find_facility("TYT thị trấn An Phú").district_code == 886        # An Phú
    assert D.find_facility("Trạm y tế An Phú") is None                        # ambiguous alone
    assert D.find_facility("Trạm y tế An Phú", D.find_district("Tịnh Biên")).district_code == 890
