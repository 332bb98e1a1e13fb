"""Readers: any file a unit sends → a ``Workbook`` of ``Sheet`` grids, or ``Unreadable``.

The real type is sniffed from the bytes (``guard.sniff``), never from the extension, and
hostile files are refused before any parser sees them. Every failure is an ``Unreadable``
with a stable ``code`` and one Vietnamese sentence telling the sender what to do.
"""
from __future__ import annotations

import logging

from ..model import Unreadable, Workbook
from . import csv, guard, html, xls, xlsx
from .guard import MESSAGES, unreadable

__all__ = ["read_workbook", "Unreadable", "MESSAGES"]

log = logging.getLogger("vaxmail.forms.read")

MAX_ROWS = 200_000
MAX_BYTES = 50_000_000


def read_workbook(path: str, *, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES) -> Workbook:
    """Read ``path`` whatever its extension says. Raises ``Unreadable`` (never anything else
    for a bad file): codes "empty-file", "too-large", "corrupt-file", "zip-bomb",
    "xml-entities", "encrypted", "too-many-rows", "too-many-columns", "unsupported-type"."""
    path = str(path)
    try:
        kind = guard.sniff(path, max_bytes)
        if kind in ("xlsx", "xlsm", "xlsb", "ods"):
            return xlsx.read(path, kind, max_rows)
        if kind == "xls":
            return xls.read(path, max_rows)
        if kind == "html":
            return html.read(path, max_rows)
        if kind == "mhtml":
            return html.read(path, max_rows, mhtml=True)
        return csv.read(path, max_rows)
    except Unreadable:
        raise
    except MemoryError:
        raise unreadable("too-large", limit=max(1, max_bytes // 1_000_000)) from None
    except Exception as exc:  # no reader exception escapes: struct.error in xlrd, anything
        log.warning("reader failed on a damaged file: %s", _class_name(exc))  # never the text
        raise unreadable("corrupt-file") from None


def _class_name(exc: BaseException) -> str:
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
