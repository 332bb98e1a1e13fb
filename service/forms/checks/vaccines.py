"""Vaccine names → canonical names, from config/vaccines.toml (names, aliases, rules).

Matching folds case, diacritics, spaces and punctuation ("Vero Cell" = "VERO-CELL" =
"verocell"), drops a leading "vắc xin"/"vaccine", and as a last resort looks for one known
alias (of 4+ characters, or a whole word for shorter ones) inside the text, e.g.
"AstraZeneca (Covishield)". Two different vaccines found in one cell is unknown.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ...textnorm import fold
from .. import issues as I
from .common import Parsed, bad
from .config import vaccines

_PREFIX_RE = re.compile(r"^(?:vac\s*xin|vaccine|vacxin|vacin|vx)\s+")


def _key(text: str) -> str:
    return fold(text).replace(" ", "")


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for v in vaccines():
        for a in (v.name, *v.aliases):
            out[_key(a)] = v.name
    return out


@lru_cache(maxsize=1)
def names_list() -> str:
    return ", ".join(v.name for v in vaccines())


@lru_cache(maxsize=2048, typed=True)
def parse_vaccine(raw: Any) -> Parsed:
    name = canonical(raw) if isinstance(raw, str) else None
    if name is None:
        return bad(raw, I.VACCINE_UNKNOWN, names=names_list())
    return name, None, None


def canonical(text: str) -> str | None:
    aliases = _aliases()
    f = fold(text)
    hit = aliases.get(f.replace(" ", "")) or aliases.get(_PREFIX_RE.sub("", f).replace(" ", ""))
    if hit:
        return hit
    words = set(f.split())
    flat = f.replace(" ", "")
    found = {name for key, name in aliases.items()
             if (len(key) >= 4 and key in flat) or key in words}
    return found.pop() if len(found) == 1 else None
