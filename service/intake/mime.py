"""Take an incoming e-mail apart: who sent it, what it says, and which spreadsheets it carries.

`extract(raw_bytes)` never raises on bad input. Spreadsheets (.xlsx .xlsm .xls .csv, by name,
declared type or sniffed content) are collected from every part, from inline parts, from .zip
archives and from forwarded messages (message/rfc822, .eml), both depth-limited. Everything
else that looks like a file is listed in `skipped` with a reason code:

    image             pictures, logos, scanned pages (ignored, listed for completeness)
    signature         S/MIME or PGP signatures
    unsupported-type  .doc .pdf .rar .7z .ods winmail.dat …
    too-large         over max_file_bytes
    too-many          beyond max_files spreadsheets
    too-deep          archive/forward nesting beyond max_depth
    encrypted         password-protected zip member, encrypted message part
    corrupt-archive   a .zip that cannot be read
    archive-bomb      a zip member whose compression ratio is implausible

`problems` holds message-level codes: "malformed" (structure or encoding defects, or a part
that could not be decoded), "no-from" (no usable sender address).

Attachment.origin tells where a file came from, outermost first, joined by " > ":
"attachment", "inline", "zip:<archive name>", "forwarded" (e.g. "forwarded > zip:ds.zip").
"""
from __future__ import annotations

import email
import email.errors
import email.header
import email.policy
import email.utils
import html
import io
import re
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message

from service.sniff import ole_holds_workbook, workbook_suffix, zip_names
from service.wording import say

SPREADSHEET_EXTENSIONS = {".xlsx", ".xlsm", ".xls", ".csv"}
SPREADSHEET_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.ms-excel": ".xls",
    "application/msexcel": ".xls",
    "application/x-msexcel": ".xls",
    "application/x-excel": ".xls",
    "application/excel": ".xls",
    "text/csv": ".csv",
    "text/comma-separated-values": ".csv",
    "application/csv": ".csv",
}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic",
                    ".svg", ".ico", ".emz", ".wmf", ".emf"}
SIGNATURE_EXTENSIONS = {".p7s", ".p7m", ".asc", ".sig", ".smime"}
SIGNATURE_TYPES = {"application/pkcs7-signature", "application/x-pkcs7-signature",
                   "application/pgp-signature"}
ENCRYPTED_TYPES = {"application/pkcs7-mime", "application/x-pkcs7-mime", "multipart/encrypted",
                   "application/pgp-encrypted"}
ZIP_TYPES = {"application/zip", "application/x-zip-compressed", "application/x-zip"}
MESSAGE_EXTENSIONS = {".eml"}
TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}

STRUCTURE_DEFECTS = (
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.CloseBoundaryNotFoundDefect,
    email.errors.MultipartInvariantViolationDefect,
    email.errors.NoBoundaryInMultipartDefect,
    email.errors.MissingHeaderBodySeparatorDefect,
    email.errors.InvalidBase64PaddingDefect,
    email.errors.InvalidBase64CharactersDefect,
    email.errors.InvalidBase64LengthDefect,
)
BODY_TEXT_CHARS = 10_000
# After Postfix's header_size_limit: one header (with its folded lines) is cut at this many bytes,
# and the whole header block at HEADER_BLOCK_LIMIT (later headers are dropped), before the
# parser sees them: a 400 KB folded Subject costs the default policy gigabytes otherwise.
HEADER_SIZE_LIMIT = 16_384
HEADER_BLOCK_LIMIT = 262_144
SUBJECT_CHARS = 150  # a Subject echoed in a reply is cut to this many characters
MAX_ZIP_MEMBERS = 500
MAX_ZIP_RATIO = 200
MAX_PART_NESTING = 40


@dataclass
class Attachment:
    name: str
    data: bytes = field(repr=False)
    content_type: str
    origin: str

    @property
    def extension(self) -> str:
        return _extension(self.name)


@dataclass
class Skipped:
    name: str
    reason_code: str
    origin: str = ""


@dataclass
class Extracted:
    message_id: str | None = None
    subject: str = ""
    from_addr: str | None = None
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    date: datetime | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    body_text: str = ""
    problems: list[str] = field(default_factory=list)

    def problem(self, code: str) -> None:
        if code not in self.problems:
            self.problems.append(code)


# --------------------------------------------------------------------------- text helpers

