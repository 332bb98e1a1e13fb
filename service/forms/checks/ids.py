"""Personal ID numbers: CCCD (12 digits), CMND (9 digits), passport (a letter + 7 digits).

CCCD = PPP G YY RRRRRR: PPP the province code of birth registration (the 63 codes below), G
century and sex (1900s: 0 male, 1 female; 2000s: 2 male, 3 female), YY the last two digits of
the birth year. ``cross_check`` compares G and YY with the row's gender and birth date.

Excel damage:
- a number cell that kept all its digits is turned back into text, with the leading zeros
  Excel dropped restored when the length says so (11 digits → "0" + CCCD, 10 digits → "00" +
  CCCD, 8 digits → "0" + CMND); every such repair is a Fix;
- scientific notation ("8.9123E+10" as text) or a number whose tail is zeros beyond what
  Excel showed (5+ trailing zeros on 10–11 digits, 2+ on longer) lost digits: that cannot be
  restored, the sender must format the column as Text and re-type;
- spaces, dots and dashes inside an ID are removed (a Fix).
"""
from __future__ import annotations

import re
from typing import Any

from .. import issues as I
from .common import Parsed, bad, whole_number

# Province codes of the CCCD (Circular 07/2016/TT-BCA, as GSO province codes).
PROVINCE_CODES = frozenset(f"{n:03d}" for n in (
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36,
    37, 38, 40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74,
    75, 77, 79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96,
))
_SCI_RE = re.compile(r"^\d+(?:[.,]\d*)?\s*[eE]\s*\+?\s*\d+$")
_SEP_RE = re.compile(r"[\s.\-_'’]+")
_PASSPORT_RE = re.compile(r"[A-Z]\d{7}")

MALE_DIGITS, FEMALE_DIGITS = "02", "13"


def parse_id(raw: Any, this_year: int) -> Parsed:
    if raw.__class__ is str and len(raw) == 12 and raw.isdigit():  # the common case
        return _cccd(raw, raw, None, this_year)
    n = whole_number(raw)
    if n is not None:
        return _from_number(raw, n, this_year)
    if not isinstance(raw, str):
        return bad(raw, I.ID_INVALID)
    if _SCI_RE.match(raw):
        return bad(raw, I.ID_LOST_DIGITS)
    t = _SEP_RE.sub("", raw).upper()
    fix = (t, "id-separators") if len(t) != len(raw) else None
    if t.isdigit():
        if len(t) == 12:
            return _cccd(raw, t, fix, this_year)
        if len(t) == 9:
            return t, None, fix
        if len(t) == 11 and t[0] != "0":
            if _lost_digits(t):
                return bad(raw, I.ID_LOST_DIGITS)
            return _cccd(raw, "0" + t, ("0" + t, "id-leading-zero"), this_year)
        return bad(raw, I.ID_INVALID)
    if _PASSPORT_RE.fullmatch(t):
        return t, None, fix
    return bad(raw, I.ID_INVALID)


def _from_number(raw: Any, n: int, this_year: int) -> Parsed:
    s = str(n)
    if n <= 0:
        return bad(raw, I.ID_INVALID)
    if _lost_digits(s):
        return bad(raw, I.ID_LOST_DIGITS)
    if len(s) in (10, 11):
        t = s.zfill(12)
        return _cccd(raw, t, (t, "id-leading-zero"), this_year)
    if len(s) == 12:
        return _cccd(raw, s, (s, "id-from-number"), this_year)
    if len(s) == 9:
        return s, None, (s, "id-from-number")
    if len(s) == 8:
        return "0" + s, None, ("0" + s, "id-leading-zero")
    return bad(raw, I.ID_INVALID)


def _lost_digits(s: str) -> bool:
    n = len(s)
    return (n > 11 and s.endswith("00")) or ((n == 10 or n == 11) and s.endswith("00000"))


def _cccd(raw: Any, t: str, fix: tuple | None, this_year: int) -> Parsed:
    if t[:3] not in PROVINCE_CODES:
        return bad(raw, I.ID_PROVINCE, ppp=t[:3])
    g = t[3]
    if g not in "0123":
        return bad(raw, I.ID_CENTURY, g=g)
    if (1900 if g < "2" else 2000) + int(t[4:6]) > this_year:
        return bad(raw, I.ID_INVALID)
    return t, None, fix


def birth_year(cccd: str) -> int:
    return (1900 if cccd[3] in "01" else 2000) + int(cccd[4:6])


def cross_check(cccd: str, gender: str | None, dob_year: int | None,
                gender_header: str, dob_header: str) -> list[tuple]:
    """Problems between a valid CCCD and the row's gender/birth year (each may be None)."""
    out = []
    g = cccd[3]
    if (gender == "Nam" and g in FEMALE_DIGITS) or (gender == "Nữ" and g in MALE_DIGITS):
        out.append((I.ID_GENDER_MISMATCH, {
            "id_gender": "nữ" if g in FEMALE_DIGITS else "nam", "g": g,
            "gender_header": gender_header, "gender": gender}))
    if dob_year is not None:
        y = birth_year(cccd)
        if y != dob_year:
            out.append((I.ID_YEAR_MISMATCH, {"id_year": y, "dob_header": dob_header,
                                              "dob_year": dob_year}))
    return out or NO_LIST


NO_LIST: list = []
