"""Mail pipeline benchmark against a real Dovecot and a real SMTP server (aiosmtpd).

    python -m bench.bench_mail [--latency 30] [--backlog 1000]

1. Latency: the daemon runs (IMAP IDLE); messages are APPENDed one at a time and the time
   from APPEND to the forward arriving at the SMTP server is measured (median, p95).
   Dovecot itself delays IDLE push by ~0.5 s.
2. Backlog: N messages wait in the mailbox when the daemon starts; time until every forward
   and receipt has arrived.
Prints the figures; record them in docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.factory import mau1_xlsx, provincial_people, submission  # noqa: E402
from tests.mailservers import Dovecot, SmtpServer  # noqa: E402


def _config(tmp: Path, imap: str, smtp: str) -> Path:
    cfg = tmp / "vaxmail.toml"
    cfg.write_text(f'[mailbox]\nurl = "{imap}"\nsweep_seconds = 30\n[smtp]\nurl = "{smtp}"\n'
                   f'retry_base_seconds = 1\n[state]\npath = "{tmp / "state"}"\n'
                   f'[limits]\nreplies_per_sender_per_day = 100000\nforwards_per_unit_day = 100000\n', encoding="utf-8")
    return cfg


def _daemon(cfg: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "service.cli", "run", "--config", str(cfg)],
                            cwd=ROOT, stdout=open(log, "ab"), stderr=subprocess.STDOUT)


def _hwm(pid: int) -> int:
    """Peak resident memory (VmHWM) of a live process, in MB (0 when unknown)."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


PEAKS: dict[str, int] = {}


def _note_peaks(label: str, pid: int) -> None:
    """The daemon's and its check workers' peak RSS, read before it is stopped."""
    PEAKS[f"{label} daemon"] = _hwm(pid)
    kids = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):  # workers are started by the pipeline thread
            kids += [int(p) for p in open(f"/proc/{pid}/task/{task}/children").read().split()]
    except OSError:
        pass
    PEAKS[f"{label} worker"] = max((_hwm(k) for k in kids), default=0)


def _count(smtp: SmtpServer, kind: bytes = b"X-Vaxmail-Kind: forward") -> int:
    with smtp.lock:
        return sum(1 for m in smtp.messages if kind in m.data)


def latency(dovecot: Dovecot, n: int) -> list[float]:
    tmp = Path(tempfile.mkdtemp(prefix="vxbl-"))
    smtp = SmtpServer()
    smtp.start()
    dovecot.create_folder("intake", "LAT")
    proc = _daemon(_config(tmp, dovecot.url("intake", folder="LAT"), smtp.url()), tmp / "log")
    try:
        time.sleep(3)  # start-up, first IDLE
        raws = [submission(f"nv{i}@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(900 + i, 3)))
                for i in range(n)]
        out = []
        for raw in raws:
            before = _count(smtp)
            t0 = time.monotonic()
            dovecot.append("intake", "LAT", raw)
            while _count(smtp) <= before:
                if time.monotonic() - t0 > 30:
                    raise RuntimeError("no forward within 30 s; see " + str(tmp / "log"))
                time.sleep(0.005)
            out.append(time.monotonic() - t0)
            time.sleep(0.3)
        _note_peaks("latency", proc.pid)
        return out
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        smtp.stop()


def backlog(dovecot: Dovecot, n: int) -> float:
    tmp = Path(tempfile.mkdtemp(prefix="vxbb-"))
    smtp = SmtpServer()
    smtp.start()
    dovecot.create_folder("intake", "BACKLOG")
    for i in range(n):
        dovecot.append("intake", "BACKLOG", submission(
            f"nv{i}@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(5000 + i, 3))))
    t0 = time.monotonic()
    proc = _daemon(_config(tmp, dovecot.url("intake", folder="BACKLOG"), smtp.url()), tmp / "log")
    try:
        while len(smtp.messages) < 2 * n:
            if time.monotonic() - t0 > 900:
                raise RuntimeError("backlog not done in 900 s")
            time.sleep(0.05)
        took = time.monotonic() - t0
        _note_peaks("backlog", proc.pid)
        return took
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        smtp.stop()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=int, default=30, help="messages for the latency run")
    ap.add_argument("--backlog", type=int, default=1000, help="messages waiting at start")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    dovecot = Dovecot()
    dovecot.start()
    try:
        dovecot.add_user("intake")
        if args.latency:
            lat = sorted(latency(dovecot, args.latency))
            p95 = lat[max(0, int(round(0.95 * len(lat))) - 1)]
            print(f"append→forward latency over {len(lat)} messages: median {statistics.median(lat):.2f} s, "
                  f"p95 {p95:.2f} s, max {lat[-1]:.2f} s (targets: median ≤ 1.5 s, p95 ≤ 3 s)")
        if args.backlog:
            t = backlog(dovecot, args.backlog)
            print(f"backlog of {args.backlog} messages (each: 1 forward + 1 receipt): {t:.1f} s "
                  f"({args.backlog / t:.1f} messages/s; target ≤ 60 s)")
    finally:
        dovecot.cleanup()
    print("peak RSS (MB): " + ", ".join(f"{k} {v}" for k, v in PEAKS.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
