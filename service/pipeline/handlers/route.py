"""Apply the routing table to each file's accepted rows; hold what cannot be routed."""
from __future__ import annotations

from ..context import Context, Work
from ..plan import Held
from ..routing import route


def handle(w: Work, ctx: Context) -> None:
    for i, c in enumerate(w.checked):
        r = c.report
        if r.form is None or r.fatal is not None:
            continue
        c.routed = route(r.form, list(r.valid_records()), w.unit, ctx.directory, ctx.rules)
        result = w.plan.files[i]
        if c.routed.problem:
            result.held_rows = r.valid_rows
            w.plan.held.append(Held("no-route", ctx.renderer.reason("no-route", why=c.routed.problem,
                                                                   unit=w.unit.name), c.file.name, c.file.data))
        elif c.routed.unroutable:
            result.held_rows = len(c.routed.unroutable)
            w.plan.held.append(Held("unknown-facility", ctx.renderer.reason(
                "unknown-facility", rows=len(c.routed.unroutable)), c.file.name, c.file.data))
