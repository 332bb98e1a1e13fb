"""Run the form engine on every file (on the day the item arrived), one file at a time.

The engine runs wherever the runner's checker says: in the bounded worker process
(``forms.worker.CheckPool``) for the daemon, in this process otherwise. A file whose worker
died or ran out of time or memory comes back refused; the other files go on.
"""
from __future__ import annotations

from ...forms.worker import Limits, LocalChecker
from ..context import Checked, Context, Work
from ..plan import FileResult


def checker(ctx: Context):
    if ctx.checker is None:
        ctx.checker = LocalChecker(ctx.directory, ctx.workdir, Limits.from_settings(ctx.settings))
    return ctx.checker


def handle(w: Work, ctx: Context) -> None:
    today = w.item.received_at.date()
    check = checker(ctx)
    for f in w.item.files:
        report, annotated = check.check(f.name, f.data, today)
        report.path = f.name
        w.checked.append(Checked(f, report, annotated=annotated))
        codes: dict[str, int] = {}
        for e in report.errors:
            codes[e.code] = codes.get(e.code, 0) + 1
        w.plan.files.append(FileResult(
            f.name, report.form, report.rows, report.valid_rows, errors=len(report.errors),
            error_codes=codes, fatal=report.fatal.code if report.fatal else None))
