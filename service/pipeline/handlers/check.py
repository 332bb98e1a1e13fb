"""Run the form engine on every file (on the day the item arrived), one file at a time.

The engine runs wherever the runner's checker says: in the bounded worker process
(``forms.worker.CheckPool``) for the daemon, in this process otherwise. A file whose worker
died or ran out of time or memory comes back refused; the other files go on.
"""
from __future__ import annotations

from ...forms.issues import MESSAGE_TOO_MANY_ROWS
from ...forms.worker import Limits, LocalChecker, refused
from ..context import Checked, Context, Work
from ..plan import FileResult


def checker(ctx: Context):
    if ctx.checker is None:
        ctx.checker = LocalChecker(ctx.directory, ctx.workdir, Limits.from_settings(ctx.settings))
    return ctx.checker


def handle(w: Work, ctx: Context) -> None:
    today = w.item.received_at.date()
    check = checker(ctx)
    budget = int(ctx.limit("max_rows"))  # rows of ONE message: its lists stay in memory till the reply
    used = 0
    for f in w.item.files:
        left = budget - used
        if left <= 0:
            report, annotated = refused(f.name, today, "message-too-many-rows"), None
        else:
            report, annotated = check.check(f.name, f.data, today, max_rows=left)
            if left < budget and report.fatal is not None and report.fatal.code == "too-many-rows":
                report = refused(f.name, today, "message-too-many-rows")  # the message's budget, not the file's
        if report.fatal is not None and report.fatal.code == "message-too-many-rows":
            report.fatal.message = MESSAGE_TOO_MANY_ROWS.format(name=f.name, limit=f"{budget:,}".replace(",", "."))
        used += report.rows
        report.path = f.name
        w.checked.append(Checked(f, report, annotated=annotated))
        codes: dict[str, int] = {}
        for e in report.errors:
            codes[e.code] = codes.get(e.code, 0) + 1
        w.plan.files.append(FileResult(
            f.name, report.form, report.rows, report.valid_rows, errors=len(report.errors),
            error_codes=codes, fatal=report.fatal.code if report.fatal else None))