# control characters, and bidi embeddings/overrides/isolates (a name or subject must not
# reorder the text of what we send back)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")


def _unmangle(text: str) -> str:
    """Undo surrogate escapes left by undeclared 8-bit header bytes (UTF-8, else cp1258)."""
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        raw = text.encode("utf-8", "surrogateescape")
        for codec in ("utf-8", "cp1258"):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                continue
        return raw.decode("utf-8", "replace")
    return text


def _clean_line(text: str | None) -> str:
    if not text:
        return ""
    text = _unmangle(str(text))
    if "=?" in text:
        try:
            text = str(email.header.make_header(email.header.decode_header(text)))
        except Exception:  # noqa: BLE001 - keep the undecoded text
            pass
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _clean_filename(name: str | None) -> str:
    name = _clean_line(name)
    name = re.split(r"[\\/]", name)[-1].strip().strip(".").strip() if name else ""
    return name[:200]


def _raw_header(msg: Message, name: str) -> str | None:
    try:
        for key, value in msg.raw_items():
            if key.lower() == name.lower():
                return str(value)
    except Exception:  # noqa: BLE001
        pass
    return None


def _header(msg: Message, name: str, out: Extracted):
    """The header parsed by the default policy, or its raw text when parsing fails."""
    try:
        return msg.get(name)
    except Exception:  # noqa: BLE001 - a broken header must not stop the rest
        out.problem("malformed")
        return _raw_header(msg, name)


def _addresses(value, out: Extracted) -> list[tuple[str, str]]:
    if value is None:
        return []
    try:
        addresses = getattr(value, "addresses", None)
        if addresses is not None:
            return [(_clean_line(a.display_name), (a.addr_spec or "").strip().lower())
                    for a in addresses if a.addr_spec and "@" in a.addr_spec]
    except Exception:  # noqa: BLE001
        out.problem("malformed")
    pairs = email.utils.getaddresses([_unmangle(str(value))])
    return [(_clean_line(n), a.strip().lower()) for n, a in pairs if a and "@" in a]


def _legacy_names(pairs: list[tuple[str, str]], raw: str | None) -> list[tuple[str, str]]:
    """Display names decoded by the legacy rule: adjacent RFC 2047 encoded words join without
    the space between them (a name split mid-word, "trườn" + "g", reads "trường"; the
    default policy keeps the space). Addresses stay as the policy parsed them."""
    if not raw or "=?" not in raw:
        return pairs
    try:
        legacy = [(_clean_line(n), a.strip().lower()) for n, a in email.utils.getaddresses([_unmangle(raw)])
                  if a and "@" in a]
    except Exception:  # noqa: BLE001 - keep the policy's names
        return pairs
    if [a for _, a in legacy] != [a for _, a in pairs]:
        return pairs
    return [(name or old, a) for (old, a), (name, _) in zip(pairs, legacy)]


def _usable(addr: str) -> bool:
    """An address we can store and answer: plain ASCII, no raw 8-bit bytes (RFC 6532 UTF-8,
    undecodable bytes as surrogates), no spaces or control characters. Whether it is a unit's
    is the pipeline's question."""
    return addr.isascii() and addr.isprintable() and " " not in addr and "@" in addr


def _msg_ids(text: str | None) -> list[str]:
    return re.findall(r"<[^<>\s]+>", _unmangle(str(text))) if text else []


# --------------------------------------------------------------------------- zip names

def _zip_member_name(info: zipfile.ZipInfo) -> str:
    """Recover the real name of a zip member (Vietnamese names from Windows tools)."""
    if info.flag_bits & 0x800:
        return info.filename
    unicode_path = _unicode_path_extra(info)
    if unicode_path:
        return unicode_path
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    if raw.isascii():
        return info.filename
    try:
        return raw.decode("utf-8")  # many tools write UTF-8 without setting the flag
    except UnicodeDecodeError:
        pass
    try:
        candidate = raw.decode("cp1258")
        return unicodedata.normalize("NFC", candidate)
    except UnicodeDecodeError:
        return info.filename


def _unicode_path_extra(info: zipfile.ZipInfo) -> str | None:
    """Info-ZIP Unicode Path extra field (0x7075), written by WinRAR, 7-Zip and others."""
    extra = info.extra or b""
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4:pos + 4 + size]
        if tag == 0x7075 and len(body) > 5 and body[0] == 1:
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
        pos += 4 + size
    return None


