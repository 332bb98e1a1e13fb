"""Write the sender's workbook back with every problem marked.

``annotate(report, src, out, grid)``: error cells filled light red and warning cells yellow,
each with a Vietnamese comment; a "Lỗi" column after the header's last column summing up each
bad row; a new first sheet "Kết quả kiểm tra" with the counts and the list of problems.

.xlsx/.xlsm are patched at the XML level (``xlsx_patch``: fast, low memory, formatting kept);
if that meets a shape it does not handle, openpyxl does the same work on the loaded workbook.
.xls/.csv/.html (and anything else) come back as a new .xlsx built from the ``grid`` the
engine read.
"""
from __future__ import annotations

import logging
from copy import copy
from dataclasses import replace
import os
import re
from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any, Iterable

from openpyxl import Workbook, load_workbook
from openpyxl.cell import MergedCell, WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange

from ..sniff import ZIP_LOCAL
from ..textnorm import fold
from . import xlsx_patch
from ..wording import catalogue_section, say, say_each
from .issues import titles
from .model import Issue, Report, Sheet, _jsonable, column_letter
from .xlsx_patch import PatchJob, SheetPlan, SummaryCell

log = logging.getLogger(__name__)

SUMMARY_SHEET = say("annotate.summary-sheet")
ERROR_HEADER = say("annotate.error-header")
ERROR_FILL = "FFC7CE"
WARNING_FILL = "FFEB9C"
ERROR_FONT = "9C0006"
MAX_LINES = 5000
AUTHOR = "vaxmail"
FORM_NAMES = catalogue_section("annotate-form")
SUMMARY_WIDTHS = [9, 9, 26, 24, 80, 12]
# Short Vietnamese labels of the issue codes (service/forms/issues.py) for the summary table.
CODE_LABELS = titles()  # one short name per issue type (forms/issues.py)
_UNICODE_FONT = "Times New Roman"


# ---------------------------------------------------------------------------- public


def annotate(report: Report, src_path: str, out_path: str, grid: Sheet | None = None,
             labels: dict[str, str] | None = None) -> None:
    """Write ``out_path`` (always .xlsx content) with the report's problems marked.

    ``labels`` optionally maps issue codes to short Vietnamese labels for the summary;
    without it the shortest message of each code is used.
    """
    if report.multi_sheet:
        _annotate_sheets(report, src_path, out_path, labels)
        return
    plan = build_plan(report, grid)
    summary_name = SUMMARY_SHEET if (report.layout is None or report.layout.sheet != SUMMARY_SHEET) \
        else SUMMARY_SHEET + " (vaxmail)"
    rows = summary_rows(report, labels)
    ext = os.path.splitext(src_path)[1].lower()
    if ext in (".xlsx", ".xlsm") or (grid is None and _is_zip(src_path)):
        job = PatchJob(
            sheet_name=report.layout.sheet if (report.layout and plan) else None,
            plan=plan, summary_name=summary_name, summary_rows=rows,
            summary_widths=SUMMARY_WIDTHS,
            fill_colors={"error": ERROR_FILL, "warning": WARNING_FILL},
            loi_font_color=ERROR_FONT, comment_author=AUTHOR,
            extra={"loi_reused": bool(plan and plan.loi_reused)})
        try:
            xlsx_patch.patch(src_path, out_path, job)
            return
        except xlsx_patch.Unsupported as exc:
            log.info("annotate: lean path not possible (%s); using openpyxl", exc)
        except Exception as exc:  # a bug or an odd file: the slower path still gives a result
            log.warning("annotate: lean path failed (%s: %s); using openpyxl", type(exc).__name__, exc)
        try:
            _annotate_openpyxl(src_path, out_path, report, plan, rows, summary_name)
            return
        except Exception as exc:
            if grid is None:
                raise
            log.warning("annotate: openpyxl path failed (%s); rebuilding from the grid", type(exc).__name__)
    if grid is None:
        raise ValueError("annotate needs the grid for a non-xlsx source")
    _annotate_grid(out_path, report, plan, rows, summary_name, grid)


