"""The digest's .xlsx attachment: the full tables behind the mail (openpyxl).

One sheet per table: the summary per district and group, every unit of the directory, the
14-day trend, the error types, the recipients, the unconfirmed batches and the held items.
Numbers are numbers (with a thousands format), dates are dates, so leaders can sort and sum.
"""
from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..wording import catalogue_section, say, say_each
from .data import Counts, Figures

INT = "#,##0"
PCT = "0.0%"
DAY = "dd/mm/yyyy"
HEAD_FILL = PatternFill("solid", fgColor="DDE7F3")
BOLD = Font(bold=True)


def _pct(v: float | None):
    return None if v is None else v / 100.0


def _sheet(wb: Workbook, title: str, caption: str, headers: list[str], rows: list[list],
           widths: list[int], formats: dict[int, str] | None = None, total: list | None = None):
    ws = wb.create_sheet(title)
    ws.append([caption])
    ws["A1"].font = Font(bold=True, size=12)
    ws.append([])
    ws.append(headers)
    for c in range(1, len(headers) + 1):
        cell = ws.cell(row=3, column=c)
        cell.font, cell.fill = BOLD, HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for r in rows:
        ws.append(r)
    if total is not None:
        ws.append(total)
        for c in range(1, len(headers) + 1):
            ws.cell(row=ws.max_row, column=c).font = BOLD
    formats = formats or {}
    for col, fmt in formats.items():
        for r in range(4, ws.max_row + 1):
            ws.cell(row=r, column=col).number_format = fmt
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "B4"
    return ws


def _counts(c: Counts) -> list[int]:
    return [c.files, c.mau1, c.mau2, c.forwarded, c.rejected, c.held]


def workbook_bytes(f: Figures) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    d = f.day.strftime("%d/%m/%Y")
    dm = f.day.strftime("%d/%m")
    since = say("digest-workbook.since", first=f.first_day.strftime("%d/%m/%Y")) if f.first_day else ""

    count_heads = say_each("digest-workbook.count-heads")
    heads = (say_each("digest-workbook.summary-heads")
             + [say("digest-workbook.count-day", head=h, day=dm) for h in count_heads]
             + [say("digest-workbook.count-total", head=h) for h in count_heads]
             + say_each("digest-workbook.summary-heads-after"))
    rows = [[g.rank, g.name, g.units, g.units_reported, *_counts(g.day), *_counts(g.total),
             g.rows_sent, g.entered, _pct(g.entered_pct), g.target, _pct(g.target_pct),
             _pct(g.target_entered_pct)] for g in f.groups]
    total = [None, say("digest-workbook.province"), sum(g.units for g in f.groups),
             sum(g.units_reported for g in f.groups), *_counts(f.day_total), *_counts(f.total),
             f.rows_sent, f.entered, _pct(f.entered_pct), None, None, None]
    fmts = {c: INT for c in range(3, 19)} | {19: PCT, 20: INT, 21: PCT, 22: PCT}
    _sheet(wb, say("digest-workbook.summary-sheet"), say("digest-workbook.summary-title", day=d, since=since),
           heads, rows, [7, 34] + [12] * 20, fmts, total)

    levels = catalogue_section("digest-level")
    unit_rows = []
    for u in f.units:
        if u.last_day is None:
            state = say("digest-workbook.never-sent")
        elif u.silent_days is not None and u.silent_days >= f.silent_days:
            state = say("digest-workbook.silent", days=u.silent_days)
        else:
            state = ""
        unit_rows.append([u.name, u.group_name, levels.get(u.level, u.level), *_counts(u.total),
                          u.rows_sent, u.entered, u.last_day, u.silent_days, state])
    _sheet(wb, say("digest-workbook.units-sheet"), say("digest-workbook.units-title", day=d),
           say_each("digest-workbook.units-heads"),
           unit_rows, [44, 26, 13] + [11] * 8 + [14, 11, 24],
           {c: INT for c in range(4, 12)} | {12: DAY, 13: INT})

    _sheet(wb, say("digest-workbook.trend-sheet"), say("digest-workbook.trend-title", day=d),
           say_each("digest-workbook.trend-heads"),
           [[t.day, t.files, t.submitted, t.forwarded, t.rejected] for t in f.trend],
           [13, 10, 16, 14, 14], {1: DAY, 2: INT, 3: INT, 4: INT, 5: INT})

    _sheet(wb, say("digest-workbook.errors-sheet"), say("digest-workbook.errors-title", day=d),
           say_each("digest-workbook.errors-heads", day=dm),
           [[e.code, e.label, e.day, e.total] for e in f.errors], [24, 44, 12, 12],
           {3: INT, 4: INT})

    _sheet(wb, say("digest-workbook.recipients-sheet"), say("digest-workbook.recipients-title", day=d),
           say_each("digest-workbook.recipients-heads", day=dm),
           [[r.name, r.key, r.batches_day, r.rows_day, r.batches, r.rows, r.entered,
             r.unconfirmed_batches] for r in f.recipients],
           [44, 16, 11, 11, 11, 12, 11, 12], {c: INT for c in range(3, 9)})

    _sheet(wb, say("digest-workbook.stale-sheet"),
           say("digest-workbook.stale-title", days=f.unconfirmed_days, day=d),
           say_each("digest-workbook.stale-heads"),
           [[s.name, s.recipient, s.batches, s.rows, s.oldest_code, s.oldest_day, s.days]
            for s in f.stale],
           [44, 16, 9, 11, 14, 14, 9], {3: INT, 4: INT, 6: DAY, 7: INT})

    held_rows = [[kind, f.held_labels.get(kind, kind), n] for kind, n in sorted(f.held_day.items())]
    _sheet(wb, say("digest-workbook.held-sheet"), say("digest-workbook.held-title", day=d, open=f.held_open),
           say_each("digest-workbook.held-heads", day=dm), held_rows, [20, 44, 12], {3: INT},
           [None, say("digest-workbook.held-open"), f.held_open])

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def filename(day: date) -> str:
    return f"tien-do-tiem-chung-{day.isoformat()}.xlsx"
