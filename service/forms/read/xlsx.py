"""OOXML workbooks (.xlsx, .xlsm; .xlsb and .ods values too) → ``Sheet`` grids.

Values come from python-calamine (fast, Rust). What calamine does not tell is read from the
package itself, leanly and only when needed:
- the row count, from each sheet's ``<dimension>`` before anything is loaded, confirmed by a
  streaming scan when it is over the limit or missing;
- formula cells without a cached value (files written by libraries, not by Excel: Excel
  always keeps a calcChain part and cached values);
- cell fonts, only when styles.xml names a legacy (TCVN3/VNI) font.
Macros in .xlsm are never run: only cell values are read.
"""
from __future__ import annotations

import os
import posixpath
import re
import shutil
import tempfile
import zipfile
from array import array
from contextlib import contextmanager
from typing import Any, Callable

import python_calamine as pc
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from .. import legacy
from ..model import Sheet, Unreadable, Workbook
from . import ods
from .guard import check_extent, sheet_extent, unreadable

NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
MAX_SMALL_PART = 50_000_000  # workbook.xml, rels, styles.xml: refuse to parse beyond this
CHUNK = 1 << 22


def read(path: str, kind: str, max_rows: int) -> Workbook:
    parts: dict[str, str] = {}
    odd: dict[str, dict] = {}  # sheet name → its error cells and non-finite numbers
    fonts: list[str | None] | None = None
    calc_chain = False
    if kind in ("xlsx", "xlsm"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                parts = _sheet_parts(zf)
                calc_chain = "xl/calcChain.xml" in names
                fonts = _style_fonts(zf) if "xl/styles.xml" in names else None
                scans = {name: _prepare(zf, part, name, max_rows, fonts, calc_chain, odd)
                         for name, part in parts.items() if part in names}
        except Unreadable:
            raise
        except DefusedXmlException:
            raise unreadable("xml-entities") from None
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, SafeET.ParseError):
            raise unreadable("corrupt-file") from None
    else:
        scans = {}

    with _named_for_calamine(path, kind) as calamine_path:
        try:
            book = pc.CalamineWorkbook.from_path(calamine_path)
            metas = book.sheets_metadata
        except pc.PasswordError:
            raise unreadable("encrypted") from None
        except Exception:  # CalamineError, ZipError, XmlError, …: damaged content
            raise unreadable("corrupt-file") from None
        try:
            sheets = _sheets(book, metas, scans, fonts, max_rows)
            for sheet in sheets:
                sheet.odd_cells = odd.get(sheet.name, {})
        finally:
            book.close()
    if kind == "ods":
        _ods_extras(path, sheets)
    return Workbook(path=path, kind=kind, sheets=sheets)


def _ods_extras(path: str, sheets: list[Sheet]) -> None:
    """Merged cells and value-less formulas of an .ods, which calamine does not report."""
    try:
        extras = ods.scan(path)
    except DefusedXmlException:
        raise unreadable("xml-entities") from None
    except Exception:  # calamine read the values; without the extras the grid still stands
        return
    for sheet in sheets:
        if not sheet.merged:
            sheet.merged = extras.merged.get(sheet.name, [])
        formulas = extras.formulas.get(sheet.name)
        if formulas:
            sheet.formula_without_value = formulas
            _pad(sheet.rows, max(i for i, _ in formulas) + 1, max(j for _, j in formulas) + 1)


@contextmanager
def _named_for_calamine(path: str, kind: str):
    """calamine picks its parser by the file name's extension, and senders rename files
    (an .xlsx sent as .xls): hand it a link whose name matches what the bytes are."""
    ext = "." + kind
    if path.lower().endswith(ext):
        yield path
        return
    tmp = tempfile.mkdtemp(prefix="vaxmail-read-")
    link = os.path.join(tmp, "book" + ext)
    try:
        try:
            os.symlink(os.path.abspath(path), link)
        except OSError:
            shutil.copyfile(path, link)
        yield link
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _sheets(book, metas, scans: dict, fonts: list[str | None] | None, max_rows: int) -> list[Sheet]:
    legacy_book = bool(fonts) and any(legacy.legacy_kind(f) for f in fonts)
    sheets: list[Sheet] = []
    for meta in metas:
        if meta.typ != pc.SheetTypeEnum.WorkSheet:
            continue  # chart sheets and macro sheets hold no list
        scan = scans.get(meta.name)
        try:
            cs = book.get_sheet_by_name(meta.name)
            if scan is None and cs.height > max_rows:  # formats without a pre-check (.xlsb, .ods)
                raise unreadable("too-many-rows", sheet=meta.name, limit=max_rows)
            merged = [(a[0], a[1], b[0], b[1]) for a, b in (cs.merged_cell_ranges or [])]
            rows = _interned_rows(cs)
            del cs
        except Unreadable:
            raise
        except Exception:
            raise unreadable("corrupt-file") from None
        sheet = Sheet(name=meta.name, rows=rows, merged=merged,
                      hidden=meta.visible != pc.SheetVisibleEnum.Visible)
        if scan is not None:
            sheet.formula_without_value = scan.formulas
            if scan.formulas:  # keep the rows of value-less formula cells inside the grid
                _pad(rows, max(i for i, _ in scan.formulas) + 1, max(j for _, j in scan.formulas) + 1)
            if legacy_book and scan.styles is not None:
                sheet.legacy_fonts = True
                sheet.font = _font_lookup(scan.styles, fonts)
        sheets.append(sheet)
    return sheets


