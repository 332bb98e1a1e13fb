"""Poison items: an entry whose processing keeps failing (or keeps killing the daemon) is
parked after the limit, held for the operator with kind "failed", its sender answered once,
and the queue behind it goes on at once; the operator can put it back."""
from __future__ import annotations

from pathlib import Path

import pytest

import service.runner as runner
from service.config import load_settings
from service.runner import CRASH_ATTEMPTS, Service
from tests.factory import mau1_xlsx, provincial_people, submission
from tests.outbox_reader import read_outbox
from tests.test_pipeline_samples import write_config

SENDER = "vanthu@syt.angiang.example"


def drop(tmp: Path, n: int, raw: bytes) -> None:
    (tmp / "Maildir" / "new" / f"{1629853200 + n}.{n}.test").write_bytes(raw)


def service(cfg: Path) -> Service:
    svc = Service(load_settings(cfg))
    svc.retry_delay = 0  # the retry is due at once (the daemon waits RETRY_DELAY)
    return svc


@pytest.mark.slow
def test_an_entry_that_keeps_failing_is_parked_held_and_answered_once(tmp_path, monkeypatch):
    cfg = write_config(tmp_path)
    poison = submission(SENDER, mau1_xlsx("Sở Y tế", provincial_people(1, 2)), message_id="<poison@syt.angiang.example>",
                        subject="Danh sách lỗi")
    honest = submission("nv1@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(2, 2)),
                        message_id="<honest@syt.angiang.example>")
    drop(tmp_path, 0, poison)
    drop(tmp_path, 1, honest)
    real = runner.process
    calls = []

    def process(item, ctx):  # a bug that hits this one message every time
        if item.message_id == "<poison@syt.angiang.example>":
            calls.append(item.key)
            raise ZeroDivisionError("bug")
        return real(item, ctx)

    monkeypatch.setattr(runner, "process", process)
    svc = service(cfg)
    try:
        svc.run_once()
        assert len(calls) == runner.POISON_ATTEMPTS  # retried, then parked: not looped
        assert svc.inq.counts() == {"new": 0, "claimed": 0, "bad": 1}
        (held,) = [h for h in svc.store.list_held() if h.kind == "failed"]
        assert held.sender == SENDER and "ZeroDivisionError" in held.reason
        assert Path(held.path).exists() and held.key == Path(held.path).name
        svc.run_once()  # nothing more happens to a parked entry
        assert len(calls) == runner.POISON_ATTEMPTS
    finally:
        svc.close()
    sent = read_outbox(tmp_path / "out")
    to_sender = [m for m in sent if m["to"] == [SENDER]]
    assert [m["kind"] for m in to_sender] == ["notice-failed"]
    assert to_sender[0]["in_reply_to"] == "<poison@syt.angiang.example>"
    assert "chưa xử lý được" in to_sender[0]["text"]
    # the honest message behind it was forwarded and answered
    assert sorted(m["kind"] for m in sent if m["to"] == ["nv1@syt.angiang.example"]) == ["receipt"]
    assert any(m["kind"] == "forward" for m in sent)

    # the operator fixed the bug and releases the hold: the message gets its real answer
    monkeypatch.setattr(runner, "process", real)
    svc = service(cfg)
    try:
        assert svc.requeue_parked(held.key, released=held.id)
        assert not svc.requeue_parked(held.key, released=held.id)  # once
        svc.run_once()
        assert svc.inq.counts() == {"new": 0, "claimed": 0, "bad": 0}
    finally:
        svc.close()
    kinds = [m["kind"] for m in read_outbox(tmp_path / "out") if m["to"] == [SENDER]]
    assert sorted(kinds) == ["notice-failed", "receipt"]


def test_an_entry_in_hand_each_time_the_daemon_died_is_parked(tmp_path):
    cfg = write_config(tmp_path)
    drop(tmp_path, 0, submission(SENDER, mau1_xlsx("Sở Y tế", provincial_people(3, 2)),
                                 message_id="<killer@syt.angiang.example>"))
    svc = service(cfg)
    try:
        svc.take_mail()
        for _ in range(CRASH_ATTEMPTS):  # claimed, then the process "died" (recover at start-up)
            assert svc.inq.claim() is not None
            svc.recover()
        svc.drain()
        assert svc.inq.counts()["bad"] == 1
        (held,) = [h for h in svc.store.list_held() if h.kind == "failed"]
        assert held.sender == SENDER
        svc.send()
    finally:
        svc.close()
    assert [m["kind"] for m in read_outbox(tmp_path / "out")] == ["notice-failed"]
