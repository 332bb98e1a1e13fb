"""Benchmark `vaxmail check` against bare readers on one 100k-row file.

    python -m bench.bench_check [--rows 100000] [--form mau2] [--cmd "python -m service.cli"]

Generates (or reuses) bench/out/<form>_<rows>.xlsx (clean) and bench/out/<form>_<rows>_e5.xlsx
(5 % of rows with an injected error) and measures, each as its own process, wall time and
peak RSS (os.wait4 rusage of the child):
  - vaxmail check FILE --json
  - openpyxl read_only iter_rows(values_only=True)
  - python-calamine iter_rows
  - frictionless validate FILE (CLI)
  - vaxmail check FILE_E5 --annotate OUT
and the ratio check/openpyxl (target <= 0.35). Targets for --annotate: <= 15 s, <= 600 MB.
A step that fails prints "n/a" with the reason; the others still run.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent / "out"

OPENPYXL_SNIPPET = """
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1], read_only=True, data_only=True)
n = 0
for ws in wb.worksheets:
    for row in ws.iter_rows(values_only=True):
        n += 1
wb.close()
print(n)
"""
CALAMINE_SNIPPET = """
import sys
from python_calamine import CalamineWorkbook
wb = CalamineWorkbook.from_path(sys.argv[1])
n = 0
for name in wb.sheet_names:
    for row in wb.get_sheet_by_name(name).iter_rows():
        n += 1
print(n)
"""

TARGET_RATIO = 0.35
TARGET_ANNOTATE_S = 15.0
TARGET_ANNOTATE_MB = 600.0


@dataclass
class Result:
    name: str
    seconds: float | None = None
    cpu: float | None = None  # user + system seconds of the child
    rss_mb: float | None = None
    rc: int | None = None
    note: str = ""

    def row(self) -> str:
        t = "n/a" if self.seconds is None else f"{self.seconds:.1f} s"
        c = "n/a" if self.cpu is None else f"{self.cpu:.1f} s"
        m = "n/a" if self.rss_mb is None else f"{self.rss_mb:,.0f} MB"
        return f"| {self.name} | {t} | {c} | {m} | {self.note} |"


def measure(name: str, argv: list[str], ok_codes=(0,), timeout: float = 1800, cwd: Path | None = None) -> Result:
    """Run argv as a child; wall time, CPU time and the child's peak RSS via wait4.

    The kernel's high-water mark starts from the parent's RSS at fork, so this process
    stays small (it generates files in a subprocess) to keep the floor at ~20 MB."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        try:
            p = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd)
        except OSError as e:
            return Result(name, note=f"n/a: cannot start ({e.strerror})")
        deadline = t0 + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                return Result(name, note=f"n/a: timeout after {timeout:.0f} s")
            time.sleep(0.02)
        dt = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        rss = ru.ru_maxrss / 1024  # kB on Linux
        cpu = ru.ru_utime + ru.ru_stime
        if p.returncode not in ok_codes:
            err.seek(0)
            tail = [ln for ln in err.read().decode("utf-8", "replace").splitlines() if ln.strip()][-1:]
            return Result(name, dt, cpu, rss, p.returncode,
                          f"n/a: exit {p.returncode}" + (f" ({tail[0].strip()[:160]})" if tail else ""))
        return Result(name, dt, cpu, rss, p.returncode)


