"""Lean, streaming annotation of an .xlsx/.xlsm package at the XML level.

openpyxl needs ~40 s and >1 GB to load, mark and save a 100k-row workbook; this module copies
the zip member by member and rewrites only what annotation touches:

- the form's worksheet XML, streamed row by row: bad cells get a new ``s`` (style) derived
  from their own xf plus a fill, the "Lỗi" cells are added, ``<dimension>``, ``<cols>``,
  ``<mergeCells>`` and ``<legacyDrawing>`` are updated;
- ``xl/styles.xml``: new fonts, fills and cellXfs appended;
- new parts: the summary worksheet (first in the tab order), ``xl/commentsN.xml`` and its VML
  drawing; ``workbook.xml``, its rels and ``[Content_Types].xml`` are patched to match.

Anything this module does not understand raises ``Unsupported`` and the caller falls back
to openpyxl. Only small parts (workbook, rels, styles) are ever held whole in memory; XML is
read with regular expressions over bytes/str, never with an entity-expanding parser.
"""
from __future__ import annotations

import posixpath
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from typing import Any, Iterator
from xml.sax.saxutils import escape as _esc, quoteattr

from defusedxml import ElementTree as SafeET

from .model import column_letter

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
RT_WORKSHEET = NS_REL + "/worksheet"
RT_COMMENTS = NS_REL + "/comments"
RT_VML = NS_REL + "/vmlDrawing"
RT_OFFICE_DOC = NS_REL + "/officeDocument"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"

CHUNK = 1 << 20
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Unsupported(Exception):
    """The package has a shape this module does not handle; use openpyxl instead."""


# ---------------------------------------------------------------------------- the plan


@dataclass
class SheetPlan:
    """What to change in the form's sheet. Rows/columns are Excel numbers / 0-based indexes."""
    fills: dict[int, dict[int, str]]  # row → {col index → "error" | "warning"}
    comments: list[tuple[int, int, str]]  # (row, col index, text), any order
    loi_col: int  # 0-based column index of the "Lỗi" column
    loi_header: str
    header_rows: list[int]  # Excel row numbers of the header (first gets the text)
    loi_text: dict[int, str]  # row → text of its "Lỗi" cell
    loi_reused: bool = False  # the sheet already has our "Lỗi" column (a returned annotated file)


@dataclass
class SummaryCell:
    value: Any
    style: str = "text"  # "title" | "label" | "head" | "text" | "note"


@dataclass
class PatchJob:
    sheet_name: str | None  # the form's sheet, or None to add the summary only
    plan: SheetPlan | None
    summary_name: str
    summary_rows: list[list[SummaryCell]]
    summary_widths: list[float]
    fill_colors: dict[str, str]  # "error"/"warning" → RRGGBB
    loi_font_color: str = "9C0006"
    comment_author: str = "vaxmail"
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------- small helpers


def xml_text(s: Any) -> str:
    return _esc(_ILLEGAL.sub("", str(s)))


def _attr(tag: str, name: str) -> str | None:
    m = re.search(r"\s%s\s*=\s*([\"'])(.*?)\1" % re.escape(name), tag, re.S)
    return m.group(2) if m else None


def _set_attr(tag: str, name: str, value: str) -> str:
    """Set an attribute on a start tag given as text ("<x a='1'/>" or "<x a='1'>")."""
    rx = re.compile(r"(\s%s\s*=\s*)([\"'])(.*?)\2" % re.escape(name), re.S)
    if rx.search(tag):
        return rx.sub(lambda m: f'{m.group(1)}"{value}"', tag, count=1)
    end = len(tag) - (2 if tag.endswith("/>") else 1)
    return f'{tag[:end]} {name}="{value}"{tag[end:]}'


def _del_attr(tag: str, name: str) -> str:
    return re.sub(r"\s%s\s*=\s*([\"'])(.*?)\1" % re.escape(name), "", tag, count=1, flags=re.S)


def _unescape_attr(v: str) -> str:
    return (v.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def _prefix(xml_head: str, local: str) -> str:
    """The namespace prefix ('' or 'x:') of the root element ``local``."""
    m = re.search(r"<(\w+:)?%s[\s>]" % local, xml_head)
    if not m:
        raise Unsupported(f"no <{local}> root")
    return m.group(1) or ""


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def _resolve(base_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_part), target))


def _rels_path(part: str) -> str:
    d, f = posixpath.split(part)
    return posixpath.join(d, "_rels", f + ".rels")


def _relative(from_part: str, to_part: str) -> str:
    return posixpath.relpath(to_part, posixpath.dirname(from_part))


def _read_rels(zin: zipfile.ZipFile, path: str) -> list[dict]:
    if path not in zin.NameToInfo:
        return []
    root = SafeET.fromstring(zin.read(path))
    return [dict(el.attrib) for el in root if el.tag.endswith("Relationship")]


def _rels_xml(rels: list[dict]) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
             f'<Relationships xmlns="{NS_PKG_REL}">']
    for r in rels:
        attrs = "".join(f" {k}={quoteattr(v)}" for k, v in r.items())
        parts.append(f"<Relationship{attrs}/>")
    parts.append("</Relationships>")
    return "".join(parts).encode("utf-8")


def _unique(existing: set[str], pattern: str) -> str:
    i = 1
    while pattern.format(i) in existing:
        i += 1
    return pattern.format(i)


# ---------------------------------------------------------------------------- styles.xml


