"""Checks of the national template's layout (SPEC), run per row after the common ones.

- the GSO code columns (province, district, ward) against the directory: an unknown code is
  an error on the code cell; a code and a name that name different places is an error that
  names both cells;
- the ID number is optional there: a missing one is a warning, and 8-digit numbers ("Loại
  8/9/12 số") are accepted as written;
- without an ID number the same person is found by name + birth date + phone: a second row
  of that person in the file is an error naming the first row.
"""
from __future__ import annotations

from typing import Any, Callable

from ...directory import Directory
from .. import issues as I
from ..national import (CODE_KEYS, DISTRICT_CODE, PLATFORM_WANTS, PROVINCE_CODE, WARD_CODE,
                        person_key, row_form)
from . import ids
from .common import Parsed, whole_number

_KINDS = {PROVINCE_CODE: ("tỉnh, thành phố", "89"), DISTRICT_CODE: ("huyện, thị xã, thành phố", "883"),
          WARD_CODE: ("xã, phường, thị trấn", "30280")}
_NAME_OF = {PROVINCE_CODE: "province", DISTRICT_CODE: "district", WARD_CODE: "ward"}


def id_parser(this_year: int) -> Callable[[Any], Parsed]:
    def parse(raw: Any) -> Parsed:
        if isinstance(raw, str):
            t = raw.strip()
            if len(t) == 8 and t.isdigit():
                return t, None, None
        return ids.parse_id(raw, this_year)
    return parse


def _code(raw: Any) -> int | None:
    n = whole_number(raw)
    if n is None and isinstance(raw, str) and raw.strip().isdigit():
        n = int(raw.strip())
    return n


def row_hook(directory: Directory, columns: dict, seen: dict | None = None,
             prior: dict | None = None) -> Callable[[Any, dict, dict], None]:
    """``hook(row, raw, values)`` for ``CheckContext.row_hook``. ``seen``/``prior``: the
    ID-less people of this sheet (key → row) and of earlier sheets of the file (key → (sheet,
    row)), when the file holds its people on several sheets."""
    seen = {} if seen is None else seen
    prior = prior or None
    has_codes = [k for k in CODE_KEYS if k in columns]
    has_id = "id_number" in columns
    wards_by_code = {w.code: w for d in directory.districts for w in d.wards}

    def hook(row, raw: dict, values: dict) -> None:
        values.pop("_from_code", None)
        bad = row.bad or set()
        for f in PLATFORM_WANTS.get(row_form(values), ()):
            if f in columns and values.get(f) is None:
                row.emit(I.PLATFORM_REQUIRED_MISSING, {}, f, None)
        if has_id and values.get("id_number") is None:
            row.emit(I.ID_MISSING_OPTIONAL, {}, "id_number", None)
            key = person_key(values) if not bad & {"full_name", "dob", "phone"} else None
            if key is not None:
                first = seen.get(key)
                if first is None:
                    seen[key] = row.n
                    if prior is not None and key in prior:
                        sheet, first_row = prior[key]
                        row.emit(I.PERSON_DUPLICATE_SHEET, {"first_row": first_row, "first_sheet": sheet},
                                 "full_name", raw.get("full_name"))
                else:
                    row.emit(I.PERSON_DUPLICATE, {"first_row": first}, "full_name", raw.get("full_name"))
        if not has_codes:
            return
        filled = raw.get("_from_code", ())
        home = values.get("province") in (None, directory.province_name)
        for key in has_codes:
            v = raw.get(key)
            if v is None or v == "":
                continue
            code = _code(v)
            name_field = _NAME_OF[key]
            if name_field in filled or name_field in bad:
                check_name = False  # the name came from this code, or is reported already
            else:
                check_name = True
            if key == PROVINCE_CODE:
                got = values.get("province")
                if not check_name or got is None:
                    continue
                if code == directory.province_code and got != directory.province_name:
                    _mismatch(row, key, v, raw, name_field, directory.province_name)
                elif code != directory.province_code and got == directory.province_name:
                    _mismatch(row, key, v, raw, name_field, "mã của một tỉnh khác")
                continue
            if not home:
                continue  # another province: its codes are not in this directory
            if key == DISTRICT_CODE:
                d = directory.district(code) if code is not None else None
                place, place_code = (d.name, d.code) if d else (None, None)
                got = values.get("district_code")
            else:
                w = wards_by_code.get(code) if code is not None else None
                place = f"{w.name} ({directory.district(w.district_code).name})" if w else None
                place_code = w.code if w else None
                got = values.get("ward_code")
            if place is None:
                kind, example = _KINDS[key]
                _emit_code(row, I.PLACE_CODE_UNKNOWN, {"kind": kind, "example": example}, key, v)
            elif check_name and got is not None and got != place_code:
                _mismatch(row, key, v, raw, name_field, place)

    return hook


def _emit_code(row, itype, extra: dict, key: str, v: Any) -> None:
    """An issue at a code cell: its column is the code's, its ``field`` the place's SPEC key
    (province, district, ward), as the JSON contract knows no other keys."""
    row.emit(itype, extra, key, v)
    sink = row.ctx.report.errors if itype.severity == "error" else row.ctx.report.warnings
    sink[-1].field = _NAME_OF[key]


def _mismatch(row, key: str, v: Any, raw: dict, name_field: str, place: str) -> None:
    col = row.ctx.columns.get(name_field)
    _emit_code(row, I.PLACE_CODE_MISMATCH, {
        "code_name": place,
        "name_cell": f"{col.letter}{row.n}" if col else "",
        "name_header": col.header if col else name_field,
        "name_value": I.show(raw.get(name_field))}, key, v)


def _code_text(v: Any) -> str:
    n = whole_number(v)
    return str(n) if n is not None else str(v)
