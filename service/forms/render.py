"""A report as readable Vietnamese text for the terminal (``vaxmail check`` without --json)."""
from __future__ import annotations

from collections import Counter

from ..wording import catalogue_section, say
from .model import Report

# The labels live in mail_templates/messages.toml: what each automatic fix did ([fix]), what a
# row that is not a person was ([skipped-row]), and what the list is ([form-title]).
FIX_LABELS = catalogue_section("fix")
SKIPPED_LABELS = catalogue_section("skipped-row")
FORM_TITLES = catalogue_section("form-title")


def _cut(s: str, n: int) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "…"


def render_text(report: Report, limit: int = 200) -> str:
    lines = [say("check.file", path=report.path)]
    if report.fatal is not None:
        lines.append(say("check.unreadable", message=report.fatal.message))
        return "\n".join(lines)
    forms = [r.form for r in report.records if r.form]
    kind = (say("check.national", mau1=forms.count("mau1"), mau2=forms.count("mau2")) if forms
            else FORM_TITLES.get(report.form, report.form))
    multi = report.multi_sheet
    sheets = ", ".join(f'"{p.name}"' for p in report.parts) if multi else f'"{report.sheet}"'
    lines.append(say("check.kind", kind=kind, sheets=sheets))
    if multi:
        lines.append(say("check.per-sheet", counts="; ".join(f'"{p.name}": {p.rows}' for p in report.parts)))
    lines.append(say("check.counts", rows=report.rows, valid=report.valid_rows, errors=len(report.errors),
                     warnings=len(report.warnings), fixes=len(report.fixes)))
    if report.skipped:
        parts = [f"{len(v)} {SKIPPED_LABELS.get(k, k)}" for k, v in report.skipped.items() if v]
        lines.append(say("check.not-people", parts="; ".join(parts)))
    for title, issues in ((say("check.errors"), report.errors), (say("check.warnings"), report.warnings)):
        if not issues:
            continue
        lines.append("")
        lines.append(f"{title}:")
        head = (f"{say('check.head-row'):>6}  {say('check.head-cell'):<6} {say('check.head-column'):<22} "
                f"{say('check.head-content')}")
        lines.append(f"{say('check.head-sheet'):<16}{head}" if multi else head)
        for i in issues[:limit]:
            cell = f"{i.column or ''}{i.row or ''}"
            line = f"{i.row or '':>6}  {cell:<6} {_cut(i.header or '', 22):<22} {i.message}"
            lines.append(f"{_cut(i.sheet or '', 15):<16}{line}" if multi else line)
        if len(issues) > limit:
            lines.append(say("check.more", count=len(issues) - limit))
    if report.fixes:
        counts = Counter(f.code for f in report.fixes)
        lines.append("")
        lines.append(say("check.fixed"))
        for code, n in counts.most_common():
            lines.append(say("check.fixed-count", count=n, label=FIX_LABELS.get(code, code)))
    return "\n".join(lines)
