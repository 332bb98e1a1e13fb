"""Benchmark the forward writers: the national import template vs the canonical layout.

    python -m bench.bench_national [--sizes 3,12,50,500,5000] [--repeat 200]

Builds real records by checking a national-template list (tests' column list, generated
people), then times, in-process, the bytes of one forward as the pipeline makes them
(``files_out.national_bytes`` and ``files_out.export_bytes``), median and p95 over the repeats
(fewer repeats for the big sizes). Also reads every national forward back with the form
engine (the round trip) and reports its rows and errors.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.directory import load_default  # noqa: E402
from service.forms.engine import check_file  # noqa: E402
from service.pipeline.handlers import files_out  # noqa: E402
from tests.national_files import DOSED, REG, build  # noqa: E402


def people(n: int) -> list[dict]:
    wards = [("Phường Mỹ Bình", 30280), ("Phường Mỹ Long", 30283), ("Phường Đông Xuyên", 30285)]
    family = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Đặng", "Bùi"]
    middle = ["Văn", "Thị", "Minh", "Ngọc", "Hữu", "Thanh"]
    given = ["An", "Bình", "Cường", "Dung", "Em", "Giang", "Hà", "Khánh", "Lan", "Minh", "Nam"]
    out = []
    for i in range(n):
        base = DOSED if i % 2 else REG
        ward, code = wards[i % 3]
        year = 1950 + i % 50
        female = i % 3 == 0
        out.append({**base, "B": f"{family[i % 8]} {middle[i // 8 % 6]} {given[i // 48 % 11]}", "C": f"{1 + i % 28:02d}/{1 + i % 12:02d}/{year}",
                    "D": 1 if female else 0, "N": ward, "O": code,
                    "H": f"089{1 if female else 0}{year % 100:02d}{i:06d}", "G": f"091{i:07d}"})
    return out


def records(n: int, tmp: Path):
    path = build(tmp / f"src_{n}.xlsx", people(n))
    r = check_file(path)
    assert r.valid_rows == n, (r.valid_rows, [e.as_json() for e in r.errors[:3]])
    return r


def timeit(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="3,12,50,500,5000")
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    directory = load_default()
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print("| rows | national ms (median / p95) | canonical ms (median / p95) | bytes national | read back: rows, errors |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n in (int(x) for x in args.sizes.split(",")):
            r = records(n, tmp)
            recs = list(r.valid_records())
            rep = max(5, args.repeat if n <= 50 else args.repeat // 10 if n <= 500 else 5)
            nat = timeit(lambda: files_out.national_bytes(recs, directory), rep)
            can = timeit(lambda: files_out.export_bytes(r, recs, "Đơn vị", form="mau2"), rep)
            data = files_out.national_bytes(recs, directory)
            out = tmp / f"fw_{n}.xlsx"
            out.write_bytes(data)
            back = check_file(out)
            print(f"| {n} | {nat[0]:.2f} / {nat[1]:.2f} | {can[0]:.2f} / {can[1]:.2f} | {len(data)} | "
                  f"{back.rows}, {len(back.errors)} |")


if __name__ == "__main__":
    main()
