"""Decide what a file really is, from its bytes, and refuse hostile files before parsing.

``sniff(path, max_bytes)`` returns the reader kind ("xlsx", "xlsm", "xlsb", "ods", "xls",
"csv", "html", "mhtml") or raises ``Unreadable`` with a stable code and one Vietnamese
sentence for the sender. Nothing here parses a spreadsheet: only the zip central
directory, the first bytes of XML parts and the OLE2 directory are looked at.
"""
from __future__ import annotations

import io
import os
import re
import zipfile

import xlrd.compdoc

from ...sniff import is_ole2, is_zip
from ...wording import catalogue_section, say
from ..model import Unreadable

# ---------------------------------------------------------------------------- limits

MAX_UNCOMPRESSED = 500_000_000  # sum of a zip's members once inflated
MAX_RATIO = 200  # inflated / compressed, per member …
RATIO_FLOOR = 5_000_000  # … for members that inflate beyond this (small ones are harmless)
MAX_MEMBERS = 10_000
XML_PROLOG_BYTES = 4096  # read XML parts' prologs in steps of this …
MAX_PROLOG = 1_000_000  # … up to this much before the root element
# What a reader may materialise. A list of people is a few dozen columns wide: a sheet whose
# used range (last row × last column holding a value) is larger than this is refused before
# any reader allocates its grid (readers hold the used range densely: one stray value at
# XFD20000 would mean 327 million cells).
MAX_GRID_CELLS = 8_000_000
MAX_SHARED_STRINGS = 4_000_000  # distinct texts of a workbook (200,000 rows × 20 texts)
MAX_STYLES = 100_000  # cell formats (Excel itself stops at 64,000)
SCAN_CHUNK = 1 << 22

# ---------------------------------------------------------------------------- messages

# The sentences live in mail_templates/messages.toml: [refusal] by code, [refusal-variant] by
# "code/variant" for a code whose usual sentence does not fit the case.
MESSAGES = catalogue_section("refusal")
VARIANTS = catalogue_section("refusal-variant")


def unreadable(code: str, variant: str | None = None, **fields) -> Unreadable:
    """The typed error for ``code``, its Vietnamese sentence filled in (thousands with dots)."""
    template = VARIANTS[f"{code}/{variant}"] if variant else MESSAGES[code]
    text = template.format(**fields)
    if "{limit:," in template:
        text = re.sub(r"(?<=\d),(?=\d{3})", ".", text)
    return Unreadable(code, text)


# ---------------------------------------------------------------------------- magic numbers

_OTHER = [  # (magic, what the sender sent: its [file-kind] key in messages.toml)
    (b"%PDF", "pdf"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"BM", None),  # too short to trust alone; checked with a size test below
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"RIFF", "media"),
    (b"Rar!", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"{\\rtf", "rtf"),
    (b"MZ", "program"),
    (b"\x7fELF", "program"),
]


