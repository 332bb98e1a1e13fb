"""A second generator: the layouts real units make, on top of ``bench.gen_forms``' people.

    python -m bench.gen_layouts --out DIR --n 30 --seed 2
    python -m bench.eval_corpus DIR

Each file is a ``gen_forms`` list (same people, injected errors and repairs, same truth
rules) reshaped by independent layout classes, each drawn at random per file:
- ``groups``: a heading row per hamlet or department (merged across the table or not, in the
  first column or the name column, numbered "I." / "1." / "A." or not) and a subtotal row
  after each group ("Cộng: 12 người", "Cộng" with the count in a number column, "Tổng số"),
  sometimes a grand total;
- ``vmerge``: district, ward, workplace and facility merged down over runs of equal values;
- ``formulas``: STT as =ROW()-k and an age column, with or without cached values; some
  checked cells (phone) as formulas without a value — an error the checker must report;
- ``abbreviated``: short and variant headers ("M1"/"M2", "Lần 1", "Mũi thứ nhất", "SĐT",
  "NS", "Phái", "Đ/c" …);
- ``invisible``: byte-order marks, zero-width spaces, soft hyphens and no-break spaces in
  names, ID numbers and wards — fixes the checker must report;
- ``page_headers``: the header (and number row) repeated every few dozen rows;
- ``footer``: notes, a total and the signature block under the list;
- formats .xlsx, .xls and .ods.

The truth is ``gen_forms.Truth`` plus ``layouts`` (the classes drawn), ``non_person`` (rows
inserted, by kind) and ``nonempty_below_header``: a checker accounts for every one of those
rows (``rows`` + the JSON ``skipped`` counts).
"""
from __future__ import annotations

import argparse
import io
import json
import random
import re
import sys
import zipfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from service.forms.xlsx_writer import Cell, SheetSpec, column_letter, write_xlsx
from service.textnorm import fold

from service.forms import national

from .gen_forms import Style, Truth, _write_xls, build
from .ods import Formula, write_ods

EXT = {"xlsx": ".xlsx", "xls": ".xls", "ods": ".ods"}
CLASSES = ("national", "groups", "vmerge", "abbreviated", "invisible", "page_headers", "footer")


@dataclass
class Layouts:
    fmt: str = "xlsx"
    groups: bool = False
    vmerge: bool = False
    formulas: str | None = None  # None | "cached" | "uncached"
    formula_errors: bool = False
    abbreviated: bool = False
    invisible: bool = False
    page_headers: bool = False
    footer: bool = False
    national: bool = False  # the national platform's import template (rows 7–8, codes)

    @classmethod
    def random(cls, rng: random.Random) -> "Layouts":
        lay = cls(fmt=rng.choices(["xlsx", "xls", "ods"], [6, 2, 2])[0])
        for f in ("groups", "vmerge", "abbreviated", "invisible", "page_headers", "footer"):
            setattr(lay, f, rng.random() < 0.5)
        lay.formulas = rng.choice([None, "cached", "uncached"])
        lay.national = rng.random() < 0.25
        if lay.national:
            lay.abbreviated = False  # the template's headers are fixed
        lay.formula_errors = lay.formulas == "uncached" and lay.fmt != "xls" and rng.random() < 0.6
        if lay.fmt == "xls" and lay.formulas == "uncached":
            lay.formulas = "cached"  # xlwt writes a result with every formula
        return lay


# ---------------------------------------------------------------------------- header variants

GROUP_VARIANTS = {1: ["M1", "Mũi 1", "MŨI 1", "Lần 1", "Mũi thứ nhất", "Mũi tiêm thứ nhất", "Lần tiêm thứ 1", "Mũi 01"],
                  2: ["M2", "Mũi 2", "MŨI 2", "Lần 2", "Mũi thứ hai", "Mũi tiêm thứ hai", "Lần tiêm thứ 2", "Mũi 02"]}
