"""Write a "wild corpus" of An Giang vaccination workbooks with a ground truth.

    python -m bench.corpus --out DIR --n 40 --seed 1

DIR gets N files of mixed forms and styles — always including .xls, .csv (UTF-8 and
Windows-1258), TCVN3 and VNI text, NFD text, workbooks with several sheets, a workbook that
is not a form (a budget table: truth form null) and a broken file (a truncated .xlsx: truth
unreadable) — plus DIR/truth.json: {"seed", "files": [Truth.as_json(), ...]} with file names
relative to DIR. Score a checker on it with ``python -m bench.eval_corpus DIR``.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

from service.forms.xlsx_writer import Cell, SheetSpec, Style as CellStyle, write_xlsx

from .gen_forms import Style, Truth, generate

_BOLD = CellStyle(bold=True)

# (name stem, form, Style overrides) for the files every corpus holds.
SPECIALS = [
    ("mau1_xls", "mau1", dict(fmt="xls", title=True, merged_header=True)),
    ("mau2_csv_utf8", "mau2", dict(fmt="csv", csv_encoding="utf-8-sig")),
    ("mau1_csv_cp1258", "mau1", dict(fmt="csv", csv_encoding="cp1258", title=True)),
    ("mau2_tcvn3", "mau2", dict(legacy="tcvn3", title=True, merged_header=True, signature=True)),
    ("mau1_tcvn3_xls", "mau1", dict(fmt="xls", legacy="tcvn3", upper_headers=True)),
    ("mau1_vni", "mau1", dict(legacy="vni", synonyms=True)),
    ("mau2_nfd", "mau2", dict(nfd=True, synonyms=True, shuffle=True)),
    ("mau2_sheets", "mau2", dict(instruction_sheet=True, summary_sheet=True, number_row=True)),
    ("mau1_numeric_ids", "mau1", dict(numeric_ids=True, dates="serial", birth_years=True)),
    ("mau2_everything", "mau2", dict(title=True, merged_header=True, number_row=True, signature=True,
                                     blank_rows=True, synonyms=True, shuffle=True, extra_columns=True,
                                     upper_headers=True, dates="mixed", instruction_sheet=True)),
]
EXT = {"xlsx": ".xlsx", "xls": ".xls", "csv": ".csv"}


def budget_workbook(path: Path) -> None:
    """A spreadsheet units also e-mail by mistake: no list of people at all."""
    rows = [[Cell("SỞ TÀI CHÍNH TỈNH AN GIANG", _BOLD)], [],
            [Cell("DỰ TOÁN KINH PHÍ PHÒNG, CHỐNG DỊCH COVID-19 NĂM 2021", _BOLD)], [],
            [Cell(h, _BOLD) for h in ("STT", "Nội dung", "Đơn vị tính", "Số lượng", "Đơn giá (đồng)", "Thành tiền (đồng)")]]
    items = [("Khẩu trang y tế", "hộp", 5000, 45000), ("Nước rửa tay sát khuẩn", "chai", 2000, 60000),
             ("Bơm kim tiêm 0,5 ml", "cái", 150000, 800), ("Tủ lạnh bảo quản vắc xin", "cái", 12, 25000000),
             ("Phụ cấp chống dịch", "người/ngày", 3000, 150000), ("In ấn biểu mẫu", "bộ", 10000, 2000)]
    for k, (name, unit, qty, price) in enumerate(items, 1):
        rows.append([k, name, unit, qty, price, qty * price])
    rows.append([None, Cell("Tổng cộng", _BOLD), None, None, None, sum(q * p for _, _, q, p in items)])
    write_xlsx(str(path), [SheetSpec("Dự toán", rows, [(2, 0, 2, 5)], {1: 34, 4: 16, 5: 18})])


def broken_workbook(path: Path, seed: int) -> None:
    """A real form, cut off in transit: a truncated zip."""
    generate(path, "mau2", rows=200, seed=seed)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 5])


def build(out: Path, n: int = 40, seed: int = 1) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    truths: list[dict] = []

    def add(t: Truth, name: str) -> None:
        d = t.as_json()
        d["file"] = name
        truths.append(d)

    k = 0
    for stem, form, over in SPECIALS:
        if k >= n:
            break
        style = Style(**over)
        rows = rng.choice([30, 80, 150, 400])
        name = f"{k:02d}_{stem}{EXT[style.fmt]}"
        add(generate(out / name, form, rows, seed * 1000 + k, style, errors=rng.uniform(0.04, 0.12)), name)
        k += 1
    if k < n:
        name = f"{k:02d}_du_toan_kinh_phi.xlsx"
        budget_workbook(out / name)
        truths.append(Truth(file=name, form=None, rows=None).as_json())
        k += 1
    if k < n:
        name = f"{k:02d}_broken.xlsx"
        broken_workbook(out / name, seed * 1000 + k)
        truths.append(Truth(file=name, form=None, rows=None, unreadable=True).as_json())
        k += 1
    while k < n:
        form = rng.choice(["mau1", "mau2"])
        style = Style.random(rng)
        rows = int(rng.choice([rng.uniform(10, 120), rng.uniform(120, 600), rng.uniform(600, 2500)]))
        stem = rng.choice(["DS", "Danh sach", "Mau", "dang ky tiem", "bo sung mui 1"])
        name = f"{k:02d}_{form}_{stem.replace(' ', '_')}{EXT[style.fmt]}"
        if k == n - 1:
            name = f"{k:02d}_Danh sách {('Mẫu 1' if form == 'mau1' else 'Mẫu 2')} xã Mỹ Khánh{EXT[style.fmt]}"
        add(generate(out / name, form, rows, seed * 1000 + k, style, errors=rng.uniform(0.03, 0.12)), name)
        k += 1
    (out / "truth.json").write_text(json.dumps({"seed": seed, "files": truths}, ensure_ascii=False, indent=1),
                                    encoding="utf-8")
    return truths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    truths = build(a.out, a.n, a.seed)
    errs = sum(len(t["errors"]) for t in truths)
    fixes = sum(len(t["fixes"]) for t in truths)
    rows = sum(t["rows"] or 0 for t in truths)
    print(f"{a.out}: {len(truths)} files, {rows} rows, {errs} injected errors, {fixes} expected fixes",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
