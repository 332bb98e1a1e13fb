"""Score `vaxmail check --json` against a corpus made by ``bench.corpus``.

    python -m bench.eval_corpus DIR [--cmd "python -m service.cli"] [--jobs 2] [--show 20]

For every file in DIR/truth.json it runs ``CMD check FILE --json`` and compares:
- form accuracy: reported ``form`` equals the truth (null for non-forms and broken files;
  a run that prints no JSON but exits 2 counts as null);
- row-count exactness: reported ``rows`` equals the number of people in the file;
- error recall: an injected error is found when some reported error is on the same Excel row
  and on its field (or one of the fields the truth allows, e.g. gender for a CCCD sex digit);
- false rate: reported errors on a row+field that has no injected error / all reported errors
  (1 - precision);
- repair accuracy: an expected fix is found with the same row, field and ``to``.
Targets: recall >= 95 %, false <= 2 %, repairs >= 95 %.
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from service.textnorm import tidy

TARGETS = {"recall": 0.95, "false": 0.02, "repairs": 0.95}


@dataclass
class Score:
    files: int = 0
    form_ok: int = 0
    row_files: int = 0
    rows_ok: int = 0
    injected: int = 0
    found: int = 0
    reported: int = 0
    false: int = 0
    expected_fixes: int = 0
    fixes_ok: int = 0
    missed_kinds: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    false_codes: Counter = field(default_factory=Counter)
    fix_kinds: Counter = field(default_factory=Counter)
    fix_missed: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    examples: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "files": self.files,
            "form_accuracy": _ratio(self.form_ok, self.files),
            "rows_exact": _ratio(self.rows_ok, self.row_files),
            "error_recall": _ratio(self.found, self.injected),
            "false_rate": _ratio(self.false, self.reported),
            "repair_accuracy": _ratio(self.fixes_ok, self.expected_fixes),
            "injected": self.injected, "found": self.found, "reported": self.reported,
            "false": self.false, "expected_fixes": self.expected_fixes, "fixes_ok": self.fixes_ok,
            "missed_by_kind": dict(self.missed_kinds), "injected_by_kind": dict(self.kinds),
            "false_by_code": dict(self.false_codes.most_common()),
            "fixes_missed_by_kind": dict(self.fix_missed), "fixes_by_kind": dict(self.fix_kinds),
            "seconds": round(self.seconds, 1),
        }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _norm_to(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return tidy(str(v))


def run_check(cmd: list[str], path: Path, timeout: float) -> tuple[dict | None, int, str, float]:
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd + ["check", str(path), "--json"], capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, -1, "timeout", time.perf_counter() - t0
    dt = time.perf_counter() - t0
    out = p.stdout.decode("utf-8", "replace").strip()
    try:
        return json.loads(out), p.returncode, "", dt
    except ValueError:
        tail = p.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        return None, p.returncode, tail[0][:200], dt


def score_file(truth: dict, report: dict | None, rc: int, s: Score, show: int, name: str) -> str:
    s.files += 1
    form = report.get("form") if report else None
    if report is None and rc != 2:
        form = "<no-json>"
    s.form_ok += form == truth["form"]
    line = f"{name}: form {form} (truth {truth['form']})"
    if truth["form"] is None:
        return line + ("" if form is None else "  <-- WRONG")
    s.row_files += 1
    rows = report.get("rows") if report else None
    s.rows_ok += rows == truth["rows"]
    line += f", rows {rows}/{truth['rows']}"

    reported = (report or {}).get("errors", []) or []
    by_cell: set[tuple[int, str]] = {(e.get("row"), e.get("field")) for e in reported}
    allowed: set[tuple[int, str]] = set()
    found = injected = 0
    for e in truth["errors"]:
        keys = [(e["row"], f) for f in [e["field"], *e.get("also", [])]]
        allowed.update(keys)
        if e.get("optional"):
            continue
        injected += 1
        s.kinds[e["kind"]] += 1
        if any(k in by_cell for k in keys):
            found += 1
        else:
            s.missed_kinds[e["kind"]] += 1
            if len(s.examples) < show:
                s.examples.append(f"MISSED {name} row {e['row']} {e['field']} ({e['kind']})")
    false = 0
    for e in reported:
        if (e.get("row"), e.get("field")) not in allowed:
            false += 1
            s.false_codes[f"{e.get('code')}:{e.get('field')}"] += 1
            if len(s.examples) < show:
                s.examples.append(f"FALSE  {name} row {e.get('row')} {e.get('field')} {e.get('code')}")
    s.injected += injected
    s.found += found
    s.reported += len(reported)
    s.false += false

    fixes = {(f.get("row"), f.get("field")): _norm_to(f.get("to")) for f in (report or {}).get("fixes", []) or []}
    ok = 0
    for f in truth["fixes"]:
        s.fix_kinds[f["kind"]] += 1
        got = fixes.get((f["row"], f["field"]))
        if got is not None and got == _norm_to(f["to"]):
            ok += 1
        else:
            s.fix_missed[f["kind"]] += 1
            if len(s.examples) < show:
                s.examples.append(f"NOFIX  {name} row {f['row']} {f['field']} ({f['kind']})"
                                  + ("" if got is None else " different 'to'"))
    s.expected_fixes += len(truth["fixes"])
    s.fixes_ok += ok
    return line + (f", errors {found}/{injected} found, {false}/{len(reported)} false,"
                   f" fixes {ok}/{len(truth['fixes'])}")


def evaluate(corpus: Path, cmd: list[str], jobs: int = 2, show: int = 20, timeout: float = 600,
             quiet: bool = False) -> Score:
    truth = json.loads((corpus / "truth.json").read_text(encoding="utf-8"))
    files = truth["files"]
    s = Score()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda t: run_check(cmd, corpus / t["file"], timeout), files))
    s.seconds = time.perf_counter() - t0
    for t, (report, rc, err, dt) in zip(files, results):
        line = score_file(t, report, rc, s, show, t["file"])
        if report is None:
            line += f"  [exit {rc}{': ' + err if err else ''}]"
        if not quiet:
            print(f"{line}  ({dt:.1f} s)")
    return s


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f} %"


def print_summary(s: Score) -> None:
    j = s.as_json()
    print()
    print(f"files               {j['files']}  ({j['seconds']} s)")
    print(f"form accuracy       {_pct(j['form_accuracy'])}")
    print(f"row count exact     {_pct(j['rows_exact'])}")
    ok = lambda v, t, hi=True: "" if v is None else ("  ok" if (v >= t if hi else v <= t) else "  BELOW TARGET")
    print(f"error recall        {_pct(j['error_recall'])}  ({s.found}/{s.injected}){ok(j['error_recall'], TARGETS['recall'])}")
    print(f"false errors        {_pct(j['false_rate'])}  ({s.false}/{s.reported}){ok(j['false_rate'], TARGETS['false'], False)}")
    print(f"repair accuracy     {_pct(j['repair_accuracy'])}  ({s.fixes_ok}/{s.expected_fixes}){ok(j['repair_accuracy'], TARGETS['repairs'])}")
    if s.missed_kinds:
        print("missed by kind      " + ", ".join(f"{k} {v}/{s.kinds[k]}" for k, v in s.missed_kinds.most_common()))
    if s.false_codes:
        print("false by code:field " + ", ".join(f"{k} {v}" for k, v in s.false_codes.most_common(12)))
    if s.fix_missed:
        print("fixes missed        " + ", ".join(f"{k} {v}/{s.fix_kinds[k]}" for k, v in s.fix_missed.most_common()))
    for ex in s.examples:
        print("  " + ex)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.eval_corpus", description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--cmd", default=f"{shlex.quote(sys.executable)} -m service.cli",
                    help="the vaxmail command (default: this Python's -m service.cli)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--show", type=int, default=20, help="examples of misses and false errors to print")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--json-out", type=Path, help="write the summary as JSON here")
    ap.add_argument("--quiet", action="store_true", help="no per-file lines")
    a = ap.parse_args(argv)
    s = evaluate(a.corpus, shlex.split(a.cmd), a.jobs, a.show, a.timeout, a.quiet)
    print_summary(s)
    if a.json_out:
        a.json_out.write_text(json.dumps(s.as_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    j = s.as_json()
    met = ((j["error_recall"] or 0) >= TARGETS["recall"] and (j["false_rate"] or 0) <= TARGETS["false"]
           and (j["repair_accuracy"] if j["repair_accuracy"] is not None else 1) >= TARGETS["repairs"])
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
