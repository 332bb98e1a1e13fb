"""The form engine's one entry point: a file in, a ``Report`` out.

read → pick the sheet and find its layout → decode legacy text → extract data rows →
check and repair → report. Knows nothing of mail or folders.
"""
from __future__ import annotations

import logging
import re
from math import isfinite
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterator

from ..directory import Directory, load_default
from ..textnorm import INVISIBLE_RE, NBSP_RE, strip_invisible
from . import issues as I
from . import legacy, national, rows as rowplan
from .checks import CheckContext, check_rows
from .checks import national as national_checks
from .fields import FieldCatalog, load_catalog
from .layout import DOB_FEMALE, GIVEN_NAME, find_layout
from .model import Column, Fix, Layout, Report, Sheet, SheetPart, Unreadable, Workbook, column_letter
from .read import MAX_ROWS, read_workbook
from .read.guard import unreadable

log = logging.getLogger("vaxmail.forms")

NOT_A_FORM = (
    "Không tìm thấy danh sách theo Mẫu 1 hoặc Mẫu 2 trong tệp: cần một dòng tiêu đề có các cột "
    "như \"Họ và tên\", \"Ngày sinh\", \"Số CMND/CCCD\". Vui lòng dùng mẫu đính kèm rồi gửi lại."
)
# issues about what a cell holds instead of a value: they replace "required-missing" there
CELL_LEVEL = ("formula-no-value", "cell-error", "cell-not-a-number")
FORM_NAMES = {"mau1": "1", "mau2": "2"}
# Columns no check reads: a formula without a cached value there is ignored (STT, age …).
UNCHECKED = frozenset({"stt", "occupation", "workplace", "address", "note", "ethnicity",
                       "nationality", "dose1_lot", "dose2_lot", national.IMPORT_RESULT})


def check_file(
    path: str | Path,
    *,
    directory: Directory | None = None,
    today: date | None = None,
    catalog: FieldCatalog | None = None,
    workbook: Workbook | None = None,
    max_rows: int = MAX_ROWS,
    max_bytes: int | None = None,
) -> Report:
    """Read, check and repair one file. Never raises for bad input: see ``Report.fatal``."""
    path = str(path)
    directory = directory or _default_directory()
    catalog = catalog or load_catalog()
    today = today or date.today()
    report = Report(path=path, form=None, checked_on=today)
    try:
        limits = {"max_bytes": max_bytes} if max_bytes else {}
        wb = workbook or read_workbook(path, max_rows=max_rows, **limits)
    except Unreadable as exc:
        report.fatal = exc
        return report
    except Exception as exc:  # no reader exception escapes (the reader catches its own)
        log.warning("reading failed: %s", type(exc).__name__)
        report.fatal = unreadable("corrupt-file")
        return report
    return _check(wb, report, directory, catalog, today)


def _check(wb: Workbook, report: Report, directory: Directory, catalog: FieldCatalog,
           today: date) -> Report:
    found = _forms_in(wb, catalog)
    if not found:
        report.fatal = Unreadable("not-a-form", NOT_A_FORM)
        return report
    # every sheet that holds a list is read (SPEC); sheets without people (notes, catalogues,
    # an empty copy of the template) are not lists, but rows that might be people or group
    # them make one (then named in the report). The largest visible one names the report.
    lists = [f for f in found if _is_list(f[2])] or found[:1]
    primary = lists[0][0]
    if len(wb.sheets) > len(found):  # a sheet of people without a header is not passed over silently
        _unread_sheets(wb, found, report)
    if len(lists) == 1:
        sheet, layout, plan = lists[0]
        release = wb.kind in ("xlsx", "xlsm") and len(found) == 1
        _check_sheet(report, sheet, layout, plan, directory, catalog, today, release=release)
        _stamp(report, sheet.name)
        report.parts = [SheetPart(sheet.name, layout, layout.form, report.grid, report.rows,
                                  report.skipped)]
        return report
    order = {id(s): n for n, s in enumerate(wb.sheets)}
    lists.sort(key=lambda t: order[id(t[0])])
    shared = _Shared()
    for sheet, layout, plan in lists:
        part = Report(path=report.path, form=None, checked_on=today)
        _check_sheet(part, sheet, layout, plan, directory, catalog, today, shared=shared)
        shared.close(sheet.name)
        _stamp(part, sheet.name)
        for rec in part.records:
            rec.sheet = sheet.name
        report.records += part.records
        report.errors += part.errors
        report.warnings += part.warnings
        report.fixes += part.fixes
        for kind, rows in part.skipped.items():
            report.skipped.setdefault(kind, []).extend(rows)
        report.parts.append(SheetPart(sheet.name, layout, layout.form, part.grid, part.rows,
                                      part.skipped))
        if sheet is primary:
            report.sheet, report.layout, report.grid = sheet.name, layout, part.grid
    forms = {p.form for p in report.parts}
    report.form = "mau2" if "mau2" in forms else "mau1"
    if len(forms) > 1:  # Mẫu 1 on one sheet, Mẫu 2 on another: each person keeps its own
        form_of = {p.name: p.form for p in report.parts}
        for rec in report.records:
            if rec.form is None:
                rec.form = form_of[rec.sheet]
    return report


