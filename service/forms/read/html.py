"""HTML tables (Excel's "save as web page", the many ".xls" files that government software
exports as HTML, and their single-file .mht form) → one ``Sheet`` per table.

Parsed with the standard library's html.parser. ``rowspan``/``colspan`` take their place in
the grid (the value sits in the top-left cell, the rest stay empty, like Excel) and are
recorded in ``Sheet.merged``. The text encoding follows the BOM, then the
``<meta charset>``, then UTF-8, then Windows-1258. Values are strings.
"""
from __future__ import annotations

import codecs
import email
import email.policy
import re
import unicodedata
from html.parser import HTMLParser

from ..model import Sheet, Unreadable, Workbook
from .guard import unreadable

MAX_COLSPAN = 1000  # the limits browsers apply
MAX_ROWSPAN = 65534
MAX_COLS = 16384  # Excel's own column limit
MAX_CELLS = 30_000_000
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_SPACES_RE = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_LONG_INT_RE = re.compile(r"-?\d{9,}")
_BLOCKS = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}
_SKIP = {"style", "script", "head", "title", "template", "xml", "noscript"}


def decode_html(data: bytes, declared: str | None = None) -> str:
    """HTML bytes → NFC text, by BOM, the given or <meta> charset, UTF-8, Windows-1258."""
    if data.startswith(codecs.BOM_UTF8):
        text = data[3:].decode("utf-8", errors="replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    else:
        charset = declared
        if not charset:
            m = _META_CHARSET_RE.search(data[:8192])
            charset = m.group(1).decode("ascii", "replace") if m else None
        codec = None
        if charset:
            try:
                codec = codecs.lookup(charset).name
            except LookupError:
                codec = None
        if codec and codec not in ("utf-8", "ascii"):
            text = data.decode(codec, errors="replace")
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("cp1258" if codec is None else "utf-8", errors="replace")
    return unicodedata.normalize("NFC", text)


class _Table:
    def __init__(self):
        self.cells: dict[tuple[int, int], str | None] = {}
        self.busy: dict[int, int] = {}  # column → last row a rowspan from above occupies
        self.merged: list[tuple[int, int, int, int]] = []
        self.row = -1
        self.col = 0
        self.ncols = 0
        self.cell: list[str] | None = None  # text parts of the open cell
        self.span = (1, 1)
        self.exact: str | None = None  # Excel's x:num, the full number behind "8.9E+11"

    def start_row(self):
        self.close_cell()
        self.row += 1
        self.col = 0

    def start_cell(self, rowspan: int, colspan: int, exact: str | None = None):
        self.close_cell()
        self.exact = exact
        if self.row < 0:
            self.start_row()
        while self.busy.get(self.col, -1) >= self.row:
            self.col += 1
        self.cell = []
        self.span = (rowspan, colspan)

    def close_cell(self):
        if self.cell is None:
            return
        text = _clean("".join(self.cell))
        if self.exact and text != self.exact and _LONG_INT_RE.fullmatch(self.exact):
            text = self.exact  # long numbers (CCCD, phones) shown rounded: keep every digit
        rs, cs = self.span
        r, c = self.row, self.col
        self.cells[(r, c)] = text or None
        if rs > 1 or cs > 1:
            self.merged.append((r, c, r + rs - 1, c + cs - 1))
        if rs > 1:
            for j in range(c, c + cs):
                self.busy[j] = max(self.busy.get(j, -1), r + rs - 1)
        self.ncols = max(self.ncols, c + cs)
        if self.ncols > MAX_COLS:
            raise unreadable("too-many-columns", limit=MAX_COLS)
        self.col = c + cs
        self.cell = None

    def grid(self) -> list[list[str | None]]:
        nrows = self.row + 1  # rowspans reach no further than the table's last row, as in browsers
        if nrows * self.ncols > MAX_CELLS:
            raise unreadable("too-many-columns", limit=MAX_COLS)
        rows = [[None] * self.ncols for _ in range(nrows)]
        for (i, j), v in self.cells.items():
            rows[i][j] = v
        self.merged = [(r0, c0, min(r1, nrows - 1), c1) for r0, c0, r1, c1 in self.merged
                       if (min(r1, nrows - 1), c1) != (r0, c0)]
        return rows


def _clean(text: str) -> str:
    lines = [_SPACES_RE.sub(" ", ln).strip() for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln)


class _Parser(HTMLParser):
    def __init__(self, max_rows: int):
        super().__init__(convert_charrefs=True)
        self.max_rows = max_rows
        self.stack: list[_Table] = []
        self.done: list[_Table] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self.skip += 1
            return
        if tag == "table":
            self.stack.append(_Table())
            return
        if not self.stack:
            return
        t = self.stack[-1]
        if tag == "tr":
            t.start_row()
            if t.row >= self.max_rows:
                raise unreadable("too-many-rows", sheet=f"Bảng {len(self.done) + len(self.stack)}",
                                 limit=self.max_rows)
        elif tag in ("td", "th"):
            a = dict(attrs)
            t.start_cell(_span(a.get("rowspan"), MAX_ROWSPAN), _span(a.get("colspan"), MAX_COLSPAN),
                         (a.get("x:num") or "").strip() or None)
        elif tag == "br" and t.cell is not None:
            t.cell.append("\n")
        elif tag in _BLOCKS and t.cell is not None:
            t.cell.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag == "br" and self.stack and self.stack[-1].cell is not None:
            self.stack[-1].cell.append("\n")
        elif tag not in _SKIP and tag != "table":
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if not self.stack:
            return
        t = self.stack[-1]
        if tag == "table":
            t.close_cell()
            self.stack.pop()
            if t.cells:
                self.done.append(t)
        elif tag in ("td", "th"):
            t.close_cell()
        elif tag == "tr":
            t.close_cell()
        elif tag in _BLOCKS and t.cell is not None:
            t.cell.append("\n")

    def handle_data(self, data):
        if self.skip or not self.stack:
            return
        t = self.stack[-1]
        if t.cell is not None:
            t.cell.append(data.replace("\n", " "))

    def close(self):
        super().close()
        while self.stack:  # unclosed tables at the end of a sloppy file
            self.handle_endtag("table")


def _span(value: str | None, limit: int) -> int:
    try:
        n = int(str(value).strip().rstrip(";"))
    except (TypeError, ValueError):
        return 1
    return min(max(n, 1), limit)


def tables(text: str, max_rows: int) -> list[_Table]:
    p = _Parser(max_rows)
    p.feed(text)
    p.close()
    return p.done


def read(path: str, max_rows: int, mhtml: bool = False) -> Workbook:
    with open(path, "rb") as fh:
        data = fh.read()
    texts = _mhtml_parts(data) if mhtml else [decode_html(data)]
    del data
    found: list[_Table] = []
    try:
        for text in texts:
            found.extend(tables(text, max_rows))
    except Unreadable:
        raise
    except Exception:  # html.parser is lenient; anything else is a damaged file
        raise unreadable("corrupt-file") from None
    if not found:
        raise unreadable("unsupported-type", what="trang web không có bảng dữ liệu")
    sheets = []
    for n, t in enumerate(found, 1):
        rows = t.grid()
        sheets.append(Sheet(name=f"Bảng {n}", rows=rows, merged=t.merged))
    return Workbook(path=path, kind="html", sheets=sheets)


def _mhtml_parts(data: bytes) -> list[str]:
    """The HTML parts of a single-file web page (.mht), in order."""
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    out = []
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True) or b""
            out.append(decode_html(payload, part.get_content_charset()))
    return out