# --------------------------------------------------------------------------- the walker

class _Walker:
    def __init__(self, out: Extracted, max_files: int, max_file_bytes: int, max_depth: int):
        self.out = out
        self.max_files = max_files
        self.max_file_bytes = max_file_bytes
        self.max_depth = max_depth
        self.unnamed = 0

    # ----- message structure
    def visit(self, part: Message, *, depth: int, origin: list[str], nesting: int = 0,
              top: bool = True) -> None:
        out = self.out
        if nesting > MAX_PART_NESTING:
            out.problem("malformed")
            return
        try:
            if any(isinstance(d, STRUCTURE_DEFECTS) for d in getattr(part, "defects", ())):
                out.problem("malformed")
            ctype = self._ctype(part)
            if ctype in ENCRYPTED_TYPES:
                self.skip(self._filename(part) or "", "encrypted", origin)
                return
            if ctype.startswith("multipart/"):
                if not part.is_multipart():
                    out.problem("malformed")  # no boundary found: nothing to take apart
                    return
                for sub in part.get_payload():
                    self.visit(sub, depth=depth, origin=origin, nesting=nesting + 1, top=top)
                return
            if ctype == "message/rfc822" or ctype == "message/global":
                self.forwarded(part, depth=depth, origin=origin, nesting=nesting)
                return
            self.leaf(part, ctype, depth=depth, origin=origin, top=top)
        except RecursionError:
            out.problem("malformed")
        except Exception:  # noqa: BLE001 - one broken part must not hide the others
            out.problem("malformed")

    def _ctype(self, part: Message) -> str:
        try:
            return part.get_content_type().lower()
        except Exception:  # noqa: BLE001
            self.out.problem("malformed")
            return "application/octet-stream"

    def _filename(self, part: Message) -> str:
        name = None
        for getter in (lambda: part.get_filename(), lambda: part.get_param("name")):
            try:
                value = getter()
            except Exception:  # noqa: BLE001
                self.out.problem("malformed")
                value = None
            if isinstance(value, tuple):  # compat32 RFC 2231 triple
                value = email.utils.collapse_rfc2231_value(value)
            if value:
                name = value
                break
        return _clean_filename(name)

    def _disposition(self, part: Message) -> str:
        try:
            return (part.get_content_disposition() or "").lower()
        except Exception:  # noqa: BLE001
            return ""

    def _payload(self, part: Message) -> bytes:
        try:
            data = part.get_payload(decode=True)
        except Exception:  # noqa: BLE001
            self.out.problem("malformed")
            data = None
        if data is None:
            payload = part.get_payload()
            if isinstance(payload, str):
                data = payload.encode("utf-8", "surrogateescape")
            else:
                data = b""
        return data

    def forwarded(self, part: Message, *, depth: int, origin: list[str], nesting: int) -> None:
        name = self._filename(part) or "forwarded.eml"
        if depth >= self.max_depth:
            self.skip(name, "too-deep", origin)
            return
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        cte = str(part.get("Content-Transfer-Encoding", "") or "").strip().lower()
        if inner is None or cte in ("base64", "quoted-printable"):
            data = self._payload(part) if inner is None else _decode_cte(inner, cte)
            if not data:
                return
            inner = email.message_from_bytes(data, policy=email.policy.default)
        self.visit(inner, depth=depth + 1, origin=origin + ["forwarded"], nesting=nesting + 1,
                   top=False)

    def leaf(self, part: Message, ctype: str, *, depth: int, origin: list[str], top: bool) -> None:
        name = self._filename(part)
        disposition = self._disposition(part)
        if not name and ctype in ("text/plain", "text/html") and disposition != "attachment":
            if top:
                self.body(part, ctype)
            return
        if not name and ctype in ("message/delivery-status", "message/disposition-notification",
                                  "text/rfc822-headers", "message/rfc822-headers"):
            return  # parts of a report, not files
        where = origin + ["inline" if disposition == "inline" else "attachment"]
        if part.get(DROPPED_HEADER):  # emptied before parsing (slim): over the size limit
            self.skip(name or say("attachment.unnamed-part"), "too-large", where)
            return
        data = self._payload(part)
        self.file(name, ctype, data, depth=depth, origin=where)

    def body(self, part: Message, ctype: str) -> None:
        slot = "html" if ctype == "text/html" else "plain"
        if getattr(self, slot, None) is not None:
            return
        try:
            text = part.get_content()
        except Exception:  # noqa: BLE001 - unknown charset and the like
            text = self._payload(part).decode("utf-8", "replace")
        if isinstance(text, str):
            setattr(self, slot, text)

    def body_text(self) -> str:
        plain, markup = getattr(self, "plain", None), getattr(self, "html", None)
        text = plain if plain and plain.strip() else _html_to_text(markup or "")
        text = unicodedata.normalize("NFC", _unmangle(text)).replace("\r\n", "\n")
        return text.strip()[:BODY_TEXT_CHARS]

    # ----- files
    def skip(self, name: str, reason: str, origin: list[str]) -> None:
        self.out.skipped.append(Skipped(name, reason, " > ".join(origin)))

    def _kind(self, name: str, ctype: str, data: bytes) -> tuple[str, str]:
        """(kind, extension) where kind is spreadsheet | zip | message | image | signature | other."""
        ext = _extension(name)
        if ext in SPREADSHEET_EXTENSIONS:
            return "spreadsheet", ext
        if ctype in SIGNATURE_TYPES or ext in SIGNATURE_EXTENSIONS:
            return "signature", ext
        if ctype in TNEF_TYPES or name.lower() == "winmail.dat":
            return "other", ext
        if ctype.startswith("image/") or ext in IMAGE_EXTENSIONS:
            return "image", ext
        if ext in MESSAGE_EXTENSIONS or ctype in ("message/rfc822", "message/global"):
            return "message", ext
        names = zip_names(data)
        sniffed = workbook_suffix(names)
        if sniffed:
            return "spreadsheet", sniffed
        if ole_holds_workbook(data):
            return "spreadsheet", ".xls"
        if ctype in SPREADSHEET_TYPES and not ext:
            return "spreadsheet", SPREADSHEET_TYPES[ctype]
        if ctype in SPREADSHEET_TYPES and SPREADSHEET_TYPES[ctype] == ".csv" and ext == ".txt":
            return "spreadsheet", ext
        if names is not None and (ext == ".zip" or ctype in ZIP_TYPES or not ext
                                  or ctype == "application/octet-stream"):
            return "zip", ext
        if ext == ".zip" or ctype in ZIP_TYPES:
            return "zip", ext  # unreadable: reported as a corrupt archive
        return "other", ext

    def file(self, name: str, ctype: str, data: bytes, *, depth: int, origin: list[str]) -> None:
        kind, ext = self._kind(name, ctype, data)
        if kind == "image":
            self.skip(name, "image", origin)
            return
        if kind == "signature":
            self.skip(name, "signature", origin)
            return
        if kind == "other":
            self.skip(name, "unsupported-type", origin)
            return
        if kind == "message":
            if depth >= self.max_depth:
                self.skip(name, "too-deep", origin)
                return
            inner = email.message_from_bytes(data, policy=email.policy.default)
            self.visit(inner, depth=depth + 1, origin=origin[:-1] + ["forwarded"], top=False)
            return
        if len(data) > self.max_file_bytes:
            self.skip(name or say("attachment.unnamed", ext=ext), "too-large", origin)
            return
        if kind == "zip":
            self.archive(name or say("attachment.unnamed-archive"), data, depth=depth, origin=origin)
            return
        # spreadsheet
        if not name or _extension(name) not in SPREADSHEET_EXTENSIONS:
            self.unnamed += 1
            stem = name.rsplit(".", 1)[0] if name else say("attachment.unnamed-numbered", n=self.unnamed)
            name = stem + ext
        if len(self.out.files) >= self.max_files:
            self.skip(name, "too-many", origin)
            return
        self.out.files.append(Attachment(name, data, ctype, " > ".join(origin)))

    def archive(self, name: str, data: bytes, *, depth: int, origin: list[str]) -> None:
        if depth >= self.max_depth:
            self.skip(name, "too-deep", origin)
            return
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            infos = zf.infolist()
        except Exception:  # noqa: BLE001 - BadZipFile, truncated data, …
            self.skip(name, "corrupt-archive", origin)
            return
        inside = origin + [f"zip:{name}"]
        with zf:
            for count, info in enumerate(infos):
                member = _clean_filename(_zip_member_name(info))
                if info.is_dir() or not member:
                    continue
                if info.filename.startswith("__MACOSX/") or member in (".DS_Store", "Thumbs.db",
                                                                       "desktop.ini"):
                    continue
                if count >= MAX_ZIP_MEMBERS:
                    self.skip(member, "too-many", inside)
                    continue
                if info.flag_bits & 0x1:
                    self.skip(member, "encrypted", inside)
                    continue
                if info.file_size > self.max_file_bytes:
                    self.skip(member, "too-large", inside)
                    continue
                if info.compress_size and info.file_size / info.compress_size > MAX_ZIP_RATIO \
                        and info.file_size > 1_000_000:
                    self.skip(member, "archive-bomb", inside)
                    continue
                ext = _extension(member)
                if ext in IMAGE_EXTENSIONS:
                    self.skip(member, "image", inside)
                    continue
                try:
                    with zf.open(info) as fh:
                        content = fh.read(self.max_file_bytes + 1)
                except (RuntimeError, NotImplementedError):
                    self.skip(member, "encrypted", inside)  # also unsupported compression
                    continue
                except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError):
                    self.skip(member, "corrupt-archive", inside)
                    continue
                if len(content) > self.max_file_bytes:
                    self.skip(member, "too-large", inside)
                    continue
                ctype = SPREADSHEET_TYPES_BY_EXT.get(ext, "application/octet-stream")
                self.file(member, ctype, content, depth=depth + 1, origin=inside)


