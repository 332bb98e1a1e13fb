"""Forward each delivery's rows to its recipient with its copies.

The workbook is the national platform's import template (SPEC: receivers upload it
unchanged) unless the directory gives the recipient ``layout = "canonical"``. A national-layout
file holding both registrations and dosed rows gives one delivery per form.
"""
from __future__ import annotations

from ...forms.national import person_key
from ...mail.compose import XLSX, build_bytes, stable_message_id
from ..context import Context, Work
from ..plan import Forwarded, Outgoing
from . import files_out
from .dedupe import person_fields


def handle(w: Work, ctx: Context) -> None:
    item, plan = w.item, w.plan
    for i, c in enumerate(w.checked):
        mixed = len({d.form for d in c.fresh if d.form}) > 1
        for d in c.fresh:
            form = d.form or c.report.form
            layout = ctx.directory.layout_for(d.to.key)
            if layout == "canonical":
                xlsx = files_out.export_bytes(c.report, d.records, title=w.unit.name, form=form)
            else:
                xlsx = files_out.national_bytes(d.records, ctx.directory)
            parts = (str(i), d.to.key) + ((form,) if mixed else ())
            mid = stable_message_id(ctx.domain, item.key, "forward", *parts)
            rendered = ctx.renderer.render(
                "forward", code=plan.code, unit=w.unit, to=d.to, cc=d.cc, form=form, layout=layout,
                rows=len(d.records), file_name=c.file.name, received_at=item.received_at, rule=d.rule,
                intake=ctx.intake_address, support_phones=ctx.directory.support_phones)
            name = files_out.export_name(plan.code, form, d.to.key)
            data = build_bytes(rendered, sender=ctx.intake_address, sender_name=ctx.settings.section("smtp")["from_name"],
                        to=[(d.to.name, d.to.email)], cc=[(x.name, x.email) for x in d.cc],
                        message_id=mid, auto="auto-generated", when=ctx.now(),
                        attachments=[(name, xlsx, XLSX)],
                        extra_headers={"X-Vaxmail-Code": plan.code, "X-Vaxmail-Kind": "forward"})
            plan.outgoing.append(Outgoing("forward", mid, data, ctx.intake_address,
                                          [d.to.email] + [x.email for x in d.cc]))
            plan.forwarded.extend(Forwarded(k, form, d.to.key, person_fields(r.values))
                                  for k, r in ((person_key(r.values), r) for r in d.records) if k)
            plan.files[i].forwarded_rows += len(d.records)
            plan.outcome = "forwarded"
