"""Issue 12 figures: the cost of the safeguards on the hot paths.

    python -m bench.bench_trust [--rows 5000] [--files 20000]

- ``authres.verify`` on a real-shaped header block (per message);
- ``xlsx_clean.clean`` on an annotated copy of a ROWS-row Mẫu 1 (per error report);
- ``retention.purge`` over a state directory holding FILES files (half past the retention).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_authres(n: int) -> float:
    from service.intake.authres import verify
    from tests.factory import mau1_xlsx, provincial_people, submission
    raw = submission("vanthu@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(1, 3)))
    raw = (b"Return-Path: <vanthu@syt.angiang.example>\r\nDelivered-To: intake@angiang.example\r\n"
           b"Authentication-Results: mx.angiang.example;\r\n\tdkim=pass (2048-bit key) header.d=syt.angiang.example "
           b"header.i=@syt.angiang.example header.b=\"Xy1+2/3=\";\r\n\tspf=pass (mx: domain of vanthu@syt.angiang.example "
           b"designates 203.0.113.9 as permitted sender) smtp.mailfrom=vanthu@syt.angiang.example;\r\n"
           b"\tdmarc=pass (p=reject dis=none) header.from=syt.angiang.example\r\n"
           b"Received: from mail.syt.angiang.example by mx.angiang.example; Mon, 30 Nov 2026 08:00:00 +0700\r\n") + raw
    t = time.perf_counter()
    for _ in range(n):
        assert verify(raw, "vanthu@syt.angiang.example", "mx.angiang.example").ok
    return (time.perf_counter() - t) / n


def bench_clean(rows: int) -> tuple[float, int]:
    from service.directory import load_default
    from service.forms.annotate import annotate
    from service.forms.engine import check_file
    from service.forms.xlsx_clean import clean, findings
    from tests.factory import mau1_xlsx, provincial_people
    people = provincial_people(2, rows)
    bad = {i: {"Số điện thoại": "09abc"} for i in range(1, rows + 1, 20)}
    with tempfile.TemporaryDirectory() as d:
        src, out = Path(d) / "DS.xlsx", Path(d) / "out.xlsx"
        src.write_bytes(mau1_xlsx("Sở Y tế", people, bad=bad))
        report = check_file(str(src), directory=load_default())
        annotate(report, str(src), str(out), grid=report.grid)
        data = out.read_bytes()
    t = time.perf_counter()
    cleaned = clean(data)
    took = time.perf_counter() - t
    assert findings(cleaned) == []
    return took, len(data)


def bench_purge(files: int) -> tuple[float, int]:
    from service.config import parse_settings
    from service.retention import purge
    with tempfile.TemporaryDirectory() as d:
        state = Path(d) / "state"
        old = time.time() - 40 * 86400
        for i in range(files):
            sub = ("held", "work", "crash")[i % 3]
            p = state / sub / f"f{i}"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(b"x")
            if i % 2 == 0:
                os.utime(p, (old, old))
        settings = parse_settings({"state": {"path": str(state)}}, "bench", Path(d))
        t = time.perf_counter()
        res = purge(settings, None)
        return time.perf_counter() - t, res.total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--verify", type=int, default=2000)
    a = ap.parse_args()
    per = bench_authres(a.verify)
    print(f"authres.verify: {per * 1e6:.0f} µs per message ({a.verify} runs)")
    took, size = bench_clean(a.rows)
    print(f"xlsx_clean.clean: {took * 1000:.0f} ms for an annotated {a.rows}-row copy ({size / 1e6:.1f} MB)")
    took, n = bench_purge(a.files)
    print(f"retention.purge: {took:.2f} s over {a.files} files, {n} removed")


if __name__ == "__main__":
    main()
