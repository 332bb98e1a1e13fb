"""Gender: Nam / Nữ / Khác, any case, with or without diacritics.

Also accepted silently: M/F, Male/Female, "Trai"/"Gái", and the codes 0/1. The codes follow
the header's own legend when it has one ("Giới tính (*) (0:nam, 1:nữ)" → 0 is Nam); without
a legend they follow the national platform's coding (SPEC): 0 = Nam, 1 = Nữ — the same as
the CCCD sex digit (0/2 male, 1/3 female). Anything else (including 2, which files use both
for Nữ and for Khác) is an error.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any, Callable

from ...textnorm import fold
from .. import issues as I
from .common import Parsed, bad, whole_number

MALE, FEMALE, OTHER = "Nam", "Nữ", "Khác"
_WORDS = {
    "nam": MALE, "m": MALE, "male": MALE, "trai": MALE,
    "nu": FEMALE, "f": FEMALE, "female": FEMALE, "gai": FEMALE,
    "khac": OTHER,
}
NATIONAL_CODES = {"0": MALE, "1": FEMALE}  # the platform's coding (SPEC): 0 = nam, 1 = nữ
# "0:nam", "0 = Nam", "0 - nam", "0 là nam", "nam: 0", "nam = 0" inside the header text
# (lower case, no diacritics, punctuation kept: a legend needs its separator)
_SEP = r"\s*(?:[:=\-–]|\bla\b)\s*"
_LEGEND_CODE_FIRST = re.compile(r"\b(\d)" + _SEP + r"(nam|nu|khac)\b")
_LEGEND_WORD_FIRST = re.compile(r"\b(nam|nu|khac)" + _SEP + r"(\d)\b")
_WORD_GENDER = {"nam": MALE, "nu": FEMALE, "khac": OTHER}


def legend_codes(header: str | None) -> dict[str, str]:
    """The header's own coding of the 0/1 digits ("(0:nam, 1:nữ)"), else the national one."""
    if header:
        text = _plain(header)
        found: dict[str, str] = {}
        for code, word in _LEGEND_CODE_FIRST.findall(text):
            found.setdefault(code, _WORD_GENDER[word])
        for word, code in _LEGEND_WORD_FIRST.findall(text):
            found.setdefault(code, _WORD_GENDER[word])
        if len(set(found.values())) >= 2:  # a legend names at least two genders
            return found
    return dict(NATIONAL_CODES)


def _plain(text: str) -> str:
    """Lower case without diacritics (đ → d), punctuation kept."""
    s = unicodedata.normalize("NFD", text.lower()).replace("đ", "d")
    return "".join(ch for ch in s if not unicodedata.combining(ch))


def parser_for(header: str | None) -> Callable[[Any], Parsed]:
    """A gender parser reading digits by the header's legend (national coding without one)."""
    codes = legend_codes(header)
    if codes == NATIONAL_CODES:
        return parse_gender
    table = {**_WORDS, **codes}

    @lru_cache(maxsize=256, typed=True)
    def parse(raw: Any) -> Parsed:
        return _parse(raw, table)

    return parse


def _parse(raw: Any, table: dict[str, str]) -> Parsed:
    if isinstance(raw, str):
        g = table.get(fold(raw))
    else:
        n = whole_number(raw)
        g = table.get(str(n)) if n is not None else None
    if g is None:
        return bad(raw, I.GENDER_INVALID)
    return g, None, None


_NATIONAL_TABLE = {**_WORDS, **NATIONAL_CODES}


@lru_cache(maxsize=1024, typed=True)
def parse_gender(raw: Any) -> Parsed:
    return _parse(raw, _NATIONAL_TABLE)
