"""Gender: Nam / Nữ / Khác, any case, with or without diacritics.

Also accepted silently: 1 = Nam, 0 = Nữ (the coding seen in files), M/F, Male/Female, "Trai"/"Gái".
Anything else (including 2, which files use both for Nữ and for Khác) is an error.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from ...textnorm import fold
from .. import issues as I
from .common import Parsed, bad, whole_number

MALE, FEMALE, OTHER = "Nam", "Nữ", "Khác"
_WORDS = {
    "nam": MALE, "m": MALE, "male": MALE, "trai": MALE, "1": MALE,
    "nu": FEMALE, "f": FEMALE, "female": FEMALE, "gai": FEMALE, "0": FEMALE,
    "khac": OTHER,
}


@lru_cache(maxsize=1024, typed=True)
def parse_gender(raw: Any) -> Parsed:
    if isinstance(raw, str):
        g = _WORDS.get(fold(raw))
    else:
        n = whole_number(raw)
        g = _WORDS.get(str(n)) if n is not None else None
    if g is None:
        return bad(raw, I.GENDER_INVALID)
    return g, None, None
