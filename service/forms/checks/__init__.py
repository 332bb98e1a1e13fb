"""Checks and repairs of the form rows: one ``Record`` per row, ``Issue``s and ``Fix``es.

``check_rows`` runs, for every row, one small parser per cell (a module per concern: dates,
names, gender, ids, phones, insurance, priority, places, vaccines, facilities) and then the
checks across cells (CCCD against gender and birth year, duplicate IDs, ward in district,
the dose rules). Parsers return issue *types* from the catalog (``service.forms.issues``);
messages are built only for bad cells. Parsers of repeating values are cached.

Values in ``Record.values`` (a key for every mapped column; None when blank):
dates as ``date`` (a bare birth year as int), IDs and phones as digit strings, names tidied,
gender "Nam"/"Nữ"/"Khác", priority group int 1–16, province/district/ward as the directory's
names plus "district_code"/"ward_code", vaccines as canonical names, facilities as the
directory's names plus "dose1_facility_key"/"dose2_facility_key"; a wrong cell keeps its text.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Callable, Iterable

from ...directory import Directory
from .. import issues as I
from ..issues import IssueType
from ..model import Column, Fix, Record, Report, column_letter
from . import dates, doses, facilities, ids, places
from .config import required_fields
from .gender import parser_for as gender_parser_for
from .insurance import parse_insurance
from .names import parse_name
from .phones import parse_phone
from .priority import parse_priority
from .vaccines import parse_vaccine

__all__ = ["CheckContext", "check_rows"]


@dataclass
class CheckContext:
    directory: Directory
    form: str  # "mau1" | "mau2"
    today: date  # upper bound for dose dates and birth dates (the day the file arrived)
    columns: dict[str, Column]  # field → column (index, header as written, letter)
    report: Report
    # The national template's layout (SPEC): what is required depends on the row (a row with
    # dose data is a Mẫu 2 row), and ``row_hook(row, raw, values)`` adds its own checks
    # (GSO codes against names, the optional ID number, duplicates without an ID).
    row_required: Callable[[dict], frozenset] | None = None
    row_hook: Callable[[Any, dict, dict], None] | None = None
    id_parser: Callable[[Any], tuple] | None = None
    # a file with people on several sheets: this sheet's ID numbers (value → row) and those
    # of the sheets checked before it (value → (sheet, row)), for duplicates across sheets
    seen_ids: dict[str, int] | None = None
    prior_ids: dict[str, tuple[str, int]] | None = None


# Fields handled after the per-cell pass, because they need other cells of the row.
_FACILITY_FIELDS = ("dose1_facility", "dose2_facility")
# Parsers of values that repeat a lot: values that parse clean (no issue, no fix) are memoised
# per call in a plain dict keyed by the cell value (1 and 1.0 share a key, which is harmless:
# they read the same; booleans bypass the memo). Bad values are rare and re-parsed (cached).
_REPEATING = frozenset({"full_name", "dob", "gender", "priority_group", "province", "dose1_date",
                        "dose2_date", "dose1_vaccine", "dose2_vaccine"})


def _parsers(ctx: CheckContext) -> dict[str, Callable[[Any], tuple]]:
    today, year, directory = ctx.today, ctx.today.year, ctx.directory
    gender_col = ctx.columns.get("gender")
    return {
        "full_name": parse_name,
        "dob": lambda v: dates.parse_dob(v, today),
        # 0/1 codes by the header's own legend ("(0:nam, 1:nữ)"), else the national coding
        "gender": gender_parser_for(gender_col.header if gender_col else None),
        "priority_group": parse_priority,
        "phone": parse_phone,
        "id_number": ctx.id_parser or (lambda v: ids.parse_id(v, year)),
        "insurance_number": parse_insurance,
        "province": lambda v: places.parse_province(v, directory),
        "dose1_date": lambda v: dates.parse_dose_date(v, today),
        "dose2_date": lambda v: dates.parse_dose_date(v, today),
        "dose1_vaccine": parse_vaccine,
        "dose2_vaccine": parse_vaccine,
    }


class _Row:
    """Issue and fix sink for one row; remembers which fields have errors."""
    __slots__ = ("n", "ctx", "bad")

    def __init__(self, n: int, ctx: CheckContext):
        self.n, self.ctx, self.bad = n, ctx, None

    def emit(self, itype: IssueType, extra: dict, field: str, raw: Any) -> None:
        col = self.ctx.columns.get(field)
        issue = itype.issue(self.n, col, field, raw, **extra)
        if itype.severity == "error":
            self.ctx.report.errors.append(issue)
            if self.bad is None:
                self.bad = set()
            self.bad.add(field)
        else:
            self.ctx.report.warnings.append(issue)

    def fix(self, field: str, raw: Any, to: Any, code: str) -> None:
        self.ctx.report.fixes.append(Fix(self.n, field, _letter(self.ctx.columns.get(field)),
                                         raw, to, code))


_EMPTY: frozenset = frozenset()
_column_letter = lru_cache(maxsize=256)(column_letter)


def _letter(col: Column | None) -> str | None:
    return None if col is None else _column_letter(col.index)


def check_rows(rows: Iterable[tuple[int, dict[str, Any]]], ctx: CheckContext) -> None:
    """Check and repair every row; append Records, Issues and Fixes to ``ctx.report``."""
    columns = ctx.columns
    required = required_fields(ctx.form)
    parsers = _parsers(ctx)
    # (field, parser, memo of clean values or None, required?)
    plan = [(f, parsers[f], {} if f in _REPEATING else None, f in required)
            for f in columns if f in parsers]
    row_required, row_hook = ctx.row_required, ctx.row_hook
    free = [f for f in _DIGIT_TEXT if f in columns]
    text_fields = [f for f in _TEXT_FIELDS if f in columns]
    has_places = "district" in columns or "ward" in columns
    facility_fields = [f for f in _FACILITY_FIELDS if f in columns]
    has_id = "id_number" in columns
    headers = {f: c.header for f, c in columns.items()}
    place = places.place_checker(ctx.directory)
    find_facility = facilities.finder(ctx.directory)
    seen_ids: dict[str, int] = ctx.seen_ids if ctx.seen_ids is not None else {}
    prior = ctx.prior_ids or None
    records = ctx.report.records
    Row = _Row
    blank = dict.fromkeys(columns)  # every mapped column gets a key, None when blank
    dose2_keys = [f for f in doses.DOSE2_FIELDS if f in columns]
    for n, raw in rows:
        values = {**blank, **raw}  # free text is kept as written; parsed fields are replaced
        row = None
        if row_required is not None:
            required = row_required(raw)
        for field in free:
            v = values[field]
            if v.__class__ is not str and v is not None:
                values[field] = _free(v)
        for field, parse, clean, must in plan:
            v = values[field]
            if v is None or v == "":
                values[field] = None
                if must if row_required is None else field in required:
                    if row is None:
                        row = Row(n, ctx)
                    row.emit(I.REQUIRED_MISSING, _NO, field, None)
                continue
            if clean is not None and v.__class__ is not bool:
                value = clean.get(v, _MISS)  # a value seen before that needed nothing
                if value is not _MISS:
                    values[field] = value
                    continue
                value, problem, fix = parse(v)
                if problem is None and fix is None:
                    clean[v] = value
            else:
                value, problem, fix = parse(v)
            values[field] = value
            if problem is not None or fix is not None:
                if row is None:
                    row = Row(n, ctx)
                if problem is not None:
                    row.emit(problem[0], problem[1], field, v)
                if fix is not None:
                    row.fix(field, v, fix[0], fix[1])
        for field in text_fields:  # formula-like free text: receivers export to CSV and Excel
            v = raw.get(field)
            if v.__class__ is str and v and v.lstrip(" ")[:1] in _FORMULA_START:
                char = _formula_start(v)
                if char is not None and (row is None or row.bad is None or field not in row.bad):
                    if row is None:
                        row = Row(n, ctx)
                    row.emit(I.TEXT_FORMULA, {"char": char}, field, v)
        if has_places or has_id or facility_fields or dose2_keys:
            if row is None:
                row = Row(n, ctx)
            if has_places:
                _check_places(row, raw, values, required, place)
            if has_id:
                _check_id(row, raw, values, headers, seen_ids, prior)
            for field in facility_fields:
                _check_facility(row, field, raw.get(field), values, required, find_facility)
            for f in dose2_keys:  # the dose rules apply once any dose-2 cell is filled
                if values[f] is not None:
                    for field, (itype, extra) in doses.cross_check(values, row.bad or _EMPTY,
                                                                   headers):
                        row.emit(itype, extra, field, raw.get(field))
                    break
        if row_hook is not None:
            if row is None:
                row = Row(n, ctx)
            row_hook(row, raw, values)
        records.append(Record(n, values, row is None or row.bad is None))


_NO: dict = {}
_MISS = object()
# Free-text fields whose cells are often numbers (calamine gives floats): kept as digit text.
# Other free text (address, occupation, note, stt …) is kept exactly as the reader gave it.
_DIGIT_TEXT = ("dose1_lot", "dose2_lot")


# Text fields where a cell starting with = + - @ tab or CR is refused (a spreadsheet would read a
# formula: "=HYPERLINK(…)", "=cmd|' /C calc'!A0"). Only text: phones ("+84…"), IDs, dates and
# numbers have their own parsers and never come here.
_TEXT_FIELDS = ("full_name", "address", "workplace", "occupation", "note", "ethnicity",
                "nationality", "dose1_lot", "dose2_lot")
_FORMULA_START = frozenset("=+-@\t\r")
_CHAR_WORDS = {"=": 'dấu "="', "+": 'dấu "+"', "-": 'dấu "-"', "@": 'ký tự "@"',
               "\t": "dấu tab", "\r": "ký tự xuống dòng"}


def _formula_start(v: str) -> str | None:
    """The Vietnamese name of the formula-like first character, or None for a bare dash."""
    text = v.lstrip(" ")
    if not text.strip(" -+\t\r"):
        return None  # "-", "--", "+": a placeholder for nothing, not a formula
    return _CHAR_WORDS.get(text[0])


def _free(v: Any) -> Any:
    """Free text (address, occupation, lot …) given as a number: whole numbers as digits."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return v