def _is_list(plan: rowplan.RowPlan) -> bool:
    return bool(plan.persons or plan.unknown or any(plan.skipped.get(k) for k in _LIST_KINDS))


# rows that only a list has (a blank template's column numbers, pre-filled STT or footer do not)
_LIST_KINDS = ("heading", "subtotal", "other")
# a cell that reads as a mobile phone or an ID number (9 or 12 digits; a phone stored as a
# number has lost its leading 0 and has 9)
_PERSONISH = re.compile(r"0\d{9}|\d{9}|\d{12}")
_SCAN_ROWS = 500  # rows of a headerless sheet looked at
_MIN_PERSONISH = 2  # rows with such a cell (and a few more filled) that make a sheet look like a list
_MIN_FILLED = 4


def _unread_sheets(wb: Workbook, found: list, report: Report) -> None:
    """Sheets with no header found that still hold rows of people: a form-level error each."""
    read = {id(f[0]) for f in found}
    for sheet in wb.sheets:
        if id(sheet) in read:
            continue
        n = _personish_rows(sheet)
        if n >= _MIN_PERSONISH:
            issue = I.SHEET_NOT_READ.at(None, sheet=sheet.name, rows=n)
            issue.sheet = sheet.name
            report.errors.append(issue)


def _personish_rows(sheet: Sheet) -> int:
    n = 0
    for row in sheet.rows[:_SCAN_ROWS]:
        if row is None or sum(1 for v in row if v is not None and v != "") < _MIN_FILLED:
            continue
        for v in row:
            if v.__class__ is str:
                text = v.strip().replace(" ", "").replace(".", "")
            elif v.__class__ in (int, float) and isfinite(v) and 0 < v < 1e13 and v == int(v):
                text = str(int(v))
            else:
                continue
            if _PERSONISH.fullmatch(text):
                n += 1
                break
    return n


class _Shared:
    """What the checks of one file share across its sheets: the ID numbers (and, without one,
    the name + birth date + phone keys) seen on earlier sheets, for the duplicate checks."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}  # this sheet: value → Excel row
        self.people: dict[Any, int] = {}
        self.prior_ids: dict[str, tuple[str, int]] = {}  # earlier sheets: value → (sheet, row)
        self.prior_people: dict[Any, tuple[str, int]] = {}

    def close(self, sheet: str) -> None:
        for mine, prior in ((self.ids, self.prior_ids), (self.people, self.prior_people)):
            for key, row in mine.items():
                prior.setdefault(key, (sheet, row))
            mine.clear()


def _stamp(report: Report, name: str) -> None:
    for issue in report.errors:
        if issue.sheet is None:
            issue.sheet = name
    for issue in report.warnings:
        if issue.sheet is None:
            issue.sheet = name
    for fix in report.fixes:
        fix.sheet = name


def _check_sheet(report: Report, sheet: Sheet, layout: Layout, plan: rowplan.RowPlan,
                 directory: Directory, catalog: FieldCatalog, today: date, *,
                 release: bool = False, shared: _Shared | None = None) -> None:
    """Check one sheet's list into ``report`` (the file's, or this sheet's part of it)."""
    rows = plan.persons
    layout.merges = plan.merges
    nat = national.is_national(layout.columns)
    if nat:  # the platform's template: the form follows the rows' dose data (SPEC)
        layout.form = national.sheet_form(sheet.rows, rows, [
            c.index for k, c in layout.columns.items() if k in national.DOSE_FIELDS])
    report.form, report.sheet, report.layout = layout.form, sheet.name, layout
    report.grid = sheet
    _account(report, plan)
    form = FORM_NAMES[layout.form]
    header_row = layout.header_rows[0] + 1
    columns = _birth_by_sex_columns(layout) if DOB_FEMALE in layout.columns else {
        k: c for k, c in layout.columns.items() if k != GIVEN_NAME}
    missing = national.missing_columns(columns) if nat else [
        k for k in catalog.required(layout.form) if k not in columns]
    for key in missing:
        report.errors.append(I.COLUMN_MISSING.at(header_row, None, key, label=catalog.label(key), form=form,
                                                 row=header_row))
    if not rows:
        report.errors.append(I.EMPTY_FORM.at(header_row, form=form) if shared is None else
                             I.EMPTY_SHEET.at(header_row, sheet=sheet.name, form=form))
        return
    female_rows: set[int] = set()
    ctx = CheckContext(directory=directory, form=layout.form, today=today,
                       columns=columns, report=report)
    if shared is not None:
        ctx.seen_ids, ctx.prior_ids = shared.ids, shared.prior_ids
    if nat:  # required by the template's "(*)" marks, per row; codes; the optional ID
        ctx.row_required = national.required_for
        ctx.row_hook = national_checks.row_hook(
            directory, columns, *((shared.people, shared.prior_people) if shared else ()))
        ctx.id_parser = national_checks.id_parser(today.year)
    decoded = _decoded_rows(sheet, layout, rows, report, release=release, plan=plan, catalog=catalog)
    if GIVEN_NAME in layout.columns:
        decoded = _joined_names(decoded)
    if DOB_FEMALE in layout.columns:
        decoded = _sex_from_birth_column(decoded, layout, report, female_rows)
    if nat:
        decoded = national.fill_names_from_codes(decoded, directory)
    check_rows(decoded, ctx)
    if nat:
        for rec in report.records:
            rec.form = national.row_form(rec.values)
    if female_rows:  # point at the "Nữ" cell the sender filled, not the "Nam" one
        fcol = layout.columns[DOB_FEMALE]
        for issue in report.errors + report.warnings:
            if issue.row in female_rows and issue.field == "dob":
                issue.column, issue.header = fcol.letter, fcol.header
    if release:
        report.grid = None  # rows were released; the annotator reads the file itself
    formula_cells = {(e.row, e.field) for e in report.errors if e.code in CELL_LEVEL}
    if formula_cells:  # one message per cell: the formula one says it all
        report.errors = [e for e in report.errors
                         if not (e.code == "required-missing" and (e.row, e.field) in formula_cells)]
    bad_rows = {row for row, _ in formula_cells} | {
        e.row for e in report.errors if e.code == "dob-both-sexes"}
    for rec in report.records:
        if missing or rec.row in bad_rows:
            rec.ok = False