SPREADSHEET_TYPES_BY_EXT = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    ".xls": "application/vnd.ms-excel",
    ".csv": "text/csv",
    ".zip": "application/zip",
    ".eml": "message/rfc822",
}


def _decode_cte(inner: Message, cte: str) -> bytes:
    """A message/rfc822 part wrongly sent with base64/QP: decode what the parser kept as text."""
    import base64
    import quopri

    text = inner.as_bytes() if hasattr(inner, "as_bytes") else bytes(str(inner), "utf-8")
    try:
        return base64.b64decode(text, validate=False) if cte == "base64" else quopri.decodestring(text)
    except Exception:  # noqa: BLE001
        return b""


def _html_to_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>|</tr\s*>|</li\s*>", "\n", markup)
    text = html.unescape(re.sub(r"<[^>]+>", " ", markup))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


# --------------------------------------------------------------------------- entry point

def bound_headers(data: bytes) -> tuple[bytes, bool]:
    """``data`` with every header cut at HEADER_SIZE_LIMIT bytes (whole lines kept) and the
    header block at HEADER_BLOCK_LIMIT (later headers dropped); True when anything was cut.
    Linear in the header's size, no parsing."""
    ends = [e for e in (data.find(b"\n\n"), data.find(b"\r\n\r\n")) if e >= 0]
    stop = min(ends) if ends else len(data)
    if stop <= HEADER_SIZE_LIMIT:
        return data, False  # nothing can be over a limit
    out: list[bytes] = []
    total = 0
    cut = False
    for field, whole in _header_fields(data, stop):
        cut = cut or not whole
        if total + len(field) > HEADER_BLOCK_LIMIT:
            cut = True
            break
        out.append(field)
        total += len(field) + 2
    if not cut:
        return data, False
    rest = data[stop:] if ends else b"\r\n\r\n"
    return b"\r\n".join(out) + rest, True


