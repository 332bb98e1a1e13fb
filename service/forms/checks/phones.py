"""Vietnamese mobile phone numbers.

Order: letters are an error first (``phonenumbers`` would read them as keypad digits); then
unambiguous repairs, each recorded as one Fix per cell (the main repair names the code):
- spaces, dots, dashes, parentheses, a leading apostrophe  → "phone-separators"
- +84 / 84 / 0084 country code                              → "phone-country-code"
- a lost leading zero (9 digits, or 10 digits of an old 11-digit number) → "phone-leading-zero"
- the 2018 conversion of 11-digit numbers (0162 → 032 …)     → "phone-2018-conversion"
- a number cell (calamine gives floats) turned back to text  → "phone-from-number"
Then the number must be a mobile number that the ``phonenumbers`` metadata for VN accepts
(10 digits; e.g. 089 only as 0896–0899); a valid landline is "phone-not-mobile".

For speed the check matches the national number against the library's own VN mobile and
fixed-line patterns (``PhoneMetadata``), which is what ``is_valid_number``/``number_type``
do for a VN number, at 1/50 of the cost; tests compare both on many numbers.
"""
from __future__ import annotations

import re
from typing import Any

from phonenumbers import PhoneMetadata

from .. import issues as I
from .common import Parsed, bad, whole_number

# 2018 conversion of 11-digit mobile prefixes (Ministry of Information and Communications).
CONVERSION_2018 = {
    "0162": "032", "0163": "033", "0164": "034", "0165": "035", "0166": "036", "0167": "037",
    "0168": "038", "0169": "039", "0120": "070", "0121": "079", "0122": "077", "0126": "076",
    "0128": "078", "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",
    "0186": "056", "0188": "058", "0199": "059",
}

_META = PhoneMetadata.metadata_for_region("VN")
_MOBILE_RE = re.compile(_META.mobile.national_number_pattern)
_FIXED_RE = re.compile(_META.fixed_line.national_number_pattern)
_GENERAL_RE = re.compile(_META.general_desc.national_number_pattern)
_SEP_RE = re.compile(r"[\s.\-()/'’_]+")
_SPLIT_RE = re.compile(r"\s*(?:[;,/|&]|\s-\s|\s+hoặc\s+|\s+hoac\s+|\s+và\s+|\s{2,})\s*", re.I)
_LETTER_RE = re.compile(r"[^\W\d_]")



def parse_phone(raw: Any) -> Parsed:
    if raw.__class__ is str and len(raw) == 10 and raw[0] == "0" and raw.isdigit() \
            and _MOBILE_RE.fullmatch(raw, 1):  # the common case
        return raw, None, None
    n = whole_number(raw)
    if n is not None:
        return _digits(raw, str(n), "phone-from-number")
    if not isinstance(raw, str):
        return bad(raw, I.PHONE_INVALID)
    parts = [p for p in _SPLIT_RE.split(raw) if p] if len(raw) >= 19 else ()  # two numbers?
    if len(parts) > 1 and all(sum(ch.isdigit() for ch in p) >= 9 for p in parts):
        first = parse_phone(parts[0])
        if first[1] is None:
            return first[0], (I.PHONE_MULTIPLE, {"phone": first[0]}), first[2]
        return bad(raw, I.PHONE_INVALID)
    if _LETTER_RE.search(raw):
        return bad(raw, I.PHONE_LETTERS)
    s = raw
    plus = s.startswith("+")
    if plus:
        s = s[1:]
    d = _SEP_RE.sub("", s)
    if d.isdigit():
        if plus and not d.startswith("84"):
            return bad(raw, I.PHONE_INVALID)
        return _digits(raw, d, "phone-separators" if d != raw else None)
    return bad(raw, I.PHONE_INVALID)


def _digits(raw: Any, d: str, code: str | None) -> Parsed:
    if d.startswith("0084"):
        d, code = "0" + d[4:], "phone-country-code"
    elif d.startswith("84") and len(d) in (11, 12):
        d, code = "0" + d[2:], "phone-country-code"
    if d.startswith("00"):
        d = d[1:]
    if d[:1] != "0" and len(d) in (9, 10):
        d = "0" + d
        code = "phone-leading-zero"
    if len(d) == 11:
        new = CONVERSION_2018.get(d[:4])
        if new is None:
            return _not_mobile(raw, d)
        d = new + d[4:]
        code = "phone-2018-conversion"  # the most telling repair names the fix
    if len(d) != 10 or d[0] != "0":
        return bad(raw, I.PHONE_INVALID)
    national = d[1:]
    if _MOBILE_RE.fullmatch(national):
        return d, None, ((d, code) if code else None)
    return _not_mobile(raw, d)


def _not_mobile(raw: Any, d: str) -> Parsed:
    national = d[1:]
    if d[0] == "0" and _FIXED_RE.fullmatch(national) and _GENERAL_RE.fullmatch(national):
        return bad(raw, I.PHONE_NOT_MOBILE)
    return bad(raw, I.PHONE_INVALID)
