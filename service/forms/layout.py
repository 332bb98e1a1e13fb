"""Find the header of a Mẫu 1 / Mẫu 2 sheet and map its columns to field keys.

Real files carry title blocks above the header, headers merged over two rows ("Mũi 1" over
"Ngày tiêm | Tên vắc xin | Số lô | Nơi tiêm"), a column-number row under the header and
signature rows below the data. Columns are recognised by folded header text, never by
position.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from ..textnorm import INVISIBLE_RE, fold, strip_invisible, tidy
from . import national
from .fields import DOSE_PARTS, FieldCatalog
from .model import Column, Layout, Sheet

DOB_FEMALE = "dob_female"  # layout-only key: the "Nữ" column under "Năm sinh"
GIVEN_NAME = "given_name"  # layout-only key: "Tên" beside "Họ và tên đệm"
_FAMILY_HEADERS = {"ho va ten dem", "ho va chu dem", "ho va chu lot", "ho dem", "ho va dem", "ho",
                   "ho lot", "ho chu lot", "ho va ten lot", "ho chu dem", "ho va ten dem lot"}
_GIVEN_HEADERS = {"ten", "ten goi", "ten rieng"}
SCAN_ROWS = 40  # the header must start within the first rows of a sheet
MIN_FIELDS = 3  # a header names at least this many known fields

_PAREN_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_DOSE_IN_TEXT_RE = re.compile(r"\b(?:mui|lan|m)(?: tiem)?(?: thu)? ?0?(1|2|i|ii|nhat|hai|mot)\b")
_DOSE_WORDS = {"1": 1, "2": 2, "i": 1, "ii": 2, "nhat": 1, "hai": 2, "mot": 1}
_NUMBER_CELL_RE = re.compile(r"^\(?\s*\d{1,2}\s*\)?$")
_SIGNATURE_RE = re.compile(
    r"^(nguoi lap( bieu| danh sach)?|thu truong( don vi)?|xac nhan|ky ten|ky ghi ro ho ten|"
    r"tm ubnd|t m ubnd|giam doc|chu tich|pho chu tich|truong phong|ke toan|nguoi ky|can bo lap|"
    r"ubnd xa|lanh dao don vi|tong cong|cong|tong so)\b"
)
_DATE_LINE_RE = re.compile(r"\bngay\b.*\bthang\b.*\bnam\b")


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _leaf_key(text: str) -> str:
    """Folded header text without hints in brackets: 'Ngày sinh (dd/mm/yyyy)' → 'ngay sinh'."""
    return fold(_PAREN_RE.sub(" ", text)) or fold(text)


def _match(key: str, table: dict[str, str]) -> str | None:
    """Exact synonym, else the longest multi-word synonym the text starts with."""
    if not key:
        return None
    hit = table.get(key)
    if hit:
        return hit
    words = key.split()
    for n in range(len(words) - 1, 1, -1):
        hit = table.get(" ".join(words[:n]))
        if hit:
            return hit
    return None


def _dose_of(key: str, cat: FieldCatalog) -> int | None:
    if key in cat.dose_groups:
        return cat.dose_groups[key]
    m = _DOSE_IN_TEXT_RE.search(key)
    return _DOSE_WORDS[m.group(1)] if m else None


_HINTS = (("date", ("ngay", "dd mm")), ("vaccine", ("vac xin", "vaccine", "vacxin")),
          ("facility", ("noi tiem", "co so", "dia diem")), ("lot", ("so lo",)))


def _part_from_hint(text: str) -> str | None:
    hint = " ".join(fold(m) for m in _PAREN_RE.findall(text))
    for part, words in _HINTS:
        if any(w in hint for w in words):
            return part
    return None


def classify(parts: list[str], cat: FieldCatalog) -> str | None:
    """Field key for a column whose header cells (top to bottom, raw text) are ``parts``."""
    keys = [_leaf_key(p) for p in parts if p and p.strip()]
    if not keys:
        return None
    dose = None
    for k in keys:
        d = _dose_of(k, cat)
        if d:
            dose = d
    if not dose:  # the dose only in brackets: "Loại VX (M1)", "Nơi tiêm (lần 2)"
        for p in parts:
            if p and "(" in p:
                m = _DOSE_IN_TEXT_RE.search(" ".join(fold(h) for h in _PAREN_RE.findall(p)))
                if m:
                    dose = _DOSE_WORDS[m.group(1)]
    leaf = keys[-1]
    if dose:
        stripped = _DOSE_IN_TEXT_RE.sub(" ", leaf).strip()
        stripped = re.sub(r"\s+", " ", stripped)
        part = _match(stripped, cat.part_synonyms) or _match(leaf, cat.part_synonyms)
        if not part and not stripped:
            part = _part_from_hint(parts[-1])  # "Mũi 1 (ngày/tháng/năm)": the hint names the part
        if part:
            return f"dose{dose}_{part}"
        return None
    return _match(leaf, cat.synonyms) or (_match(keys[0], cat.synonyms) if len(keys) > 1 else None)


def _spans(sheet: Sheet, rows: tuple[int, ...], decode) -> Callable[[int, int], str]:
    """Header text of cell (r, c), spreading merged cells (and group labels) to the right.

    A merged cell's text is decoded with the font of the merge's top-left cell: the cells
    it covers often carry no style of their own.
    """
    merged = {}
    for r0, c0, r1, c1 in sheet.merged:
        for r in range(r0, r1 + 1):
            if r in rows:
                for c in range(c0, c1 + 1):
                    merged[(r, c)] = (r0, c0)

    def get(r: int, c: int) -> str:
        sr, sc = merged.get((r, c), (r, c))
        row = sheet.rows[sr] if sr < len(sheet.rows) else []
        t = decode(sr, sc, _text(row[sc] if sc < len(row) else None))
        # after decoding: TCVN3 text uses the bytes of NBSP and the soft hyphen for letters
        return strip_invisible(t) if not t.isascii() and INVISIBLE_RE.search(t) else t

    return get


def _header_parts(sheet: Sheet, rows: tuple[int, ...], cat: FieldCatalog, decode) -> list[list[str]]:
    width = max((len(sheet.rows[r]) for r in rows), default=0)
    get = _spans(sheet, rows, decode)
    cols: list[list[str]] = []
    for c in range(width):
        parts = []
        for r in rows:
            t = get(r, c)
            if t and (not parts or parts[-1] != t):
                parts.append(t)
        cols.append(parts)
    if len(rows) > 1 and not sheet.merged:
        # No merge information (CSV, some writers): a dose group label in the upper row
        # spans the columns to its right that are empty in that row.
        top = rows[0]
        group = None
        for c in range(width):
            t = get(top, c)
            if t:
                group = t if _dose_of(_leaf_key(t), cat) else None
            elif group and cols[c]:
                cols[c].insert(0, group)
    return cols


def _birth_by_sex(cols: list[list[str]], cat: FieldCatalog) -> dict[str, int]:
    """The old layout "Năm sinh" over "Nam | Nữ": the birth date sits under the person's sex."""
    found: dict[str, int] = {}
    for i, parts in enumerate(cols):
        if len(parts) >= 2 and fold(parts[-1]) in ("nam", "nu") and classify(parts[:-1], cat) == "dob":
            found.setdefault(fold(parts[-1]), i)
    return found if len(found) == 2 else {}


