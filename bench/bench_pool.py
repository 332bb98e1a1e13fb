"""Overhead of the bounded check worker against checking in process (issue 11).

    python -m bench.bench_pool [--n 40]

Checks the same small list (3 rows) and a one-byte non-file n times each way and prints the
median per call: the difference is what the worker pool adds to a typical file.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.directory import load_default  # noqa: E402
from service.forms.worker import CheckPool, Limits, LocalChecker  # noqa: E402
from tests.factory import mau1_xlsx, provincial_people  # noqa: E402


def median_ms(checker, data: bytes, n: int) -> float:
    checker.check("DS.xlsx", data, None)  # warm: caches, lazy imports
    times = []
    for _ in range(n):
        t = time.perf_counter()
        checker.check("DS.xlsx", data, None)
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vxpool-"))
    directory = load_default()
    pool, local = CheckPool(directory, work, Limits()), LocalChecker(directory, work)
    pool.start()
    small = mau1_xlsx("Sở Y tế", provincial_people(5, 3))
    try:
        for label, data in (("3-row list", small), ("1-byte file (round trip only)", b"x")):
            local_ms, pool_ms = median_ms(local, data, args.n), median_ms(pool, data, args.n)
            print(f"{label}: in process {local_ms:.1f} ms, worker {pool_ms:.1f} ms "
                  f"(+{pool_ms - local_ms:.1f} ms); load {os.getloadavg()[0]:.2f}")
    finally:
        pool.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