class Styles:
    """Appends fonts, fills and cell formats to a styles.xml held as text."""

    def __init__(self, xml: str):
        self.xml = xml
        self.p = _prefix(xml[:2000], "styleSheet")
        self.sections: dict[str, list[str]] = {}
        self.added: dict[str, list[str]] = {}
        for sec, child in (("fonts", "font"), ("fills", "fill"), ("borders", "border"), ("cellXfs", "xf")):
            body = self._section_body(sec)
            if body is None:
                raise Unsupported(f"styles.xml without <{sec}>")
            self.sections[sec] = re.findall(
                r"<%s%s(?:\s[^>]*?)?(?:/>|>.*?</%s%s>)" % (self.p, child, self.p, child), body, re.S)
            if not self.sections[sec] and sec in ("fonts", "cellXfs"):
                raise Unsupported(f"empty <{sec}>")
            self.added[sec] = []
        if len(self.sections["fills"]) < 2:  # fills 0 and 1 are reserved by Excel
            for pat in ("none", "gray125")[len(self.sections["fills"]):]:
                self.added["fills"].append(f'<{self.p}fill><{self.p}patternFill patternType="{pat}"/></{self.p}fill>')
        self._xf_cache: dict[tuple, int] = {}
        self._font_cache: dict[tuple, int] = {}
        self._fill_cache: dict[str, int] = {}

    def _section_re(self, sec: str) -> re.Pattern:
        return re.compile(r"<%s%s\b([^>]*?)(/>|>(.*?)</%s%s>)" % (self.p, sec, self.p, sec), re.S)

    def _section_body(self, sec: str) -> str | None:
        m = self._section_re(sec).search(self.xml)
        if not m:
            return None
        return m.group(3) or ""

    def _add(self, sec: str, xml: str) -> int:
        self.added[sec].append(xml)
        return len(self.sections[sec]) + len(self.added[sec]) - 1

    def xf(self, index: int) -> str:
        allx = self.sections["cellXfs"]
        return allx[index] if 0 <= index < len(allx) else allx[0]

    def font_of(self, xf_index: int) -> str:
        fid = int(_attr(self.xf(xf_index), "fontId") or 0)
        fonts = self.sections["fonts"]
        return fonts[fid] if 0 <= fid < len(fonts) else fonts[0]

    # -- new pieces
    def fill(self, rgb: str) -> int:
        if rgb not in self._fill_cache:
            p = self.p
            self._fill_cache[rgb] = self._add("fills", (
                f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="FF{rgb}"/>'
                f'<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>'))
        return self._fill_cache[rgb]

    def font(self, bold=False, italic=False, size=11.0, color: str | None = None,
             name="Times New Roman") -> int:
        key = (bold, italic, size, color, name)
        if key not in self._font_cache:
            p = self.p
            xml = (f"<{p}font>" + (f"<{p}b/>" if bold else "") + (f"<{p}i/>" if italic else "")
                   + f'<{p}sz val="{size:g}"/>' + (f'<{p}color rgb="FF{color}"/>' if color else "")
                   + f'<{p}name val={quoteattr(name)}/><{p}family val="1"/></{p}font>')
            self._font_cache[key] = self._add("fonts", xml)
        return self._font_cache[key]

    def bold_font_like(self, xf_index: int) -> int:
        """A bold copy of the xf's font; a Unicode font if the original is a legacy one."""
        font = self.font_of(xf_index)
        name = _attr(re.search(r"<%sname\b[^>]*>" % self.p, font).group(0), "val") if re.search(
            r"<%sname\b[^>]*>" % self.p, font) else ""
        if not name or name.lower().startswith((".vn", "vni")):
            return self.font(bold=True)
        key = ("copy-bold", font)
        if key not in self._font_cache:
            if re.search(r"<%sb(\s*/>|\s+val=\"(1|true)\")" % self.p, font):
                xml = font
            else:
                xml = re.sub(r"<%sb\b[^>]*/>" % self.p, "", font)
                xml = re.sub(r"(<%sfont\b[^>]*?)(/?)>" % self.p,
                             lambda m: m.group(1) + ">" + f"<{self.p}b/>" + ("</%sfont>" % self.p if m.group(2) else ""),
                             xml, count=1)
            self._font_cache[key] = self._add("fonts", xml)
        return self._font_cache[key]

    def derived_xf(self, base: int, fill_id: int | None = None, font_id: int | None = None,
                   wrap: bool | None = None, num_fmt: int | None = None) -> int:
        key = (base, fill_id, font_id, wrap, num_fmt)
        if key in self._xf_cache:
            return self._xf_cache[key]
        xf = self.xf(base)
        start = re.match(r"<%sxf\b[^>]*?/?>" % self.p, xf).group(0)
        rest = xf[len(start):]
        tag = start
        if fill_id is not None:
            tag = _set_attr(_set_attr(tag, "fillId", str(fill_id)), "applyFill", "1")
        if font_id is not None:
            tag = _set_attr(_set_attr(tag, "fontId", str(font_id)), "applyFont", "1")
        if num_fmt is not None:
            tag = _set_attr(_set_attr(tag, "numFmtId", str(num_fmt)), "applyNumberFormat", "1")
        if wrap is not None:
            if start.endswith("/>"):
                tag = tag[:-2] + ">"
                rest = f"</{self.p}xf>"
            align = f'<{self.p}alignment horizontal="center" vertical="center" wrapText="{1 if wrap else 0}"/>'
            if re.search(r"<%salignment\b" % self.p, rest):
                rest = re.sub(r"<%salignment\b[^>]*?/>" % self.p,
                              lambda m: _set_attr(m.group(0), "wrapText", "1" if wrap else "0"), rest, count=1)
            else:
                rest = align + rest
            tag = _set_attr(tag, "applyAlignment", "1")
        idx = self._add("cellXfs", tag + rest)
        self._xf_cache[key] = idx
        return idx

    def plain_xf(self, font_id: int, fill_id: int = 0, wrap=False, border_id: int = 0) -> int:
        key = ("plain", font_id, fill_id, wrap, border_id)
        if key not in self._xf_cache:
            p = self.p
            xml = (f'<{p}xf numFmtId="0" fontId="{font_id}" fillId="{fill_id}" borderId="{border_id}" xfId="0"'
                   f' applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1">'
                   f'<{p}alignment vertical="top" wrapText="{1 if wrap else 0}"/></{p}xf>')
            self._xf_cache[key] = self._add("cellXfs", xml)
        return self._xf_cache[key]

    def thin_border(self) -> int:
        if not hasattr(self, "_thin"):
            p = self.p
            side = lambda s: f'<{p}{s} style="thin"><{p}color indexed="64"/></{p}{s}>'
            self._thin = self._add("borders", f"<{p}border>{side('left')}{side('right')}{side('top')}"
                                              f"{side('bottom')}<{p}diagonal/></{p}border>")
        return self._thin

    def stale_xfs(self, colors: set[str]) -> dict[int, int]:
        """Existing cell formats whose fill is one of ours (an earlier annotation) → the same
        format without that fill."""
        ours = set()
        for i, f in enumerate(self.sections["fills"]):
            m = re.search(r"<%sfgColor\b[^>]*\srgb=\"([0-9A-Fa-f]{6,8})\"" % self.p, f)
            if m and "solid" in f and m.group(1).upper()[-6:] in {c.upper() for c in colors}:
                ours.add(i)
        if not ours:
            return {}
        out: dict[int, int] = {}
        for i, xf in enumerate(self.sections["cellXfs"]):
            if int(_attr(xf, "fillId") or 0) in ours:
                out[i] = self.derived_xf(i, fill_id=0)
        return out

    def render(self) -> bytes:
        xml = self.xml
        for sec in ("fonts", "fills", "borders", "cellXfs"):
            if not self.added[sec]:
                continue
            children = self.sections[sec] + self.added[sec]
            rx = self._section_re(sec)
            m = rx.search(xml)
            start = f"<{self.p}{sec}{m.group(1)}>"
            start = _set_attr(start, "count", str(len(children)))
            body = (m.group(3) or "") + "".join(self.added[sec])
            xml = xml[:m.start()] + start + body + f"</{self.p}{sec}>" + xml[m.end():]
        return xml.encode("utf-8")


