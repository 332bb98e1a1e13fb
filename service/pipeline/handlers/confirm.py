"""Receivers replying to a forward: "Đã nhập 45/50" marks rows as entered (the digest's loop)."""
from __future__ import annotations

import re

from ...state.store import normalise_code
from ...textnorm import fold
from ..context import Context, Stop, Work
from ..plan import Held

CODE_RE = re.compile(r"\bVX[- ]?[0-9A-Za-z]{6}\b")
# "đã nhập", "đã nhập xong", "ĐÃ NHẬP 45/50", "da nhap du 50"
CONFIRM_RE = re.compile(r"\bda (?:nhap|cap nhat|nhap lieu)\b(?:\D{0,20}?(\d{1,6})(?:\s*(?:/|tren)\s*(\d{1,6}))?)?")


# Where the quoted original starts in replies from Outlook, Gmail, Thunderbird (en/vi).
QUOTE_START_RE = re.compile(
    r"^\s*(-{2,}\s*original message|-{2,}\s*thư gốc|from:|từ:|on .* wrote:|vào .* đã viết:|"
    r"sent from|gửi từ|_{5,})", re.IGNORECASE)


def parse_confirmation(text: str) -> tuple[bool, int | None]:
    """(is it a confirmation, how many rows it names or None for all).

    Only the reply's own words count: quoted lines and everything after the quoted
    original's header are skipped (the forward itself explains how to confirm).
    """
    for line in text.splitlines():
        if QUOTE_START_RE.match(line):
            break
        if line.lstrip().startswith(">"):
            continue  # quoted forward
        m = CONFIRM_RE.search(fold(line))
        if m:
            return True, int(m.group(1)) if m.group(1) else None
    return False, None


def handle(w: Work, ctx: Context) -> None:
    item = w.item
    if item.source != "mail" or item.sender not in ctx.directory.all_addresses():
        return
    if ctx.directory.unit_for_sender(item.sender) is not None:
        return  # an office that is also a sending unit: treat as a submission
    codes = CODE_RE.findall(item.subject) or CODE_RE.findall(item.body_text)
    ok, count = parse_confirmation(item.subject + "\n" + item.body_text)
    if codes and ok:
        code = normalise_code(codes[0])
        keys = ctx.directory.recipient_keys(item.sender)
        batch = next((b for b in ctx.store.batches(code) if b.recipient in keys), None)
        if batch is None:
            w.plan.outcome = "held"
            w.plan.held.append(Held("reply", ctx.renderer.reason("reply"), item.subject, item.raw))
            raise Stop
        w.plan.confirmations.append((code, batch.recipient, count))
        w.plan.outcome = "confirmed"
        w.plan.audit.append(("confirmation", {"code": normalise_code(codes[0]), "rows": count}))
        raise Stop
    if not item.files:
        w.plan.outcome = "held"
        w.plan.held.append(Held("reply", ctx.renderer.reason("reply"), item.subject, item.raw))
        raise Stop
