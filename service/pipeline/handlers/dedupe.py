"""A person already forwarded (same ID number, same form) is never forwarded again."""
from __future__ import annotations

from ..context import Context, Work
from ..routing import Delivery


def handle(w: Work, ctx: Context) -> None:
    for i, c in enumerate(w.checked):
        if c.routed is None:
            continue
        form = c.report.form
        ids = [rec.values.get("id_number") for d in c.routed.deliveries for rec in d.records]
        earlier = ctx.store.already_forwarded([x for x in ids if x], form, exclude_submission=w.plan.code)
        for d in c.routed.deliveries:
            keep = []
            for rec in d.records:
                idn = rec.values.get("id_number")
                if idn and idn in earlier:
                    c.already[rec.row] = earlier[idn]
                elif idn and idn in w.seen_ids:
                    c.already[rec.row] = w.plan.code
                else:
                    if idn:
                        w.seen_ids.add(idn)
                    keep.append(rec)
            if keep:
                c.fresh.append(Delivery(d.to, d.cc, keep, d.rule))
        w.plan.files[i].already_rows = len(c.already)