# ---------------------------------------------------------------------------- worksheet stream


_RX_R_ATTR = re.compile(rb"\sr\s*=\s*[\"'](\d+)[\"']")
_RX_CELL_REF = re.compile(rb"\sr\s*=\s*[\"']\$?([A-Z]{1,3})\$?\d+[\"']")
_RX_S_ATTR = re.compile(rb"\ss\s*=\s*[\"'](\d+)[\"']")
_RX_SPANS = re.compile(rb"\sspans\s*=\s*[\"'][^\"']*[\"']")


class _Out:
    """Batches small writes into ~1 MB ones (a zip stream compresses per write call)."""

    def __init__(self, dst):
        self.dst = dst
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, b: bytes) -> None:
        self.parts.append(b)
        self.size += len(b)
        if self.size >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.dst.write(b"".join(self.parts))
            self.parts, self.size = [], 0


class _SheetRewriter:
    """Streams one worksheet part, rewriting the rows named in the plan."""

    def __init__(self, plan: SheetPlan, styles: Styles, fill_ids: dict[str, int], loi_xf: int,
                 loi_head_xf_base: int | None, legacy_rid: str | None):
        self.plan = plan
        self.styles = styles
        self.fill_ids = fill_ids
        self.loi_xf = loi_xf
        self.legacy_rid = legacy_rid
        self.loi_head_xf: int | None = None
        self.loi_head_base = loi_head_xf_base
        self.col_styles: list[tuple[int, int, int]] = []  # (min, max, style) 1-based
        self.wanted = set(plan.fills) | set(plan.loi_text) | set(plan.header_rows)
        self.pending = sorted(self.wanted)
        self.next_i = 0  # index of the next pending row not yet written
        self.max_row = 0
        self.loi_letter = column_letter(plan.loi_col)
        self.header_set = set(plan.header_rows)
        self._col_cache: dict[bytes, int] = {}

    def set_cleanup(self, stale: dict[int, int], loi_reused: bool) -> None:
        """Undo an earlier annotation: our fills (xf → clean xf) and old "Lỗi" texts."""
        self.stale = stale
        self.loi_reused = loi_reused
        self.rx_stale = re.compile(rb"\ss=\"(%s)\"" % b"|".join(str(k).encode() for k in stale)) if stale else None

    stale: dict[int, int] = {}
    loi_reused = False
    rx_stale = None

    def _needs_cleanup(self, r: int, body: bytes) -> bool:
        if self.rx_stale is not None and self.rx_stale.search(body):
            return True
        return self.loi_reused and (b'r="%s%d"' % (self.loi_letter.encode(), r)) in body

    # -- regexes depend on the prefix, built once the head is known
    def _compile(self, p: str) -> None:
        self.p = p.encode()
        pb = self.p
        self.rx_row = re.compile(rb"<%srow\b([^>]*?)(?:/>|>.*?</%srow>)" % (pb, pb), re.S)
        self.rx_cell = re.compile(rb"<%sc\b([^>]*?)(?:/>|>.*?</%sc>)" % (pb, pb), re.S)
        self.rx_end = re.compile(rb"\s*</%ssheetData>" % pb)
        self.row_close = b"</%srow>" % pb
        self._cell_open = b'<%sc r="' % pb
        self._cell_any = b"<%sc" % pb
        self._rx_cell_col = re.compile(rb'<%sc r="([A-Z]{1,3})\d' % pb)
        self._ps = p
        self._letters: dict[int, bytes] = {}
        self._fast_xf: dict[tuple[int, str], bytes] = {}
        self._row_open = b"<%srow" % pb

    def run(self, src, dst) -> None:
        head = b""
        while True:
            chunk = src.read(CHUNK)
            if not chunk:
                raise Unsupported("worksheet without sheetData")
            head += chunk
            m = re.search(rb"<(\w+:)?sheetData\b[^>]*?(/?)>", head)
            if m:
                break
        if m.group(2):
            raise Unsupported("empty sheetData")
        p = (m.group(1) or b"").decode()
        self._compile(p)
        out = _Out(dst)
        out.write(self._patch_head(head[:m.start()].decode("utf-8"), p).encode("utf-8"))
        out.write(head[m.start():m.end()])
        buf = head[m.end():]
        eof = False
        wanted = self.wanted
        rx_r = _RX_R_ATTR
        row_open = self._row_open
        row_close = self.row_close
        lo, lc = len(row_open), len(row_close)
        while True:
            copied = 0  # buf[:copied] is written
            pos = 0
            while True:
                i = buf.find(row_open, pos)
                if i < 0:
                    break
                gt = buf.find(b">", i)
                if gt < 0:
                    break
                if buf[i + lo] not in b" \t\r\n/>":
                    raise Unsupported("unexpected element in sheetData")
                if buf[gt - 1] == 47:  # "/>"
                    end = gt + 1
                else:
                    j = buf.find(row_close, gt)
                    if j < 0:
                        break
                    end = j + lc
                if buf[pos:i].strip():
                    raise Unsupported("unexpected content between rows")
                mm = rx_r.search(buf, i, gt)
                r = int(mm.group(1)) if mm else self.max_row + 1
                if r <= self.max_row:
                    raise Unsupported("rows out of order")
                self.max_row = r
                pos = end
                pend = self.pending
                if self.next_i < len(pend) and pend[self.next_i] <= r:
                    out.write(buf[copied:i])
                    while pend[self.next_i] < r:
                        out.write(self._synthetic_row(pend[self.next_i]))
                        self.next_i += 1
                    body = buf[i:end]
                    if r in wanted:
                        self.next_i += 1
                        out.write(self._rewrite_row(r, body, buf[i + lo:gt]))
                    else:
                        out.write(body)
                    copied = pos
                elif (self.rx_stale is not None or self.loi_reused) and self._needs_cleanup(r, buf[i:end]):
                    out.write(buf[copied:i])
                    out.write(self._rewrite_row_full(r, buf[i:end], buf[i + lo:gt]))
                    copied = pos
            out.write(buf[copied:pos])
            me = self.rx_end.match(buf, pos)
            if me:
                for r in self.pending[self.next_i:]:
                    out.write(self._synthetic_row(r))
                self.max_row = max([self.max_row, *self.pending[self.next_i:]])
                self.next_i = len(self.pending)
                out.write(buf[pos:me.end()])
                tail = buf[me.end():] + src.read()
                out.write(self._patch_tail(tail.decode("utf-8")).encode("utf-8"))
                out.flush()
                return
            if eof:
                raise Unsupported("unexpected content in sheetData")
            chunk = src.read(CHUNK)
            if not chunk:
                eof = True
            buf = buf[pos:] + chunk

    # -- rows
    def _col(self, letters: bytes) -> int:
        c = self._col_cache.get(letters)
        if c is None:
            c = self._col_cache[letters] = col_index(letters.decode())
        return c

    def _cell_base_style(self, col1: int, row_style: int | None) -> int:
        if row_style is not None:
            return row_style
        for lo, hi, s in self.col_styles:
            if lo <= col1 <= hi:
                return s
        return 0

    def _rewrite_row(self, r: int, body: bytes, attrs: bytes) -> bytes:
        fast = self._rewrite_row_fast(r, body)
        return fast if fast is not None else self._rewrite_row_full(r, body, attrs)

    def _rewrite_row_fast(self, r: int, body: bytes) -> bytes | None:
        """The common case: every cell written as <c r="A1" ...>, marked cells present, the
        "Lỗi" column after the row's last cell. Touches only the marked cells' start tags."""
        if r in self.header_set or not body.endswith(self.row_close):
            return None
        if (self.rx_stale is not None or self.loi_reused) and self._needs_cleanup(r, body):
            return None
        p = self.p
        edits: list[tuple[int, int, bytes]] = []
        letters = self._letters
        fill_ids = self.fill_ids
        xf_cache = self._fast_xf
        for c, kind in self.plan.fills.get(r, {}).items():
            lb = letters.get(c)
            if lb is None:
                lb = letters[c] = column_letter(c).encode()
            i = body.find(b'<%sc r="%s%d"' % (p, lb, r))
            if i < 0:
                return None
            j = body.index(b">", i)
            ms = _RX_S_ATTR.search(body, i, j)
            key = (int(ms.group(1)) if ms else 0, kind)
            new = xf_cache.get(key)
            if new is None:
                new = xf_cache[key] = str(self.styles.derived_xf(key[0], fill_id=fill_ids[kind])).encode()
            if ms:
                edits.append((ms.start(1), ms.end(1), new))
            else:
                at = j - 1 if body[j - 1] == 47 else j  # before "/>" or ">"
                edits.append((at, at, b' s="' + new + b'"'))
        tail_at = len(body) - len(self.row_close)
        text = self.plan.loi_text.get(r)
        if text is not None:
            k = body.rfind(self._cell_open)
            if k >= 0:
                m = self._rx_cell_col.match(body, k)
                if not m or self._col(m.group(1)) >= self.plan.loi_col:
                    return None
            elif self._cell_any in body:
                return None
            edits.append((tail_at, tail_at, _inline_cell(self._ps, f"{self.loi_letter}{r}", self.loi_xf,
                                                         text).encode("utf-8")))
        edits.sort()
        out, last = [], 0
        for i, j, rep in edits:
            out.append(body[last:i])
            out.append(rep)
            last = j
        out.append(body[last:])
        res = b"".join(out)
        k = res.index(b">")
        if b"spans" in res[:k]:
            return _RX_SPANS.sub(b"", res[:k + 1]) + res[k + 1:]
        return res

    def _rewrite_row_full(self, r: int, body: bytes, attrs: bytes) -> bytes:
        p = self.p
        self_closing = not body.endswith(self.row_close)
        start_len = body.index(b">") + 1
        inner = b"" if self_closing else body[start_len:-len(self.row_close)]
        row_style = None
        if re.search(rb"\scustomFormat\s*=\s*[\"'](1|true)", attrs):
            ms = _RX_S_ATTR.search(attrs)
            row_style = int(ms.group(1)) if ms else None
        cells: dict[int, bytes] = {}
        col = -1
        leftover_parts = []
        last = 0
        for m in self.rx_cell.finditer(inner):
            if inner[last:m.start()].strip():
                leftover_parts.append(inner[last:m.start()])
            last = m.end()
            mref = _RX_CELL_REF.search(m.group(1))
            raw = m.group(0)
            if mref:
                col = self._col(mref.group(1))
            else:
                col += 1
                raw = _set_attr_b(raw, b"r", b"%s%d" % (column_letter(col).encode(), r))
            cells[col] = raw
        if inner[last:].strip():
            leftover_parts.append(inner[last:])
        if self.stale:
            marked = self.plan.fills.get(r, {})
            for c, raw in list(cells.items()):
                if c in marked:
                    continue
                ms = _RX_S_ATTR.search(raw, 0, raw.index(b">"))
                if ms and int(ms.group(1)) in self.stale:
                    cells[c] = _set_attr_b(raw, b"s", str(self.stale[int(ms.group(1))]).encode())
        if self.loi_reused and r not in self.header_set and r not in self.plan.loi_text:
            cells.pop(self.plan.loi_col, None)
        for c, kind in self.plan.fills.get(r, {}).items():
            raw = cells.get(c)
            if raw is None:
                base = self._cell_base_style(c + 1, row_style)
                raw = b'<%sc r="%s%d"/>' % (p, column_letter(c).encode(), r)
            else:
                ms = _RX_S_ATTR.search(raw, 0, raw.index(b">"))
                base = int(ms.group(1)) if ms else 0
            new = self.styles.derived_xf(base, fill_id=self.fill_ids[kind])
            cells[c] = _set_attr_b(raw, b"s", str(new).encode())
        lc = self.plan.loi_col
        ps = p.decode()
        if r in self.header_set:
            if self.loi_head_xf is None:
                left = cells.get(lc - 1)
                base = self.loi_head_base or 0
                if left is not None:
                    ms = _RX_S_ATTR.search(left, 0, left.index(b">"))
                    base = int(ms.group(1)) if ms else 0
                self.loi_head_xf = self.styles.derived_xf(
                    base, font_id=self.styles.bold_font_like(base), wrap=True)
            text = self.plan.loi_header if r == self.plan.header_rows[0] else ""
            cells[lc] = _inline_cell(ps, f"{self.loi_letter}{r}", self.loi_head_xf, text).encode("utf-8")
        elif r in self.plan.loi_text:
            cells[lc] = _inline_cell(ps, f"{self.loi_letter}{r}", self.loi_xf,
                                     self.plan.loi_text[r]).encode("utf-8")
        tag = _RX_SPANS.sub(b"", body[:start_len])
        if self_closing:
            tag = tag[:-2].rstrip() + b">"
        return b"".join([tag, *(cells[c] for c in sorted(cells)), *leftover_parts, self.row_close])

    def _synthetic_row(self, r: int) -> bytes:
        p = self.p
        body = b'<%srow r="%d"/>' % (p, r)
        return self._rewrite_row(r, body, b' r="%d"' % r)

    # -- head and tail
    def _patch_head(self, head: str, p: str) -> str:
        for m in re.finditer(r"<%scol\b[^>]*>" % p, head):
            t = m.group(0)
            if _attr(t, "style"):
                self.col_styles.append((int(_attr(t, "min") or 0), int(_attr(t, "max") or 0),
                                        int(_attr(t, "style"))))
        head = re.sub(r"<%ssheetView\b[^>]*>" % p, lambda m: _del_attr(m.group(0), "tabSelected"), head)
        max_row = max([*self.plan.fills, *self.plan.loi_text, *self.plan.header_rows, 1])
        loi1 = self.plan.loi_col + 1

        def dim(m):
            ref = _attr(m.group(0), "ref") or "A1"
            parts = ref.split(":")
            a = re.match(r"([A-Z]+)(\d+)", parts[0])
            b = re.match(r"([A-Z]+)(\d+)", parts[-1])
            if not a or not b:
                return m.group(0)
            c2 = max(col_index(b.group(1)) + 1, loi1)
            r2 = max(int(b.group(2)), max_row)
            return _set_attr(m.group(0), "ref", f"{a.group(1)}{a.group(2)}:{column_letter(c2 - 1)}{r2}")
        head = re.sub(r"<%sdimension\b[^>]*>" % p, dim, head, count=1)
        new_col = f'<{p}col min="{loi1}" max="{loi1}" width="60" customWidth="1"/>'
        mc = re.search(r"<%scols\b[^>]*>(.*?)</%scols>" % (p, p), head, re.S)
        if not mc:
            return head + f"<{p}cols>{new_col}</{p}cols>"
        covered = False
        insert_at = mc.end(1)
        for m in re.finditer(r"<%scol\b[^>]*>" % p, mc.group(1)):
            lo, hi = int(_attr(m.group(0), "min") or 0), int(_attr(m.group(0), "max") or 0)
            if lo <= loi1 <= hi:
                covered = True
                break
            if lo > loi1:
                insert_at = mc.start(1) + m.start()
                break
        if covered:
            return head
        return head[:insert_at] + new_col + head[insert_at:]

    def _patch_tail(self, tail: str) -> str:
        p = self.p.decode()
        hr = self.plan.header_rows
        if len(hr) > 1 and hr == list(range(hr[0], hr[-1] + 1)):
            ref = f"{self.loi_letter}{hr[0]}:{self.loi_letter}{hr[-1]}"
            c = self.plan.loi_col
            overlap = False
            for m in re.finditer(r"<%smergeCell\b[^>]*>" % p, tail):
                rr = _attr(m.group(0), "ref") or ""
                mm = re.match(r"([A-Z]+)(\d+):([A-Z]+)(\d+)$", rr)
                if mm and col_index(mm.group(1)) <= c <= col_index(mm.group(3)) \
                        and int(mm.group(2)) <= hr[-1] and int(mm.group(4)) >= hr[0]:
                    overlap = True
            if not overlap:
                mc = re.search(r"<%smergeCells\b[^>]*?(/?)>" % p, tail)
                cell = f'<{p}mergeCell ref="{ref}"/>'
                if mc and not mc.group(1):
                    n = len(re.findall(r"<%smergeCell\b" % p, tail)) + 1
                    tag = _set_attr(mc.group(0), "count", str(n))
                    tail = tail[:mc.start()] + tag + cell + tail[mc.end():]
                else:
                    if mc:  # <mergeCells/>
                        tail = tail[:mc.start()] + tail[mc.end():]
                    tail = _insert_before(tail, p, _AFTER_MERGE, f'<{p}mergeCells count="1">{cell}</{p}mergeCells>')
        if self.legacy_rid:
            tail = _insert_before(tail, p, _AFTER_LEGACY,
                                  f'<{p}legacyDrawing xmlns:r="{NS_REL}" r:id="{self.legacy_rid}"/>')
        return tail


