"""Full names: letters (any script, with Vietnamese marks), spaces, apostrophes and hyphens.

Spacing and Unicode form are tidied (NFC, single spaces, modern tone placement); case is kept
as written (ALL CAPS is fine). Digits or other symbols are an error.
"""
from __future__ import annotations

import re
from typing import Any

from ...textnorm import tidy
from .. import issues as I
from .common import Parsed, bad

_GOOD_RE = re.compile(r"[^\W\d_]+(?:[ '’\-][^\W\d_]+)*")
_BAD_CHAR_RE = re.compile(r"[^\w '’\-]|_")


def parse_name(raw: Any) -> Parsed:
    if not isinstance(raw, str):
        return bad(raw, I.NAME_DIGITS) if isinstance(raw, (int, float)) else bad(raw, I.NAME_CHARS, chars="?")
    name = tidy(raw)
    if _GOOD_RE.fullmatch(name):
        return name, None, None
    if any(ch.isdigit() for ch in name):
        return bad(raw, I.NAME_DIGITS)
    chars = "".join(dict.fromkeys(_BAD_CHAR_RE.findall(name)))
    if not chars:  # doubled or dangling apostrophes/hyphens: tidy them away
        cleaned = re.sub(r"\s*([ '’\-])[\s'’\-]*", r"\1", name).strip(" '’-")
        if _GOOD_RE.fullmatch(cleaned):
            return cleaned, None, None
        chars = "'-"
    return bad(raw, I.NAME_CHARS, chars=", ".join(f'"{c}"' for c in chars))
