"""Vaccination facilities ("Nơi tiêm") against the directory.

``Directory.find_facility`` matches names and abbreviations (TTYT, TYT, BVĐK …); on a miss
this module also tries the text without a trailing ", <district>" part (using that district
to settle clashes) and without the one-letter kind words "P." / "X." ("TYT P. Mỹ Bình").
The row's district settles a clash between facilities of the same name.
"""
from __future__ import annotations

import re
from typing import Any

from ...directory import Directory, District, Facility
from ...textnorm import fold
from .places import _MEMO_MAX, _memo, _text

_TAIL_RE = re.compile(r"\s*(?:,|;|\s-\s|\()\s*")
_ONE_LETTER_KIND_RE = re.compile(r"\b(?:p|x|tt|h|tp|tx)\b")


def finder(directory: Directory):
    """``find(raw, district_code) -> Facility | None``, memoised for the directory."""
    memo = _memo(directory, "checks.facilities")

    def find(raw: Any, district_code: int | None) -> Facility | None:
        key = (raw, district_code)
        try:
            return memo[key]
        except KeyError:
            pass
        if len(memo) > _MEMO_MAX:
            memo.clear()
        hit = memo[key] = _find(_text(raw), directory, directory.district(district_code))
        return hit

    return find


def find(raw: Any, directory: Directory, district: District | None) -> Facility | None:
    return finder(directory)(raw, district.code if district else None)


def _find(text: str, directory: Directory, district: District | None) -> Facility | None:
    f = directory.find_facility(text, district)
    if f is not None:
        return f
    parts = [p for p in _TAIL_RE.split(text.rstrip(")")) if p]
    if len(parts) > 1:
        tail_district = directory.find_district(parts[-1])
        head = " ".join(parts[:-1]) if tail_district else parts[0]
        f = directory.find_facility(head, tail_district or district)
        if f is not None:
            return f
        text = head
    folded = _ONE_LETTER_KIND_RE.sub(" ", fold(text))
    return directory.find_facility(folded, district)
