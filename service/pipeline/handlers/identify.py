"""Sender → unit from the directory. Unknown senders are held, with one short notice a day."""
from __future__ import annotations

from ..context import Context, Stop, Work
from ..plan import Held
from ..notices import send_notice


def handle(w: Work, ctx: Context) -> None:
    item = w.item
    if item.source == "folder":
        w.unit = ctx.directory.unit(item.unit_key or "")
        if w.unit is None:
            w.plan.outcome = "held"
            w.plan.held.append(Held("unknown-folder", ctx.renderer.reason("unknown-folder"),
                                    item.folder_file or "", None))
            raise Stop
    else:
        w.unit = ctx.directory.unit_for_sender(item.sender)
        if w.unit is None:
            w.plan.outcome = "held"
            w.plan.held.append(Held("unknown-sender", ctx.renderer.reason("unknown-sender"),
                                    item.subject, item.raw))
            send_notice(w, ctx, "notice-unknown-sender", cap="unknown_sender_notices_per_day")
            raise Stop
    w.plan.unit_key = w.unit.key
    w.plan.district_code = w.unit.district_code
