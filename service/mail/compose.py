"""Build outgoing MIME messages: threading, Auto-Submitted, stable Message-IDs."""
from __future__ import annotations

import hashlib
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from .render import Rendered

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
LOOP_HEADER = "X-Vaxmail-Loop"


def stable_message_id(domain: str, *parts: str) -> str:
    """The same inputs always give the same Message-ID: a retry after a crash is no second message."""
    h = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"<vx.{h}@{domain}>"


def build(
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
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((sender_name, sender))
    msg["To"] = ", ".join(formataddr((n, a)) for n, a in to)
    if cc:
        msg["Cc"] = ", ".join(formataddr((n, a)) for n, a in cc)
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        refs = [r for r in references if r] + ([in_reply_to] if in_reply_to not in references else [])
        msg["References"] = " ".join(refs[-10:])
    msg["Auto-Submitted"] = auto
    msg["X-Auto-Response-Suppress"] = "All"
    msg[LOOP_HEADER] = sender
    if auto == "auto-generated":
        msg["Precedence"] = "bulk"
    for k, v in (extra_headers or {}).items():
        msg[k] = v
    msg.set_content(rendered.text, cte="quoted-printable" if _non_ascii(rendered.text) else "7bit")
    if rendered.html is not None:
        msg.add_alternative(rendered.html, subtype="html")
        if inline_images:
            html_part = msg.get_payload()[-1]
            for cid, png in inline_images:
                html_part.add_related(png, "image", "png", cid=f"<{cid}>")
    for name, data, (maintype, subtype) in attachments:
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def serialize(msg: EmailMessage) -> bytes:
    """The message as bytes, headers unfolded up to 998 characters.

    CPython's folder drops the space between two RFC 2047 encoded-words when it splits a
    long Vietnamese subject ("Cần sửa một" became "Cần sửamột"); not folding avoids it.
    Mail clients read encoded-words longer than RFC 2047's 75 characters without trouble.
    """
    return msg.as_bytes(policy=msg.policy.clone(max_line_length=998))


def _non_ascii(s: str) -> bool:
    return any(ord(c) > 127 for c in s)


def bare(addr: str) -> str:
    try:
        return Address(addr_spec=addr).addr_spec.lower()
    except Exception:  # noqa: BLE001 - malformed addresses are simply not ours
        return addr.strip().lower()
