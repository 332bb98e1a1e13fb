"""One reply per submission: a receipt when every row was accepted, else an error report.

Capped per sender address per day like the short notices (``pipeline/notices.py``); a reply
over the cap is held for the operator instead.
"""
from __future__ import annotations

from ...mail.compose import XLSX
from ..context import Checked, Context, Work
from ..notices import blank_templates, common_context, folder_unit_address, send_reply
from . import files_out

MAX_LISTED_ERRORS = 60


def _split(r) -> dict | None:
    """A national-layout file holding registrations and dosed rows: people per form."""
    counts = {"mau1": 0, "mau2": 0}
    for rec in r.records:
        if rec.form in counts:
            counts[rec.form] += 1
    return counts if counts["mau1"] and counts["mau2"] else None


def _by_place(r, places: dict) -> list[tuple]:
    """{(sheet, row): x} → [(row, x, sheet)] in workbook order (sheet None: the only one)."""
    order = {p.name: n for n, p in enumerate(r.parts)}
    return [(row, x, sheet) for (sheet, row), x in
            sorted(places.items(), key=lambda kv: (order.get(kv[0][0], 0), kv[0][1]))]


def _file_view(c: Checked, held_rows: int) -> dict:
    r = c.report
    return {
        "split": _split(r),
        "name": c.file.name,
        "form": r.form,
        "rows": r.rows,
        "valid_rows": r.valid_rows,
        "fatal": r.fatal.message if r.fatal else None,
        "not_a_form": r.fatal is not None and r.fatal.code == "not-a-form",
        "errors": r.errors[:MAX_LISTED_ERRORS],
        "error_count": len(r.errors),
        "warnings": r.warnings[:MAX_LISTED_ERRORS],
        "warning_count": len(r.warnings),
        "fix_count": len(r.fixes),
        "skipped_rows": [(kind, len(rows)) for kind, rows in r.skipped.items() if rows],
        "deliveries": [{"to": d.to, "cc": d.cc, "rows": len(d.records), "form": d.form or r.form}
                       for d in c.fresh],
        "forwarded_rows": sum(len(d.records) for d in c.fresh),
        # the file holds its people on several sheets: every row is named with its sheet
        "multi_sheet": r.multi_sheet,
        "sheets": [(p.name, p.rows) for p in r.parts] if r.multi_sheet else [],
        "already": _by_place(r, c.already),  # (row, earlier code, sheet)
        "conflicts": _by_place(r, c.conflicts),  # (row, fields that differ, sheet)
        "held_rows": held_rows,
        "route_problem": c.routed.problem if c.routed else None,
        "annotated": c.annotated is not None,  # the annotated copy goes with the reply
    }


def handle(w: Work, ctx: Context) -> None:
    views = [_file_view(c, f.held_rows) for c, f in zip(w.checked, w.plan.files)]
    clean = all(v["fatal"] is None and v["error_count"] == 0 and v["held_rows"] == 0
                and not v["conflicts"] and not v["route_problem"] for v in views)
    kind = "receipt" if clean else "error-report"
    if w.plan.outcome != "forwarded":
        w.plan.outcome = "answered"
    attachments = []
    for c, v in zip(w.checked, views):
        if c.annotated is not None:  # made by the checker, beside the check
            name = files_out.annotated_name(c.file.name)
            attachments.append((name, c.annotated, XLSX))
    if any(v["not_a_form"] for v in views):
        attachments += blank_templates(ctx)
    common = common_context(w, ctx)
    # what the wording may promise: rows were read (so valid ones went on), a copy is attached
    common.update(rows_read=sum(v["rows"] for v in views if v["fatal"] is None),
                  annotated=any(v["annotated"] for v in views))
    if w.item.source == "folder":
        receipt = ctx.renderer.text("folder-receipt.txt.j2", files=views, kind=kind, skipped=w.item.skipped,
                                     **common)
        w.plan.results.append(("receipt", receipt.encode("utf-8")))
        for c in w.checked:
            if c.annotated:
                w.plan.results.append(("annotated", c.annotated))
        address = folder_unit_address(w)
        if not address:
            return
        w.item.sender = address
        w.item.sender_name = w.unit.name
    rendered = ctx.renderer.render(kind, files=views, skipped=w.item.skipped, **common)
    send_reply(w, ctx, kind, rendered, attachments, "replies_per_sender_per_day")
