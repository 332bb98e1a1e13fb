"""Shared-folder intake benchmark: the real daemon, a local folder, a `file:` outbox.

    python -m bench.bench_folder [--latency 10] [--poll 5] [--burst 500] [--settle 2]

1. Latency, inotify and polling: the daemon runs; files are dropped one at a time (written
   under a temp name, then renamed into the unit folder, as SMB clients do) and the time from
   the rename to the forward's .eml appearing in the outbox is measured (median, p95, max).
   Drops are spread over the poll cycle (a random pause before each), so polling latency
   shows its real spread. Targets: ≤ 3 s with inotify; ≤ the poll interval + 3 s polling.
2. Burst: N files land in a unit folder at once (renamed in from a staging folder); time
   until every one is forwarded and moved into its result folder. Target: 500 in ≤ 60 s.
Settle time: [folder] settle_seconds (2 s by default, the issue's rule) is part of every figure.
Prints the figures; record them in docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.directory import load_default  # noqa: E402
from service.intake.folder import create_unit_folders  # noqa: E402
from tests.test_folder import mau1  # noqa: E402

UNITS = [u for u in load_default().units if u.level == "xa"][:10]  # communes of one district first


def _config(tmp: Path, mode: str, poll: float, settle: float) -> Path:
    share = tmp / "share"
    share.mkdir(parents=True, exist_ok=True)
    create_unit_folders(share, load_default())
    cfg = tmp / "vaxmail.toml"
    cfg.write_text(f'[smtp]\nurl = "file:{tmp / "out"}"\n[folder]\npath = "{share}"\nmode = "{mode}"\n'
                   f'poll_seconds = {poll}\nsettle_seconds = {settle}\n[state]\npath = "{tmp / "state"}"\n'
                   f'[limits]\nreplies_per_sender_per_day = 100000\n', encoding="utf-8")
    return cfg


def _daemon(cfg: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "service.cli", "run", "--config", str(cfg)],
                            cwd=ROOT, stdout=open(log, "ab"), stderr=subprocess.STDOUT)


class Outbox:
    """Counts forwards in a `file:` outbox, reading each new .eml once."""

    def __init__(self, folder: Path):
        self.folder, self.seen, self.forwards = folder, set(), 0

    def count(self) -> int:
        if self.folder.is_dir():
            for p in self.folder.iterdir():
                if p.suffix == ".eml" and p.name not in self.seen:
                    self.seen.add(p.name)
                    with open(p, "rb") as fh:
                        head = fh.read(4096)
                    self.forwards += b"X-Vaxmail-Kind: forward" in head
        return self.forwards


def _drop(folder: Path, name: str, data: bytes) -> None:
    tmp = folder / f"~{time.time_ns()}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, folder / name)


def latency(mode: str, n: int, poll: float, settle: float) -> list[float]:
    tmp = Path(tempfile.mkdtemp(prefix=f"vxfl-{mode}-"))
    cfg = _config(tmp, mode, poll, settle)
    proc = _daemon(cfg, tmp / "log")
    out, box, rnd = [], Outbox(tmp / "out"), random.Random(7)
    try:
        time.sleep(3 + settle)  # start-up: first rescan of the share
        files = [mau1([50_000 + 10 * i + k for k in range(3)]) for i in range(n)]
        unit = tmp / "share" / UNITS[0].folder
        for i, data in enumerate(files):
            time.sleep(rnd.uniform(0.2, poll if mode == "polling" else 0.5))
            before = box.count()
            t0 = time.monotonic()
            _drop(unit, f"Danh sách {i:03d}.xlsx", data)
            while box.count() <= before:
                if time.monotonic() - t0 > 60:
                    raise RuntimeError("no forward within 60 s; see " + str(tmp / "log"))
                time.sleep(0.005)
            out.append(time.monotonic() - t0)
        return out
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        shutil.rmtree(tmp, ignore_errors=True)


def burst(n: int, settle: float) -> tuple[float, float]:
    """(seconds until every forward arrived, seconds until every file was moved)."""
    tmp = Path(tempfile.mkdtemp(prefix="vxfb-"))
    cfg = _config(tmp, "inotify", 5, settle)
    stage = tmp / "stage"
    stage.mkdir()
    names = []
    for i in range(n):
        unit = UNITS[i % len(UNITS)].folder
        (stage / unit).mkdir(exist_ok=True)
        name = f"DS {i:04d}.xlsx"
        (stage / unit / name).write_bytes(mau1([200_000 + 5 * i + k for k in range(5)]))
        names.append((unit, name))
    proc = _daemon(cfg, tmp / "log")
    box = Outbox(tmp / "out")
    try:
        time.sleep(3 + settle)
        t0 = time.monotonic()
        for unit, name in names:
            os.replace(stage / unit / name, tmp / "share" / unit / name)
        forwarded = moved = None
        while forwarded is None or moved is None:
            now = time.monotonic()
            if now - t0 > 600:
                raise RuntimeError("burst not done in 600 s; see " + str(tmp / "log"))
            if forwarded is None and box.count() >= n:
                forwarded = now - t0
            if moved is None and not any((tmp / "share" / u / nm).exists() for u, nm in names):
                moved = now - t0
            time.sleep(0.05)
        return forwarded, moved
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        shutil.rmtree(tmp, ignore_errors=True)


def _summary(xs: list[float]) -> str:
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]
    return f"median {statistics.median(xs):.2f} s, p95 {p95:.2f} s, max {xs[-1]:.2f} s (n={len(xs)})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=int, default=10, help="drops per mode (0: skip)")
    ap.add_argument("--poll", type=float, default=5.0, help="[folder] poll_seconds for the polling run")
    ap.add_argument("--settle", type=float, default=2.0, help="[folder] settle_seconds")
    ap.add_argument("--burst", type=int, default=500, help="files dropped at once (0: skip)")
    args = ap.parse_args(argv)
    print(f"# {platform.node()}: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
          f"Python {platform.python_version()}, settle {args.settle} s")
    if args.latency:
        lat = latency("inotify", args.latency, args.poll, args.settle)
        print(f"drop→forward, inotify: {_summary(lat)} (target ≤ 3 s)")
        lat = latency("polling", args.latency, args.poll, args.settle)
        print(f"drop→forward, polling every {args.poll:g} s: {_summary(lat)} "
              f"(target ≤ {args.poll + 3:g} s)")
    if args.burst:
        fw, mv = burst(args.burst, args.settle)
        print(f"burst of {args.burst} files: all forwarded in {fw:.1f} s, all moved in {mv:.1f} s "
              f"(target ≤ 60 s); load now {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
