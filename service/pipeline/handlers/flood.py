"""A unit's daily forwards are capped (``[limits] forwards_per_unit_day``): beyond the cap its
submissions are held for the operator (who may release them) and the unit is told once a day.
A script or a loop at a unit must not turn into thousands of forwards to CDC."""
from __future__ import annotations

from ..context import Context, Stop, Work
from ..notices import send_notice
from ..plan import Held

KIND = "unit-flood"


def counter(unit_key: str) -> str:
    """The store's daily counter of forwarding submissions of a unit (see commit)."""
    return f"forwards:{unit_key}"


def handle(w: Work, ctx: Context) -> None:
    if w.unit is None or KIND in ctx.released:
        return
    cap = ctx.limit("forwards_per_unit_day")
    if ctx.store.count_replies(counter(w.unit.key), w.item.received_at.date()) < cap:
        return
    item = w.item
    w.plan.outcome = "held"
    w.plan.held.append(Held(KIND, ctx.renderer.reason(KIND, cap=cap), item.subject or item.folder_file or "",
                            item.raw))
    w.plan.audit.append(("unit-flood", {"unit": w.unit.key, "cap": cap}))
    # one notice a day, counted apart from the unit's receipts
    send_notice(w, ctx, "notice-flood", cap="unknown_sender_notices_per_day", counter="flood")
    raise Stop