def _forms_in(wb: Workbook, catalog: FieldCatalog) -> list[tuple[Sheet, Layout, rowplan.RowPlan]]:
    """Sheets holding a form, the one with most people first."""
    found = []
    for sheet in wb.sheets:
        decode = _header_decoder(sheet)
        layout = find_layout(sheet, catalog, decode)
        if layout is None:
            continue
        found.append((sheet, layout, rowplan.account(sheet, layout, decode)))
    found.sort(key=lambda t: (t[0].hidden, -len(t[2].persons)))
    return found


def _account(report: Report, plan: rowplan.RowPlan) -> None:
    """Rows below the header that are not people: counted by kind; unrecognised ones named."""
    report.skipped = {k: [i + 1 for i in plan.skipped[k]] for k in rowplan.KINDS if plan.skipped.get(k)}
    for i, text in plan.unknown.items():
        report.warnings.append(I.ROW_SKIPPED.issue(i + 1, None, None, None, text=text))


def _picker(indexes: list[int]):
    """row → tuple of the cells at ``indexes`` (None past the row's end), fast for full rows."""
    if not indexes:
        return lambda row: ()
    get = itemgetter(*indexes)
    top = max(indexes)
    one = len(indexes) == 1

    def pick(row: list[Any]) -> tuple:
        if len(row) > top:
            v = get(row)
            return (v,) if one else v
        n = len(row)
        return tuple(row[j] if j < n else None for j in indexes)

    return pick


def _joined_names(rows):
    """"Họ và tên đệm" | "Tên" → one full name."""
    for row, out in rows:
        given = out.pop(GIVEN_NAME, None)
        if given is not None:
            family = out.get("full_name")
            out["full_name"] = f"{family} {given}" if family else given
        yield row, out


def _birth_by_sex_columns(layout: Layout) -> dict[str, Column]:
    """Columns as the checks see them: dob under "Nam", and gender read from the same place."""
    cols = {k: c for k, c in layout.columns.items() if k not in (DOB_FEMALE, GIVEN_NAME)}
    if "gender" not in cols:
        male = layout.columns["dob"]
        cols["gender"] = Column("gender", male.index, male.header)
    return cols


def _sex_from_birth_column(rows, layout: Layout, report: Report, female_rows: set[int]):
    """"Năm sinh" over "Nam | Nữ": the filled column gives both the birth date and the sex."""
    has_gender = "gender" in layout.columns and layout.columns["gender"].index != layout.columns["dob"].index
    for row, out in rows:
        female = out.pop(DOB_FEMALE, None)
        male = out.get("dob")
        if male is not None and female is not None:
            col = layout.columns["dob"]
            report.errors.append(I.DOB_BOTH_SEXES.at(row, col.letter, "dob", col.header, header=col.header, row=row))
        elif female is not None:
            out["dob"] = female
            female_rows.add(row)
            if not has_gender:
                out["gender"] = "Nữ"
        elif male is not None and not has_gender:
            out["gender"] = "Nam"
        yield row, out


