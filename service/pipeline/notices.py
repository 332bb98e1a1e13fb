"""Answers to the sender: the short notices (no attachment, unsupported file, unknown or
unverified sender, failed processing) and the plumbing every reply shares — the per-address
daily cap, the message itself, the template context, the blank forms attached.
"""
from __future__ import annotations

from ..addresses import is_plain
from ..mail.compose import XLSX, build_bytes, stable_message_id
from .context import Context, Work
from .handlers import files_out
from .plan import Held, Outgoing


def blank_templates(ctx: Context) -> list[tuple[str, bytes, tuple[str, str]]]:
    """The two blank forms, attached when a sender needs to start from the right layout."""
    return [("Mau1_dang_ky_tiem_mui_1.xlsx", files_out.template_bytes("mau1", ctx.directory), XLSX),
            ("Mau2_bo_sung_da_tiem.xlsx", files_out.template_bytes("mau2", ctx.directory), XLSX)]


def capped(w: Work, ctx: Context, cap: str, addr: str) -> bool:
    if "reply-cap" in ctx.released:  # the operator released a held reply: send it
        return False
    day = w.item.received_at.date()
    sent = ctx.store.count_replies(addr, day) + w.plan.replied_to.count(addr)
    return sent >= ctx.limit(cap)


def global_counter(w: Work) -> str:
    """The store counter of replies to addresses outside the directory, per hour."""
    return "unknown-hour:" + w.item.received_at.strftime("%Y-%m-%dT%H")


def global_capped(w: Work, ctx: Context, key: str) -> bool:
    if "reply-cap" in ctx.released:
        return False
    day = w.item.received_at.date()
    sent = ctx.store.count_replies(key, day) + w.plan.replied_to.count(key)
    return sent >= ctx.limit("replies_global_per_hour")


def send_reply(w: Work, ctx: Context, kind: str, rendered, attachments, cap: str, counter: str = "") -> None:
    """Queue one reply to the sender; ``counter`` names a separate daily count (default: the address)."""
    item, plan = w.item, w.plan
    if not item.sender:
        return
    if not is_plain(item.sender):
        # "x%evil@unit", quoted or routed addresses: never written to (the item stays visible)
        plan.audit.append(("reply-refused", {"kind": kind, "why": "address-not-plain"}))
        return
    counter = f"{counter}:{item.sender}" if counter else item.sender
    hourly = None
    if ctx.directory.unit_for_sender(item.sender) is None and not ctx.directory.recipient_keys(item.sender):
        # unknown (or rotating) addresses: capped all together per hour, besides each one
        hourly = global_counter(w)
    if capped(w, ctx, cap, counter) or (hourly and global_capped(w, ctx, hourly)):
        if plan.outcome != "held":  # an item already held for the operator needs no second entry
            plan.held.append(Held("reply-cap", ctx.renderer.reason("reply-cap", kind=kind), item.subject, None))
        plan.audit.append(("reply-capped", {"kind": kind}))
        return
    mid = stable_message_id(ctx.domain, item.key, "reply", kind)
    # a unit is addressed by its name in the directory, not by what its mail client wrote
    to_name = w.unit.name if w.unit is not None else item.sender_name
    data = build_bytes(rendered, sender=ctx.intake_address, sender_name=ctx.settings.smtp.from_name,
                to=[(to_name, item.sender)], message_id=mid, auto="auto-replied",
                when=ctx.now(), in_reply_to=item.message_id, references=item.references,
                attachments=attachments, extra_headers={"X-Vaxmail-Code": plan.code, "X-Vaxmail-Kind": kind})
    plan.outgoing.append(Outgoing(kind, mid, data, ctx.intake_address, [item.sender]))
    plan.replied_to.append(counter)
    if hourly:
        plan.replied_to.append(hourly)


def common_context(w: Work, ctx: Context) -> dict:
    return dict(code=w.plan.code, item=w.item, unit=w.unit, received_at=w.item.received_at,
                support_phones=ctx.directory.support_phones, intake=ctx.intake_address,
                subject=w.item.subject)


def folder_unit_address(w: Work) -> str:
    """A dropped file's unit, when it has an exact address, gets the same answer by e-mail."""
    return next((e for e in (w.unit.emails if w.unit else ()) if not e.startswith("@")), "")


def send_notice(w: Work, ctx: Context, kind: str, *, cap: str = "replies_per_sender_per_day",
                templates: bool = False, counter: str = "") -> None:
    if w.item.source == "folder":
        # the notice lands beside the file; mailed too when the unit has an address
        text = ctx.renderer.text(f"{kind}.txt.j2", skipped=w.item.skipped, **common_context(w, ctx))
        w.plan.results.append(("receipt", text.encode("utf-8")))
        address = folder_unit_address(w)
        if not address:
            return
        w.item.sender, w.item.sender_name = address, w.unit.name
    rendered = ctx.renderer.render(kind, skipped=w.item.skipped, **common_context(w, ctx))
    atts = blank_templates(ctx) if templates else []
    send_reply(w, ctx, kind, rendered, atts, cap, counter)
