"""Pipeline rules beyond the routing table: the confirmation loop, reply caps, duplicate
people across files, odd and hostile messages — each item ends in exactly one visible state."""
from __future__ import annotations

import os
from email.message import EmailMessage
from pathlib import Path

import pytest

from service.config import load_settings
from service.runner import Service
from tests.factory import People, mau1_xlsx, mau2_xlsx, provincial_people, submission
from tests.outbox_reader import read_message, read_outbox
from tests.test_pipeline_samples import write_config


class Box:
    """A Maildir in, a file outbox out, and the service between them."""

    def __init__(self, tmp: Path, **limits):
        self.tmp = tmp
        self.cfg = write_config(tmp)
        if limits:
            with open(self.cfg, "a", encoding="utf-8") as fh:
                fh.write("[limits]\n" + "".join(f"{k} = {v}\n" for k, v in limits.items()))
        self.n = 0
        self.seen: set[str] = set()

    def drop(self, raw: bytes) -> None:
        self.n += 1
        (self.tmp / "Maildir" / "new" / f"{1700000000 + self.n}.{self.n}.test").write_bytes(raw)

    def run(self) -> list[dict]:
        """Run once; return only the messages this run sent."""
        svc = Service(load_settings(self.cfg))
        try:
            svc.run_once()
        finally:
            svc.close()
        new = []
        for p in sorted((self.tmp / "out").glob("*.eml")) if (self.tmp / "out").exists() else []:
            if p.name not in self.seen:
                self.seen.add(p.name)
                new.append(read_message(p.read_bytes()))
        return new

    def store(self):
        from service.state import open_store
        return open_store(self.tmp / "state")

    def held_kinds(self) -> list[str]:
        store = self.store()
        try:
            return sorted(h.kind for h in store.list_held())
        finally:
            store.close()


def reply(to_msg: dict, sender: str, text: str) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "tiemchung@angiang.example"
    m["Subject"] = "Re: " + to_msg["subject"]
    m["In-Reply-To"] = to_msg["message_id"]
    m["Message-ID"] = f"<reply-{abs(hash(text))}@angiang.example>"
    m.set_content(text + "\n\n> " + to_msg["text"].replace("\n", "\n> "))
    return bytes(m)


