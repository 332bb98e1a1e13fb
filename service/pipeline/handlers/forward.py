"""Forward each delivery's rows, in the canonical layout, to its recipient with its copies."""
from __future__ import annotations

from ...mail.compose import XLSX, build_bytes, stable_message_id
from ..context import Context, Work
from ..plan import Forwarded, Outgoing
from . import files_out


def handle(w: Work, ctx: Context) -> None:
    item, plan = w.item, w.plan
    for i, c in enumerate(w.checked):
        for d in c.fresh:
            xlsx = files_out.export_bytes(c.report, d.records, title=w.unit.name)
            mid = stable_message_id(ctx.domain, item.key, "forward", str(i), d.to.key)
            rendered = ctx.renderer.render(
                "forward", code=plan.code, unit=w.unit, to=d.to, cc=d.cc, form=c.report.form,
                rows=len(d.records), file_name=c.file.name, received_at=item.received_at, rule=d.rule,
                intake=ctx.intake_address, support_phones=ctx.directory.support_phones)
            name = files_out.export_name(plan.code, c.report.form, d.to.key)
            data = build_bytes(rendered, sender=ctx.intake_address, sender_name=ctx.settings.section("smtp")["from_name"],
                        to=[(d.to.name, d.to.email)], cc=[(x.name, x.email) for x in d.cc],
                        message_id=mid, auto="auto-generated", when=ctx.now(),
                        attachments=[(name, xlsx, XLSX)],
                        extra_headers={"X-Vaxmail-Code": plan.code, "X-Vaxmail-Kind": "forward"})
            plan.outgoing.append(Outgoing("forward", mid, data, ctx.intake_address,
                                          [d.to.email] + [x.email for x in d.cc]))
            plan.forwarded.extend(Forwarded(r.values["id_number"], c.report.form, d.to.key)
                                  for r in d.records if r.values.get("id_number"))
            plan.files[i].forwarded_rows += len(d.records)
            plan.outcome = "forwarded"
