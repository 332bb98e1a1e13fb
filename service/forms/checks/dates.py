"""Dates: day-first text, real dates, Excel serials and bare years; birth and dose bounds.

Reading (``read_date``):
- a date/datetime cell is taken as is;
- a whole number from 1900 to this year is a YEAR, not a serial; a larger number (or text of
  5 digits) is an Excel serial day (1900 date system);
- text is day-first with "/", "-" or "." separators and 1- or 2-digit day and month
  ("5/9/1980", "05-09-1980", "05.09.80"), optionally followed by a time; "1980-09-05" (year
  first) and "ngày 5 tháng 9 năm 1980" are read too, as are 8 digits "05091980";
- a 2-digit year is a repair (a Fix): for birth dates it is 20YY when that is not after this
  year, else 19YY; for dose dates 20YY;
- "09/25/1980" (a month above 12 in the day's place) is reported as month-first.
Bounds (inclusive): birth dates from 01/01/1900 to today; dose dates from 08/03/2021 (the
first vaccination in Viet Nam) to the day the file arrived.
"""
from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from ...textnorm import fold
from .. import issues as I
from ..issues import ddmmyyyy
from .common import NO_EXTRA, Parsed, bad, text_of

VACCINATION_START = date(2021, 3, 8)
BIRTH_MIN = date(1900, 1, 1)
YOUNGEST_AGE = 12  # no COVID-19 vaccine was given under 12 in 2021: a younger age is a typo
_EXCEL_EPOCH = date(1899, 12, 30)
_MAX_SERIAL = 2958465  # 31/12/9999
DOB_EXAMPLE = {"example": "05/09/1980"}
DOSE_EXAMPLE = {"example": "15/07/2021"}

_TIME_RE = re.compile(r"(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?$")
_DMY_RE = re.compile(r"^(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{4}|\d{2})$")
_YMD_RE = re.compile(r"^(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})$")
_WORDS_RE = re.compile(r"^(?:ngay\s*)?(\d{1,2})\s+thang\s*(\d{1,2})\s+nam\s*(\d{4}|\d{2})$")


# Outcome kinds of read_date: ("date", date, two_digit_year) | ("year", int, False) |
# ("invalid", None, False) | ("unreadable", None, False) | ("month-first", "dd/mm/yyyy", False)
def read_date(raw: Any, today: date, birth: bool) -> tuple[str, Any, bool]:
    if isinstance(raw, datetime):
        return "date", raw.date(), False
    if isinstance(raw, date):
        return "date", raw, False
    if isinstance(raw, time):  # a time of day, or what a reader makes of a negative serial
        return "time", None, False
    return _read_cached(raw, today.year, birth)


@lru_cache(maxsize=65536, typed=True)
def _read_cached(raw: Any, this_year: int, birth: bool) -> tuple[str, Any, bool]:
    if isinstance(raw, bool):
        return "unreadable", None, False
    if isinstance(raw, (int, float)):
        return _from_number(raw, this_year)
    if not isinstance(raw, str):
        return "unreadable", None, False
    s = _TIME_RE.sub("", raw.strip())
    if s.isdigit():
        if len(s) == 8:
            return _from_parts(int(s[:2]), int(s[2:4]), s[4:], this_year, birth)
        if len(s) in (4, 5):
            return _from_number(int(s), this_year)
        return "unreadable", None, False
    m = _DMY_RE.match(s)
    if m:
        return _from_parts(int(m[1]), int(m[2]), m[3], this_year, birth)
    m = _YMD_RE.match(s)
    if m:
        return _from_parts(int(m[3]), int(m[2]), m[1], this_year, birth)
    try:
        return _from_number(float(s.replace(",", ".")), this_year)
    except ValueError:
        pass
    m = _WORDS_RE.match(fold(s))
    if m:
        return _from_parts(int(m[1]), int(m[2]), m[3], this_year, birth)
    return "unreadable", None, False


def _from_number(n: float | int, this_year: int) -> tuple[str, Any, bool]:
    if isinstance(n, float) and not math.isfinite(n):
        return "unreadable", None, False
    if n == int(n) and 1900 <= n <= this_year:
        return "year", int(n), False
    if this_year < n <= _MAX_SERIAL:
        return "date", _EXCEL_EPOCH + timedelta(days=int(n)), False
    return "unreadable", None, False


def _from_parts(d: int, m: int, y: str, this_year: int, birth: bool) -> tuple[str, Any, bool]:
    year = int(y)
    two = len(y) == 2
    if two:
        if birth:
            year += 2000 if 2000 + year <= this_year else 1900
        else:
            year += 2000
    try:
        return "date", date(year, m, d), two
    except ValueError:
        pass
    if m > 12 and 1 <= d <= 12:
        try:
            date(year, d, m)
            return "month-first", f"{m:02d}/{d:02d}/{year}", False
        except ValueError:
            pass
    return "invalid", None, False


# ---------------------------------------------------------------- birth dates
@lru_cache(maxsize=65536, typed=True)
def _dob_cached(raw: Any, today: date) -> Parsed:
    return _dob(raw, today)


def parse_dob(raw: Any, today: date) -> Parsed:
    """Birth date → date, or int year (warning dob-year-only)."""
    return _dob_cached(raw, today)


def _dob(raw: Any, today: date) -> Parsed:
    kind, value, two = read_date(raw, today, birth=True)
    if kind == "year":
        return value, (I.DOB_YEAR_ONLY, NO_EXTRA), None
    if kind != "date":
        return _unread(raw, kind, value, DOB_EXAMPLE)
    if value > today:
        return bad(raw, I.DATE_FUTURE, today=ddmmyyyy(today))
    if value < BIRTH_MIN:
        return bad(raw, I.DATE_TOO_EARLY)
    fix = (ddmmyyyy(value), "date-two-digit-year") if two else None
    if _age(value, today) < YOUNGEST_AGE:
        return value, (I.DOB_TOO_YOUNG, NO_EXTRA), fix
    return value, None, fix


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# ---------------------------------------------------------------- dose dates
@lru_cache(maxsize=8192, typed=True)
def _dose_cached(raw: Any, today: date) -> Parsed:
    return _dose(raw, today)


def parse_dose_date(raw: Any, today: date) -> Parsed:
    """Dose date → date between 08/03/2021 and today (inclusive)."""
    return _dose_cached(raw, today)


def _dose(raw: Any, today: date) -> Parsed:
    kind, value, two = read_date(raw, today, birth=False)
    if kind == "year":
        return bad(raw, I.DOSE_DATE_YEAR_ONLY)
    if kind != "date":
        return _unread(raw, kind, value, DOSE_EXAMPLE)
    if value < VACCINATION_START:
        return bad(raw, I.DOSE_DATE_BEFORE_START)
    if value > today:
        return bad(raw, I.DOSE_DATE_FUTURE, today=ddmmyyyy(today))
    fix = (ddmmyyyy(value), "date-two-digit-year") if two else None
    return value, None, fix


def _unread(raw: Any, kind: str, value: Any, example: dict) -> Parsed:
    if kind == "month-first":
        return bad(raw, I.DATE_MONTH_FIRST, suggestion=value)
    if kind == "invalid":
        return text_of(raw), (I.DATE_INVALID, example), None
    if kind == "time":
        return text_of(raw), (I.DATE_TIME_ONLY, example), None
    return text_of(raw), (I.DATE_UNREADABLE, example), None