@pytest.mark.slow
def test_a_receiver_confirming_data_entry_marks_the_batch_entered(tmp_path):
    box = Box(tmp_path)
    box.drop(submission("vanthu@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(5, 4))))
    (fw,) = [m for m in box.run() if m["kind"] == "forward"]
    box.drop(reply(fw, "cdc@angiang.example", "Đã nhập 3/4, còn 1 người sai số CCCD trên hệ thống."))
    assert box.run() == []  # a confirmation is recorded, not answered
    store = box.store()
    try:
        (batch,) = store.batches(fw["code"])
        assert (batch.rows_sent, batch.rows_confirmed) == (4, 3)
    finally:
        store.close()


@pytest.mark.slow
def test_a_receivers_reply_that_is_not_a_confirmation_goes_to_the_operator(tmp_path):
    box = Box(tmp_path)
    box.drop(submission("vanthu@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(6, 2))))
    (fw,) = [m for m in box.run() if m["kind"] == "forward"]
    box.drop(reply(fw, "cdc@angiang.example", "Tệp này thiếu cột nghề nghiệp, đề nghị gửi lại."))
    assert box.run() == []
    store = box.store()
    try:
        assert [h.kind for h in store.list_held()] == ["reply"]
        assert store.batches(fw["code"])[0].rows_confirmed == 0
    finally:
        store.close()


@pytest.mark.slow
def test_replies_to_one_sender_are_capped_per_day_and_the_rest_held(tmp_path):
    box = Box(tmp_path, replies_per_sender_per_day=2)
    for i in range(3):
        box.drop(submission("vanthu@stc.angiang.example", mau1_xlsx("Sở Tài chính", provincial_people(20 + i, 1))))
    sent = box.run()
    assert sum(1 for m in sent if m["kind"] == "receipt") == 2
    assert sum(1 for m in sent if m["kind"] == "forward") == 3  # forwarding is never capped
    store = box.store()
    try:
        assert [h.kind for h in store.list_held()] == ["reply-cap"]
    finally:
        store.close()


@pytest.mark.slow
def test_a_person_already_forwarded_by_another_unit_is_not_forwarded_again(tmp_path):
    box = Box(tmp_path)
    people = provincial_people(30, 3)
    box.drop(submission("vanthu@syt.angiang.example", mau1_xlsx("Sở Y tế", people)))
    box.run()
    box.drop(submission("vanthu@snv.angiang.example", mau1_xlsx("Sở Nội vụ", people[:1] + provincial_people(31, 1))))
    sent = box.run()
    (fw,) = [m for m in sent if m["kind"] == "forward"]
    assert fw["attachments"][0]["rows"] == 1
    (receipt,) = [m for m in sent if m["kind"] != "forward"]
    assert "1 người đã được chuyển từ tệp gửi trước" in receipt["text"]


@pytest.mark.slow
def test_the_same_message_delivered_twice_is_processed_once(tmp_path):
    box = Box(tmp_path)
    raw = submission("vanthu@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(40, 2)),
                     message_id="<twice@syt.angiang.example>")
    box.drop(raw)
    first = box.run()
    box.drop(raw)
    assert len(first) == 2 and box.run() == []


def test_mau2_from_a_unit_unknown_facility_and_valid_rows_in_one_file(tmp_path):
    box = Box(tmp_path)
    ppl = People(50)
    rows = [ppl.person("Thành phố Long Xuyên", "Phường Mỹ Hòa") for _ in range(4)]
    xlsx = mau2_xlsx("Sở Xây dựng", rows, ["TTYT Long Xuyên"], bad={2: {12: "Trạm y tế không rõ"}})
    box.drop(submission("vanthu@sxd.angiang.example", xlsx))
    sent = box.run()
    (fw,) = [m for m in sent if m["kind"] == "forward"]
    assert fw["to"] == ["ttyt.longxuyen@angiang.example"] and fw["attachments"][0]["rows"] == 3
    (report,) = [m for m in sent if m["kind"] == "error-report"]
    assert "Trạm y tế không rõ" in report["text"]


CORPUS = Path(os.path.dirname(__import__("email").__file__)).parent / "test" / "test_email" / "data"


@pytest.mark.slow
def test_pythons_own_email_test_corpus_goes_through_without_a_crash(tmp_path):
    files = sorted(CORPUS.glob("msg_*.txt"))
    assert len(files) > 40, f"the stdlib e-mail corpus is missing at {CORPUS}"
    box = Box(tmp_path)
    for f in files:
        box.drop(f.read_bytes())
    box.run()
    state = tmp_path / "state"
    assert not (state / "crash").exists() or not any((state / "crash").iterdir())
    assert not any((state / "queue" / "in" / "new").iterdir())
    assert not any((state / "queue" / "in" / "bad").iterdir())
    # every message reached one visible state: finished in the state store
    import sqlite3
    con = sqlite3.connect(state / "state.db")
    try:
        (count,) = con.execute("select count(*) from incoming where outcome is not null").fetchone()
    finally:
        con.close()
    assert count >= len({f.read_bytes() for f in files}) - 5  # a few corpus files are identical messages


def test_from_name_is_the_display_name_of_what_is_sent(tmp_path):
    box = Box(tmp_path)
    text = box.cfg.read_text(encoding="utf-8").replace("[smtp]\n", '[smtp]\nfrom_name = "Tổ tiếp nhận"\n', 1)
    box.cfg.write_text(text, encoding="utf-8")
    box.drop(submission("vanthu@stc.angiang.example", mau1_xlsx("Sở Tài chính", provincial_people(31, 1))))
    sent = box.run()
    assert {m["kind"] for m in sent} == {"forward", "receipt"}
    assert all(m["msg"]["From"].addresses[0].display_name == "Tổ tiếp nhận" for m in sent)


def test_max_attachments_caps_the_files_read_from_one_message(tmp_path):
    box = Box(tmp_path, max_attachments=1)
    raw = EmailMessage()
    raw["From"], raw["To"], raw["Subject"] = "vanthu@stc.angiang.example", "tiemchung@angiang.example", "DS"
    raw["Message-ID"] = "<two-files@stc.angiang.example>"
    raw.set_content("Hai tệp.")
    for n in range(2):
        raw.add_attachment(mau1_xlsx("Sở Tài chính", provincial_people(40 + n, 1)), maintype="application",
                           subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename=f"DS{n}.xlsx")
    box.drop(bytes(raw))
    sent = box.run()
    forwarded = [a["name"] for m in sent if m["kind"] == "forward" for a in m["attachments"]]
    assert len(forwarded) == 1  # the second file was not read (the reply names it as skipped)
    (answer,) = [m for m in sent if m["kind"] in ("receipt", "error-report")]
    assert "DS1.xlsx" in answer["text"]


def test_unknown_sender_notices_per_day_caps_the_short_notices(tmp_path):
    box = Box(tmp_path, unknown_sender_notices_per_day=2)
    for i in range(3):
        box.drop(submission("la@gmail.example", mau1_xlsx("Không rõ", provincial_people(50 + i, 1))))
    sent = box.run()
    assert [m["kind"] for m in sent] == ["notice-unknown-sender"] * 2