def _annotate_sheets(report: Report, src_path: str, out_path: str,
                     labels: dict[str, str] | None) -> None:
    """A workbook with its people on several sheets: each sheet marked with its own issues."""
    marks, grids = [], []
    for part in report.parts:
        view = replace(report, sheet=part.name, layout=part.layout, grid=part.grid,
                       errors=[e for e in report.errors if e.sheet == part.name],
                       warnings=[w for w in report.warnings if w.sheet == part.name])
        plan = build_plan(view, part.grid)
        marks.append((part.layout, plan))
        grids.append((part.grid, plan))
    names = {p.name for p in report.parts}
    summary_name = SUMMARY_SHEET if SUMMARY_SHEET not in names else SUMMARY_SHEET + " (vaxmail)"
    rows = summary_rows(report, labels)
    have_grids = all(g is not None for g, _ in grids)
    ext = os.path.splitext(src_path)[1].lower()
    if ext in (".xlsx", ".xlsm") or (not have_grids and _is_zip(src_path)):
        try:
            _patch_sheets(src_path, out_path, marks, rows, summary_name)
            return
        except xlsx_patch.Unsupported as exc:
            log.info("annotate: lean path not possible (%s); using openpyxl", exc)
        except Exception as exc:  # a bug or an odd file: the slower path still gives a result
            log.warning("annotate: lean path failed (%s: %s); using openpyxl", type(exc).__name__, exc)
        try:
            _annotate_openpyxl_sheets(src_path, out_path, marks, rows, summary_name)
            return
        except Exception as exc:
            if not have_grids:
                raise
            log.warning("annotate: openpyxl path failed (%s); rebuilding from the grids", type(exc).__name__)
    if not have_grids:
        raise ValueError("annotate needs the grids for a non-xlsx source")
    _annotate_grid_sheets(out_path, grids, rows, summary_name)


def _patch_sheets(src: str, out: str, marks: list, rows: list[list[SummaryCell]], summary_name: str) -> None:
    """The lean XML patch, one pass per marked sheet: each pass rewrites its sheet and replaces
    the summary sheet the pass before it added (same content), so the last one is the result."""
    cur, parts = src, []
    try:
        for n, (layout, plan) in enumerate(marks):
            dst = out if n == len(marks) - 1 else f"{out}.{n}.part"
            job = PatchJob(
                sheet_name=layout.sheet, plan=plan, summary_name=summary_name, summary_rows=rows,
                summary_widths=SUMMARY_WIDTHS, fill_colors={"error": ERROR_FILL, "warning": WARNING_FILL},
                loi_font_color=ERROR_FONT, comment_author=AUTHOR,
                extra={"loi_reused": bool(plan and plan.loi_reused)})
            if dst != out:
                parts.append(dst)
            xlsx_patch.patch(cur, dst, job)
            cur = dst
    finally:
        for p in parts:
            try:
                os.unlink(p)
            except OSError:
                pass


# ---------------------------------------------------------------------------- the plan


def _header_for(issue: Issue, report: Report) -> str:
    if issue.header:
        return issue.header
    layout = report.layout
    if layout is not None and issue.column:
        for c in layout.columns.values():
            if c.letter == issue.column:
                return c.header
        idx = xlsx_patch.col_index(issue.column)
        if idx in layout.extra_headers:
            return layout.extra_headers[idx]
    return issue.field or (say("annotate.column", letter=issue.column) if issue.column else "")


# How an issue message names its place ('Cột "Header" (ô C9): …'), in the catalogue's words.
_WHERE_RE = re.compile(rf'^{re.escape(say("annotate.where-column"))}\s+"(?P<h>[^"]*)"\s*'
                       rf'\((?:{"|".join(map(re.escape, say_each("annotate.where-places")))})\s[^)]*\)\s*:?\s*')
