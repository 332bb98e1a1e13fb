"""Floods are capped: a unit's forwards per day, replies to unknown addresses per hour all
together, and the held folder's size (oldest unknown-sender messages dropped, audited, told
in `vaxmail status`)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from service.config import load_settings
from service.runner import Service
from tests.factory import mau1_xlsx, provincial_people, submission
from tests.outbox_reader import read_outbox
from tests.test_pipeline_samples import write_config

UNIT = "vanthu@syt.angiang.example"


def service(tmp_path, limits: str) -> tuple[Service, object]:
    cfg = write_config(tmp_path)
    with open(cfg, "a", encoding="utf-8") as fh:
        fh.write("[limits]\n" + limits)
    return Service(load_settings(cfg)), cfg


def drop(tmp_path, n: int, raw: bytes) -> None:
    (tmp_path / "Maildir" / "new" / f"{1629853200 + n}.{n}.test").write_bytes(raw)


@pytest.mark.slow
def test_a_units_forwards_stop_at_the_daily_cap_with_one_notice(tmp_path):
    svc, cfg = service(tmp_path, "forwards_per_unit_day = 3\nreplies_per_sender_per_day = 100\n")
    people = provincial_people(40, 8)
    for n in range(8):  # a loop at the unit: eight different lists in a row
        drop(tmp_path, n, submission(UNIT, mau1_xlsx("Sở Y tế", people[n:n + 1]), subject=f"DS {n}"))
    try:
        svc.run_once()
        held = [h.kind for h in svc.store.list_held()]
    finally:
        svc.close()
    sent = read_outbox(tmp_path / "out")
    kinds = sorted(m["kind"] for m in sent)
    assert kinds.count("forward") == 3 and kinds.count("receipt") == 3
    assert kinds.count("notice-flood") == 1 and len(sent) == 7
    assert held == ["unit-flood"] * 5
    # the operator looked: it is a real list, release one
    from service.operator import Desk
    with Desk(load_settings(cfg)) as desk:
        first = next(h for h in desk.store.list_held() if h.kind == "unit-flood")
        result = desk.release(first.id, by="test")
    assert result.ok, result.lines
    assert sorted(k for k, _ in result.new_outgoing) == ["forward", "receipt"]


@pytest.mark.slow
def test_notices_to_unknown_addresses_are_capped_per_hour_all_together(tmp_path):
    svc, _ = service(tmp_path, "replies_global_per_hour = 4\n")
    for n in range(10):  # rotating strangers
        drop(tmp_path, n, submission(f"x{n}@rotating.example", mau1_xlsx("Lạ", provincial_people(50 + n, 1))))
    try:
        svc.run_once()
        held = [h.kind for h in svc.store.list_held()]
    finally:
        svc.close()
    sent = read_outbox(tmp_path / "out")
    assert [m["kind"] for m in sent] == ["notice-unknown-sender"] * 4
    assert held.count("unknown-sender") == 10


@pytest.mark.slow
def test_the_held_folder_cap_drops_the_oldest_unknown_sender_mail(tmp_path):
    svc, cfg = service(tmp_path, "held_max_mb = 0\n")  # every held message is over the cap
    big = mau1_xlsx("Lạ", provincial_people(60, 30))
    for n in range(3):
        drop(tmp_path, n, submission(f"y{n}@stranger.example", big))
    try:
        svc.run_once()
        assert svc.store.list_held() == []  # dropped (released with an audit entry)
        events = [e for e in svc.store.audit_events(limit=50) if e.get("event") == "held-dropped"]
        assert len(events) == 3
        import time
        assert svc.store.count_replies("held-dropped", svc.store.day_of(time.time())) == 3  # the digest's line
    finally:
        svc.close()
    assert not any(p.suffix == ".eml" for p in (tmp_path / "state" / "held").iterdir())
    out = subprocess.run([sys.executable, "-m", "service.cli", "status", "--config", str(cfg)],
                         capture_output=True, text=True, check=True).stdout
    assert "đã xoá 3 thư cũ nhất" in out


def test_the_files_of_one_message_share_one_row_budget(tmp_path):
    """[limits] max_rows bounds one message's rows in all (its lists stay in the daemon's
    memory until the reply): files past it are named in the reply, to be sent apart."""
    from email.message import EmailMessage
    svc, _ = service(tmp_path, "max_rows = 14\n")
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = UNIT, "tiemchung@angiang.example", "Ba danh sách"
    m["Message-ID"] = "<three@syt.angiang.example>"
    m.set_content("Ba tệp.")
    for n in range(3):
        m.add_attachment(mau1_xlsx("Sở Y tế", provincial_people(70 + n, 3)), maintype="application",
                         subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename=f"DS{n}.xlsx")
    drop(tmp_path, 0, bytes(m))
    try:
        svc.run_once()
    finally:
        svc.close()
    sent = read_outbox(tmp_path / "out")
    (reply,) = [m for m in sent if m["to"] == [UNIT]]
    assert "DS2.xlsx\" chưa được kiểm tra vì các tệp trong cùng thư đã có tổng cộng 14 dòng" in reply["text"]
    assert sum(m["kind"] == "forward" for m in sent) >= 1