# elements that follow mergeCells / legacyDrawing in CT_Worksheet
_AFTER_MERGE = ("phoneticPr", "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions",
                "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks", "customProperties",
                "cellWatches", "ignoredErrors", "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF",
                "drawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts", "extLst")
_AFTER_LEGACY = ("legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
                 "tableParts", "extLst")


def _insert_before(tail: str, p: str, names: tuple[str, ...], xml: str) -> str:
    best = None
    for n in names:
        m = re.search(r"<%s%s[\s/>]" % (p, n), tail)
        if m and (best is None or m.start() < best):
            best = m.start()
    if best is None:
        best = tail.rindex(f"</{p}worksheet>")
    return tail[:best] + xml + tail[best:]


_ATTR_RX_B: dict[bytes, re.Pattern] = {}


def _set_attr_b(raw: bytes, name: bytes, value: bytes) -> bytes:
    """Set an attribute on the start tag at the beginning of an element given as bytes."""
    end = raw.index(b">")
    tag, rest = raw[:end + 1], raw[end + 1:]
    rx = _ATTR_RX_B.get(name)
    if rx is None:
        rx = _ATTR_RX_B[name] = re.compile(rb"(\s%s\s*=\s*)([\"'])(.*?)\2" % name, re.S)
    if rx.search(tag):
        tag = rx.sub(lambda m: m.group(1) + b'"' + value + b'"', tag, count=1)
    else:
        cut = len(tag) - (2 if tag.endswith(b"/>") else 1)
        tag = tag[:cut] + b" " + name + b'="' + value + b'"' + tag[cut:]
    return tag + rest


