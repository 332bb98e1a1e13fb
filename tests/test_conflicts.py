"""A person another unit already forwarded is never silently swallowed: with other data it is
a conflict held for the operator and named row by row; with the same data it is "already
forwarded" without the other unit's tracking code; a receipt never calls such rows valid."""
from __future__ import annotations

import copy

import pytest

from tests.factory import mau1_xlsx, provincial_people, submission
from tests.test_pipeline_rules import Box

REAL = "vanthu@syt.angiang.example"      # Sở Y tế
OTHER = "vanthu@sgddt.angiang.example"   # Sở Giáo dục và Đào tạo


@pytest.mark.slow
def test_hijack_then_real_the_real_rows_are_a_conflict_named_row_by_row(tmp_path):
    box = Box(tmp_path)
    people = provincial_people(61, 3)
    victim = people[1]
    forged = copy.deepcopy(victim)
    forged["phone"] = "0912345678"  # the forger's phone on the victim's ID
    box.drop(submission(OTHER, mau1_xlsx("Sở Giáo dục và Đào tạo", [forged]), subject="hijack"))
    first = box.run()
    other_code = next(m["code"] for m in first if m["kind"] == "forward")
    box.drop(submission(REAL, mau1_xlsx("Sở Y tế", people), subject="real"))
    sent = box.run()
    reply = next(m for m in sent if m["to"] == [REAL])
    assert reply["kind"] == "error-report"  # not "all valid"
    assert "tất cả các dòng đều hợp lệ" not in reply["text"]
    assert "Dòng 8: khác số điện thoại." in reply["text"]  # the victim is the 2nd person: row 8
    assert other_code not in reply["text"] and other_code not in str(reply["msg"])
    (fw,) = [m for m in sent if m["kind"] == "forward"]
    assert fw["attachments"][0]["rows"] == 2  # the two others; the victim waits for the operator
    assert box.held_kinds() == ["conflict"]


@pytest.mark.slow
def test_the_same_person_with_the_same_data_from_another_unit_is_not_forwarded_twice_nor_called_valid(tmp_path):
    box = Box(tmp_path)
    people = provincial_people(62, 2)
    box.drop(submission(OTHER, mau1_xlsx("Sở Giáo dục và Đào tạo", people[:1]), subject="first"))
    other_code = next(m["code"] for m in box.run() if m["kind"] == "forward")
    box.drop(submission(REAL, mau1_xlsx("Sở Y tế", people), subject="second"))
    sent = box.run()
    reply = next(m for m in sent if m["to"] == [REAL])
    assert reply["kind"] == "receipt"
    assert "tất cả các dòng đều hợp lệ" not in reply["text"]
    assert "1 người đã có trong danh sách chuyển trước đó" in reply["text"]
    assert "do đơn vị khác chuyển" in reply["text"] and other_code not in reply["text"]
    (fw,) = [m for m in sent if m["kind"] == "forward"]
    assert fw["attachments"][0]["rows"] == 1
    assert box.held_kinds() == []


def test_a_unit_resending_its_own_people_sees_its_own_code(tmp_path):
    box = Box(tmp_path)
    people = provincial_people(63, 2)
    box.drop(submission(REAL, mau1_xlsx("Sở Y tế", people), subject="first"))
    code = next(m["code"] for m in box.run() if m["kind"] == "forward")
    people[0]["phone"] = "0912345678"  # its own correction is not a conflict with another unit
    box.drop(submission(REAL, mau1_xlsx("Sở Y tế", people), subject="again"))
    reply = next(m for m in box.run() if m["to"] == [REAL])
    assert f"mã {code}" in reply["text"] and box.held_kinds() == []