def ensure_file(path: Path, form: str, rows: int, errors: float, seed: int) -> float | None:
    if path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    tmp = path.with_suffix(".tmp.xlsx")
    subprocess.run([sys.executable, "-m", "bench.gen_forms", "--form", form, "--rows", str(rows),
                    "--seed", str(seed), "--errors", str(errors), "--out", str(tmp),
                    "--title", "--merged-header", "--signature"],
                   check=True, cwd=Path(__file__).resolve().parent.parent)
    tmp.rename(path)
    return time.perf_counter() - t0


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version
    libs = {}
    for lib in ("openpyxl", "python-calamine", "xlrd", "frictionless", "phonenumbers", "psutil"):
        try:
            libs[lib] = version(lib)
        except PackageNotFoundError:
            libs[lib] = "missing"
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram": mem, "python": platform.python_version(),
            "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else None, "libs": libs}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_check", description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--form", choices=["mau1", "mau2"], default="mau2")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cmd", default=f"{shlex.quote(sys.executable)} -m service.cli",
                    help="the vaxmail command (default: this Python's -m service.cli)")
    ap.add_argument("--skip", action="append", default=[],
                    help="skip a step: check, openpyxl, calamine, frictionless, annotate")
    ap.add_argument("--json-out", type=Path)
    a = ap.parse_args(argv)

    m = machine()
    print(f"machine: {m['nproc']} CPUs, {m['cpu']}, {m['ram']} RAM, Python {m['python']}, "
          f"load average {m['load']:.2f}" if m["load"] is not None else "")
    print("libraries: " + ", ".join(f"{k} {v}" for k, v in m["libs"].items()))

    clean = OUT_DIR / f"{a.form}_{a.rows}.xlsx"
    bad = OUT_DIR / f"{a.form}_{a.rows}_e5.xlsx"
    for path, err in ((clean, 0.0), (bad, 0.05)):
        dt = ensure_file(path, a.form, a.rows, err, a.seed)
        state = f"generated in {dt:.1f} s" if dt is not None else "reused"
        print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB, {state})")

    cmd = shlex.split(a.cmd)
    py = sys.executable
    results: dict[str, Result] = {}
    steps = [
        ("check", f"vaxmail check --json ({a.rows:,} rows)", cmd + ["check", str(clean), "--json"], (0, 1)),
        ("openpyxl", "openpyxl read_only iter_rows(values_only)", [py, "-c", OPENPYXL_SNIPPET, str(clean)], (0,)),
        ("calamine", "python-calamine iter_rows", [py, "-c", CALAMINE_SNIPPET, str(clean)], (0,)),
        # frictionless refuses absolute paths ("not safe"): run it in the file's folder. It
        # stops at 1000 errors by default; skip row/header errors so it reads every row.
        ("frictionless", "frictionless validate (CLI)",
         [shutil.which("frictionless") or "frictionless", "validate", clean.name,
          "--limit-errors", "100000000", "--skip-errors", "#row,#header"], (0, 1)),
    ]
    for key, label, argv_, ok in steps:
        if key in a.skip:
            results[key] = Result(label, note="n/a: skipped")
            continue
        print(f"running: {label} …", flush=True)
        results[key] = measure(label, argv_, ok, cwd=clean.parent if key == "frictionless" else None)
    annotated = OUT_DIR / f"{a.form}_{a.rows}_e5.annotated.xlsx"
    label = "vaxmail check --annotate (5 % bad rows)"
    if "annotate" in a.skip:
        results["annotate"] = Result(label, note="n/a: skipped")
    else:
        print(f"running: {label} …", flush=True)
        annotated.unlink(missing_ok=True)
        r = measure(label, cmd + ["check", str(bad), "--annotate", str(annotated)], (0, 1))
        if r.seconds is not None and not r.note and not annotated.exists():
            r.note = "n/a: no annotated file written"
        results["annotate"] = r

    chk, opx = results["check"], results["openpyxl"]
    ratio = cpu_ratio = None
    if chk.seconds is not None and not chk.note and opx.seconds and not opx.note:
        ratio = chk.seconds / opx.seconds
        cpu_ratio = chk.cpu / opx.cpu if opx.cpu else None
    ann = results["annotate"]
    if ann.seconds is not None and not ann.note:
        ok = ann.seconds <= TARGET_ANNOTATE_S and (ann.rss_mb or 0) <= TARGET_ANNOTATE_MB
        ann.note = f"target ≤ {TARGET_ANNOTATE_S:.0f} s, ≤ {TARGET_ANNOTATE_MB:.0f} MB: {'met' if ok else 'NOT met'}"
    if ratio is not None:
        chk.note = (f"{ratio:.2f} × openpyxl wall, {cpu_ratio:.2f} × CPU "
                    f"(target ≤ {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'NOT met'})")

    print()
    print("| step | wall time | CPU time | peak RSS | note |")
    print("|---|---|---|---|---|")
    for r in results.values():
        print(r.row())
    print(f"\nratio check/openpyxl: {'n/a' if ratio is None else f'{ratio:.2f}'} (target ≤ {TARGET_RATIO})")
    if a.json_out:
        a.json_out.write_text(json.dumps({
            "machine": m, "rows": a.rows, "form": a.form, "ratio": ratio, "cpu_ratio": cpu_ratio,
            "results": {k: vars(v) for k, v in results.items()}}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