def _header_decoder(sheet: Sheet):
    if not sheet.legacy_fonts or sheet.font is None:
        return None

    def decode(r: int, c: int, text: str) -> str:
        kind = legacy.legacy_kind(sheet.font(r, c))
        return legacy.decode(text, kind) if kind and text else text

    return decode


def _decoded_rows(sheet: Sheet, layout: Layout, indexes: list[int], report: Report, *,
                  release: bool = False, plan: rowplan.RowPlan | None = None,
                  catalog: FieldCatalog | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(Excel row, {field: raw value}) per data row: strings cleaned of invisible characters
    and stripped, legacy text decoded, a group heading's value given where the cell is empty.

    ``release`` drops each grid row once read (the annotator re-reads .xlsx files from disk),
    which keeps a 100,000-row check within its memory budget.
    """
    keys = list(layout.columns)
    letters = {k: c.letter for k, c in layout.columns.items()}
    pick = _picker([c.index for c in layout.columns.values()])
    fonts = sheet.font if sheet.legacy_fonts else None
    no_value = sheet.formula_without_value
    odd = sheet.odd_cells
    checked = [(k, c) for k, c in layout.columns.items() if k not in UNCHECKED]
    group_of = plan.group_of if plan is not None else {}
    headings = plan.headings if plan is not None else {}
    filled: dict[int, list[int]] = {}  # heading row → Excel rows it gave a value to
    invisible, nbsp, fixes = INVISIBLE_RE.search, NBSP_RE.search, report.fixes
    rows = sheet.rows
    blanked = False
    for i in indexes:
        vals = pick(rows[i])
        if release:
            rows[i] = None
        out = {}
        for k, v in zip(keys, vals):
            if v.__class__ is str:
                v = v.strip() or None
                if v is not None and fonts is None and not v.isascii() and (invisible(v) or nbsp(v)):
                    v = _visible(v, i, k, letters[k], fixes)
            elif v.__class__ is float and not isfinite(v):  # inf, nan: no number at all
                report.errors.append(I.CELL_NOT_A_NUMBER.issue(i + 1, layout.columns[k], k, repr(v)))
                v = ""  # reported: neither a value nor "missing"
                blanked = True
            out[k] = v
        if fonts is not None:  # legacy text first: TCVN3 letters sit on the bytes of NBSP, SHY
            for key, v in out.items():
                if v.__class__ is str:
                    j = layout.columns[key].index
                    kind = legacy.legacy_kind(fonts(i, j))
                    if kind:
                        new = legacy.decode(v, kind)
                        if new != v:
                            fixes.append(Fix(i + 1, key, column_letter(j), v, new, f"legacy-{kind}"))
                            out[key] = v = new
                    if not v.isascii() and (invisible(v) or nbsp(v)):
                        out[key] = _visible(v, i, key, letters[key], fixes)
        if odd:
            for key, col in layout.columns.items():
                if out[key] is None and (i, col.index) in odd:  # the reader saw an empty cell
                    raw = odd[(i, col.index)]
                    itype = I.CELL_ERROR if raw.startswith("#") else I.CELL_NOT_A_NUMBER
                    report.errors.append(itype.issue(i + 1, col, key, raw))
        if no_value:
            for key, col in checked:
                if out[key] is None and (i, col.index) in no_value:
                    report.errors.append(I.FORMULA_NO_VALUE.at(i + 1, col.letter, key, col.header,
                                                               header=col.header, cell=f"{col.letter}{i + 1}"))
        if blanked:
            blanked = False
            for key, v in out.items():
                if v == "":
                    out[key] = None
        if group_of:
            h = group_of.get(i)
            if h is not None:
                fld, value = headings[h]
                if out.get(fld) is None:
                    out[fld] = value
                    filled.setdefault(h, []).append(i + 1)
        yield i + 1, out
    for h, got in filled.items():
        fld, value = headings[h]
        col = layout.columns.get(fld)
        label = col.header if col is not None else (catalog.label(fld) if catalog else fld)
        report.warnings.append(I.GROUP_HEADING_FILL.issue(
            h + 1, None, None, None, heading=value, label=label, count=len(got),
            first=got[0], last=got[-1]))


def _visible(v: str, i: int, key: str, letter: str, fixes: list[Fix]) -> str | None:
    """``v`` without invisible characters; a change is listed as a fix."""
    new = strip_invisible(v).strip() or None
    if new != v:
        fixes.append(Fix(i + 1, key, letter, v, new, "invisible-chars"))
    return new


_DEFAULT: Directory | None = None


def _default_directory() -> Directory:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_default()
    return _DEFAULT