def _split_name(cols: list[list[str]]) -> dict[str, int]:
    """Names written in two columns: "Họ và tên đệm" | "Tên"."""
    family = given = None
    for i, parts in enumerate(cols):
        leaf = _leaf_key(parts[-1]) if parts else ""
        if family is None and leaf in _FAMILY_HEADERS:
            family = i
        elif family is not None and given is None and leaf in _GIVEN_HEADERS and i == family + 1:
            given = i
    return {"full_name": family, GIVEN_NAME: given} if family is not None and given is not None else {}


def _map(cols: list[list[str]], cat: FieldCatalog) -> tuple[dict[str, Column], dict[int, str]]:
    mapped: dict[str, Column] = {}
    extra: dict[int, str] = {}
    taken: set[int] = set()
    by_sex = _birth_by_sex(cols, cat)
    if by_sex:
        male, female = by_sex["nam"], by_sex["nu"]
        mapped["dob"] = Column("dob", male, tidy(" / ".join(cols[male])))
        mapped[DOB_FEMALE] = Column(DOB_FEMALE, female, tidy(" / ".join(cols[female])))
        taken |= {male, female}
    for key, i in _split_name(cols).items():
        mapped[key] = Column(key, i, tidy(" / ".join(cols[i])))
        taken.add(i)
    for i, parts in enumerate(cols):
        if not parts or i in taken:
            continue
        key = classify(parts, cat)
        header = tidy(" / ".join(parts))
        if key and key not in mapped:
            mapped[key] = Column(key, i, header)
        else:
            extra[i] = header
    # A Mẫu 2 written without "Mũi 1" over its single set of dose columns:
    # plain "Ngày tiêm", "Nơi tiêm"… are dose 1.
    if not any(k.startswith("dose") for k in mapped):
        for i, h in list(extra.items()):
            part = _match(_leaf_key(h), cat.part_synonyms)
            if part in DOSE_PARTS and part != "date" or (part == "date" and "tiem" in fold(h)):
                key = f"dose1_{part}"
                if key not in mapped:
                    mapped[key] = Column(key, i, h)
                    del extra[i]
    # The national platform's import template: code columns, vaccines outside the groups…
    return national.adapt(cols, mapped, extra, lambda k: _dose_of(k, cat))