def sniff(path: str, max_bytes: int) -> str:
    try:
        size = os.path.getsize(path)
    except OSError:
        raise unreadable("corrupt-file") from None
    if size == 0:
        raise unreadable("empty-file")
    if size > max_bytes:
        raise unreadable("too-large", limit=max(1, max_bytes // 1_000_000))
    with open(path, "rb") as fh:
        head = fh.read(8192)

    if is_zip(head):
        return _zip_kind(path)
    if is_ole2(head):
        return _ole2_kind(path)
    for magic, what in _OTHER:
        if head.startswith(magic):
            if what is None:  # "BM" bitmap: trust it only with a plausible header size
                if len(head) >= 14 and int.from_bytes(head[2:6], "little") == size:
                    raise unreadable("unsupported-type", what=say("file-kind.bmp"))
                continue
            raise unreadable("unsupported-type", what=say(f"file-kind.{what}"))
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1") or head[4:8] == b"ftyp":
        raise unreadable("unsupported-type", what=say("file-kind.image-or-video"))
    return _text_kind(head)


# ---------------------------------------------------------------------------- zip containers


def _zip_kind(path: str) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if any(i.flag_bits & 0x1 for i in infos):
                raise unreadable("encrypted")  # a password-protected zip
            names = {i.filename for i in infos}
            _check_bomb(infos)
            kind = _ooxml_kind(zf, names)
            _check_xml_prologs(zf, infos)
            if kind in ("xlsx", "xlsm"):
                _check_counts(zf, names)
            return kind
    except Unreadable:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, KeyError,
            NotImplementedError, RuntimeError):
        # a truncated or damaged archive; RuntimeError: an encrypted (zip password) member
        raise unreadable("corrupt-file") from None


def _check_bomb(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_MEMBERS:
        raise unreadable("zip-bomb")
    total = 0
    for info in infos:
        total += info.file_size
        if total > MAX_UNCOMPRESSED:
            raise unreadable("zip-bomb")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise unreadable("zip-bomb")


def _ooxml_kind(zf: zipfile.ZipFile, names: set[str]) -> str:
    lower = {n.lower() for n in names}
    if "xl/workbook.xml" in lower:
        if "xl/vbaproject.bin" in lower:
            return "xlsm"
        try:
            types = zf.read("[Content_Types].xml")[:200_000]
        except KeyError:
            types = b""
        return "xlsm" if b"macroEnabled" in types else "xlsx"
    if "xl/workbook.bin" in lower:
        return "xlsb"
    if "mimetype" in lower:
        mime = zf.read("mimetype")[:100].strip()
        if mime == b"application/vnd.oasis.opendocument.spreadsheet":
            return "ods"
        if mime.startswith(b"application/vnd.oasis.opendocument.text"):
            raise unreadable("unsupported-type", what=say("file-kind.odt"))
    if "word/document.xml" in lower:
        raise unreadable("unsupported-type", what=say("file-kind.word"))
    if "ppt/presentation.xml" in lower:
        raise unreadable("unsupported-type", what=say("file-kind.powerpoint"))
    raise unreadable("unsupported-type", what=say("file-kind.zip"))


_DOCTYPE_RE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT_RE = re.compile(rb"<[A-Za-z_]")


def _check_xml_prologs(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse any XML part that declares a DTD or entities (billion laughs, XXE). A DTD can
    only stand in the prolog, before the root element: only that much is read."""
    for info in infos:
        name = info.filename.lower()
        if not name.endswith((".xml", ".rels", ".vml")):
            continue
        with zf.open(info) as fh:
            prolog = b""
            while len(prolog) < MAX_PROLOG:
                chunk = fh.read(XML_PROLOG_BYTES)
                if not chunk:
                    break
                prolog += chunk
                root = _ROOT_RE.search(prolog)
                if root:
                    prolog = prolog[:root.start()]
                    break
            else:
                raise unreadable("xml-entities")  # megabytes of prolog: nothing honest does that
        if _DOCTYPE_RE.search(prolog):
            raise unreadable("xml-entities")


# ---------------------------------------------------------------------------- OLE2 containers


def _ole2_kind(path: str) -> str:
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        doc = xlrd.compdoc.CompDoc(data, logfile=io.StringIO())
        streams = {d.name for d in doc.dirlist}
    except Exception:  # xlrd raises CompDocError and assorted IndexErrors on damage
        raise unreadable("corrupt-file") from None
    if "EncryptionInfo" in streams or "EncryptedPackage" in streams:
        raise unreadable("encrypted")  # an OOXML workbook under a password
    if "Workbook" in streams or "Book" in streams:
        return "xls"
    if "WordDocument" in streams:
        raise unreadable("unsupported-type", what=say("file-kind.word-doc"))
    if "PowerPoint Document" in streams:
        raise unreadable("unsupported-type", what=say("file-kind.powerpoint"))
    raise unreadable("unsupported-type", what=say("file-kind.office-other"))


# ---------------------------------------------------------------------------- text files

_HTML_RE = re.compile(rb"<\s*(html|table|!doctype\s+html|body|head|meta)\b", re.IGNORECASE)
_XML_SS_RE = re.compile(rb"urn:schemas-microsoft-com:office:spreadsheet")


def _text_kind(head: bytes) -> str:
    sample = head
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        sample = head.decode("utf-16", errors="ignore").encode("utf-8", errors="ignore")
    elif _looks_utf16(head):
        sample = head.decode("utf-16-le" if head[1:2] == b"\x00" else "utf-16-be",
                             errors="ignore").encode("utf-8", errors="ignore")
    elif b"\x00" in head:
        raise unreadable("unsupported-type", what=say("file-kind.binary"))
    stripped = sample.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:200].lower().startswith(b"mime-version") or (
            b"multipart/related" in sample[:2000].lower() and b"text/html" in sample.lower()):
        return "mhtml"
    if stripped.startswith(b"<?xml") and _XML_SS_RE.search(sample):
        raise unreadable("unsupported-type", "spreadsheet", what=say("file-kind.xml-spreadsheet"))
    if _HTML_RE.search(sample[:4096]):
        return "html"
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<"):
        raise unreadable("unsupported-type", what=say("file-kind.xml"))
    if not _is_text(sample):
        raise unreadable("unsupported-type", what=say("file-kind.binary"))
    return "csv"


def _looks_utf16(head: bytes) -> bool:
    """UTF-16 without a BOM: every other byte of ASCII text is NUL."""
    if len(head) < 4:
        return False
    even, odd = head[0::2], head[1::2]
    return (odd.count(0) > 0.4 * len(odd) and even.count(0) == 0) or (
        even.count(0) > 0.4 * len(even) and odd.count(0) == 0)


def _is_text(sample: bytes) -> bool:
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13, 12))
    return controls <= len(sample) // 100


# ---------------------------------------------------------------------------- OOXML counts


def _count_in_part(zf: zipfile.ZipFile, name: str, needles: tuple[bytes, ...], limit: int) -> int:
    """Occurrences of ``needles`` in a part, streamed; stops once past ``limit``."""
    total, tail = 0, b""
    with zf.open(name) as fh:
        while True:
            chunk = fh.read(SCAN_CHUNK)
            if not chunk:
                return total
            buf = tail + chunk
            # the last 8 bytes are carried over and counted with the next chunk
            body, tail = buf[:-8], buf[-8:]
            total += sum(body.count(n) for n in needles)
            if total > limit:
                return total


def _check_counts(zf: zipfile.ZipFile, names: set[str]) -> None:
    """Shared strings and cell formats: readers load every one of them up front."""
    lower = {n.lower(): n for n in names}
    sst = lower.get("xl/sharedstrings.xml")
    if sst and _count_in_part(zf, sst, (b"<si>", b"<si ", b":si>", b":si "), MAX_SHARED_STRINGS) > MAX_SHARED_STRINGS:
        raise unreadable("too-many-styles")
    styles = lower.get("xl/styles.xml")
    if styles and _count_in_part(zf, styles, (b"<xf ", b"<xf>", b"<xf/", b":xf "), MAX_STYLES) > MAX_STYLES:
        raise unreadable("too-many-styles")


# ---------------------------------------------------------------------------- sheet extent

_FAR_CELL = re.compile(rb'r="\$?([A-Z]{2,3})\$?(\d+)"')  # literal-led: a fast scan
_CELL_TAG_END = re.compile(rb'[^<>]*?(/?)>')
_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\s[^>]*?\br="(\d+)"')
_IS_CELL = re.compile(rb"<(?:\w+:)?c\s")
_CELL_VALUE = re.compile(rb"\s*(?:<(?:\w+:)?(?:v|is|f)\b)")


def column_index(letters: bytes) -> int:
    """"A" → 0, "XFD" → 16383."""
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def column_name(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, r = divmod(index - 1, 26)
        out = chr(65 + r) + out
    return out


class Extent:
    """How far a sheet's values reach: the last row, and the farthest column (past Z) holding
    a value with its cell. Style-only cells (no value) are ignored, as the readers do."""
    __slots__ = ("last_row", "far_col", "far_cell", "odd")

    def __init__(self):
        self.odd: dict[tuple[int, int], str] = {}  # (i, j) → error value or non-finite number
        self.last_row = 0  # 1-based
        self.far_col = 25  # 0-based; columns A–Z are never "far"
        self.far_cell = ""

    @property
    def cells(self) -> int:
        return self.last_row * (self.far_col + 1)


def sheet_extent(zf: zipfile.ZipFile, part: str) -> Extent:
    """One streaming pass over a sheet's XML with byte searches only: nothing is parsed
    into objects but the few cells beyond column Z (a list rarely has them)."""
    ext = Extent()
    carry = b""
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(SCAN_CHUNK)
            buf = carry + chunk if carry else chunk
            if chunk:
                start = max(0, len(buf) - 65536)
                cut = max(buf.rfind(b"<c ", start), buf.rfind(b"<row", start))
                work, carry = (buf[:cut], buf[cut:]) if cut > 0 else (buf, b"")
            else:
                work, carry = buf, b""
            _extent_of(work, ext)
            if not chunk:
                return ext


_ODD_NEEDLES = (b't="e"', b"<v>inf", b"<v>-inf", b"<v>nan", b"<v>INF", b"<v>-INF", b"<v>NaN",
                b"<v>NAN", b"<v>Inf", b"<v>-Inf", b"<v>Infinity", b"<v>-Infinity")
_ODD_CELL = re.compile(rb'<(?:\w+:)?c\s([^>]*?)>\s*(?:<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*)?'
                       rb'<(?:\w+:)?v>\s*([^<]{1,40}?)\s*</(?:\w+:)?v>')
_REF = re.compile(rb'\br="\$?([A-Z]{1,3})\$?(\d+)"')
_MAX_ODD = 10_000


def _odd_cells(work: bytes, ext: Extent) -> None:
    """Error cells (t="e": #REF!, #N/A, …) and numbers that are not finite ("inf", "nan"):
    readers show them as empty cells, the engine reports them at their cell."""
    if not any(n in work for n in _ODD_NEEDLES):
        return
    for m in _ODD_CELL.finditer(work):
        attrs, value = m.group(1), m.group(2)
        ref = _REF.search(attrs)
        if ref is None:
            continue
        is_error = b't="e"' in attrs
        if not is_error:
            if b't="' in attrs and b't="n"' not in attrs:
                continue  # text, booleans: never odd numbers
            try:
                if _finite(float(value)):
                    continue
            except ValueError:
                continue
        if len(ext.odd) < _MAX_ODD:
            key = (int(ref.group(2)) - 1, column_index(ref.group(1)))
            ext.odd[key] = value.decode("ascii", "replace")


def _finite(x: float) -> bool:
    return x == x and x not in (float("inf"), float("-inf"))


def _extent_of(work: bytes, ext: Extent) -> None:
    _odd_cells(work, ext)
    p = work.rfind(b"row")
    while p > 0:
        m = _ROW_NUMBER.match(work, work.rfind(b"<", 0, p))
        if m:
            ext.last_row = max(ext.last_row, int(m.group(1)))
            break
        p = work.rfind(b"row", 0, p)
    for m in _FAR_CELL.finditer(work):
        start = work.rfind(b"<", 0, m.start())
        if not _IS_CELL.match(work, start):
            continue  # another element's r="…" attribute
        end = _CELL_TAG_END.match(work, m.end())
        if end is None or end.group(1) or not _CELL_VALUE.match(work, end.end()):
            continue  # a formatted empty cell: not part of the used range
        col = column_index(m.group(1))
        ext.last_row = max(ext.last_row, int(m.group(2)))
        if col > ext.far_col:
            ext.far_col, ext.far_cell = col, (m.group(1) + m.group(2)).decode()


def check_extent(ext: Extent, sheet: str) -> None:
    if ext.cells > MAX_GRID_CELLS:
        raise unreadable("sheet-too-sparse", sheet=sheet, cell=ext.far_cell)
