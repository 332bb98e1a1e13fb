"""Peak memory of the daemon and of its check worker over the hostile set.

    python -m bench.bench_hostile [--big-rows 100000]

Builds a Maildir holding what an attacker or an unlucky unit sends (issue 11): sparse sheets
(one value at XFD2000 / XFD20000 / XFD199999), a 400 KB folded Subject, raw UTF-8 and two
From headers, a mailing-list digest, 500 attachments, inf/nan/#REF! cells, and one honest
list of --big-rows rows; then runs `vaxmail run --once` on it (file: outbox) and prints the
wall time and the peaks the service logs at exit ("memory: daemon peak … check workers peak …").
"""
from __future__ import annotations

import argparse
import io
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.factory import mau1_xlsx, provincial_people, submission  # noqa: E402
from tests.test_mail_bounds import long_subject, with_header  # noqa: E402
from tests.test_odd_values import odd_list  # noqa: E402
from tests.test_worker import sparse_list  # noqa: E402

UNIT = "vanthu@syt.angiang.example"


def hostile_set(tmp: Path, big_rows: int) -> list[tuple[str, bytes]]:
    small = mau1_xlsx("Sở Y tế", provincial_people(1, 3))
    out = [(f"sparse {n}", submission(f"s{n}@syt.angiang.example", sparse_list(n)))
           for n in (2_000, 20_000, 199_999)]
    out.append(("400 KB Subject", with_header(submission(UNIT, small), b"Subject", long_subject(4_000))))
    out.append(("raw UTF-8 From", with_header(submission(UNIT, small), b"From",
                                              "Văn thư <vănthư@syt.angiang.example>".encode())))
    out.append(("two From", with_header(submission(UNIT, small), b"From", UNIT.encode() + b"\nFrom: x@evil.example")))
    out.append(("list digest", with_header(submission("covid-request@lists.example", small), b"List-Id",
                                           b"<covid.lists.example>")))
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "nv9@syt.angiang.example", "tiemchung@angiang.example", "500 tệp"
    m.set_content("500 tệp đính kèm")
    for i in range(500):
        m.add_attachment(f"STT,Họ và tên\n{i},Nguyễn Văn A\n".encode(), maintype="text", subtype="csv",
                         filename=f"ds{i}.csv")
    out.append(("500 attachments", bytes(m)))
    out.append(("inf/nan/#REF!", submission("nv8@syt.angiang.example", odd_list(tmp))))
    if big_rows:
        from bench.gen_forms import generate
        path = tmp / "big.xlsx"
        generate(str(path), form="mau1", rows=big_rows, seed=11)
        out.append((f"{big_rows} rows", submission("nv7@syt.angiang.example", path.read_bytes())))
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big-rows", type=int, default=100_000)
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; load {os.getloadavg()[0]:.2f}")
    tmp = Path(tempfile.mkdtemp(prefix="vxhostile-"))
    box = tmp / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True)
    items = hostile_set(tmp, args.big_rows)
    for n, (label, raw) in enumerate(items):
        (box / "new" / f"{1629853200 + n}.{n}.bench").write_bytes(raw)
    cfg = tmp / "vaxmail.toml"
    cfg.write_text(f'[mailbox]\nurl = "maildir:{box}"\n[smtp]\nurl = "file:{tmp / "out"}"\n'
                   f'[state]\npath = "{tmp / "state"}"\n', encoding="utf-8")
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "service.cli", "run", "--config", str(cfg), "--once"],
                          cwd=ROOT, capture_output=True, text=True)
    took = time.monotonic() - t0
    log = proc.stdout + proc.stderr
    mem = re.search(r"memory: daemon peak (\d+) MB, check workers peak (\d+) MB, (\d+) workers lost", log)
    sent = len(list((tmp / "out").glob("*.eml"))) if (tmp / "out").exists() else 0
    print(f"{len(items)} hostile/odd messages ({', '.join(l for l, _ in items)}): exit {proc.returncode}, "
          f"{took:.1f} s, {sent} messages sent")
    if mem:
        print(f"peak RSS: daemon {mem[1]} MB, check worker {mem[2]} MB; workers lost {mem[3]}")
    print("tracebacks in the log:", log.count("Traceback"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
