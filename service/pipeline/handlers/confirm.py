"""Receivers replying to a forward: rows entered on the national platform (the digest's loop).

Two ways to say it:
- the workbook after import, attached to the reply: column Z ("Kết quả import") says per
  row whether the platform took it ("Thành công", "Import thành công") or why not (its error
  text). Entered rows are confirmed; failed rows go back to the unit that sent them, with
  the platform's reason, in the same layout (column Z carrying the reason);
- the words "Đã nhập 45/50" (or "Đã nhập": every row sent).
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from ...forms import national
from ...mail.compose import XLSX, build_bytes, stable_message_id
from ...state.store import normalise_code
from ...textnorm import fold
from ..context import Context, Stop, Work
from ..plan import Held, Outgoing

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
    if codes and item.files:
        results = import_results(item.files, ctx, item.received_at.date())
        if results:
            _import_result(w, ctx, normalise_code(codes[0]), results)
            raise Stop
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


def import_results(files, ctx: Context, today: date) -> list[tuple]:
    """(record, entered?, the platform's text) of every row whose column Z is filled, over
    the attached workbooks; [] when none is a workbook after import."""
    from .check import checker  # the bounded worker, as for any submitted file
    out: list[tuple] = []
    for f in files:
        suffix = Path(f.name).suffix.lower()
        if suffix not in (".xlsx", ".xls", ".xlsm"):
            continue
        report, _ = checker(ctx).check(f.name, f.data, today)
        # the receiver's workbook may hold the people on several sheets: any with column Z
        if any(national.IMPORT_RESULT in p.layout.columns for p in report.parts):
            out += national.import_results(report.records)
    return out


def _import_result(w: Work, ctx: Context, code: str, results: list[tuple]) -> None:
    item, plan = w.item, w.plan
    keys = ctx.directory.recipient_keys(item.sender)
    batch = next((b for b in ctx.store.batches(code) if b.recipient in keys), None)
    if batch is None:
        plan.outcome = "held"
        plan.held.append(Held("reply", ctx.renderer.reason("reply"), item.subject, item.raw))
        return
    entered = sum(1 for _, ok, _ in results if ok)
    failed = [(rec, text) for rec, ok, text in results if not ok]
    # per person, so that the results of a batch's Mẫu 1 and Mẫu 2 files add up (and a
    # result sent twice counts once)
    people = [k for k in (national.person_key(rec.values) for rec, ok, _ in results if ok) if k]
    plan.entered.append((code, batch.recipient, people))
    plan.outcome = "confirmed"
    plan.audit.append(("import-result", {"code": code, "entered": entered, "failed": len(failed)}))
    if failed:
        _send_back(w, ctx, code, batch.recipient, entered, failed)


def _recipient_name(ctx: Context, key: str) -> str:
    d = ctx.directory
    o = d.office(key)
    if o is not None:
        return o.name
    for dist in d.districts:
        for o in (dist.health_centre, dist.culture_office):
            if o.key == key:
                return o.name
    return next((f.name for f in d.facilities if f.key == key), key)


def _send_back(w: Work, ctx: Context, code: str, recipient: str, entered: int, failed: list) -> None:
    """The rows the platform refused go back to the unit that sent them, with its reasons."""
    item, plan = w.item, w.plan
    subs = ctx.store.submissions(code)
    sub = subs[0] if subs else None
    unit = ctx.directory.unit(sub.unit_key) if sub and sub.unit_key else None
    address = sub.sender if sub and "@" in (sub.sender or "") else next(
        (e for e in (unit.emails if unit else ()) if not e.startswith("@")), "")
    if not address:
        plan.held.append(Held("import-failed", ctx.renderer.reason(
            "import-failed", rows=len(failed), code=code), item.subject, item.raw))
        return
    rows = [{"name": rec.values.get("full_name") or "", "dob": _dmy(rec.values.get("dob")),
             "id_number": rec.values.get("id_number") or "", "reason": text} for rec, text in failed]
    rendered = ctx.renderer.render(
        "import-failed", code=code, unit=unit, recipient=_recipient_name(ctx, recipient),
        entered=entered, failed=rows, file_name=sub.file_name if len(subs) == 1 else "",
        intake=ctx.intake_address, support_phones=ctx.directory.support_phones)
    xlsx = national.write_bytes([rec for rec, _ in failed], ctx.directory,
                                results=[text for _, text in failed])
    # the same refusals sent again (a receiver replying twice with one result) are told once:
    # the Message-ID follows what is refused (keyed hashes), not the reply that carried it
    refused = sorted(ctx.store.id_hash(national.person_key(rec.values) or _place(rec)) + "|" + text
                     for rec, text in failed)
    mid = stable_message_id(ctx.domain, "import-failed", code, recipient, *refused)
    if ctx.store.outgoing(mid) is not None:
        plan.audit.append(("import-failed-repeat", {"code": code, "rows": len(failed)}))
        return
    data = build_bytes(rendered, sender=ctx.intake_address,
                       sender_name=ctx.settings.section("smtp")["from_name"],
                       to=[(unit.name if unit else "", address)], message_id=mid,
                       auto="auto-generated", when=ctx.now(),
                       attachments=[(f"{code}_chua_nhap_duoc.xlsx", xlsx, XLSX)],
                       extra_headers={"X-Vaxmail-Code": code, "X-Vaxmail-Kind": "import-failed"})
    plan.outgoing.append(Outgoing("import-failed", mid, data, ctx.intake_address, [address]))


def _place(rec) -> str:
    return f"row {rec.row}" if rec.sheet is None else f"row {rec.sheet} {rec.row}"


def _dmy(v) -> str:
    return v.strftime("%d/%m/%Y") if hasattr(v, "strftime") else ("" if v is None else str(v))
