"""Releasing held items, one test per kind of hold: the item is processed again with the
directory as it is now, what went out before is not sent again, and what cannot be released
says why (exit status 1)."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from service.config import load_settings
from service.defaults import config_dir, samples_dir
from service.operator import Desk
from service.runner import Service
from tests.factory import mau1_xlsx, provincial_people, submission
from tests.outbox_reader import read_message
from tests.test_pipeline_samples import write_config

pytestmark = pytest.mark.slow  # processes, servers or kills: run them all with plain pytest

ROOT = Path(__file__).resolve().parent.parent


class Office:
    """A Maildir in, a file outbox out, an editable copy of the directory."""

    def __init__(self, tmp: Path, folder: bool = False, extra: str = ""):
        self.tmp = tmp
        self.cfg = write_config(tmp, folder=folder)
        self.directory = tmp / "directory.toml"
        self.directory.write_text((config_dir() / "directory.toml").read_text(encoding="utf-8"), encoding="utf-8")
        with open(self.cfg, "a", encoding="utf-8") as fh:
            fh.write(f'[data]\ndirectory = "directory.toml"\n{extra}')
        self.seen: set[str] = set()
        self.n = 0

    def drop(self, raw: bytes) -> None:
        self.n += 1
        (self.tmp / "Maildir" / "new" / f"{1700000000 + self.n}.{self.n}.t").write_bytes(raw)

    def add_to_directory(self, toml: str) -> None:
        with open(self.directory, "a", encoding="utf-8") as fh:
            fh.write("\n" + toml + "\n")

    def edit_directory(self, old: str, new: str) -> None:
        text = self.directory.read_text(encoding="utf-8")
        assert old in text
        self.directory.write_text(text.replace(old, new, 1), encoding="utf-8")

    def run(self) -> list[dict]:
        svc = Service(load_settings(self.cfg))
        try:
            svc.run_once()
        finally:
            svc.close()
        return self.sent()

    def sent(self) -> list[dict]:
        """Messages that reached the (file) SMTP server since the last look."""
        new = []
        out = self.tmp / "out"
        for p in sorted(out.glob("*.eml")) if out.exists() else []:
            if p.name not in self.seen:
                self.seen.add(p.name)
                new.append(read_message(p.read_bytes()))
        return new

    def desk(self) -> Desk:
        return Desk(load_settings(self.cfg))

    def held(self):
        with self.desk() as d:
            return d.store.list_held()

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "service.cli", *args, "--config", str(self.cfg)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)


def _sample(name: str) -> bytes:
    return (samples_dir() / f"{name}.eml").read_bytes()


FACILITY = ('[[facility]]\nname = "Phòng khám tư Hòa Bình"\ndistrict = 886\n'
            'email = "pk.hoabinh@angiang.example"\n')


def test_unknown_facility_released_after_adding_it_forwards_only_the_held_rows_once(tmp_path):
    o = Office(tmp_path)
    o.drop(_sample("06-mau2-xa-noi-tiem-la"))
    first = o.run()
    assert sorted(m["kind"] for m in first) == ["error-report", "forward", "forward"]
    (h,) = o.held()
    assert h.kind == "unknown-facility" and h.code == first[0]["code"]

    o.add_to_directory(FACILITY)
    rel = o.cli("release", str(h.id))
    assert rel.returncode == 0, rel.stderr
    assert "pk.hoabinh@angiang.example" in rel.stdout and "Đã hết lý do giữ" in rel.stdout
    again = o.run()
    # the held row goes to the new facility; the unit now gets a receipt; nothing else again
    assert sorted(m["kind"] for m in again) == ["forward", "receipt"]
    (fw,) = [m for m in again if m["kind"] == "forward"]
    assert fw["to"] == ["pk.hoabinh@angiang.example"] and fw["attachments"][0]["rows"] == 1
    assert fw["code"] == h.code
    assert o.held() == []
    assert o.cli("release", str(h.id)).returncode == 1  # already released
    with o.desk() as d:
        (ev,) = [e for e in d.store.audit_events(h.code) if e["event"] == "held-released"]
        assert ev["detail"]["by"].startswith("cli") and ev["detail"]["kind"] == "unknown-facility"
        # each person counts once: 5 forwarded before, the held one now
        assert sum(b.rows_sent for b in d.store.batches(h.code)) == 6


def test_unknown_facility_still_unknown_stays_held_and_sends_nothing(tmp_path):
    o = Office(tmp_path)
    o.drop(_sample("06-mau2-xa-noi-tiem-la"))
    o.run()
    (h,) = o.held()
    rel = o.cli("release", str(h.id))
    assert rel.returncode == 1
    assert "Vẫn còn giữ" in rel.stderr and "Không có thư mới" in rel.stderr
    assert o.run() == []
    (again,) = o.held()
    assert again.id == h.id and again.released_at is None


def test_unknown_sender_still_unknown_is_refused_with_the_reason(tmp_path):
    o = Office(tmp_path)
    o.drop(_sample("08-nguoi-gui-la"))
    assert [m["kind"] for m in o.run()] == ["notice-unknown-sender"]
    (h,) = o.held()
    rel = o.cli("release", str(h.id))
    assert rel.returncode == 1 and "vẫn chưa có trong danh bạ" in rel.stderr and "Traceback" not in rel.stderr
    assert o.run() == [] and [x.id for x in o.held()] == [h.id]


def test_no_route_released_once_the_office_has_an_address(tmp_path):
    o = Office(tmp_path)
    o.edit_directory('email = "cdc@angiang.example"', 'email = ""')
    o.drop(submission("vanthu@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(50, 3))))
    assert [m["kind"] for m in o.run()] == ["error-report"]
    (h,) = o.held()
    assert h.kind == "no-route"
    o.edit_directory('email = ""', 'email = "cdc@angiang.example"')
    with o.desk() as d:
        res = d.release(h.id, by="test")
    assert res.ok and res.still_held == []
    assert sorted(k for k, _ in res.new_outgoing) == ["forward", "receipt"]
    sent = o.run()
    assert sorted(m["kind"] for m in sent) == ["forward", "receipt"]
    (fw,) = [m for m in sent if m["kind"] == "forward"]
    assert fw["to"] == ["cdc@angiang.example"] and fw["attachments"][0]["rows"] == 3
    assert o.held() == []


def test_unknown_folder_is_refused_until_the_folder_belongs_to_a_unit(tmp_path):
    o = Office(tmp_path, folder=True)
    drop = tmp_path / "share" / "Trường THPT Thoại Ngọc Hầu" / "DS.xlsx"
    drop.parent.mkdir(parents=True)
    drop.write_bytes(mau1_xlsx("Trường THPT Thoại Ngọc Hầu", provincial_people(51, 2)))
    assert o.run() == []
    (h,) = o.held()
    assert h.kind == "unknown-folder" and "Trường THPT Thoại Ngọc Hầu" in (h.sender or "")
    rel = o.cli("release", str(h.id))
    assert rel.returncode == 1 and "Trường THPT Thoại Ngọc Hầu" in rel.stderr
    o.add_to_directory('[[unit]]\nname = "Trường THPT Thoại Ngọc Hầu"\nlevel = "tinh"\n'
                       'emails = ["vanthu@thpt-tnh.angiang.example"]\n')
    rel = o.cli("release", str(h.id))
    assert rel.returncode == 0, rel.stderr
    assert o.held() == []
    # the file never left its folder: the intake takes it now, once
    sent = o.run()
    assert sorted(m["kind"] for m in sent) == ["forward", "receipt"]
    assert [m["to"] for m in sent if m["kind"] == "receipt"] == [["vanthu@thpt-tnh.angiang.example"]]
    assert o.run() == []


def test_a_reply_over_the_cap_is_sent_when_released_and_the_forward_is_not_repeated(tmp_path):
    o = Office(tmp_path, extra="[limits]\nreplies_per_sender_per_day = 1\n")
    for i in range(2):
        o.drop(submission("vanthu@stc.angiang.example", mau1_xlsx("Sở Tài chính", provincial_people(60 + i, 1))))
    first = o.run()
    assert sorted(m["kind"] for m in first) == ["forward", "forward", "receipt"]
    (h,) = o.held()
    assert h.kind == "reply-cap"
    with o.desk() as d:
        res = d.release(h.id, by="test")
    assert res.ok, res.text
    assert [m["kind"] for m in o.run()] == ["receipt"]
    assert o.held() == []


def test_a_failed_item_is_put_back_in_the_queue_and_processed(tmp_path):
    o = Office(tmp_path)
    raw = submission("vanthu@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(70, 2)))
    with o.desk() as d:  # what the runner does after MAX_ATTEMPTS failures
        name = d.inq.put(raw, key="mail-x", meta={"source": "mail", "taken_at": time.time()},
                         park_reason="RuntimeError")
        hid = d.store.hold("failed", "Xử lý lỗi nhiều lần", str(tmp_path / "crash.txt"), key=name)
        res = d.release(hid, by="test")
        assert res.ok and "hàng đợi" in res.text
        assert d.inq.counts()["bad"] == 0
        assert d.release(hid, by="test").ok is False
    assert sorted(m["kind"] for m in o.run()) == ["forward", "receipt"]
    assert o.held() == []


def test_automatic_mail_and_receivers_replies_are_not_processed_again_but_can_be_discarded(tmp_path):
    o = Office(tmp_path)
    o.drop(_sample("09-tra-loi-tu-dong"))
    assert o.run() == []
    (h,) = o.held()
    assert h.kind == "automatic"
    rel = o.cli("release", str(h.id))
    assert rel.returncode == 1 and "vòng lặp" in rel.stderr
    assert o.cli("discard", str(h.id), "--reason", "  ").returncode == 1  # a reason is required
    out = o.cli("discard", str(h.id), "--reason", "Thư vắng mặt, không cần làm gì")
    assert out.returncode == 0, out.stderr
    assert o.held() == []
    with o.desk() as d:
        ev = [e for e in d.store.audit_events(h.code) if e["event"] == "held-discarded"]
        assert ev[0]["detail"]["reason"] == "Thư vắng mặt, không cần làm gì"
    assert o.cli("discard", str(h.id), "--reason", "x").returncode == 1


def test_an_unverified_sender_released_by_the_operator_is_believed_and_answered_once(tmp_path):
    o = Office(tmp_path, extra='[trust]\nauthserv_id = "mx.angiang.example"\n')
    o.drop(submission("vanthu@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(80, 2))))
    assert [m["kind"] for m in o.run()] == ["notice-unverified"]
    (h,) = o.held()
    assert h.kind == "unverified"
    rel = o.cli("release", str(h.id))  # the operator checked with the unit by phone
    assert rel.returncode == 0, rel.stderr
    assert sorted(m["kind"] for m in o.run()) == ["forward", "receipt"]
    assert o.held() == []
    assert o.cli("release", str(h.id)).returncode == 1 and o.run() == []


def test_a_dropped_file_with_an_unknown_facility_is_released_from_its_kept_copy(tmp_path):
    from tests.factory import People, mau2_xlsx
    o = Office(tmp_path, folder=True)
    gen = People(90)
    people = [gen.person("Huyện An Phú", "Xã Khánh An") for _ in range(3)]
    xlsx = mau2_xlsx("UBND Xã Khánh An", people, ["TYT Khánh An"], bad={2: {12: "Phòng khám tư Hòa Bình"}})
    drop = tmp_path / "share" / "An Phú - Xã Khánh An" / "DS Mau2.xlsx"
    drop.parent.mkdir(parents=True)
    drop.write_bytes(xlsx)
    first = o.run()
    assert [m["to"] for m in first if m["kind"] == "forward"] == [["tyt.khanhan.anphu@angiang.example"]]
    assert [f["rows"] for m in first if m["kind"] == "forward" for f in m["attachments"]] == [2]
    (h,) = o.held()
    assert h.kind == "unknown-facility" and h.sender
    o.add_to_directory(FACILITY)
    with o.desk() as d:
        res = d.release(h.id, by="test")
    assert res.ok, res.text
    assert [r for k, r in res.new_outgoing if k == "forward"] == [["pk.hoabinh@angiang.example",
                                                                    "vhtt.anphu@angiang.example"]]
    sent = o.run()
    assert sorted((m["kind"], m["to"][0]) for m in sent) == [
        ("forward", "pk.hoabinh@angiang.example"), ("receipt", "ubnd.khanhan.anphu@angiang.example")]
    assert o.held() == [] and not (tmp_path / "state" / "results" / h.code).exists()