_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z\u0110\u00c0-\u1ef8])")  # a new sentence: ". " + a capital


def _row_phrase(issue: Issue, header: str) -> str:
    """A compact "Header: problem" for the "Lỗi" column (first sentence, no cell address)."""
    msg = issue.message.strip()
    m = _WHERE_RE.match(msg)
    if m:
        header = m.group("h") or header
        msg = msg[m.end():]
    msg = _SENTENCE_END.split(msg, maxsplit=1)[0].strip().rstrip(".")
    if header and not msg.lower().startswith(header.lower()):
        msg = f"{header}: {msg}"
    return msg


def build_plan(report: Report, grid: Sheet | None = None) -> SheetPlan | None:
    layout = report.layout
    if layout is None:
        return None
    fills: dict[int, dict[int, str]] = defaultdict(dict)
    cell_msgs: dict[tuple[int, int], list[str]] = defaultdict(list)
    row_errs: dict[int, list[str]] = defaultdict(list)
    row_warns: dict[int, list[str]] = defaultdict(list)
    err_ids = {id(i) for i in report.errors}
    col_of: dict[str, int] = {}
    # a value merged down over rows is marked on the merge's top cell, where the sender wrote it
    anchor: dict[tuple[int, int], tuple[int, int]] = {}
    for r0, c0, r1, c1 in layout.merges:
        for r in range(r0 + 2, r1 + 2):
            for c in range(c0, c1 + 1):
                anchor[(r, c)] = (r0 + 1, c0)
    for issue in [*report.errors, *report.warnings]:
        if issue.row is None:
            continue
        is_err = id(issue) in err_ids
        header = _header_for(issue, report)
        phrase = _row_phrase(issue, header)
        (row_errs if is_err else row_warns)[issue.row].append(phrase)
        if issue.column:
            c = col_of.get(issue.column)
            if c is None:
                c = col_of[issue.column] = xlsx_patch.col_index(issue.column)
            kind = "error" if is_err else "warning"
            r, c = anchor.get((issue.row, c), (issue.row, c)) if anchor else (issue.row, c)
            if fills[r].get(c) != "error":
                fills[r][c] = kind
            text = issue.message if is_err else say("annotate.cell-warning", message=issue.message)
            if text not in cell_msgs[(r, c)]:
                cell_msgs[(r, c)].append(text)
    loi_text: dict[int, str] = {}
    for r in set(row_errs) | set(row_warns):
        parts = list(dict.fromkeys(row_errs.get(r, [])))
        warns = list(dict.fromkeys(row_warns.get(r, [])))
        if warns:
            parts.append(say("annotate.row-warnings", warnings="; ".join(warns)))
        loi_text[r] = "; ".join(parts)
    # the "Lỗi" column: after the header's last used column (reused if it is ours already)
    idxs = [c.index for c in layout.columns.values()] + list(layout.extra_headers)
    if grid is not None:
        for i in layout.header_rows:
            if i < len(grid.rows):
                used = [j for j, v in enumerate(grid.rows[i]) if v not in (None, "")]
                idxs += used[-1:]
    last = max(idxs) if idxs else 0
    last_header = layout.extra_headers.get(last, "")
    if not last_header and grid is not None:
        for i in layout.header_rows:
            if i < len(grid.rows) and last < len(grid.rows[i]) and grid.rows[i][last]:
                last_header = str(grid.rows[i][last])
    loi_col = last if fold(last_header or "") == fold(ERROR_HEADER) else last + 1
    for r in list(fills):
        fills[r].pop(loi_col, None)
        if not fills[r]:
            del fills[r]
    comments = [(r, c, "\n".join(msgs)) for (r, c), msgs in sorted(cell_msgs.items()) if c != loi_col]
    return SheetPlan(fills=dict(fills), comments=comments, loi_col=loi_col, loi_header=ERROR_HEADER,
                     header_rows=sorted(i + 1 for i in layout.header_rows) or [layout.data_start],
                     loi_text=loi_text, loi_reused=loi_col == last)


