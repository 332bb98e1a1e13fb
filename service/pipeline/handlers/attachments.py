"""A submission must carry at least one spreadsheet; otherwise say what we need."""
from __future__ import annotations

from ..context import Context, Stop, Work
from ..notices import send_notice


def handle(w: Work, ctx: Context) -> None:
    if w.item.files:
        return
    kind = "notice-unsupported" if w.item.skipped else "notice-no-attachment"
    w.plan.outcome = "answered"
    send_notice(w, ctx, kind, templates=True)
    raise Stop
