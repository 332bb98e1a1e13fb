"""Runners as objects: one small interface (run_once, stop, health), supervised by the Service."""
from __future__ import annotations

import threading
import time
from datetime import time as clock_time

import pytest

from service.config import load_settings
from service.runner import Service
from service.runners import DailyJob, Runner, Scheduler
from tests.factory import mau1_xlsx, provincial_people, submission
from tests.outbox_reader import read_outbox
from tests.test_pipeline_samples import write_config


def wait_until(cond, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


class Flaky(Runner):
    name = "flaky"
    idle_seconds = 0.01

    def __init__(self, stopping):
        super().__init__(stopping)
        self.calls = 0

    def run_once(self) -> int:
        self.calls += 1
        if self.calls == 2:
            raise ZeroDivisionError("a bug in one round")
        return 1


def test_a_round_that_raises_is_recorded_and_the_loop_goes_on(monkeypatch):
    monkeypatch.setattr("service.runners.ERROR_PAUSE", 0.01)
    r = Flaky(threading.Event())
    r.start()
    assert wait_until(lambda: r.calls >= 4)
    h = r.health()
    assert h.alive and h.last_error == "ZeroDivisionError" and h.done >= 3 and h.rounds >= 4
    r.stop()
    assert r.join(5) and not r.health().alive


@pytest.mark.slow
def test_the_service_builds_starts_supervises_and_stops_its_runners(tmp_path):
    cfg = write_config(tmp_path, folder=True)
    (tmp_path / "share").mkdir()
    svc = Service(load_settings(cfg))
    try:
        assert [r.name for r in svc.build_runners()] == ["mail", "folder", "pipeline", "outbox", "scheduler",
                                                         "retention"]
        (tmp_path / "Maildir" / "new" / "1.1.test").write_bytes(
            submission("vanthu@stc.angiang.example", mau1_xlsx("Sở Tài chính", provincial_people(7, 2))))
        daemon = threading.Thread(target=svc.run_forever, daemon=True)
        daemon.start()
        # the mail runner takes it, wakes the pipeline, which wakes the sender
        assert wait_until(lambda: (tmp_path / "out").is_dir() and len(read_outbox(tmp_path / "out", False)) == 2)
        health = svc.health()
        assert set(health) == {"mail", "folder", "pipeline", "outbox", "scheduler", "retention"}
        assert all(h["alive"] for h in health.values())
        assert health["mail"]["done"] == 1 and health["pipeline"]["done"] == 1
        svc.request_stop()
        daemon.join(15)
        assert not daemon.is_alive() and not svc.unfinished
        health = svc.health()
        assert not any(health[n]["alive"] for n in ("pipeline", "outbox", "scheduler", "folder", "retention"))
        assert health["retention"]["done"] == 1  # the first look purges (never ran before)
        recorded = svc.store.get_value("runners")  # what `vaxmail status --json` shows
        assert recorded["pipeline"]["done"] == 1
    finally:
        svc.close()
    # the mail runner may still sit in the mailbox's wait: closing the source ends it
    assert wait_until(lambda: not svc.health()["mail"]["alive"], 5)


def test_a_daily_job_runs_once_a_day_after_its_time_and_a_failure_stays_visible(tmp_path):
    cfg = write_config(tmp_path)
    svc = Service(load_settings(cfg))
    runs: list = []

    def boom(day):
        raise OSError("disk")

    try:
        sched = Scheduler(svc)
        sched.jobs = [DailyJob("count", clock_time(0, 0), runs.append),
                      DailyJob("later", clock_time(23, 59, 59, 999999), runs.append),
                      DailyJob("boom", clock_time(0, 0), boom)]
        sched.round()
        sched.round()
        assert len(runs) == 1  # once a day; "later" not yet due
        assert svc.store.get_value("daily:count") == runs[0].isoformat()
        assert sched.health().last_error == "boom: OSError"
        assert svc.store.get_value("daily:boom") is None  # tried again next round
        sched.stop()
        sched.digest.shutdown()
    finally:
        svc.close()