# ---------------------------------------------------------------------------- summary


def _sheet_names(report: Report) -> str:
    if report.multi_sheet:
        return ", ".join(f"“{p.name}”" for p in report.parts)
    name = report.layout.sheet if report.layout else (report.sheet or "")
    return f"“{name}”" if name else ""


def _form_name(report: Report) -> str:
    forms = [r.form for r in report.records if r.form]
    if forms:  # the national layout: the form is per row
        return say("annotate.national", mau1=forms.count("mau1"), mau2=forms.count("mau2"))
    return FORM_NAMES.get(report.form or "", say("annotate.form-unknown"))


def _value_text(v: Any) -> str:
    v = _jsonable(v)
    return "" if v is None else str(v)


def _code_labels(issues: Iterable[Issue], labels: dict[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in issues:
        if labels and i.code in labels:
            out[i.code] = labels[i.code]
        elif i.code in CODE_LABELS:
            out[i.code] = CODE_LABELS[i.code]
        elif i.code not in out or len(i.message) < len(out[i.code]):
            out[i.code] = i.message
    return out


def summary_rows(report: Report, labels: dict[str, str] | None = None) -> list[list[SummaryCell]]:
    S = SummaryCell
    name = os.path.basename(report.path or "")
    checked = report.checked_on or date.today()
    rows: list[list[SummaryCell]] = [
        [S(say("annotate.title"), "title")],
        [],
        [S(say("annotate.file"), "label"), None, S(name)],
        [S(say("annotate.form"), "label"), None, S(_form_name(report))],
        [S(say("annotate.sheet"), "label"), None, S(_sheet_names(report) if report.multi_sheet else (
            report.layout.sheet if report.layout else (report.sheet or "")))],
        [S(say("annotate.checked-on"), "label"), None, S(checked.strftime("%d/%m/%Y"))],
        [S(say("annotate.rows"), "label"), None, S(report.rows)],
        [S(say("annotate.valid-rows"), "label"), None, S(report.valid_rows)],
        [S(say("annotate.bad-rows"), "label"), None, S(report.rows - report.valid_rows)],
        [S(say("annotate.errors"), "label"), None, S(len(report.errors))],
        [S(say("annotate.warnings"), "label"), None, S(len(report.warnings))],
    ]
    if report.fatal is not None:
        rows.append([S(say("annotate.unreadable"), "label"), None, S(report.fatal.message, "note")])
    rows.append([])
    rows.append([S(say("annotate.by-type"), "label")])
    rows.append([S(h, "head") for h in say_each("annotate.by-type-heads")])
    error, warning = say("annotate.error"), say("annotate.warning")
    all_issues = [*report.errors, *report.warnings]
    err_ids = {id(i) for i in report.errors}
    names = _code_labels(all_issues, labels)
    counts = Counter((i.code, id(i) in err_ids) for i in all_issues)
    for n, ((code, is_err), cnt) in enumerate(sorted(counts.items(), key=lambda kv: (not kv[0][1], -kv[1], kv[0][0])), 1):
        rows.append([S(n, "cell"), S(error if is_err else warning, "cell"), S(code, "cell"),
                     S(cnt, "cell"), S(names.get(code, ""), "cell")])
    rows.append([])
    rows.append([S(say("annotate.list"), "label")])
    if report.layout is not None:
        rows.append([S(say("annotate.list-note", sheets=_sheet_names(report), header=ERROR_HEADER), "note")])
    multi = report.multi_sheet
    rows.append([S(h, "head") for h in say_each("annotate.list-heads")]
                + ([S(say("annotate.list-head-sheet"), "head")] if multi else []))
    order = {p.name: n for n, p in enumerate(report.parts)}
    listed = sorted(all_issues, key=lambda i: (order.get(i.sheet, 0), i.row or 0,
                                                xlsx_patch.col_index(i.column) if i.column else -1,
                                                id(i) not in err_ids))
    layouts = {p.name: replace(report, layout=p.layout) for p in report.parts} if multi else {}
    for i in listed[:MAX_LINES]:
        rows.append([S(i.row if i.row is not None else "", "cell"), S(i.column or "", "cell"),
                     S(_header_for(i, layouts.get(i.sheet, report)), "cell"), S(_value_text(i.value), "cell"),
                     S(i.message, "cell"), S(error if id(i) in err_ids else warning, "cell")]
                    + ([S(i.sheet or "", "cell")] if multi else []))
    if len(listed) > MAX_LINES:
        rows.append([S(say("annotate.cut", shown=f"{MAX_LINES:,}".replace(",", "."),
                           total=f"{len(listed):,}".replace(",", ".")), "note")])
    return rows


# ---------------------------------------------------------------------------- openpyxl paths

_THIN = Side(style="thin", color="FF000000")
_SUMMARY_STYLES = {
    "title": dict(font=Font(name=_UNICODE_FONT, bold=True, size=14)),
    "label": dict(font=Font(name=_UNICODE_FONT, bold=True, size=11)),
    "head": dict(font=Font(name=_UNICODE_FONT, bold=True, size=11),
                 fill=PatternFill("solid", fgColor="D9E1F2"),
                 border=Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN),
                 alignment=Alignment(wrap_text=True, vertical="top")),
    "text": dict(font=Font(name=_UNICODE_FONT, size=11)),
    "cell": dict(font=Font(name=_UNICODE_FONT, size=11),
                 border=Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN),
                 alignment=Alignment(vertical="top")),
    "note": dict(font=Font(name=_UNICODE_FONT, italic=True, size=11, color=ERROR_FONT)),
}


