"""Never answer automatic mail, bounces or our own messages: hold them for the operator."""
from __future__ import annotations

from ..context import Context, Stop, Work
from ..plan import Held


def handle(w: Work, ctx: Context) -> None:
    item = w.item
    if item.source != "mail":
        return
    reason = item.automatic
    if not reason and item.sender == ctx.intake_address:
        reason = "own-address"
    if reason:
        w.plan.outcome = "held"
        w.plan.held.append(Held("automatic", ctx.renderer.reason("automatic", why=reason),
                                item.subject, item.raw))
        w.plan.audit.append(("ignored-automatic", {"why": reason}))
        raise Stop
