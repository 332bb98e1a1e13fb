"""Build outgoing MIME messages: threading, Auto-Submitted, stable Message-IDs."""
from __future__ import annotations

import hashlib
import io
from email import encoders, message_from_bytes
from email.charset import QP, Charset
from email.generator import BytesGenerator
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr

from .render import Rendered

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
XLSM = ("application", "vnd.ms-excel.sheet.macroEnabled.12")
LOOP_HEADER = "X-Vaxmail-Loop"
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP  # Vietnamese text stays readable in the raw message


def stable_message_id(domain: str, *parts: str) -> str:
    """The same inputs always give the same Message-ID: a retry after a crash is no second message."""
    h = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"<vx.{h}@{domain}>"


def _addr(name: str, address: str) -> str:
    return formataddr((name, address), charset="utf-8") if name else address


def _header(value: str) -> str:
    """RFC 2047 for non-ASCII: every encoded-word keeps its own spaces (no lost words)."""
    if value.isascii():
        return value
    return Header(value, "utf-8", maxlinelen=76, header_name="Subject").encode()


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(text, _UTF8_QP if not text.isascii() else "us-ascii")
    return part


def _file_part(name: str, data: bytes, maintype: str, subtype: str, *, cid: str | None = None) -> MIMEBase:
    part = MIMEBase(maintype, subtype)
    part.set_payload(data)
    encoders.encode_base64(part)
    if cid:
        part.add_header("Content-ID", f"<{cid}>")
        part.add_header("Content-Disposition", "inline", filename=name)
    else:
        fname = name if name.isascii() else ("utf-8", "", name)
        part.set_param("name", fname)
        part.add_header("Content-Disposition", "attachment", filename=fname)
    return part


def build(rendered: Rendered, **kw) -> EmailMessage:
    """``build_bytes`` parsed back into an ``EmailMessage`` (for callers that inspect it)."""
    return message_from_bytes(build_bytes(rendered, **kw), policy=default_policy)


def build_bytes(
    rendered: Rendered,
    *,
    sender: str,
    sender_name: str,
    to: list[tuple[str, str]],
    cc: list[tuple[str, str]] = (),
    message_id: str,
    auto: str,  # "auto-generated" | "auto-replied"
    when,
    in_reply_to: str = "",
    references: list[str] = (),
    attachments: list[tuple[str, bytes, tuple[str, str]]] = (),
    inline_images: list[tuple[str, bytes]] = (),
    extra_headers: dict[str, str] | None = None,
) -> bytes:
    """One outgoing message as bytes, built with the stdlib's MIME classes (fast; RFC 2047
    and 2231 encoding done once, every encoded-word keeping its own spaces)."""
    body: Message = _text_part(rendered.text, "plain")
    if rendered.html is not None:
        html: Message = _text_part(rendered.html, "html")
        if inline_images:
            related = MIMEMultipart("related")
            related.attach(html)
            for cid, png in inline_images:
                related.attach(_file_part(f"{cid}.png", png, "image", "png", cid=cid))
            html = related
        alt = MIMEMultipart("alternative")
        alt.attach(body)
        alt.attach(html)
        body = alt
    if attachments:
        mixed = MIMEMultipart("mixed")
        mixed.attach(body)
        for name, data, (maintype, subtype) in attachments:
            mixed.attach(_file_part(name, data, maintype, subtype))
        msg = mixed
    else:
        msg = body
    headers = [
        ("From", _addr(sender_name, sender)),
        ("To", ", ".join(_addr(n, a) for n, a in to)),
    ]
    if cc:
        headers.append(("Cc", ", ".join(_addr(n, a) for n, a in cc)))
    headers += [("Subject", _header(rendered.subject)), ("Date", format_datetime(when)),
                ("Message-ID", message_id)]
    if in_reply_to:
        refs = [r for r in references if r] + ([in_reply_to] if in_reply_to not in references else [])
        headers += [("In-Reply-To", in_reply_to), ("References", " ".join(refs[-10:]))]
    headers += [("Auto-Submitted", auto), ("X-Auto-Response-Suppress", "All"), (LOOP_HEADER, sender)]
    if auto == "auto-generated":
        headers.append(("Precedence", "bulk"))
    headers += [(k, _header(v)) for k, v in (extra_headers or {}).items()]
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]  # only the top level carries it
    # Content-Type and MIME-Version come from the parts; ours go on top in the usual order.
    own = list(msg.items())
    for k in list(msg.keys()):
        del msg[k]
    for k, v in headers + own:
        msg[k] = v
    buf = io.BytesIO()
    BytesGenerator(buf, mangle_from_=False, maxheaderlen=78).flatten(msg)
    return buf.getvalue()


def serialize(msg: EmailMessage) -> bytes:
    """The message as bytes, exactly as ``build`` encoded it.

    Headers are not refolded: CPython's modern folder drops the space between two RFC 2047
    encoded-words when it splits a long Vietnamese subject ("Cần sửa một" became
    "Cần sửamột"); ``build`` encodes with ``email.header.Header``, which keeps them.
    """
    return msg.as_bytes(policy=msg.policy.clone(max_line_length=998))


def bare(addr: str) -> str:
    try:
        return Address(addr_spec=addr).addr_spec.lower()
    except Exception:  # noqa: BLE001 - malformed addresses are simply not ours
        return addr.strip().lower()