PART_VARIANTS = {"date": ["Ngày", "Ngày tiêm", "Thời gian tiêm", "Ngày/tháng/năm tiêm"],
                 "vaccine": ["Vắc xin", "Loại VX", "Tên VX", "Vaccine", "Tên vắc-xin"],
                 "lot": ["Lô", "Số lô", "Lô VX"],
                 "facility": ["Nơi tiêm", "Cơ sở tiêm", "Địa điểm tiêm", "Đơn vị tiêm"]}
SUFFIX = {1: ["M1", "mũi 1", "lần 1", "(M1)"], 2: ["M2", "mũi 2", "lần 2", "(M2)"]}
FIELD_VARIANTS = {
    "stt": ["TT", "STT", "Số TT"],
    "full_name": ["Họ tên", "HỌ TÊN", "Họ và tên người được tiêm", "Họ, tên"],
    "dob": ["NS", "Ngày/tháng/năm sinh", "Ngày sinh (dd/mm/yyyy)", "N.Sinh"],
    "gender": ["Phái", "Nam/Nữ", "Giới", "GT"],
    "phone": ["SĐT", "ĐT", "Số ĐT", "ĐTDĐ", "SĐT liên hệ"],
    "id_number": ["CCCD", "CMND", "Số CMND/CCCD/HC", "CMND/CCCD", "Số CCCD/CMND"],
    "insurance_number": ["BHYT", "Mã thẻ BHYT", "Số thẻ BH"],
    "priority_group": ["Nhóm ĐT", "Đối tượng", "Nhóm ƯT", "Nhóm"],
    "district": ["Huyện", "Quận/Huyện/TX/TP", "Huyện/TP"],
    "ward": ["Xã", "Xã/P/TT", "Phường/Xã"],
    "address": ["Đ/c", "Địa chỉ thường trú", "Ấp/Khóm"],
    "occupation": ["Nghề", "Nghề nghiệp/Chức vụ"],
    "workplace": ["Cơ quan", "Đơn vị", "Nơi làm việc"],
    "ethnicity": ["Dân tộc", "DÂN TỘC"],
    "note": ["GC", "Ghi chú"],
}

HAMLETS = ["Mỹ Hòa", "Mỹ Thạnh", "Bình Khánh", "Đông Thịnh", "Hòa Long", "Tây Khánh", "Long Kiến",
           "Phú Hữu", "Vĩnh Thuận", "Bình Đức", "An Hòa", "Thới Thạnh"]
DEPARTMENTS = ["Khối văn phòng", "Phòng Kế toán", "Phòng Hành chính - Tổng hợp", "Khối sản xuất",
               "Phân xưởng chế biến", "Bộ phận kho", "Tổ bảo vệ", "Khoa Nội", "Trường Tiểu học A",
               "Công ty TNHH Thủy sản Hùng Vương"]
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
SIGNERS = ["Nguyễn Thị Thu Hà", "Trần Văn Minh", "Lê Hoàng Phúc", "Phạm Ngọc Lan"]


def _value(v: Any) -> Any:
    return v.value if isinstance(v, Cell) else v


def _nonempty(row: list[Any]) -> bool:
    return any(_value(v) not in (None, "") for v in row or [])