def _header_fields(data: bytes, stop: int):
    """(one header with its continuation lines, CRLF-joined and cut at HEADER_SIZE_LIMIT;
    whether it is whole) for the header block data[:stop]."""
    current: list[bytes] = []
    size = 0
    whole = True
    start = 0
    while start < stop:
        nl = data.find(b"\n", start, stop)
        end = stop if nl < 0 else nl
        line = data[start:min(end, start + HEADER_SIZE_LIMIT)].rstrip(b"\r")
        long_line = end - start > HEADER_SIZE_LIMIT
        start = end + 1
        if line[:1] in (b" ", b"\t") and current:
            if size + len(line) > HEADER_SIZE_LIMIT:
                whole = False
                continue
            current.append(line)
            size += len(line) + 2
            continue
        if current:
            yield b"\r\n".join(current), whole
        current, size, whole = [line], len(line), not long_line
    if current:
        yield b"\r\n".join(current), whole


_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"\r\n]{1,200}))', re.IGNORECASE)
DROPPED_HEADER = "X-Vaxmail-Dropped-Bytes"


def slim(data: bytes, max_part_bytes: int) -> bytes:
    """Empty the body of every MIME part larger than ``max_part_bytes`` (encoded) before
    the parser sees it, marking the part with DROPPED_HEADER: the parser costs about nine
    times a message's size in memory, and such a part is answered as too large anyway.
    A linear byte scan over the boundaries the message declares; anything it cannot
    follow is left as it is."""
    if len(data) <= max_part_bytes:
        return data
    marks = sorted({m.group(1) or m.group(2) for m in _BOUNDARY.finditer(data)}, key=len, reverse=True)
    if not marks:
        return data
    delim = re.compile(rb"(?m)^--(?:" + b"|".join(re.escape(b) for b in marks) + rb")(?:--)?[ \t]*\r?$")
    cuts = [m for m in delim.finditer(data)]
    out, pos = [], 0
    for a, b in zip(cuts, cuts[1:]):
        start, end = a.end(), b.start()
        if end - start <= max_part_bytes:
            continue
        sep = data.find(b"\n\n", start, start + 65536)
        sep2 = data.find(b"\r\n\r\n", start, start + 65536)
        seps = [x for x in (sep, sep2) if x >= 0]
        if not seps:
            continue
        head_end = min(seps)
        head = data[start:head_end]
        if _BOUNDARY.search(head):
            continue  # a multipart container: its own parts are looked at one by one
        nl = b"\r\n" if sep2 == head_end else b"\n"
        out.append(data[pos:head_end])
        out.append(nl + f"{DROPPED_HEADER}: {end - head_end}".encode() + nl + nl)
        pos = end
    if not out:
        return data
    out.append(data[pos:])
    return b"".join(out)


