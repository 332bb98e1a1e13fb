"""Priority groups 1–16 of QĐ 3355/QĐ-BYT (08/07/2021): "4", 4.0, "Nhóm 4", "N4", "nhóm 04",
"4. Người làm việc …" (a leading number followed by the group's description)."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ...textnorm import fold
from .. import issues as I
from .common import Parsed, bad, whole_number

GROUPS = range(1, 17)
_RE = re.compile(r"^(?:nhom|n|doi tuong|dt)?\s*(\d{1,2})(?:\s|$)")


@lru_cache(maxsize=1024, typed=True)
def parse_priority(raw: Any) -> Parsed:
    n = whole_number(raw)
    if n is None and isinstance(raw, str):
        m = _RE.match(fold(raw))
        n = int(m[1]) if m else None
    if n is None or n not in GROUPS:
        return bad(raw, I.PRIORITY_INVALID)
    return n, None, None