# ---------------------------------------------------------------------------- values


def _interned_rows(cs) -> list[list[Any]]:
    """The sheet's rows, built one at a time, with '' → None and repeated strings shared.

    Lists repeat a few values endlessly (districts, wards, vaccines, facilities, "Nam"/"Nữ"):
    sharing one string object per value keeps a 100,000-row sheet well inside the memory
    budget, where calamine's ``to_python`` briefly holds every cell twice. The first rows
    show which columns repeat; later rows are interned only in those columns.
    """
    rows: list[list[Any]] = []
    cache: dict[str, str] = {}
    hits: dict[int, int] = {}
    hot: list[int] | None = None
    # The grid must start at A1 (Excel's numbering). iter_rows starts at the first used
    # column (and, depending on the version, at row 1 or the first used row): pad both.
    r0, c0 = cs.start or (0, 0)
    lead = [None] * c0
    for n, r in enumerate(cs.iter_rows()):
        if c0:
            r = lead + r
        if "" in r:
            _blank_to_none(r)
        if hot is None:
            for j, v in enumerate(r):
                if v.__class__ is str:
                    c = cache.get(v)
                    if c is None:
                        cache[v] = v
                    else:
                        r[j] = c
                        hits[j] = hits.get(j, 0) + 1
            if n == _SAMPLE_ROWS:
                hot = [j for j, h in hits.items() if h > _SAMPLE_ROWS // 4]
        else:
            width = len(r)
            for j in hot:
                if j < width:
                    v = r[j]
                    if v.__class__ is str:
                        c = cache.get(v)
                        if c is None:
                            if len(cache) < _MAX_INTERNED:
                                cache[v] = v
                        else:
                            r[j] = c
        rows.append(r)
    end = cs.end
    if r0 and end is not None and len(rows) == end[0] - r0 + 1:
        rows[:0] = [[] for _ in range(r0)]
    return rows


_SAMPLE_ROWS = 400
_MAX_INTERNED = 100_000


def _blank_to_none(r: list[Any]) -> None:
    j = 0
    try:
        while True:
            j = r.index("", j)
            r[j] = None
    except ValueError:
        pass


def _pad(rows: list[list[Any]], nrows: int, ncols: int) -> None:
    ncols = max([ncols] + [len(r) for r in rows])
    while len(rows) < nrows:
        rows.append([])
    for r in rows:
        if len(r) < ncols:
            r.extend([None] * (ncols - len(r)))


# ---------------------------------------------------------------------------- package parts


def _read_small(zf: zipfile.ZipFile, name: str) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > MAX_SMALL_PART:
        raise unreadable("zip-bomb")
    return zf.read(info)


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → its part path inside the package (e.g. "xl/worksheets/sheet1.xml")."""
    wb = SafeET.fromstring(_read_small(zf, "xl/workbook.xml"))
    try:
        rels = SafeET.fromstring(_read_small(zf, "xl/_rels/workbook.xml.rels"))
    except KeyError:
        return {}
    targets = {}
    for rel in rels.iter(f"{NS_PKG_REL}Relationship"):
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        targets[rel.get("Id")] = target
    out = {}
    for sh in wb.iter(f"{NS_MAIN}sheet"):
        part = targets.get(sh.get(f"{NS_REL}id"))
        if part:
            out[sh.get("name", "")] = part
    return out


def _style_fonts(zf: zipfile.ZipFile) -> list[str | None] | None:
    """Font name of each cell style (cellXfs index), or None when no legacy font is named."""
    raw = _read_small(zf, "xl/styles.xml")
    if not re.search(rb'<(?:\w+:)?name\s+val="\s*(?:\.vn|vn|vni)', raw, re.IGNORECASE):
        return None
    root = SafeET.fromstring(raw)
    font_names = []
    fonts_el = root.find(f"{NS_MAIN}fonts")
    for font in (fonts_el if fonts_el is not None else []):
        name = font.find(f"{NS_MAIN}name")
        font_names.append(name.get("val") if name is not None else None)
    out: list[str | None] = []
    xfs = root.find(f"{NS_MAIN}cellXfs")
    for xf in (xfs if xfs is not None else []):
        try:
            fid = int(xf.get("fontId", "0"))
        except ValueError:
            fid = 0
        out.append(font_names[fid] if 0 <= fid < len(font_names) else None)
    return out or None


def _font_lookup(styles: dict[int, array], fonts: list[str | None]) -> Callable[[int, int], str | None]:
    default = fonts[0] if fonts else None

    def font(i: int, j: int) -> str | None:
        row = styles.get(i)
        if row is None or j >= len(row):
            return default
        s = row[j]
        return fonts[s] if s < len(fonts) else default

    return font


# ---------------------------------------------------------------------------- sheet scanning

_DIMENSION_RE = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?[A-Z]*\$?(\d*)(?::\$?[A-Z]+\$?(\d+))?"')
_ROW_RE = re.compile(rb"<(?:\w+:)?row\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?row>)", re.DOTALL)
_CELL_RE = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.DOTALL)
_R_ATTR = re.compile(rb'\br="\$?([A-Z]{1,3})\$?(\d+)"')
_ROW_R_ATTR = re.compile(rb'\br="(\d+)"')
_S_ATTR = re.compile(rb'\bs="(\d+)"')
_HAS_VALUE = re.compile(rb"<(?:\w+:)?(?:v|is)\b[^>]*>\s*[^<\s]|<(?:\w+:)?t\b[^>]*>")
_FORMULA_NO_VALUE = re.compile(
    rb"^\s*<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*$")


class _Scan:
    __slots__ = ("formulas", "styles", "last_row", "keep", "cols")

    def __init__(self, fonts: list[str | None] | None = None):
        self.formulas: set[tuple[int, int]] = set()
        self.styles: dict[int, array] | None = {} if fonts else None
        self.last_row = 0  # 1-based number of the last row holding a value
        # style indexes (as written in the XML) whose font is not the default one
        self.keep = {str(i).encode() for i, f in enumerate(fonts or []) if f != fonts[0]}
        self.cols: dict[bytes, int] = {}


def _prepare(zf: zipfile.ZipFile, part: str, name: str, max_rows: int,
             fonts: list[str | None] | None, calc_chain: bool, odd: dict) -> _Scan | None:
    """Row-limit check, then a streaming scan when formulas, fonts or the count need one."""
    extent = sheet_extent(zf, part)
    check_extent(extent, name)  # before calamine allocates the used range
    if extent.odd:
        odd[name] = extent.odd
    with zf.open(part) as fh:
        head = fh.read(16384)
    m = _DIMENSION_RE.search(head)
    dim_rows = int(m.group(2) or m.group(1) or 0) if m else None
    want_styles = bool(fonts) and any(legacy.legacy_kind(f) for f in fonts)
    need_count = dim_rows is None or dim_rows > max_rows
    if not (need_count or want_styles or not calc_chain):
        return None
    scan = _scan(zf, part, fonts if want_styles else None, need_count, max_rows)
    if scan.last_row > max_rows:
        raise unreadable("too-many-rows", sheet=name, limit=max_rows)
    return scan


def _scan(zf: zipfile.ZipFile, part: str, fonts: list[str | None] | None, need_count: bool,
          max_rows: int) -> _Scan:
    """Formula cells without values, cell styles and the last row with a value, in one
    streaming pass. Rows are parsed one by one only where fonts are wanted or a chunk holds
    a formula; elsewhere a few byte searches per chunk find the last row with a value."""
    scan = _Scan(fonts)
    want_styles = scan.styles is not None
    if not (want_styles or need_count) and not _has_formula(zf, part):
        return scan
    row_no = 0
    carry = b""
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(CHUNK)
            buf = carry + chunk if carry else chunk
            if chunk:
                cut = _last_row_start(buf)
                if cut <= 0:  # no complete row yet (the sheet's head, or one huge row)
                    carry = buf
                    continue
                work, carry = buf[:cut], buf[cut:]
            else:
                work, carry = buf, b""
            if want_styles and not _fast_styles(work, scan):
                row_no = _scan_rows(work, scan, row_no, want_styles)
            elif any(n in work for n in _FORMULA_NEEDLES) or not _fast_last_row(work, scan):
                row_no = _scan_rows(work, scan, row_no, False)
            else:
                row_no = _last_row_number(work, row_no)
            if scan.last_row > max_rows:  # over the limit: no need to read on
                break
            if not chunk:
                break
    return scan


_FORMULA_NEEDLES = (b"<f>", b"<f ", b"<f/", b":f>", b":f ")
_VALUE_NEEDLES = (b"<v>", b"<v ", b"<t>", b"<t ", b"<is>")


_STYLED_CELL_RE = re.compile(rb'<c r="([A-Z]{1,3})(\d+)" s="(\d+)"')
_STYLED_CELL_S_FIRST_RE = re.compile(rb'<c s="(\d+)" r="([A-Z]{1,3})(\d+)"')


def _fast_styles(work: bytes, scan: _Scan) -> bool:
    """Cell → style index with one regex over the chunk, for the attribute order Excel,
    LibreOffice and openpyxl write (r then s). Only styles whose font differs from the
    default are kept. False when cells lack r (then rows are parsed one by one)."""
    if b"<c>" in work or b":c " in work[:65536]:
        return False
    styles, keep, cols = scan.styles, scan.keep, scan.cols
    for rx, s_first in ((_STYLED_CELL_RE, False), (_STYLED_CELL_S_FIRST_RE, True)):
        for found in rx.findall(work):
            if s_first:
                s, letters, row = found
            else:
                letters, row, s = found
            if s not in keep:
                continue
            col = cols.get(letters)
            if col is None:
                col = cols[letters] = _col_index(letters)
            i = int(row) - 1
            arr = styles.get(i)
            if arr is None:
                arr = styles[i] = array("I")
            if len(arr) <= col:
                arr.extend([0] * (col + 1 - len(arr)))
            arr[col] = int(s)
    return True


def _fast_last_row(work: bytes, scan: _Scan) -> bool:
    """Find the last row holding a value in ``work`` with byte searches; False when the
    layout does not allow it (rows without numbers, namespace prefixes)."""
    if b":row" in work[:4096]:
        return False
    p = max(work.rfind(n) for n in _VALUE_NEEDLES)
    if p < 0:
        return True  # no value in this stretch
    q = work.rfind(b"<row", 0, p)
    if q < 0:
        return False
    m = _ROW_R_ATTR.search(work[q:work.find(b">", q) + 1])
    if not m:
        return False
    scan.last_row = max(scan.last_row, int(m.group(1)))
    return True


def _last_row_number(work: bytes, row_no: int) -> int:
    q = work.rfind(b"<row")
    if q < 0:
        return row_no
    m = _ROW_R_ATTR.search(work[q:work.find(b">", q) + 1])
    return int(m.group(1)) if m else row_no


def _has_formula(zf: zipfile.ZipFile, part: str) -> bool:
    """Whether the sheet XML holds any formula element: one byte search per chunk."""
    tail = b""
    with zf.open(part) as fh:
        head = fh.read(4096)
        prefixed = re.search(rb"<\w+:worksheet\b", head) is not None
        chunk = head
        while chunk:
            buf = tail + chunk
            if buf.find(b"<f") >= 0 or (prefixed and (buf.find(b":f>") >= 0 or buf.find(b":f ") >= 0)):
                return True
            tail = buf[-8:]
            chunk = fh.read(CHUNK)
    return False


def _scan_rows(work: bytes, scan: _Scan, row_no: int, want_styles: bool) -> int:
    for m in _ROW_RE.finditer(work):
        rm = _ROW_R_ATTR.search(m.group(1))
        row_no = int(rm.group(1)) if rm else row_no + 1
        body = m.group(2)
        if not body:
            continue
        if _HAS_VALUE.search(body):
            scan.last_row = max(scan.last_row, row_no)
        has_formula = b"<f" in body or b":f" in body
        if not (has_formula or want_styles):
            continue
        i = row_no - 1
        col = -1
        styles_row = None
        for c in _CELL_RE.finditer(body):
            attrs = c.group(1)
            cm = _R_ATTR.search(attrs)
            col = _col_index(cm.group(1)) if cm else col + 1
            if want_styles:
                sm = _S_ATTR.search(attrs)
                if sm:
                    s = int(sm.group(1))
                    if s:
                        if styles_row is None:
                            styles_row = scan.styles.setdefault(i, array("I"))
                        if len(styles_row) <= col:
                            styles_row.extend([0] * (col + 1 - len(styles_row)))
                        styles_row[col] = s
            inner = c.group(2)
            if has_formula and inner and _FORMULA_NO_VALUE.match(inner):
                scan.formulas.add((i, col))
    return row_no


def _last_row_start(buf: bytes) -> int:
    cut = buf.rfind(b"<row")
    if cut < 0:  # a namespace prefix: <x:row
        p = buf.rfind(b":row")
        cut = buf.rfind(b"<", 0, p) if p > 0 else -1
    return cut


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1
