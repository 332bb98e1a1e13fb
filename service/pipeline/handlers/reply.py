"""One reply per submission: a receipt when every row was accepted, else an error report.

Also the short notices (no attachment, unsupported file, unknown sender), all capped per
sender address per day; a reply over the cap is held for the operator instead.
"""
from __future__ import annotations

from ...addresses import is_plain
from ...mail.compose import XLSX, build_bytes, stable_message_id
from ..context import Checked, Context, Work
from ..plan import Held, Outgoing
from . import files_out

MAX_LISTED_ERRORS = 60


def _split(r) -> dict | None:
    """A national-layout file holding registrations and dosed rows: people per form."""
    counts = {"mau1": 0, "mau2": 0}
    for rec in r.records:
        if rec.form in counts:
            counts[rec.form] += 1
    return counts if counts["mau1"] and counts["mau2"] else None


def _file_view(c: Checked, held_rows: int) -> dict:
    r = c.report
    return {
        "split": _split(r),
        "name": c.file.name,
        "form": r.form,
        "rows": r.rows,
        "valid_rows": r.valid_rows,
        "fatal": r.fatal.message if r.fatal else None,
        "not_a_form": r.fatal is not None and r.fatal.code == "not-a-form",
        "errors": r.errors[:MAX_LISTED_ERRORS],
        "error_count": len(r.errors),
        "warnings": r.warnings[:MAX_LISTED_ERRORS],
        "warning_count": len(r.warnings),
        "fix_count": len(r.fixes),
        "skipped_rows": [(kind, len(rows)) for kind, rows in r.skipped.items() if rows],
        "deliveries": [{"to": d.to, "cc": d.cc, "rows": len(d.records), "form": d.form or r.form}
                       for d in c.fresh],
        "forwarded_rows": sum(len(d.records) for d in c.fresh),
        "already": sorted(c.already.items()),
        "conflicts": sorted(c.conflicts.items()),  # (row, fields that differ)
        "held_rows": held_rows,
        "route_problem": c.routed.problem if c.routed else None,
    }


def _capped(w: Work, ctx: Context, cap: str, addr: str) -> bool:
    if "reply-cap" in ctx.released:  # the operator released a held reply: send it
        return False
    day = w.item.received_at.date()
    sent = ctx.store.count_replies(addr, day) + w.plan.replied_to.count(addr)
    return sent >= ctx.limit(cap)


def _send(w: Work, ctx: Context, kind: str, rendered, attachments, cap: str, counter: str = "") -> None:
    """Queue one reply to the sender; ``counter`` names a separate daily count (default: the address)."""
    item, plan = w.item, w.plan
    if not item.sender:
        return
    if not is_plain(item.sender):
        # "x%evil@unit", quoted or routed addresses: never written to (the item stays visible)
        plan.audit.append(("reply-refused", {"kind": kind, "why": "address-not-plain"}))
        return
    counter = f"{counter}:{item.sender}" if counter else item.sender
    if _capped(w, ctx, cap, counter):
        if plan.outcome != "held":  # an item already held for the operator needs no second entry
            plan.held.append(Held("reply-cap", ctx.renderer.reason("reply-cap", kind=kind), item.subject, None))
        plan.audit.append(("reply-capped", {"kind": kind}))
        return
    mid = stable_message_id(ctx.domain, item.key, "reply", kind)
    data = build_bytes(rendered, sender=ctx.intake_address, sender_name=ctx.settings.section("smtp")["from_name"],
                to=[(item.sender_name, item.sender)], message_id=mid, auto="auto-replied",
                when=ctx.now(), in_reply_to=item.message_id, references=item.references,
                attachments=attachments, extra_headers={"X-Vaxmail-Code": plan.code, "X-Vaxmail-Kind": kind})
    plan.outgoing.append(Outgoing(kind, mid, data, ctx.intake_address, [item.sender]))
    plan.replied_to.append(counter)


def _common(w: Work, ctx: Context) -> dict:
    return dict(code=w.plan.code, item=w.item, unit=w.unit, received_at=w.item.received_at,
                support_phones=ctx.directory.support_phones, intake=ctx.intake_address,
                subject=w.item.subject)


def _folder_unit_address(w: Work) -> str:
    """A dropped file's unit, when it has an exact address, gets the same answer by e-mail."""
    return next((e for e in (w.unit.emails if w.unit else ()) if not e.startswith("@")), "")


def send_notice(w: Work, ctx: Context, kind: str, *, cap: str = "replies_per_sender_per_day",
                templates: bool = False, counter: str = "") -> None:
    if w.item.source == "folder":
        # the notice lands beside the file; mailed too when the unit has an address
        text = ctx.renderer.text(f"{kind}.txt.j2", skipped=w.item.skipped, **_common(w, ctx))
        w.plan.results.append(("receipt", text.encode("utf-8")))
        address = _folder_unit_address(w)
        if not address:
            return
        w.item.sender, w.item.sender_name = address, w.unit.name
    rendered = ctx.renderer.render(kind, skipped=w.item.skipped, **_common(w, ctx))
    atts = []
    if templates:
        atts = [("Mau1_dang_ky_tiem_mui_1.xlsx", files_out.template_bytes("mau1", ctx.directory), XLSX),
                ("Mau2_bo_sung_da_tiem.xlsx", files_out.template_bytes("mau2", ctx.directory), XLSX)]
    _send(w, ctx, kind, rendered, atts, cap, counter)


def handle(w: Work, ctx: Context) -> None:
    views = [_file_view(c, f.held_rows) for c, f in zip(w.checked, w.plan.files)]
    clean = all(v["fatal"] is None and v["error_count"] == 0 and v["held_rows"] == 0
                and not v["conflicts"] and not v["route_problem"] for v in views)
    kind = "receipt" if clean else "error-report"
    if w.plan.outcome != "forwarded":
        w.plan.outcome = "answered"
    attachments = []
    for c, v in zip(w.checked, views):
        if c.annotated is not None:  # made by the checker, beside the check
            name = files_out.annotated_name(c.file.name)
            attachments.append((name, c.annotated, XLSX))
    if any(v["not_a_form"] for v in views):
        attachments += [("Mau1_dang_ky_tiem_mui_1.xlsx", files_out.template_bytes("mau1", ctx.directory), XLSX),
                        ("Mau2_bo_sung_da_tiem.xlsx", files_out.template_bytes("mau2", ctx.directory), XLSX)]
    common = _common(w, ctx)
    if w.item.source == "folder":
        receipt = ctx.renderer.text("folder-receipt.txt.j2", files=views, kind=kind, skipped=w.item.skipped,
                                     **common)
        w.plan.results.append(("receipt", receipt.encode("utf-8")))
        for c in w.checked:
            if c.annotated:
                w.plan.results.append(("annotated", c.annotated))
        address = _folder_unit_address(w)
        if not address:
            return
        w.item.sender = address
        w.item.sender_name = w.unit.name
    rendered = ctx.renderer.render(kind, files=views, skipped=w.item.skipped, **common)
    _send(w, ctx, kind, rendered, attachments, "replies_per_sender_per_day")