def _check_places(row: _Row, raw: dict, values: dict, required: frozenset, place) -> None:
    d_raw, w_raw = raw.get("district"), raw.get("ward")
    if d_raw == "":
        d_raw = None
    if w_raw == "":
        w_raw = None
    cols = row.ctx.columns
    if d_raw is None and "district" in required and "district" in cols:
        row.emit(I.REQUIRED_MISSING, _NO, "district", None)
    if w_raw is None and "ward" in required and "ward" in cols:
        row.emit(I.REQUIRED_MISSING, _NO, "ward", None)
    province = values.get("province")
    if province is not None and province != row.ctx.directory.province_name:
        # another province: keep district and ward as written
        values["district"] = places.tidy_place(d_raw) if d_raw is not None else None
        values["ward"] = places.tidy_place(w_raw) if w_raw is not None else None
        values["district_code"] = values["ward_code"] = None
        return
    d_val, d_code, d_prob, w_val, w_code, w_prob = place(d_raw, w_raw)
    values["district"], values["district_code"] = d_val, d_code
    values["ward"], values["ward_code"] = w_val, w_code
    if d_prob is not None:
        row.emit(d_prob[0], d_prob[1], "district", d_raw)
    if w_prob is not None:
        extra = w_prob[1]
        if w_prob[0] is I.WARD_NOT_IN_DISTRICT:
            col = cols.get("district")
            extra = {**extra, "district_header": col.header if col else "Quận/Huyện"}
        row.emit(w_prob[0], extra, "ward", w_raw)


