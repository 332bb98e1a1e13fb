"""A person already forwarded (same form) is never forwarded again; a person another unit
already forwarded with other data is a conflict for the operator.

The person is their ID number; without one (the national layout makes it optional) their
normalised name + birth date + phone (``national.person_key``). The store keeps only keyed
hashes of either, and of the name, birth date and phone each (to tell which one differs).

For a person found earlier:
- sent by the same unit: "already forwarded" with that earlier tracking code;
- sent by another unit with the same data: "already forwarded", without the other unit's code;
- sent by another unit with a different name, birth date or phone: not forwarded, held for
  the operator as a conflict (a hijacked registration, or a real mistake), and the reply
  names the row and what differs.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ...forms.national import person_key
from ...textnorm import fold
from ..context import Context, Work
from ..plan import Held
from ..routing import Delivery


def person_fields(values: dict[str, Any]) -> dict[str, str]:
    """Name, birth date and phone as compared across units (normalised text; blanks left out)."""
    out: dict[str, str] = {}
    name, dob, phone = values.get("full_name"), values.get("dob"), values.get("phone")
    if isinstance(name, str) and name.strip():
        out["full_name"] = fold(name)
    if isinstance(dob, (date, datetime)):
        out["dob"] = dob.strftime("%d/%m/%Y")
    elif dob not in (None, ""):
        out["dob"] = str(dob)
    if phone not in (None, ""):
        out["phone"] = str(phone)
    return out


def handle(w: Work, ctx: Context) -> None:
    my_unit = w.unit.key if w.unit is not None else None
    for i, c in enumerate(w.checked):
        if c.routed is None:
            continue
        by_form: dict[str, dict[str, dict[str, str]]] = {}
        for d in c.routed.deliveries:
            form = d.form or c.report.form
            people = by_form.setdefault(form, {})
            for rec in d.records:
                k = person_key(rec.values)
                if k:
                    people[k] = person_fields(rec.values)
        earlier = {form: ctx.store.earlier_people(people, form, exclude_submission=w.plan.code)
                   for form, people in by_form.items()}
        for d in c.routed.deliveries:
            form = d.form or c.report.form
            before = earlier.get(form, {})
            keep = []
            for rec in d.records:
                key = person_key(rec.values)
                e = before.get(key) if key else None
                if e is not None:
                    other = e.unit_key is not None and e.unit_key != my_unit
                    if other and e.differs:
                        c.conflicts[(rec.sheet, rec.row)] = e.differs
                    else:
                        c.already[(rec.sheet, rec.row)] = "" if other else e.submission
                elif key and key in w.seen_ids:
                    c.already[(rec.sheet, rec.row)] = w.plan.code
                else:
                    if key:
                        w.seen_ids.add(key)
                    keep.append(rec)
            if keep:
                c.fresh.append(Delivery(d.to, d.cc, keep, d.rule, d.form))
        result = w.plan.files[i]
        result.already_rows = len(c.already)
        result.conflict_rows = len(c.conflicts)
        if c.conflicts:
            w.plan.held.append(Held("conflict", ctx.renderer.reason("conflict", rows=len(c.conflicts)),
                                    c.file.name, c.file.data))
            w.plan.audit.append(("conflict", {"rows": len(c.conflicts)}))
