"""Never answer automatic mail, bounces, list mail or our own messages, nor a message whose
sender is unclear (several From addresses or headers, an address we cannot answer): hold
them for the operator."""
from __future__ import annotations

from ..context import Context, Stop, Work
from ..plan import Held

UNCLEAR_SENDER = ("from-ambiguous", "from-unusable")  # intake.mime's problem codes


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
    unclear = next((p for p in UNCLEAR_SENDER if p in item.problems), None)
    if unclear:
        w.plan.outcome = "held"
        w.plan.held.append(Held("sender-unclear", ctx.renderer.reason(unclear), item.subject, item.raw))
        w.plan.audit.append(("sender-unclear", {"why": unclear}))
        raise Stop
