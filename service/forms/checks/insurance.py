"""Health-insurance (BHYT) card numbers: 2 letters + benefit digit 1–5 + 12 digits
(``^[A-Z]{2}[1-5]\\d{12}$``) after upper-casing and removing spaces; or a bare
10-digit social-insurance (BHXH) number. A number cell that lost the leading zero of a BHXH
number (9 digits) is restored, with a Fix."""
from __future__ import annotations

import re
from typing import Any

from .. import issues as I
from .common import Parsed, bad, whole_number

_CARD_RE = re.compile(r"[A-Z]{2}[1-5]\d{12}|\d{10}")
_SEP_RE = re.compile(r"\s+")


def parse_insurance(raw: Any) -> Parsed:
    if raw.__class__ is str and _CARD_RE.fullmatch(raw):  # the common case
        return raw, None, None
    n = whole_number(raw)
    if n is not None:
        s = str(n)
        if len(s) == 9:
            return "0" + s, None, ("0" + s, "insurance-leading-zero")
        if len(s) == 10:
            return s, None, (s, "insurance-from-number")
        return bad(raw, I.INSURANCE_INVALID)
    if not isinstance(raw, str):
        return bad(raw, I.INSURANCE_INVALID)
    s = _SEP_RE.sub("", raw).upper()
    if _CARD_RE.fullmatch(s):
        return s, None, None
    return bad(raw, I.INSURANCE_INVALID)
