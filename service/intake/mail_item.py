"""A message taken from the mailbox → the ``Item`` the pipeline consumes.

The message is taken apart (``mime.extract``), screened for automatic mail (``autoreply``),
checked against the receiving server's Authentication-Results when ``[trust] authserv_id``
is set (``authres``), and keyed by its Message-ID and bytes so a re-run finds the same item.
"""
from __future__ import annotations

from datetime import datetime
from email.parser import BytesParser
from email.policy import compat32
from email.utils import parsedate_to_datetime
from typing import Any

from ..item import VN, FileIn, Item
from ..state.store import incoming_key
from ..wording import say
from .autoreply import classify
from .imap import TRUNCATED_HEADER
from .mime import bound_headers, extract


def mail_item(data: bytes, meta: dict[str, Any], *, own_address: str, max_files: int,
              max_file_bytes: int, authserv_id: str = "") -> Item:
    """The Item for one queued message (also used to process a held one again).

    ``meta``: the queue entry's ``taken_at``; ``released``: a parked entry the operator put
    back (a fresh key, sender not re-verified); ``vouched``: the operator released an
    unverified sender's hold."""
    ex = extract(data, max_files=max_files, max_file_bytes=max_file_bytes)
    received = received_at(ex.date, meta.get("taken_at"))
    bounded = bound_headers(data)[0]  # no header past its size limit reaches a parser
    headers = BytesParser(policy=compat32).parsebytes(bounded, headersonly=True)
    automatic = classify(headers, {own_address})
    skipped = [(s.name, s.reason_code) for s in ex.skipped]
    if headers.get(TRUNCATED_HEADER):  # fetched as headers only: the whole mail is too large
        skipped.append((ex.subject or say("mail.too-large-message"), "too-large"))
    key = incoming_key(ex.message_id, data)
    if meta.get("released"):
        key += f"#released-{meta['released']}"  # the operator asked for a fresh run
    authenticated, why = None, ""
    if authserv_id and not meta.get("released") and not meta.get("vouched"):
        from .authres import verify  # a release is the operator's own decision
        verdict = verify(bounded, ex.from_addr or "", authserv_id)
        authenticated, why = verdict.ok, verdict.why
    return Item(
        authenticated=authenticated, auth_why=why,
        key=key, source="mail", received_at=received,
        files=[FileIn(a.name, a.data) for a in ex.files],
        skipped=skipped,
        sender=ex.from_addr or "", sender_name=ex.from_name or "", subject=ex.subject or "",
        message_id=ex.message_id or "", in_reply_to=ex.in_reply_to or "",
        references=list(ex.references or []), body_text=ex.body_text or "",
        automatic=automatic, raw=data, problems=list(ex.problems or []))


def received_at(date_header, taken_at) -> datetime:
    """When the item arrived: the time we took it (the Date header can lie)."""
    if taken_at:
        return datetime.fromtimestamp(float(taken_at), VN)
    if date_header:
        try:
            d = date_header if isinstance(date_header, datetime) else parsedate_to_datetime(str(date_header))
            return d.astimezone(VN) if d.tzinfo else d.replace(tzinfo=VN)
        except (TypeError, ValueError):
            pass
    return datetime.now(VN)


def failure_headers(data: bytes, own: str) -> tuple[str, str, str, str, str | None]:
    """(sender, name, subject, Message-ID, why not to answer) from a message whose full
    processing failed: only its first 64 KB of header are parsed, nothing can raise."""
    from email.utils import getaddresses
    head = data[:65536]
    end = head.find(b"\r\n\r\n")
    end = head.find(b"\n\n") if end < 0 else end
    head = head if end < 0 else head[:end + 2]
    try:
        msg = BytesParser(policy=compat32).parsebytes(head, headersonly=True)
        froms = msg.get_all("From") or []
        addrs = [a for _, a in getaddresses([str(f) for f in froms]) if "@" in a]
        sender = addrs[0].strip().lower() if len(froms) == 1 and len(addrs) == 1 else ""
        name = next((n for n, _ in getaddresses([str(froms[0])])), "") if sender else ""
        subject = " ".join(str(msg.get("Subject", "")).split())[:200]
        mid = str(msg.get("Message-ID", "")).strip()[:250]
        automatic = classify(msg, {own})
    except Exception:  # noqa: BLE001 - a message we cannot read gets no notice, only the hold
        return "", "", "", "", None
    if not sender.isascii() or any(c in sender for c in " <>\r\n\"'"):
        sender = ""
    return sender, name[:200], subject, mid, automatic