def _inline_cell(p: str, ref: str, s: int, text: str) -> str:
    if not text:
        return f'<{p}c r="{ref}" s="{s}"/>'
    text = text[:32000]
    return (f'<{p}c r="{ref}" s="{s}" t="inlineStr"><{p}is><{p}t xml:space="preserve">'
            f"{xml_text(text)}</{p}t></{p}is></{p}c>")


# ---------------------------------------------------------------------------- comments + VML


def _comments_xml(comments: list[tuple[int, int, str]], author: str) -> Iterator[str]:
    yield (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<comments xmlns="{NS_MAIN}">'
           f"<authors><author>{xml_text(author)}</author></authors><commentList>")
    for r, c, text in comments:
        yield (f'<comment ref="{column_letter(c)}{r}" authorId="0"><text><r><rPr><sz val="9"/>'
               f'<rFont val="Tahoma"/><family val="2"/></rPr><t xml:space="preserve">{xml_text(text)}</t>'
               f"</r></text></comment>")
    yield "</commentList></comments>"


def _vml_xml(comments: list[tuple[int, int, str]]) -> Iterator[str]:
    yield ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
           ' xmlns:x="urn:schemas-microsoft-com:office:excel">'
           '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout>'
           '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
           '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')
    for i, (r, c, text) in enumerate(comments):
        lines = text.count("\n") + 1 + len(text) // 45
        height = min(60 + 15 * lines, 400)
        yield (f'<v:shape id="_x0000_s{1026 + i}" type="#_x0000_t202" style="position:absolute;'
               f"margin-left:59.25pt;margin-top:1.5pt;width:240px;height:{height}px;z-index:1;"
               f'visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
               f'<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
               f'<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
               f'<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
               f"<x:AutoFill>False</x:AutoFill><x:Row>{r - 1}</x:Row><x:Column>{c}</x:Column>"
               f"</x:ClientData></v:shape>")
    yield "</xml>"


