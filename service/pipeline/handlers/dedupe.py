"""A person already forwarded (same form) is never forwarded again.

The person is their ID number; without one (the national layout makes it optional) their
normalised name + birth date + phone (``national.person_key``). The store keeps only keyed
hashes of either.
"""
from __future__ import annotations

from ...forms.national import person_key
from ..context import Context, Work
from ..routing import Delivery


def handle(w: Work, ctx: Context) -> None:
    for i, c in enumerate(w.checked):
        if c.routed is None:
            continue
        by_form: dict[str, list[str]] = {}
        for d in c.routed.deliveries:
            form = d.form or c.report.form
            by_form.setdefault(form, []).extend(
                k for k in (person_key(rec.values) for rec in d.records) if k)
        earlier = {form: ctx.store.already_forwarded(keys, form, exclude_submission=w.plan.code)
                   for form, keys in by_form.items()}
        for d in c.routed.deliveries:
            form = d.form or c.report.form
            before = earlier.get(form, {})
            keep = []
            for rec in d.records:
                key = person_key(rec.values)
                if key and key in before:
                    c.already[rec.row] = before[key]
                elif key and key in w.seen_ids:
                    c.already[rec.row] = w.plan.code
                else:
                    if key:
                        w.seen_ids.add(key)
                    keep.append(rec)
            if keep:
                c.fresh.append(Delivery(d.to, d.cc, keep, d.rule, d.form))
        w.plan.files[i].already_rows = len(c.already)
