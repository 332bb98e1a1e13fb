"""What every cell parser returns, and small helpers they share.

A parser turns one raw cell value into ``Parsed = (value, problem, fix)``:
- ``value``: the canonical repaired value (or the cell's text when it is wrong);
- ``problem``: None, or ``(IssueType, extras)`` — the catalog entry and the named values its
  message needs (the message itself is built only for bad cells, by ``IssueType.issue``);
- ``fix``: None, or ``(to, code)`` — an unambiguous repair that was applied.
Parsers are pure, so the ones fed repeating values are cached with ``functools.lru_cache``.
"""
from __future__ import annotations

from typing import Any

from ..issues import IssueType, show

Problem = tuple[IssueType, dict]
Parsed = tuple[Any, "Problem | None", "tuple[Any, str] | None"]

NO_EXTRA: dict = {}


def ok(value: Any, fix: tuple[Any, str] | None = None) -> Parsed:
    return value, None, fix


def bad(raw: Any, itype: IssueType, **extra: Any) -> Parsed:
    """A wrong cell: keep its text as the value, report the issue type."""
    return text_of(raw), (itype, extra or NO_EXTRA), None


def text_of(raw: Any) -> Any:
    """The cell as text for the record when it could not be parsed (whole floats as ints)."""
    if isinstance(raw, str):
        return raw
    return show(raw)


def whole_number(raw: Any) -> int | None:
    """An int or a whole float as int (not bool); else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    return None