# ---------------------------------------------------------------------------- summary sheet


def _summary_sheet_xml(job: PatchJob, styles: Styles) -> bytes:
    thin = styles.thin_border()
    xf = {
        "title": styles.plain_xf(styles.font(bold=True, size=14)),
        "label": styles.plain_xf(styles.font(bold=True)),
        "head": styles.plain_xf(styles.font(bold=True), styles.fill("D9E1F2"), wrap=True, border_id=thin),
        "text": styles.plain_xf(styles.font()),
        "cell": styles.plain_xf(styles.font(), border_id=thin),
        "note": styles.plain_xf(styles.font(italic=True, color="9C0006")),
    }
    out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS_MAIN}"'
           f' xmlns:r="{NS_REL}"><sheetPr><tabColor rgb="FFC00000"/></sheetPr>']
    ncols = max([len(r) for r in job.summary_rows] + [1])
    out.append(f'<dimension ref="A1:{column_letter(ncols - 1)}{max(len(job.summary_rows), 1)}"/>')
    out.append('<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
               '<sheetFormatPr defaultRowHeight="15"/><cols>')
    for i, w in enumerate(job.summary_widths):
        out.append(f'<col min="{i + 1}" max="{i + 1}" width="{w:g}" customWidth="1"/>')
    out.append("</cols><sheetData>")
    for ri, row in enumerate(job.summary_rows, 1):
        out.append(f'<row r="{ri}">')
        for ci, cell in enumerate(row):
            if cell is None or cell.value is None:
                continue
            ref = f"{column_letter(ci)}{ri}"
            s = xf.get(cell.style, xf["text"])
            v = cell.value
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                out.append(_inline_cell("", ref, s, str(v)))
            else:
                out.append(f'<c r="{ref}" s="{s}"><v>{v}</v></c>')
        out.append("</row>")
    out.append('</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3"'
               ' footer="0.3"/><pageSetup orientation="landscape"/></worksheet>')
    return "".join(out).encode("utf-8")


# ---------------------------------------------------------------------------- the package


def patch(src: str, out: str, job: PatchJob, compresslevel: int = 1) -> None:
    with zipfile.ZipFile(src) as zin:
        _Patcher(zin, job).write(out, compresslevel)