def make(path: str | Path, form: str, rows: int, seed: int, lay: Layouts,
         errors: float = 0.06, style: Style | None = None) -> Truth:
    """Write one reshaped workbook; return its truth (with ``layouts`` and ``non_person``)."""
    path = Path(path)
    rng = random.Random(seed * 7919 + 17)
    style = style or Style.random(random.Random(seed), fmt="xlsx")
    style.fmt, style.legacy, style.signature = "xlsx", None, False  # layouts add their own footer
    style.nfd = False
    if lay.national:  # the template's own shape: no title, one header, every column
        style.title = style.merged_header = style.number_row = style.shuffle = False
        style.extra_columns = style.drop_optional = style.instruction_sheet = style.summary_sheet = False
        style.upper_headers = style.synonyms = False
    sheets, truth, built = build(path, form, rows, seed, style, errors)
    sheet = sheets[built.sheet_index]
    fields = built.fields
    grid: list[list[Any]] = [list(r or []) for r in sheet.rows]
    merged = list(sheet.merged)
    hdr = [r - 1 for r in truth.header_rows]
    person_at = {er - 1: i for i, er in built.excel_row.items()}  # 0-based row → person
    if lay.national:
        grid, merged, fields, hdr, person_at = _nationalize(grid, fields, hdr, person_at, truth, built)
        sheet = SheetSpec(national.SHEET_NAME, grid, merged, {})
    ncol = len(fields)
    col = {f: c for c, f in enumerate(fields) if f}
    bad = {(e["row"] - 1, f) for e in truth.errors for f in [e["field"], *e.get("also", [])]}
    fixed = {(f["row"] - 1, f["field"]) for f in truth.fixes}
    non_person: dict[str, int] = {}
    extra_errors: list[dict] = []
    extra_fixes: list[dict] = []

    def count(kind: str, n: int = 1) -> None:
        non_person[kind] = non_person.get(kind, 0) + n

    # ---- headers: short and variant forms
    if lay.abbreviated:
        for r in hdr:
            row = grid[r]
            for c in range(min(len(row), ncol)):
                text = _value(row[c])
                if not isinstance(text, str):
                    continue
                f = fields[c]
                m = re.fullmatch(r"(?i)\s*(mũi|mui|lần)\s*(?:tiêm\s*)?(?:thứ\s*)?(1|2|nhất|hai)\s*", text)
                if m and r == hdr[0] and len(hdr) > 1:
                    n = 1 if m.group(2).lower() in ("1", "nhất") else 2
                    row[c] = rng.choice(GROUP_VARIANTS[n])
                elif f and f.startswith("dose") and r == hdr[-1]:
                    n, part = int(f[4]), f.split("_", 1)[1]
                    v = rng.choice(PART_VARIANTS[part])
                    row[c] = v if len(hdr) > 1 else f"{v} {rng.choice(SUFFIX[n])}"
                elif f in FIELD_VARIANTS and not (f.startswith("dose")):
                    row[c] = rng.choice(FIELD_VARIANTS[f])

    # ---- invisible characters in text cells (fixes the checker must report)
    if lay.invisible:
        for r, i in person_at.items():
            if rng.random() > 0.15:
                continue
            f = rng.choice(["full_name", "id_number", "ward"])
            c = col.get(f)
            if c is None or (r, f) in bad or (r, f) in fixed or c >= len(grid[r]):
                continue
            v = _value(grid[r][c])
            if not isinstance(v, str) or not v.strip():
                continue
            if f == "id_number":
                if not v.isdigit():
                    continue
                k = rng.randrange(1, len(v))
                new = v[:k] + rng.choice(["\u200b", "\u200c", "\ufeff", "\u00ad"]) + v[k:]
            elif f == "full_name":
                how = rng.randrange(3)
                new = ("\ufeff" + v) if how == 0 else v.replace(" ", "\u00a0", 1) if how == 1 else v + "\u200b"
            else:
                new = v[:1] + "\u00ad" + v[1:] if len(v) > 2 else "\u200d" + v
            if new == v:
                continue
            grid[r][c] = new
            extra_fixes.append({"row": r + 1, "field": f, "to": v.strip(), "kind": "invisible"})

    # ---- formulas: STT and an age column, with or without cached values
    formula_cells: dict[tuple[int, int], tuple[str, Any]] = {}  # (r, c) → (formula, cached or None)
    first_data = min(person_at) if person_at else hdr[-1] + 1
    if lay.formulas:
        cached = lay.formulas == "cached"
        age_col = ncol
        dob_c = col.get("dob")
        for r in hdr:
            while len(grid[r]) < ncol:
                grid[r].append(None)
        grid[hdr[0]].append("Tuổi")
        if len(hdr) > 1:
            merged.append((hdr[0], age_col, hdr[-1], age_col))
        for r, i in person_at.items():
            row = grid[r]
            while len(row) < ncol:
                row.append(None)
            if "stt" in col:
                formula_cells[(r, col["stt"])] = (f"ROW()-{first_data}", i + 1 if cached else None)
            if dob_c is not None:
                row.append(None)
                formula_cells[(r, age_col)] = (f"IF({column_letter(dob_c)}{r + 1}=\"\",\"\",2021-YEAR({column_letter(dob_c)}{r + 1}))",
                                               40 if cached else None)
        if lay.formula_errors and "phone" in col:
            pc = col["phone"]
            clean = [r for r in person_at if not any(b[0] == r for b in bad) and not any(x[0] == r for x in fixed)]
            for r in rng.sample(clean, k=min(len(clean), max(1, len(clean) // 40))):
                formula_cells[(r, pc)] = (f"\"09\"&\"{rng.randrange(10**7, 10**8)}\"", None)
                extra_errors.append({"row": r + 1, "field": "phone", "kind": "formula_no_value"})

    # ---- values merged down over runs of equal cells
    if lay.vmerge:
        for f in ("district", "ward", "workplace", "dose1_facility", "address"):
            c = col.get(f)
            if c is None:
                continue
            r = first_data
            end = max(person_at) + 1 if person_at else r
            while r < end:
                v = _value(grid[r][c]) if r in person_at and c < len(grid[r]) else None
                if v in (None, "") or (r, f) in bad or (r, f) in fixed:
                    r += 1
                    continue
                r1 = r
                while (r1 + 1 in person_at and c < len(grid[r1 + 1]) and _value(grid[r1 + 1][c]) == v
                       and (r1 + 1, f) not in bad and (r1 + 1, f) not in fixed and r1 - r < 30):
                    r1 += 1
                if r1 > r and rng.random() < 0.8:
                    merged.append((r, c, r1, c))
                    for k in range(r + 1, r1 + 1):
                        grid[k][c] = None
                r = r1 + 1

    # ---- rebuild the sheet with groups, page headers and the footer block
    out: list[list[Any]] = []
    out_merged: list[tuple[int, int, int, int]] = [m for m in merged if m[0] < first_data]
    where: dict[int, int] = {}  # old 0-based row → new
    for r in range(first_data):
        where[r] = len(out)
        out.append(grid[r])
    people_rows = sorted(person_at)
    groups: list[list[int]] = []
    if lay.groups and people_rows:
        k = 0
        while k < len(people_rows):
            n = rng.randint(3, 40)
            groups.append(people_rows[k:k + n])
            k += n
    else:
        groups = [people_rows]
    # data rows include blank rows of the base file: carry everything between people along
    tail = list(range(people_rows[-1] + 1 if people_rows else first_data, len(grid)))
    name_c = col.get("full_name", 1)
    hsty = rng.choice(["merged", "plain", "name", "name_merged"])
    numbering = rng.choice(["roman", "arabic", "letter", None])
    ssty = rng.choice(["colon", "count_col", "named", "total"])
    page = rng.randint(25, 60) if lay.page_headers else 0
    since_page = 0
    number_row = None
    if people_rows and people_rows[0] - hdr[-1] > 1:
        candidate = grid[hdr[-1] + 1]
        if _nonempty(candidate):
            number_row = candidate
    prev = first_data
    for g_i, grp in enumerate(groups):
        if lay.groups:
            kind = rng.choice(["address", "workplace"])
            if kind == "address":
                text = f"{rng.choice(['Ấp', 'Khóm', 'Tổ dân phố'])} {rng.choice(HAMLETS)}"
            else:
                text = rng.choice(DEPARTMENTS)
            prefix = {"roman": f"{ROMAN[g_i % 12]}. ", "arabic": f"{g_i + 1}. ",
                      "letter": f"{chr(65 + g_i % 26)}. ", None: ""}[numbering]
            text = prefix + text
            at = name_c if hsty in ("name", "name_merged") else 0
            row = [None] * ncol
            row[at] = Cell(text, None)
            out.append(row)
            if hsty in ("merged", "name_merged"):
                out_merged.append((len(out) - 1, at, len(out) - 1, ncol - 1))
            count("heading")
        for r in grp:
            # blank rows of the base file between people
            for b in range(prev, r):
                if b not in where and b >= first_data:
                    where[b] = len(out)
                    out.append(grid[b])
            if page and since_page >= page:
                for h in hdr:
                    out.append(list(grid[h]))
                    count("repeated_header")
                for m in merged:
                    if m[0] in hdr:
                        d = len(out) - len(hdr) - hdr[0]
                        out_merged.append((m[0] + d, m[1], m[2] + d, m[3]))
                if number_row is not None:
                    out.append(list(number_row))
                    count("column_numbers")
                since_page = 0
            where[r] = len(out)
            out.append(grid[r])
            since_page += 1
            prev = r + 1
        if lay.groups:
            n = len(grp)
            at = name_c if ssty != "count_col" else name_c
            row = [None] * ncol
            if ssty == "colon":
                row[at] = f"Cộng: {n} người"
            elif ssty == "count_col":
                row[at] = "Cộng"
                row[col.get("stt", 0) if col.get("stt", 0) != at else min(at + 2, ncol - 1)] = n
            elif ssty == "named":
                row[at] = f"Cộng nhóm {g_i + 1}: {n}"
            else:
                row[at] = f"Tổng số: {n} người"
            if rng.random() < 0.85:
                out.append(row)
                count("subtotal")
    for b in tail:
        where[b] = len(out)
        out.append(grid[b])
    if lay.footer:
        right = max(2, ncol - 4)
        block = [[]]
        if rng.random() < 0.6:
            block.append([None, f"Tổng cộng: {len(people_rows)} người"])
        if rng.random() < 0.5:
            block.append([None, "Ghi chú: danh sách đã được Ban chỉ đạo xã rà soát."])
        block.append([None, f"An Giang, ngày {rng.randint(24, 31)} tháng 8 năm 2021"])
        block.append([None, "Người lập biểu"] + [None] * (right - 2) + ["Thủ trưởng đơn vị"])
        block.append([None, "(Ký, ghi rõ họ tên)"] + [None] * (right - 2) + ["(Ký tên, đóng dấu)"])
        block += [[], []]
        block.append([None, rng.choice(SIGNERS)] + [None] * (right - 2) + [rng.choice(SIGNERS)])
        for b in block:
            if _nonempty(b):
                count("footer" if not str(b[1]).startswith("Tổng cộng") else "subtotal")
        out += block
    # vertical merges of the data move with their rows (runs never straddle inserted rows)
    for r0, c0, r1, c1 in merged:
        if r0 >= first_data and r0 in where and r1 in where:
            if where[r1] - where[r0] == r1 - r0:
                out_merged.append((where[r0], c0, where[r1], c1))
            else:  # the run was cut by an inserted row: write its value in every row
                v = out[where[r0]][c0]
                for k in range(r0 + 1, r1 + 1):
                    out[where[k]][c0] = v
    formulas = {(where[r], c): fc for (r, c), fc in formula_cells.items()}

    # ---- truth: rows moved
    def moved(items: list[dict]) -> list[dict]:
        return [{**x, "row": where[x["row"] - 1] + 1} for x in items]

    truth.errors = sorted(moved(truth.errors) + moved(extra_errors), key=lambda e: e["row"])
    truth.fixes = sorted(moved(truth.fixes) + moved(extra_fixes), key=lambda e: e["row"])
    truth.header_rows = [where[h] + 1 for h in hdr]
    below = out[hdr[-1] + 1:]
    t = truth.as_json()
    t["layouts"] = asdict(lay)
    t["non_person"] = non_person
    t["nonempty_below_header"] = sum(1 for r in below if _nonempty(r))
    if number_row is not None:
        t["non_person"]["column_numbers"] = t["non_person"].get("column_numbers", 0) + 1
    spec = SheetSpec(sheet.name, out, out_merged, sheet.widths)
    order = sheets[:built.sheet_index] + [spec] + sheets[built.sheet_index + 1:]
    _write_layout(path, order, built.sheet_index, formulas, lay.fmt)
    truth = Truth(**{k: t[k] for k in Truth.__dataclass_fields__})
    truth.file = str(path)
    truth.extra = {k: t[k] for k in ("layouts", "non_person", "nonempty_below_header")}
    return truth


# ---------------------------------------------------------------------------- national template

def _a1(ref: str) -> tuple[int, int, int, int]:
    m = re.fullmatch(r"([A-Z]+)(\d+):([A-Z]+)(\d+)", ref)

    def col(letters: str) -> int:
        n = 0
        for ch in letters:
            n = n * 26 + ord(ch) - 64
        return n - 1

    return int(m.group(2)) - 1, col(m.group(1)), int(m.group(4)) - 1, col(m.group(3))


def _nationalize(grid, fields, hdr, person_at, truth: Truth, built):
    """The same people in the national import template (SPEC): notes in rows 1–5, header in
    rows 7–8, data from row 9; gender 0/1, GSO codes beside district and ward names, dose 1's
    vaccine outside its group. Truth rows move; what the template does not require (the ID
    number) is no longer a required error there."""
    col = {f: c for c, f in enumerate(fields) if f}
    bad = {(e["row"] - 1, e["field"]) for e in truth.errors}
    out = [[n] for n in national.NOTES] + [[]] + national.header_rows()
    merges = [_a1(m) for m in national.header_merges()]
    where = {}
    province_code = load_directory().province_code
    for r in range(hdr[-1] + 1, len(grid)):
        if r not in person_at:
            if any(v not in (None, "") for v in grid[r]):
                where[r] = len(out)
                out.append(list(grid[r]))  # a row the base file has below the list
            continue
        src = grid[r]
        p = built.people[person_at[r]]

        def get(f):
            c = col.get(f)
            return _value(src[c]) if c is not None and c < len(src) else None

        row = []
        for f in national.FIELDS:
            if f == "gender":
                v = get("gender")
                v = {"nam": 0, "nu": 1}.get(fold(v), v) if isinstance(v, str) and (r, "gender") not in bad else v
            elif f == "province":
                v = "An Giang"
            elif f == national.PROVINCE_CODE:
                v = province_code
            elif f == national.DISTRICT_CODE:
                v = None if {(r, "district"), (r, "ward")} & bad or get("district") in (None, "") else p["_place"].district.code
            elif f == national.WARD_CODE:
                v = None if {(r, "district"), (r, "ward")} & bad or get("ward") in (None, "") else p["_place"].ward.code
            elif f == national.IMPORT_RESULT:
                v = None
            elif f == "stt":
                v = len(out) - 7
            else:
                v = get(f)
            row.append(v)
        where[r] = len(out)
        out.append(row)
    for x in truth.errors + truth.fixes:
        x["row"] = where[x["row"] - 1] + 1
    for e in truth.errors:  # the template's ID is optional: a missing one is a warning
        if e["field"] == "id_number" and e["kind"] == "missing_required":
            e["optional"] = True
    truth.header_rows = [7, 8]
    truth.sheet = national.SHEET_NAME
    truth.columns = {f: column_letter(c) for c, f in enumerate(national.FIELDS)}
    persons = {where[r]: i for r, i in person_at.items()}
    return out, merges, list(national.FIELDS), [6, 7], persons


@lru_cache(maxsize=1)
def load_directory():
    from service.directory import load_default
    return load_default()


# ---------------------------------------------------------------------------- writers

def _write_layout(path: Path, sheets: list[SheetSpec], index: int,
                  formulas: dict[tuple[int, int], tuple[str, Any]], fmt: str) -> None:
    if fmt == "ods":
        out = []
        for k, sh in enumerate(sheets):
            rows = [[_value(v) for v in (r or [])] for r in sh.rows]
            if k == index:
                for (r, c), (f, v) in formulas.items():
                    while len(rows[r]) <= c:
                        rows[r].append(None)
                    rows[r][c] = Formula("of:=" + f, v)
            out.append((sh.name, rows, list(sh.merged)))
        write_ods(path, out)
        return
    if fmt == "xls":
        import xlwt
        sh = sheets[index]
        rows = [list(r or []) for r in sh.rows]
        for (r, c), (f, v) in formulas.items():
            while len(rows[r]) <= c:
                rows[r].append(None)
            rows[r][c] = xlwt.Formula(f)
        sheets = sheets[:index] + [SheetSpec(sh.name, rows, sh.merged, sh.widths)] + sheets[index + 1:]
        _write_xls(str(path), sheets)
        return
    # xlsx: write the values (cached results) then turn those cells into formulas
    sh = sheets[index]
    rows = [list(r or []) for r in sh.rows]
    for (r, c), (f, v) in formulas.items():
        while len(rows[r]) <= c:
            rows[r].append(None)
        rows[r][c] = v if v is not None else _MARK
    buf = io.BytesIO()
    write_xlsx(buf, sheets[:index] + [SheetSpec(sh.name, rows, sh.merged, sh.widths)] + sheets[index + 1:])
    part = f"xl/worksheets/sheet{index + 1}.xml"
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    xml = src.read(part).decode("utf-8")
    for (r, c), (f, v) in formulas.items():
        ref = f"{column_letter(c)}{r + 1}"
        fx = f"<f>{_xml(f)}</f>"
        if v is None:
            xml = re.sub(rf'<c r="{ref}"([^>]*?)(?: t="s")?>(?:<v>[^<]*</v>)?</c>|<c r="{ref}"([^>]*?)/>',
                         lambda m: f'<c r="{ref}"{_attrs(m)}>{fx}</c>', xml, count=1)
        elif isinstance(v, str):
            xml = re.sub(rf'<c r="{ref}"([^>]*?)(?: t="s")?><v>[^<]*</v></c>',
                         lambda m: f'<c r="{ref}"{_attrs(m)} t="str">{fx}<v>{_xml(v)}</v></c>', xml, count=1)
        else:
            xml = re.sub(rf'<c r="{ref}"([^>]*?)><v>([^<]*)</v></c>',
                         lambda m: f'<c r="{ref}"{_attrs(m)}>{fx}<v>{m.group(2)}</v></c>', xml, count=1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = xml.encode("utf-8") if info.filename == part else src.read(info)
            dst.writestr(info.filename, data)


_MARK = "\u2063formula\u2063"


def _attrs(m: re.Match) -> str:
    a = m.group(1) if m.group(1) is not None else (m.group(3) if m.lastindex and m.lastindex >= 3 else "")
    return re.sub(r'\s*t="[^"]*"', "", a or "")


def _xml(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# ---------------------------------------------------------------------------- corpus

def build_corpus(out: Path, n: int = 30, seed: int = 2) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    truths = []
    for k in range(n):
        lay = Layouts.random(rng)
        if k < 8:  # every class alone at least once
            lay = Layouts(fmt=["xlsx", "xls", "ods"][k % 3])
            setattr(lay, ["groups", "vmerge", "abbreviated", "invisible", "page_headers", "footer", "groups",
                          "national"][k], True)
            if k == 6:
                lay.formulas, lay.formula_errors, lay.fmt = "uncached", True, "xlsx"
        form = rng.choice(["mau1", "mau2"])
        rows = int(rng.choice([rng.uniform(15, 80), rng.uniform(80, 300), rng.uniform(300, 900)]))
        name = f"{k:02d}_{form}_{'_'.join(f for f in CLASSES if getattr(lay, f)) or 'plain'}{EXT[lay.fmt]}"
        t = make(out / name, form, rows, seed * 1000 + k, lay, errors=rng.uniform(0.03, 0.1))
        d = t.as_json()
        d.update(t.extra)
        d["file"] = name
        truths.append(d)
    (out / "truth.json").write_text(json.dumps({"seed": seed, "files": truths}, ensure_ascii=False, indent=1),
                                    encoding="utf-8")
    return truths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.gen_layouts", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--seed", type=int, default=2)
    a = ap.parse_args(argv)
    truths = build_corpus(a.out, a.n, a.seed)
    rows = sum(t["rows"] or 0 for t in truths)
    print(f"{a.out}: {len(truths)} files, {rows} people, {sum(len(t['errors']) for t in truths)} injected errors, "
          f"{sum(len(t['fixes']) for t in truths)} expected fixes, "
          f"{sum(sum(t['non_person'].values()) for t in truths)} non-person rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