def _text_cell(ws, value) -> WriteOnlyCell:
    """A cell whose text is text: "=HYPERLINK(…)" from a CSV stays a string, never a formula."""
    cell = WriteOnlyCell(ws, value)
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"
    return cell


def _styled(ws, value, style: str):
    cell = _text_cell(ws, value)
    for k, v in _SUMMARY_STYLES.get(style, _SUMMARY_STYLES["text"]).items():
        setattr(cell, k, v)
    return cell


def _write_summary(ws, rows: list[list[SummaryCell]]) -> None:
    for i, w in enumerate(SUMMARY_WIDTHS):
        ws.column_dimensions[column_letter(i)].width = w
    ws.sheet_properties.tabColor = "C00000"
    for row in rows:
        ws.append([None if c is None else _styled(ws, c.value, c.style) for c in row])


def _fill(kind: str) -> PatternFill:
    return PatternFill("solid", fgColor=ERROR_FILL if kind == "error" else WARNING_FILL)


def _comment(text: str) -> Comment:
    lines = text.count("\n") + 1 + len(text) // 45
    return Comment(text, AUTHOR, width=240, height=min(60 + 15 * lines, 400))


def _annotate_openpyxl(src: str, out: str, report: Report, plan: SheetPlan | None,
                       rows: list[list[SummaryCell]], summary_name: str) -> None:
    marks = [(report.layout, plan)] if plan is not None and report.layout is not None else []
    _annotate_openpyxl_sheets(src, out, marks, rows, summary_name)


def _annotate_openpyxl_sheets(src: str, out: str, marks: list, rows: list[list[SummaryCell]],
                              summary_name: str) -> None:
    """``marks``: (layout, plan) of every sheet to mark."""
    # cached values instead of formulas, no VBA: the copy goes back out by mail
    wb = load_workbook(src, data_only=True, keep_vba=False, keep_links=False)
    if summary_name in wb.sheetnames and all(layout.sheet != summary_name for layout, _ in marks):
        del wb[summary_name]
    for layout, plan in marks:
        _mark_sheet(wb[layout.sheet], layout, plan)
    summary = wb.create_sheet(summary_name, 0)
    _write_summary(summary, rows)
    for s in wb.worksheets:
        s.sheet_view.tabSelected = False
    summary.sheet_view.tabSelected = True
    wb.active = 0
    wb.save(out)


