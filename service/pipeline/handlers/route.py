"""Apply the routing table to each file's accepted rows; hold what cannot be routed.

Rows whose dose-1 facility is not in the directory cannot reach anyone: they go back to the
sender as errors AND are held for the operator (who may add the facility and release them).
"""
from __future__ import annotations

from ..context import Context, Work
from ..plan import Held
from ..routing import route_by_row_form


def handle(w: Work, ctx: Context) -> None:
    for i, c in enumerate(w.checked):
        r = c.report
        if r.form is None or r.fatal is not None:
            continue
        # a national-layout file may hold registrations and dosed rows: each by its own rule
        c.routed = route_by_row_form(r.form, list(r.valid_records()), w.unit, ctx.directory, ctx.rules)
        result = w.plan.files[i]
        unknown = {(e.sheet, e.row) for e in r.errors if e.code == "facility-unknown"}
        if c.routed.problem:
            result.held_rows = r.valid_rows
            w.plan.held.append(Held("no-route", ctx.renderer.reason("no-route", why=c.routed.problem,
                                                                   unit=w.unit.name), c.file.name, c.file.data))
        elif c.routed.unroutable or unknown:
            result.held_rows = len(c.routed.unroutable) + len(unknown)
            w.plan.held.append(Held("unknown-facility", ctx.renderer.reason(
                "unknown-facility", rows=result.held_rows), c.file.name, c.file.data))