def _check_id(row: _Row, raw: dict, values: dict, headers: dict, seen: dict[str, int],
              prior: dict[str, tuple[str, int]] | None = None) -> None:
    value = values.get("id_number")
    bad = row.bad or _EMPTY
    if value is None or "id_number" in bad:
        return
    first = seen.get(value)
    if first is None:
        seen[value] = row.n
        if prior is not None and value in prior:  # on a sheet checked before this one
            sheet, first_row = prior[value]
            row.emit(I.ID_DUPLICATE_SHEET, {"first_row": first_row, "first_sheet": sheet},
                     "id_number", raw.get("id_number"))
    else:
        row.emit(I.ID_DUPLICATE, {"first_row": first}, "id_number", raw.get("id_number"))
    if len(value) != 12 or not value.isdigit():
        return
    gender = values.get("gender") if "gender" not in bad else None
    dob = values.get("dob") if "dob" not in bad else None
    dob_year = dob.year if isinstance(dob, date) else dob if isinstance(dob, int) else None
    g = value[3]
    if not ((gender == "Nam" and g in "13") or (gender == "Nữ" and g in "02")
            or (dob_year is not None and dob_year != (1900 if g < "2" else 2000) + int(value[4:6]))):
        return  # the common case: all agree
    found = ids.cross_check(value, gender, dob_year, headers.get("gender", "Giới tính"),
                            headers.get("dob", "Ngày sinh"))
    for itype, extra in found:
        if itype is I.ID_GENDER_MISMATCH:
            extra = {**extra, "gender": I.show(raw.get("gender"))}
        row.emit(itype, extra, "id_number", raw.get("id_number"))


def _check_facility(row: _Row, field: str, v: Any, values: dict, required: frozenset,
                    find) -> None:
    key_field = field + "_key"
    if v is None or v == "":
        values[field] = values[key_field] = None
        if field in required:
            row.emit(I.REQUIRED_MISSING, _NO, field, None)
        return
    found = find(v, values.get("district_code"))
    if found is not None:
        values[field], values[key_field] = found.name, found.key
        return
    values[field], values[key_field] = places.tidy_place(v), None
    routed = field == "dose1_facility" and row.ctx.form == "mau2"
    row.emit(I.FACILITY_UNKNOWN if routed else I.FACILITY_UNKNOWN_WARNING, _NO, field, v)