class _Patcher:
    def __init__(self, zin: zipfile.ZipFile, job: PatchJob):
        self.zin = zin
        self.job = job
        names = set(zin.namelist())
        self.names = names
        if "[Content_Types].xml" not in names:
            raise Unsupported("no content types")
        root_rels = _read_rels(zin, "_rels/.rels")
        wb = [r["Target"] for r in root_rels if r.get("Type") == RT_OFFICE_DOC]
        if not wb:
            raise Unsupported("no workbook part")
        self.wb_part = _resolve("", wb[0])
        self.wb_rels_part = _rels_path(self.wb_part)
        self.wb_rels = _read_rels(zin, self.wb_rels_part)
        self.wb_xml = zin.read(self.wb_part).decode("utf-8")
        styles = [r for r in self.wb_rels if r.get("Type", "").endswith("/styles")]
        if not styles:
            raise Unsupported("no styles part")
        self.styles_part = _resolve(self.wb_part, styles[0]["Target"])
        self.styles = Styles(zin.read(self.styles_part).decode("utf-8"))
        self.ct_xml = zin.read("[Content_Types].xml").decode("utf-8")
        self.wp = _prefix(self.wb_xml[:3000], "workbook")

        rid_target = {r["Id"]: r for r in self.wb_rels}
        # sheets in tab order: (start tag, name, rId, part)
        self.sheets = []
        for m in re.finditer(r"<%ssheet\b[^>]*>" % self.wp, self.wb_xml):
            tag = m.group(0)
            name = _unescape_attr(_attr(tag, "name") or "")
            rid = next((v for k, v in re.findall(r"\s([\w]+:id)\s*=\s*\"([^\"]*)\"", tag)), None)
            rel = rid_target.get(rid or "")
            part = _resolve(self.wb_part, rel["Target"]) if rel else None
            kind = rel.get("Type", "") if rel else ""
            self.sheets.append((m, name, rid, part, kind))
        if not self.sheets:
            raise Unsupported("no sheets")
        self.form_part = None
        if job.sheet_name is not None:
            hit = [s for s in self.sheets if s[1] == job.sheet_name and s[4] == RT_WORKSHEET]
            if not hit or hit[0][3] not in names:
                raise Unsupported("form sheet not found")
            self.form_part = hit[0][3]
        self.drop = [s for s in self.sheets if s[1] == job.summary_name and s[3] != self.form_part]

    def _own_comment_parts(self, sheet_rels: list[dict]) -> tuple[str, str] | None:
        """(comments, vml) parts if the sheet has comments written only by us, else None;
        Unsupported if it has anybody else's comments or other VML (form controls)."""
        com = [r for r in sheet_rels if r.get("Type") == RT_COMMENTS]
        vml = [r for r in sheet_rels if r.get("Type") == RT_VML]
        if not com and not vml:
            return None
        if len(com) != 1 or len(vml) != 1:
            raise Unsupported("comments without VML or several")
        cpart = _resolve(self.form_part, com[0]["Target"])
        vpart = _resolve(self.form_part, vml[0]["Target"])
        if cpart not in self.names or vpart not in self.names:
            raise Unsupported("missing comment parts")
        head = self.zin.open(cpart).read(4096).decode("utf-8", "replace")
        authors = re.findall(r"<(?:\w+:)?author>(.*?)</(?:\w+:)?author>", head, re.S)
        if not authors or set(authors) != {self.job.comment_author} or "</authors>" not in head.replace("x:", ""):
            raise Unsupported("the sheet has comments by others")
        shapes = notes = 0
        with self.zin.open(vpart) as fh:
            tail = b""
            while True:
                chunk = fh.read(CHUNK)
                if not chunk:
                    break
                data = tail + chunk
                cut = max(0, len(data) - 40)
                shapes += data[:cut].count(b"<v:shape ")
                notes += data[:cut].count(b'ObjectType="Note"')
                tail = data[cut:]
            shapes += tail.count(b"<v:shape ")
            notes += tail.count(b'ObjectType="Note"')
        if shapes != notes:
            raise Unsupported("VML with other shapes")
        return cpart, vpart

    # ------------------------------------------------------------------ workbook.xml
    def _patch_workbook(self, new_rid: str) -> bytes:
        xml = self.wb_xml
        p = self.wp
        old_order = [s[1] for s in self.sheets]
        dropped = {s[1] for s in self.drop}
        new_order = [self.job.summary_name] + [n for n in old_order if n not in dropped]
        index_map = {i: new_order.index(n) for i, n in enumerate(old_order) if n not in dropped}
        # remove dropped sheet elements (from the end to keep offsets valid)
        for m, *_ in sorted(self.drop, key=lambda s: -s[0].start()):
            xml = xml[:m.start()] + xml[m.end():]
        ids = [int(x) for x in re.findall(r"<%ssheet\b[^>]*?\ssheetId=\"(\d+)\"" % p, xml)]
        rprefix = re.search(r'xmlns:(\w+)="%s"' % re.escape(NS_REL), xml[:3000])
        if rprefix:
            ridattr = f'{rprefix.group(1)}:id="{new_rid}"'
        else:
            ridattr = f'xmlns:r="{NS_REL}" r:id="{new_rid}"'
        new_sheet = f'<{p}sheet name={quoteattr(self.job.summary_name)} sheetId="{max(ids + [0]) + 1}" {ridattr}/>'
        xml = re.sub(r"<%ssheets\b[^>]*>" % p, lambda m: m.group(0) + new_sheet, xml, count=1)

        def local(m):
            old = int(m.group(2))
            if old in index_map:
                return f'{m.group(1)}"{index_map[old]}"'
            return m.group(0)
        # defined names: drop those local to a dropped sheet, shift the others
        if dropped:
            drop_idx = {i for i, n in enumerate(old_order) if n in dropped}
            xml = re.sub(r"<%sdefinedName\b[^>]*?localSheetId=\"(\d+)\"[^>]*>.*?</%sdefinedName>" % (p, p),
                         lambda m: "" if int(m.group(1)) in drop_idx else m.group(0), xml, flags=re.S)
        xml = re.sub(r"(\slocalSheetId\s*=\s*)\"(\d+)\"", local, xml)
        xml = re.sub(r"<%sworkbookView\b[^>]*>" % p,
                     lambda m: _set_attr(_set_attr(m.group(0), "activeTab", "0"), "firstSheet", "0"), xml)
        return xml.encode("utf-8")

    def _patch_content_types(self, extra: list[tuple[str, str]], removed: set[str], need_vml: bool) -> bytes:
        xml = self.ct_xml
        for part in removed:
            xml = re.sub(r"<(\w+:)?Override\b[^>]*PartName=\"/%s\"[^>]*/>" % re.escape(part), "", xml)
        add = "".join(f'<Override PartName="/{p}" ContentType="{ct}"/>' for p, ct in extra)
        if need_vml and not re.search(r'Extension="vml"', xml, re.I):
            add = f'<Default Extension="vml" ContentType="{CT_VML}"/>' + add
        i = xml.rindex("</")
        return (xml[:i] + add + xml[i:]).encode("utf-8")

    # ------------------------------------------------------------------ write
    def write(self, out: str, compresslevel: int) -> None:
        job = self.job
        zin = self.zin
        names = self.names
        new_sheet_part = _unique(names, "xl/worksheets/sheet{}.xml")
        existing_ids = {r["Id"] for r in self.wb_rels}
        new_rid = _unique(existing_ids, "rIdVax{}")
        dropped_parts = {s[3] for s in self.drop if s[3]}
        dropped_rids = {s[2] for s in self.drop}
        wb_rels = [r for r in self.wb_rels if r["Id"] not in dropped_rids]
        wb_rels.append({"Id": new_rid, "Type": RT_WORKSHEET,
                        "Target": _relative(self.wb_part, new_sheet_part)})
        overrides = [(new_sheet_part, CT_WORKSHEET)]
        removed_parts = set(dropped_parts) | {_rels_path(p) for p in dropped_parts}

        plan = job.plan
        rewritten: set[str] = set()
        form_rels_part = sheet_rels = None
        comments_part = vml_part = legacy_rid = None
        if self.form_part and plan is not None:
            form_rels_part = _rels_path(self.form_part)
            sheet_rels = _read_rels(zin, form_rels_part)
            old_parts = self._own_comment_parts(sheet_rels)
            if old_parts:  # our earlier annotation, sent back: rewrite those parts in place
                comments_part, vml_part = old_parts
                rewritten |= {comments_part, vml_part}
            elif plan.comments:
                comments_part = _unique(names, "xl/comments{}.xml")
                vml_part = _unique(names, "xl/drawings/vmlDrawing{}.vml")
                ids = {r["Id"] for r in sheet_rels}
                c_rid = _unique(ids, "rIdVax{}")
                legacy_rid = _unique(ids | {c_rid}, "rIdVax{}")
                sheet_rels.append({"Id": c_rid, "Type": RT_COMMENTS,
                                   "Target": _relative(self.form_part, comments_part)})
                sheet_rels.append({"Id": legacy_rid, "Type": RT_VML,
                                   "Target": _relative(self.form_part, vml_part)})
                overrides.append((comments_part, CT_COMMENTS))

        styles = self.styles
        rewriter = None
        if self.form_part and plan is not None:
            fill_ids = {k: styles.fill(v) for k, v in job.fill_colors.items()}
            loi_xf = styles.plain_xf(styles.font(color=job.loi_font_color), wrap=False)
            rewriter = _SheetRewriter(plan, styles, fill_ids, loi_xf, 0, legacy_rid)
            rewriter.set_cleanup(styles.stale_xfs(set(job.fill_colors.values())), job.extra.get("loi_reused", False))
        summary_xml = _summary_sheet_xml(job, styles)  # adds its styles too

        other_sheets = {s[3] for s in self.sheets if s[4] == RT_WORKSHEET} - {self.form_part} - dropped_parts
        written: set[str] = set()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zout:
            def put(name: str, data: bytes | Iterator[str]):
                zi = zipfile.ZipInfo(name, date_time=(2021, 8, 24, 0, 0, 0))
                zi.compress_type = zipfile.ZIP_DEFLATED
                with zout.open(zi, "w", force_zip64=True) as fh:
                    if isinstance(data, bytes):
                        fh.write(data)
                    else:
                        buf = []
                        size = 0
                        for s in data:
                            buf.append(s)
                            size += len(s)
                            if size > CHUNK:
                                fh.write("".join(buf).encode("utf-8"))
                                buf, size = [], 0
                        fh.write("".join(buf).encode("utf-8"))
                written.add(name)

            for info in zin.infolist():
                name = info.filename
                if name in removed_parts or name in rewritten or info.is_dir():
                    continue
                if name == "[Content_Types].xml":
                    put(name, self._patch_content_types(overrides, dropped_parts, vml_part is not None))
                elif name == self.wb_part:
                    put(name, self._patch_workbook(new_rid))
                elif name == self.wb_rels_part:
                    put(name, _rels_xml(wb_rels))
                elif name == self.styles_part:
                    continue  # written last, once every new style is known
                elif name == form_rels_part:
                    put(name, _rels_xml(sheet_rels))
                elif name == self.form_part and rewriter is not None:
                    zi = zipfile.ZipInfo(name, date_time=info.date_time)
                    zi.compress_type = zipfile.ZIP_DEFLATED
                    with zin.open(info) as fsrc, zout.open(zi, "w", force_zip64=True) as fdst:
                        rewriter.run(fsrc, fdst)
                    written.add(name)
                elif name in other_sheets:
                    zi = zipfile.ZipInfo(name, date_time=info.date_time)
                    zi.compress_type = zipfile.ZIP_DEFLATED
                    with zin.open(info) as fsrc, zout.open(zi, "w", force_zip64=True) as fdst:
                        _copy_unselected(fsrc, fdst)
                    written.add(name)
                else:
                    zi = zipfile.ZipInfo(name, date_time=info.date_time)
                    zi.compress_type = zipfile.ZIP_DEFLATED
                    zi.external_attr = info.external_attr
                    with zin.open(info) as fsrc, zout.open(zi, "w", force_zip64=True) as fdst:
                        shutil.copyfileobj(fsrc, fdst, CHUNK)
                    written.add(name)
            if form_rels_part and sheet_rels and form_rels_part not in written:
                put(form_rels_part, _rels_xml(sheet_rels))
            put(new_sheet_part, summary_xml)
            if comments_part and plan is not None:
                put(comments_part, _comments_xml(plan.comments, job.comment_author))
                put(vml_part, _vml_xml(plan.comments))
            put(self.styles_part, styles.render())


def _copy_unselected(src, dst) -> None:
    """Copy a worksheet part, clearing tabSelected in its head (the summary becomes active)."""
    head = b""
    while b"sheetData" not in head and len(head) < 8 * CHUNK:
        chunk = src.read(CHUNK)
        if not chunk:
            break
        head += chunk
    cut = head.find(b"<sheetData")
    if cut < 0:
        m = re.search(rb"<\w+:sheetData", head)
        cut = m.start() if m else len(head)
    top = re.sub(rb"(<(?:\w+:)?sheetView\b[^>]*?)\stabSelected\s*=\s*[\"'][^\"']*[\"']", rb"\1", head[:cut])
    dst.write(top)
    dst.write(head[cut:])
    shutil.copyfileobj(src, dst, CHUNK)
