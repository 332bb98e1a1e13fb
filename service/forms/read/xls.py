"""Excel 97–2003 workbooks (.xls, BIFF) → ``Sheet`` grids, via xlrd.

``formatting_info=True`` keeps the XF records, so each cell's font is known and TCVN3/VNI
text can be decoded for .xls too. Dates (cells whose format is a date) become date or
datetime; numbers stay floats; error cells become their Excel text ("#N/A").
"""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any, Callable

import xlrd
from xlrd.biffh import XLRDError

from .. import legacy
from ..model import Sheet, Workbook
from .guard import unreadable


def read(path: str, max_rows: int) -> Workbook:
    log = io.StringIO()  # xlrd writes warnings here, never to the service's output
    try:
        # ragged rows: a row holds its own cells only, not padding to the widest row (one
        # stray value at IV65536 would otherwise make 16.7 million empty cells)
        book = xlrd.open_workbook(path, formatting_info=True, on_demand=True, logfile=log,
                                  ragged_rows=True)
    except XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise unreadable("encrypted") from None
        raise unreadable("corrupt-file") from None
    except Exception:  # struct.error, IndexError, AssertionError … from damaged BIFF
        raise unreadable("corrupt-file") from None
    try:
        font_names = [f.name for f in book.font_list]
        legacy_book = any(legacy.legacy_kind(n) for n in font_names)
        sheets = []
        for index in range(book.nsheets):
            sh = book.sheet_by_index(index)
            if sh.nrows > max_rows:
                raise unreadable("too-many-rows", sheet=sh.name, limit=max_rows)
            odd: dict[tuple[int, int], str] = {}
            sheet = Sheet(
                name=sh.name,
                rows=[_row(book, sh, i, odd) for i in range(sh.nrows)],
                merged=[(rlo, clo, rhi - 1, chi - 1) for rlo, rhi, clo, chi in sh.merged_cells],
                hidden=bool(sh.visibility),
            )
            sheet.odd_cells = odd
            if legacy_book:
                sheet.legacy_fonts = True
                sheet.font = _font_lookup(book, sh, font_names)
            sheets.append(sheet)
            book.unload_sheet(index)
    except XLRDError:
        raise unreadable("corrupt-file") from None
    finally:
        book.release_resources()
    return Workbook(path=path, kind="xls", sheets=sheets)


def _row(book: xlrd.Book, sh, i: int, odd: dict[tuple[int, int], str]) -> list[Any]:
    out: list[Any] = []
    for j, cell in enumerate(sh.row(i)):
        t, v = cell.ctype, cell.value
        if t in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            out.append(None)
        elif t == xlrd.XL_CELL_TEXT:
            out.append(v if v != "" else None)
        elif t == xlrd.XL_CELL_DATE:
            out.append(_date(v, book.datemode))
        elif t == xlrd.XL_CELL_BOOLEAN:
            out.append(bool(v))
        elif t == xlrd.XL_CELL_ERROR:  # #REF!, #N/A …: reported at the cell by the engine
            odd[(i, j)] = xlrd.error_text_from_code.get(v, "#ERR")
            out.append(None)
        else:
            out.append(v)
    return out


def _date(value: float, datemode: int):
    try:
        dt = xlrd.xldate_as_datetime(value, datemode)
    except (ValueError, OverflowError, xlrd.xldate.XLDateError):
        return value  # a "date" formatted number Excel itself cannot show: keep the number
    if value < 1 and datemode == 0 and dt.date() == datetime(1899, 12, 31).date():
        return dt.time()  # a pure time of day
    return dt.date() if (dt.hour, dt.minute, dt.second, dt.microsecond) == (0, 0, 0, 0) else dt


def _font_lookup(book: xlrd.Book, sh, font_names: list[str]) -> Callable[[int, int], str | None]:
    xf_list = book.xf_list

    def font(i: int, j: int) -> str | None:
        try:
            xf = xf_list[sh.cell_xf_index(i, j)]
            return font_names[xf.font_index]
        except (IndexError, XLRDError):
            return None

    return font
