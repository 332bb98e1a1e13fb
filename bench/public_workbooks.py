"""Run `vaxmail check --json` over other projects' public test workbooks and count outcomes.

    python -m bench.public_workbooks DIR [DIR …] [--jobs 2] [--timeout 60] [--show 20]

The files are read out of the public repositories of xlrd, openpyxl, python-calamine and
SheetJS/test_files (never committed here). None is a vaccination list, so the expected
outcome is exit 2 ("not a form" or "corrupt file"), sometimes 0/1 for a sheet that happens
to look like one; what must never happen is a crash: a traceback, no JSON, another exit
status, or a hang. Per directory it prints exit 0/1/2 counts, fatal codes, crashes and
timeouts, and the slowest file.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def run_one(path: Path, timeout: float) -> dict:
    t0 = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-m", "service.cli", "check", str(path), "--json"],
                           capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"file": path.name, "outcome": "timeout", "seconds": timeout}
    dt = time.perf_counter() - t0
    err = p.stderr.decode("utf-8", "replace")
    try:
        report = json.loads(p.stdout.decode("utf-8", "replace"))
    except ValueError:
        report = None
    if report is None or "Traceback" in err or p.returncode not in (0, 1, 2):
        tail = err.strip().splitlines()[-1:] or ["no output"]
        return {"file": path.name, "outcome": "crash", "exit": p.returncode, "why": tail[0][:160],
                "seconds": dt}
    fatal = (report.get("fatal") or {}).get("code")
    return {"file": path.name, "outcome": f"exit {p.returncode}", "fatal": fatal,
            "rows": report.get("rows"), "seconds": dt}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.public_workbooks")
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--show", type=int, default=20)
    a = ap.parse_args(argv)
    total = Counter()
    bad = 0
    for d in a.dirs:
        files = sorted(p for p in d.rglob("*") if p.is_file())
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=a.jobs) as pool:
            results = list(pool.map(lambda p: run_one(p, a.timeout), files))
        wall = time.perf_counter() - t0
        outcomes = Counter(r["outcome"] for r in results)
        fatals = Counter(r.get("fatal") for r in results if r.get("fatal"))
        slow = max(results, key=lambda r: r["seconds"], default=None)
        total.update(outcomes)
        print(f"{d.name}: {len(files)} files in {wall:.0f} s — "
              + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())))
        if fatals:
            print("   fatal codes: " + ", ".join(f"{k} {v}" for k, v in fatals.most_common()))
        if slow:
            print(f"   slowest: {slow['file']} {slow['seconds']:.1f} s")
        for r in results:
            if r["outcome"] in ("crash", "timeout"):
                bad += 1
                if bad <= a.show:
                    print(f"   {r['outcome'].upper()} {r['file']}: {r.get('why', '')}")
    print("all: " + ", ".join(f"{k}: {v}" for k, v in sorted(total.items())))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
