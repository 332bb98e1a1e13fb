"""SIGTERM while a big file is in hand: the daemon exits 0 within 15 s, and the next start
finishes that file exactly once (the contract of `vaxmail run` under systemd)."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.gen_forms import generate
from tests.factory import submission
from tests.outbox_reader import read_outbox
from tests.test_pipeline_samples import write_config

pytestmark = pytest.mark.slow  # processes, servers or kills: run them all with plain pytest

ROOT = Path(__file__).resolve().parent.parent


def start(cfg: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "service.cli", "run", "--config", str(cfg)],
                            cwd=ROOT, stdout=open(log, "ab"), stderr=subprocess.STDOUT)


def test_sigterm_with_a_big_file_in_hand_exits_in_time_and_loses_nothing(tmp_path):
    cfg = write_config(tmp_path)
    big = tmp_path / "big.xlsx"
    generate(big, form="mau1", rows=120_000, seed=5)
    (tmp_path / "Maildir" / "new" / "1.1.test").write_bytes(
        submission("vanthu@syt.angiang.example", big.read_bytes(), name="DS 120000 nguoi.xlsx"))
    claimed = tmp_path / "state" / "queue" / "in" / "claimed"
    log = tmp_path / "daemon.log"

    proc = start(cfg, log)
    deadline = time.monotonic() + 60
    while not (claimed.is_dir() and any(claimed.iterdir())):
        assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
        time.sleep(0.05)
    time.sleep(0.5)  # well inside reading and checking 120,000 rows
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(30)
    elapsed = time.monotonic() - t0
    assert rc == 0 and elapsed < 15, (rc, elapsed, log.read_text())

    proc = start(cfg, log)
    try:
        deadline = time.monotonic() + 240
        while len(list((tmp_path / "out").glob("*.eml")) if (tmp_path / "out").exists() else []) < 2:
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            time.sleep(0.2)
        time.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    sent = read_outbox(tmp_path / "out", count_rows=False)
    assert sorted(m["kind"] for m in sent) == ["forward", "receipt"] or \
        sorted(m["kind"] for m in sent) == ["error-report", "forward"]
    assert "Traceback" not in log.read_text()
