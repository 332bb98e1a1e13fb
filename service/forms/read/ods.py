"""What calamine does not tell about an OpenDocument spreadsheet (.ods): merged cells and
formula cells without a computed value, from content.xml in one streaming pass.

Positions count every cell and row the way calamine's grid does (repeated rows and columns
expanded, covered cells counted), 0-based from A1.
"""
from __future__ import annotations

import zipfile

from defusedxml.ElementTree import iterparse

T = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
O = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_CELL, _COVERED, _ROW, _TABLE = T + "table-cell", T + "covered-table-cell", T + "table-row", T + "table"
MAX_REPEAT = 1_000_000  # "repeated" counts of empty filler rows/columns can be huge


class OdsExtras:
    __slots__ = ("merged", "formulas")

    def __init__(self) -> None:
        self.merged: dict[str, list[tuple[int, int, int, int]]] = {}
        self.formulas: dict[str, set[tuple[int, int]]] = {}


def _int(v: str | None) -> int:
    try:
        return max(1, min(int(v or 1), MAX_REPEAT))
    except ValueError:
        return 1


def scan(path: str) -> OdsExtras:
    out = OdsExtras()
    with zipfile.ZipFile(path) as zf, zf.open("content.xml") as fh:
        name = None
        r = c = 0
        depth = 0  # nested tables (a table inside a cell) are not sheets
        for ev, el in iterparse(fh, events=("start", "end")):
            tag = el.tag
            if ev == "start":
                if tag == _TABLE:
                    depth += 1
                    if depth == 1:
                        name, r = el.get(T + "name", ""), 0
                        out.merged.setdefault(name, [])
                        out.formulas.setdefault(name, set())
                elif depth != 1:
                    continue
                elif tag == _ROW:
                    c = 0
                elif tag == _CELL or tag == _COVERED:
                    if tag == _CELL:
                        rs, cs = _int(el.get(T + "number-rows-spanned")), _int(el.get(T + "number-columns-spanned"))
                        if rs > 1 or cs > 1:
                            out.merged[name].append((r, c, r + rs - 1, c + cs - 1))
                        if el.get(T + "formula") and el.get(O + "value-type") is None:
                            out.formulas[name].add((r, c))
                    c += _int(el.get(T + "number-columns-repeated"))
            else:
                if tag == _TABLE:
                    depth -= 1
                elif depth == 1 and tag == _ROW:
                    r += _int(el.get(T + "number-rows-repeated"))
                    el.clear()
    return out