def _mark_sheet(ws, layout, plan: SheetPlan) -> None:
    _clear_previous_marks(ws, plan, layout.data_start + 1)
    for r, cols in plan.fills.items():
        for c, kind in cols.items():
            ws.cell(r, c + 1).fill = _fill(kind)
    for r, c, text in plan.comments:
        cell = ws.cell(r, c + 1)
        if cell.comment is not None and cell.comment.text:
            text = cell.comment.text.rstrip() + "\n" + text
        cell.comment = _comment(text)
    lc = plan.loi_col + 1
    left = ws.cell(plan.header_rows[0], max(lc - 1, 1))
    head_font = Font(name=left.font.name if left.font and left.font.name and not
                     left.font.name.lower().startswith((".vn", "vni")) else _UNICODE_FONT,
                     size=left.font.size if left.font else 11, bold=True)
    for hr in plan.header_rows:
        cell = ws.cell(hr, lc)
        if isinstance(cell, MergedCell):
            continue
        src_cell = ws.cell(hr, max(lc - 1, 1))
        cell.value = plan.loi_header if hr == plan.header_rows[0] else None
        cell.font = head_font
        cell.border = copy(src_cell.border)
        cell.fill = copy(src_cell.fill)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    hr = plan.header_rows
    if len(hr) > 1 and hr == list(range(hr[0], hr[-1] + 1)):
        rng = CellRange(min_col=lc, max_col=lc, min_row=hr[0], max_row=hr[-1])
        if not any(m.coord == rng.coord or not m.isdisjoint(rng) for m in ws.merged_cells.ranges):
            ws.merge_cells(rng.coord)
    loi_font = Font(name=_UNICODE_FONT, size=11, color=ERROR_FONT)
    for r, text in plan.loi_text.items():
        cell = ws.cell(r, lc)
        if isinstance(cell, MergedCell):
            continue
        cell.value = text[:32000]
        cell.font = loi_font
    ws.column_dimensions[column_letter(plan.loi_col)].width = 60


_OUR_FILLS = {ERROR_FILL, WARNING_FILL}


def _clear_previous_marks(ws, plan: SheetPlan, first_data_row: int) -> None:
    """A sender often returns our annotated file: drop our old comments, fills and texts."""
    lc = plan.loi_col + 1
    for row in ws.iter_rows(min_row=first_data_row):
        for cell in row:
            if isinstance(cell, MergedCell):
                continue
            if cell.comment is not None and cell.comment.author == AUTHOR:
                cell.comment = None
            f = cell.fill
            if f is not None and f.fill_type == "solid" and str(f.fgColor.rgb).upper()[-6:] in _OUR_FILLS \
                    and (cell.row not in plan.fills or cell.column - 1 not in plan.fills[cell.row]):
                cell.fill = PatternFill(fill_type=None)
            if plan.loi_reused and cell.column == lc and cell.row not in plan.loi_text \
                    and cell.row not in plan.header_rows:
                cell.value = None


def _safe_title(name: str) -> str:
    for ch in '[]:*?/\\':
        name = name.replace(ch, " ")
    return (name.strip().strip("'") or say("annotate.sheet-fallback"))[:31]


def _annotate_grid(out: str, report: Report, plan: SheetPlan | None, rows: list[list[SummaryCell]],
                   summary_name: str, grid: Sheet) -> None:
    _annotate_grid_sheets(out, [(grid, plan)], rows, summary_name)


