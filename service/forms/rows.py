"""Row accounting: every non-empty row below the header is a person, a recognised
non-person row, or a row the reply names as skipped.

Real lists are organised in groups — a heading row per hamlet or department ("Ấp Mỹ Hòa",
"I. Khối văn phòng", merged across the table), a subtotal after each group ("Cộng: 12
người") — and carry a column-number row under the header, the header repeated on each
printed page, and a signature block under the list. None of these ends the list except the
signature block (a row that is clearly a person after it is still a person); the data runs
to the sheet's end.

Kinds of non-person rows (the keys of ``RowPlan.skipped`` and of the JSON ``skipped``
object): ``heading``, ``subtotal``, ``column_numbers``, ``repeated_header``, ``footer``,
``stt_only`` (a pre-numbered row with nothing else) and ``other`` (not recognised: the
reply names each one with its text). The words that recognise them are data:
config/rows.toml.

A vertical merge in the data (a district or workplace merged over a run of rows) gives its
value to every row it covers; a horizontal merge keeps its value in its first column only.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from ..defaults import config_dir
from ..textnorm import fold, tidy
from .model import Layout, Sheet
from .national import IMPORT_RESULT

_BREAKS = (None, "subtotal", "heading", "repeated_header", "column_numbers")
KINDS = ("heading", "subtotal", "column_numbers", "repeated_header", "footer", "stt_only", "other")

_NUMBER_CELL_RE = re.compile(r"^\(?\s*\d{1,3}\s*\)?$")
_NUMBERING_RE = re.compile(r"^\s*(?:[IVXLC]{1,6}|[A-Za-zĐđ]|\d{1,2}(?:\.\d{1,2})*)\s*[.)\-–:/]\s*(?=\S)")
_DATE_LINE_RE = re.compile(r"\bngay\b.*\bthang\b.*\bnam\b")
_PAREN_TAIL_RE = re.compile(r"\s*[(\[][^)\]]*[)\]]\s*$")
_DIGIT_RE = re.compile(r"\d")
_TOTAL_RE = re.compile(r"(?i)\s*(?:tổng|cộng|tong cong|cong\b)")  # a total with counts in many columns
_DATA_TEXT_RE = re.compile(r"\d{8,}|\d[\d .]{8,}\d|\b\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\b")
# Heading words that never start a Vietnamese person's name: a heading typed, unmerged and
# unnumbered, in the name column is recognised only by these ("Tô", "Đoàn", "Trương" and
# "Phan" are family names).
_SAFE_IN_NAME_COLUMN = frozenset({
    "ap", "khom", "to dan pho", "khu pho", "khu vuc", "xom", "thon", "khoi", "phong", "khoa",
    "bo phan", "phan xuong", "cong ty", "doanh nghiep", "co quan", "don vi", "ubnd", "nhom",
    "khu dan cu", "cum dan cu", "danh sach", "truong thcs", "truong thpt", "truong tieu hoc",
    "truong mau giao", "truong mam non", "hop tac xa", "htx", "cty", "ctcp",
})


@dataclass(frozen=True)
class RowWords:
    address: tuple[str, ...]
    workplace: tuple[str, ...]
    heading_other: tuple[str, ...]
    subtotal: tuple[str, ...]
    footer: tuple[str, ...]


@lru_cache(maxsize=4)
def load_words(path: str | None = None) -> RowWords:
    p = Path(path) if path else config_dir() / "rows.toml"
    with open(p, "rb") as fh:
        data = tomllib.load(fh)

    def words(*keys: str) -> tuple[str, ...]:
        d: Any = data
        for k in keys:
            d = d.get(k, {})
        # longest first, so "to dan pho" wins over "to"
        return tuple(sorted({fold(w) for w in d or [] if fold(w)}, key=len, reverse=True))

    return RowWords(words("heading", "address"), words("heading", "workplace"),
                    words("heading", "other"), words("subtotal", "starts"), words("footer", "starts"))


def _starts(text: str, words: tuple[str, ...]) -> str | None:
    for w in words:
        if text == w or text.startswith(w + " "):
            return w
    return None


@dataclass
class RowPlan:
    """What each row below the header is. Indexes are 0-based grid rows."""
    persons: list[int] = field(default_factory=list)
    skipped: dict[str, list[int]] = field(default_factory=dict)  # kind → rows
    unknown: dict[int, str] = field(default_factory=dict)  # "other" row → its text as written
    # heading row → (field it gives, value); person row → heading row above it
    headings: dict[int, tuple[str, str]] = field(default_factory=dict)
    group_of: dict[int, int] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # vertical merges filled down

    def skip(self, kind: str, i: int) -> None:
        self.skipped.setdefault(kind, []).append(i)

    @property
    def accounted(self) -> int:
        return len(self.persons) + sum(len(v) for v in self.skipped.values())


def _blank(v: Any) -> bool:
    return v is None or v == "" or (v.__class__ is str and not v.strip())


def _is_number_row(vals: list[Any]) -> bool:
    """"1 2 3 …" or "(1) (2) …" under the header: small numbers, nearly all different (a
    total's counts repeat)."""
    if len(vals) < 3:
        return False
    nums = []
    for v in vals:
        if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() and 0 < v < 1000:
            nums.append(int(v))
        elif isinstance(v, str) and _NUMBER_CELL_RE.match(v.strip()):
            nums.append(int(re.sub(r"\D", "", v)))
    return len(nums) >= 0.8 * len(vals) and len(set(nums)) >= 0.8 * len(nums)


def _looks_data(v: Any) -> bool:
    """A value only a person's row holds: a date, a long number (ID, phone), many digits."""
    if v.__class__ is str:
        return _DATA_TEXT_RE.search(v) is not None
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return v >= 10000
    return hasattr(v, "year")


def fill_merges_down(sheet: Sheet, first_row: int) -> list[tuple[int, int, int, int]]:
    """Copy the value of every vertical merge at or below ``first_row`` into each row it
    covers (first column only: a horizontal merge's value belongs to its first column).
    Wide blocks (a heading or signature merged over rows and across the table) are left."""
    done = []
    rows = sheet.rows
    for r0, c0, r1, c1 in sheet.merged:
        if r1 <= r0 or r0 < first_row or c1 - c0 > 1 or r0 >= len(rows):
            continue
        top = rows[r0]
        v = top[c0] if c0 < len(top) else None
        if _blank(v):
            continue
        for r in range(r0 + 1, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            if len(row) <= c0:
                row.extend([None] * (c0 + 1 - len(row)))
            if _blank(row[c0]):
                row[c0] = v
        done.append((r0, c0, r1, c1))
    return done


def account(sheet: Sheet, layout: Layout, decode: Callable[[int, int, str], str] | None = None,
            words: RowWords | None = None) -> RowPlan:
    """Classify every row below the header of ``sheet``; fills vertical merges down first."""
    words = words or load_words()
    plan = RowPlan()
    rows = sheet.rows
    first = max(layout.header_rows) + 1 if layout.header_rows else layout.data_start
    plan.merges = fill_merges_down(sheet, first)
    cols = layout.columns
    stt = cols["stt"].index if "stt" in cols else None
    mapped = sorted({c.index for k, c in cols.items() if k not in ("stt", IMPORT_RESULT)})
    who = [cols[k].index for k in ("full_name", "id_number") if k in cols]
    who0 = who[0] if who else None
    # header texts per column (folded), to recognise the header repeated on a page break
    header_fold: dict[int, set[str]] = {}
    header_raw: set[str] = set()
    for r in layout.header_rows:
        for j, v in enumerate(rows[r] if r < len(rows) else []):
            if v.__class__ is str and v.strip():
                t = decode(r, j, v) if decode else v
                header_fold.setdefault(j, set()).add(fold(t))
                header_raw.add(v)
    for r0, c0, r1, c1 in sheet.merged:  # merged header cells name every column they cover
        if r0 in layout.header_rows and r0 < len(rows) and c0 < len(rows[r0]):
            v = rows[r0][c0]
            if v.__class__ is str and v.strip():
                t = fold(decode(r0, c0, v) if decode else v)
                for j in range(c0, c1 + 1):
                    header_fold.setdefault(j, set()).add(t)
    spans: dict[int, int] = {}  # row → widest horizontal merge in it (columns)
    for r0, c0, r1, c1 in sheet.merged:
        if r0 >= first:
            spans[r0] = max(spans.get(r0, 0), c1 - c0 + 1)
    top = max(mapped) if mapped else 0
    mapped_set = frozenset(mapped)
    in_footer = False
    group: int | None = None
    last: str | None = None  # kind of the last non-blank row ("person" …), None at the top
    heading_cols: set[int] = set()  # columns where group headings were found
    for i in range(first, len(rows)):
        row = rows[i]
        if not row:
            continue
        # fast path: a full row whose name (or ID) is not a header text is a person
        if who0 is not None and len(row) > top:
            w = row[who0]
            if w is not None and w.__class__ is not bool and (
                    (w.__class__ is str and w not in header_raw and len(w) > 3
                     and not (len(w) <= 8 and _NUMBER_CELL_RE.match(w)) and not _TOTAL_RE.match(w))
                    or (w.__class__ in (int, float) and w >= 1000)):
                filled = 0
                for j in mapped:
                    v = row[j]
                    if v is not None and v != "":
                        filled += 1
                        if filled > 4:
                            break
                if filled > 4:
                    plan.persons.append(i)
                    if group is not None:
                        plan.group_of[i] = group
                    in_footer = False
                    last = "person"
                    continue
        kind, extra = _classify(i, row, words, decode, mapped=mapped_set, who=who, stt=stt,
                                header_fold=header_fold, span=spans.get(i, 0),
                                in_footer=in_footer, after_break=last in _BREAKS,
                                heading_cols=heading_cols)
        if kind is None:
            continue  # blank
        last = kind
        if kind == "person":
            plan.persons.append(i)
            if group is not None:
                plan.group_of[i] = group
            in_footer = False
            continue
        plan.skip(kind, i)
        if kind == "footer":
            in_footer, group = True, None
        elif kind == "subtotal":
            group = None
        elif kind == "heading":
            group = i if extra else None
            if extra:
                plan.headings[i] = extra
        elif kind == "other":
            plan.unknown[i] = extra
    return plan


def _classify(i: int, row: list[Any], words: RowWords, decode, *, mapped, who, stt,
              header_fold, span, in_footer, after_break, heading_cols) -> tuple[str | None, Any]:
    cells = [(j, v) for j, v in enumerate(row) if not _blank(v)]
    if not cells:
        return None, None
    if decode is not None:
        cells = [(j, decode(i, j, v) if v.__class__ is str else v) for j, v in cells]
    texts = [(j, v) for j, v in cells if isinstance(v, str) and not _NUMBER_CELL_RE.match(v.strip())]
    folded = [(j, fold(v)) for j, v in texts]
    # the header again (a printed page break)
    same = sum(1 for j, t in folded if t and t in header_fold.get(j, ()))
    if same >= 2 and same * 2 >= len(cells):
        return "repeated_header", None
    values = [v for _, v in cells]
    if _is_number_row(values):
        return "column_numbers", None
    filled = [j for j, _ in cells if j in mapped]
    who_filled = any(j in who for j, _ in cells)
    strong = any(_looks_data(v) for v in values)  # a date, an ID or phone: a person's row
    first_text = folded[0][1] if folded else ""
    raw_first = texts[0][1] if texts else ""
    if first_text and _DATE_LINE_RE.search(first_text) and not (who_filled and len(filled) >= 2):
        return "footer", None  # "An Giang, ngày 25 tháng 8 năm 2021"
    if not strong:
        if first_text and _starts(first_text, words.footer):
            return "footer", None
        if in_footer:
            return "footer", None
        if first_text and _starts(first_text, words.subtotal) and (
                first_text in words.subtotal or ":" in raw_first or _DIGIT_RE.search(raw_first)
                or (len(cells) > len(texts) and texts[0][0] not in who)):
            return "subtotal", None
    if who_filled and len(filled) >= 2:
        return "person", None
    if len(texts) == 1 and len(cells) - len(texts) <= 1:
        j, raw = texts[0]
        heading = _heading(raw, j, words, who=who, stt=stt, span=span,
                           after_break=after_break or j in heading_cols)
        if heading is not None:
            heading_cols.add(j)
            return "heading", heading or None
    if who_filled or len(filled) >= 2:
        return "person", None
    if stt is not None and all(j == stt for j, _ in cells):
        return "stt_only", None
    shown = "; ".join(tidy(str(v)) for _, v in cells[:4])
    return "other", shown


def _heading(raw: str, j: int, words: RowWords, *, who, stt, span, after_break) -> tuple[str, str] | tuple | None:
    """(field, value) a group heading gives the rows below it, () for a heading that gives
    nothing, None when the text is not a heading."""
    m = _NUMBERING_RE.match(raw)
    numbered = m is not None
    body = raw[m.end():] if m else raw
    body = _PAREN_TAIL_RE.sub("", body).strip().rstrip(":").strip()
    key = fold(body)
    if not key:
        return None
    addr = _starts(key, words.address)
    work = _starts(key, words.workplace)
    other = _starts(key, words.heading_other)
    keyword = addr or work or other
    in_who = j in who
    if in_who and span < 2 and not numbered:
        safe = any(key == w or key.startswith(w + " ") for w in _SAFE_IN_NAME_COLUMN)
        # a name alone on its row is a person with the rest missing, unless its words never
        # start a name, or it opens a group where groups open (after a subtotal, at the top)
        if not (safe or (keyword and after_break)):
            return None
    elif not (keyword or numbered or span >= 2 or j == stt):
        return None
    value = tidy(body)
    if addr and (not work or len(addr) >= len(work)):
        return ("address", value)
    if work:
        return ("workplace", value)
    return ()