def _score(mapped: dict[str, Column]) -> int:
    core = {"full_name", "id_number", "dob", "phone"}
    return len(mapped) + 2 * len(core & mapped.keys())


def _is_number_row(row: list[Any]) -> bool:
    vals = [v for v in row if v not in (None, "")]
    if len(vals) < 3:
        return False
    nums = 0
    for v in vals:
        if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() and 0 < v < 100:
            nums += 1
        elif isinstance(v, str) and _NUMBER_CELL_RE.match(v.strip()):
            nums += 1
    return nums >= 0.8 * len(vals)


def find_layout(sheet: Sheet, cat: FieldCatalog, decode=None) -> Layout | None:
    """The header, column map and form of a sheet, or None if it holds no form."""
    decode = decode or (lambda r, c, t: t)
    best: tuple[int, tuple[int, ...], dict, dict] | None = None
    limit = min(len(sheet.rows), SCAN_ROWS)
    for r in range(limit):
        row = sheet.rows[r]
        if sum(1 for v in row if isinstance(v, str) and v.strip()) < 2:
            continue
        for depth in (1, 2, 3):
            rows = tuple(range(r, min(r + depth, len(sheet.rows))))
            if len(rows) < depth:
                break
            mapped, extra = _map(_header_parts(sheet, rows, cat, decode), cat)
            if len(mapped) < MIN_FIELDS or not ({"full_name", "id_number"} & mapped.keys()):
                continue
            score = _score(mapped)
            if best is None or score > best[0]:
                best = (score, rows, mapped, extra)
        if best is not None and r > best[1][-1] + 3:
            break
    if best is None:
        return None
    _, rows, mapped, extra = best
    # Drop header rows that added nothing (a data row read as a second header row).
    while len(rows) > 1:
        fewer = rows[:-1]
        m2, e2 = _map(_header_parts(sheet, fewer, cat, decode), cat)
        if _score(m2) >= _score(mapped):
            rows, mapped, extra = fewer, m2, e2
        else:
            break
    start = rows[-1] + 1
    while start < len(sheet.rows) and (
        _is_number_row(sheet.rows[start]) or not any(v not in (None, "") for v in sheet.rows[start])
    ):
        if not any(v not in (None, "") for v in sheet.rows[start]):
            # skip blank rows between header and data only if data follows soon
            if start + 1 < len(sheet.rows) and _is_number_row(sheet.rows[start + 1]):
                start += 1
                continue
            break
        start += 1
    form = "mau2" if any(k.startswith("dose1_") or k.startswith("dose2_") for k in mapped) else "mau1"
    return Layout(sheet.name, rows, start, mapped, form, extra)


def is_signature_row(values: list[Any]) -> bool:
    """A row of the signature block or a total under the data."""
    texts = [fold(v) for v in values if isinstance(v, str) and v.strip()]
    if not texts:
        return False
    filled = sum(1 for v in values if v not in (None, ""))
    if filled > 4:
        return False
    return any(_SIGNATURE_RE.match(t) or _DATE_LINE_RE.search(t) for t in texts)