def _annotate_grid_sheets(out: str, sheets: list, rows: list[list[SummaryCell]], summary_name: str) -> None:
    """A new .xlsx: the summary, then every (grid, plan) of ``sheets`` with its marks."""
    wb = Workbook(write_only=True)
    summary = wb.create_sheet(summary_name)
    _write_summary(summary, rows)
    titles = {summary_name}
    for grid, plan in sheets:
        title = _safe_title(grid.name)
        n = 1
        while title in titles:
            title = f"{_safe_title(grid.name)[:28]} {n}"
            n += 1
        titles.add(title)
        _write_grid_sheet(wb.create_sheet(title), grid, plan)
    wb.save(out)


def _write_grid_sheet(ws, grid: Sheet, plan: SheetPlan | None) -> None:
    width = max((len(r) for r in grid.rows), default=0)
    if plan is not None:
        width = max(width, plan.loi_col + 1)
        ws.column_dimensions[column_letter(plan.loi_col)].width = 60
    # column widths from the header / first rows
    sample = grid.rows[: (plan.header_rows[-1] + 30) if plan else 30]
    for j in range(width if plan is None else plan.loi_col):
        longest = max((len(_value_text(r[j])) for r in sample if j < len(r) and r[j] is not None), default=8)
        ws.column_dimensions[column_letter(j)].width = min(max(longest + 2, 8), 40)
    fills = plan.fills if plan else {}
    notes: dict[tuple[int, int], str] = {(r, c): t for r, c, t in plan.comments} if plan else {}
    head_font = Font(name=_UNICODE_FONT, bold=True, size=11)
    loi_font = Font(name=_UNICODE_FONT, size=11, color=ERROR_FONT)
    header_rows = set(plan.header_rows) if plan else set()
    nrows = max([len(grid.rows), *(fills or [0]), *((plan.loi_text or [0]) if plan else [0])])
    for i in range(nrows):
        r = i + 1
        values = list(grid.rows[i]) if i < len(grid.rows) else []
        marks = fills.get(r)
        loi = plan.loi_text.get(r) if plan else None
        is_head = r in header_rows
        has_date = any(isinstance(v, (date, datetime)) for v in values)
        if not (marks or loi or is_head or has_date):
            ws.append([_text_cell(ws, v) if isinstance(v, str) and v[:1] == "=" else v for v in values])
            continue
        need = max(len(values), (plan.loi_col + 1) if (plan and (loi or is_head)) else 0,
                   (max(marks) + 1) if marks else 0)
        values += [None] * (need - len(values))
        cells = []
        for j, v in enumerate(values):
            cell = _text_cell(ws, v)
            if isinstance(v, (date, datetime)):
                cell.number_format = "dd/mm/yyyy"
            if marks and j in marks:
                cell.fill = _fill(marks[j])
                if (r, j) in notes:
                    cell.comment = _comment(notes[(r, j)])
            if is_head and plan and v not in (None, ""):
                cell.font = head_font
            cells.append(cell)
        if plan and is_head:
            cells[plan.loi_col] = WriteOnlyCell(ws, plan.loi_header if r == plan.header_rows[0] else None)
            cells[plan.loi_col].font = head_font
            cells[plan.loi_col].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        elif plan and loi:
            cells[plan.loi_col] = WriteOnlyCell(ws, loi[:32000])
            cells[plan.loi_col].font = loi_font
        ws.append(cells)
    merged = [CellRange(min_col=c0 + 1, min_row=r0 + 1, max_col=c1 + 1, max_row=r1 + 1).coord
              for r0, c0, r1, c1 in grid.merged]
    if plan:
        hr = plan.header_rows
        lc = plan.loi_col
        if len(hr) > 1 and hr == list(range(hr[0], hr[-1] + 1)) and not any(
                c0 <= lc <= c1 and r0 + 1 <= hr[-1] and r1 + 1 >= hr[0] for r0, c0, r1, c1 in grid.merged):
            merged.append(f"{column_letter(lc)}{hr[0]}:{column_letter(lc)}{hr[-1]}")
    if merged:
        ws.merged_cells = MultiCellRange(merged)


def _is_zip(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == ZIP_LOCAL
    except OSError:
        return False