def extract(data: bytes, *, max_files: int = 20, max_file_bytes: int = 25_000_000,
            max_depth: int = 3) -> Extracted:
    out = Extracted()
    data, cut = bound_headers(data)
    if cut:
        out.problem("header-truncated")
    # base64 is 4/3 of the bytes it carries, plus line ends
    data = slim(data, max_file_bytes * 4 // 3 + max_file_bytes // 38 + 4096)
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
    except Exception:  # noqa: BLE001 - the parser is lenient; this is a last resort
        out.problem("malformed")
        try:
            msg = email.message_from_bytes(data, policy=email.policy.compat32)
        except Exception:  # noqa: BLE001
            return out
    _read_headers(msg, out)
    walker = _Walker(out, max_files, max_file_bytes, max_depth)
    walker.visit(msg, depth=0, origin=[])
    try:
        out.body_text = walker.body_text()
    except Exception:  # noqa: BLE001
        out.problem("malformed")
    if not out.from_addr:
        out.problem("no-from")
    return out


def _read_headers(msg: Message, out: Extracted) -> None:
    steps = (
        ("message_id", lambda: (_msg_ids(_header(msg, "Message-ID", out)) or [None])[0]),
        ("subject", lambda: _clean_line(_header(msg, "Subject", out))),
        ("in_reply_to", lambda: (_msg_ids(_header(msg, "In-Reply-To", out)) or [None])[0]),
        ("references", lambda: _msg_ids(_header(msg, "References", out))),
        ("to", lambda: [a for _, a in _addresses(_header(msg, "To", out), out)]),
        ("cc", lambda: [a for _, a in _addresses(_header(msg, "Cc", out), out)]),
        ("date", lambda: _date(msg, out)),
    )
    for attr, step in steps:
        try:
            setattr(out, attr, step())
        except Exception:  # noqa: BLE001
            out.problem("malformed")
    if len(out.subject) > SUBJECT_CHARS:
        out.subject = out.subject[:SUBJECT_CHARS - 1].rstrip() + "…"
    try:
        froms = msg.get_all("From") or []
        senders = _legacy_names(_addresses(_header(msg, "From", out), out), _raw_header(msg, "From"))
        if len(froms) > 1 or len(senders) > 1:
            out.problem("from-ambiguous")  # whom to believe? nobody: the message is held
        elif senders and not _usable(senders[0][1]):
            out.problem("from-unusable")
        elif senders:
            out.from_name, out.from_addr = senders[0]
    except Exception:  # noqa: BLE001
        out.problem("malformed")


def _date(msg: Message, out: Extracted) -> datetime | None:
    value = _header(msg, "Date", out)
    if value is None:
        return None
    parsed = getattr(value, "datetime", None)
    if parsed is not None:
        return parsed
    try:
        return email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
