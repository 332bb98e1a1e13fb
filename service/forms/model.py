"""Plain data objects of the form engine. The engine knows nothing of mail or folders.

Flow: readers turn a file into a ``Workbook`` of ``Sheet`` grids; ``layout`` finds the
header and maps columns to field keys; ``checks`` turn each data row into a ``Record`` and
``Issue`` objects; everything ends in a ``Report`` (data first; text and JSON are views).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterable

# ---------------------------------------------------------------------------- reading


@dataclass
class Sheet:
    """One worksheet as a grid of Python values.

    ``rows[i][j]`` is the cell at Excel row ``i + 1`` and column ``j + 1`` (the grid always
    starts at A1: readers pad). Values are str, int, float, bool, datetime/date/time or None
    (empty). ``font(i, j)`` returns the cell's font name (or None) where the reader knows
    fonts; it is only consulted for legacy-encoding decoding. ``formula_without_value`` holds
    (i, j) of formula cells that carry no cached value.
    """
    name: str
    rows: list[list[Any]]
    font: Callable[[int, int], str | None] | None = None
    legacy_fonts: bool = False  # the workbook uses .Vn*/VNI-* fonts somewhere
    formula_without_value: set[tuple[int, int]] = field(default_factory=set)
    # (i, j) → what the file holds where the reader saw an empty cell: an error value
    # ("#REF!", "#N/A", …) or a number that is not one ("inf", "nan")
    odd_cells: dict[tuple[int, int], str] = field(default_factory=dict)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # (r0, c0, r1, c1), 0-based inclusive
    hidden: bool = False


@dataclass
class Workbook:
    path: str
    kind: str  # "xlsx" | "xlsm" | "xls" | "csv" | "html"
    sheets: list[Sheet]


class Unreadable(Exception):
    """The file is not a readable form: exit 2 with one Vietnamese sentence."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(self):  # travels back from the check worker
        return (Unreadable, (self.code, self.message))


# ---------------------------------------------------------------------------- layout


@dataclass
class Column:
    field: str  # canonical key (SPEC), e.g. "dob", "dose1_date"
    index: int  # 0-based column index
    header: str  # the header as the sender wrote it (decoded, tidied), e.g. "Mũi 1 / Ngày tiêm"

    @property
    def letter(self) -> str:
        return column_letter(self.index)


@dataclass
class Layout:
    sheet: str
    header_rows: tuple[int, ...]  # 0-based row indexes that make up the header
    data_start: int  # 0-based index of the first data row
    columns: dict[str, Column]  # field → column
    form: str  # "mau1" | "mau2"
    extra_headers: dict[int, str] = field(default_factory=dict)  # unmapped columns: index → header
    # vertical merges in the data whose value was given to every row they cover (0-based,
    # inclusive): an issue on a covered row is marked on the merge's top cell
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)


# ---------------------------------------------------------------------------- results


@dataclass(slots=True)
class Issue:
    """An error or a warning at a cell. ``message`` is complete Vietnamese for the sender."""
    code: str
    message: str
    row: int | None = None  # Excel row number as the sender sees it (1-based)
    column: str | None = None  # Excel column letter
    field: str | None = None
    header: str | None = None  # header text as written
    value: Any = None
    severity: str = "error"  # "error" | "warning"
    sheet: str | None = None  # the sheet's name (set by the engine on every issue)

    def as_json(self) -> dict:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "field": self.field,
                "code": self.code, "message": self.message, "value": _jsonable(self.value)}


@dataclass(slots=True)
class Fix:
    """An unambiguous repair that was applied."""
    row: int
    field: str
    column: str | None
    from_: Any
    to: Any
    code: str
    sheet: str | None = None  # the sheet's name (set by the engine on every fix)

    def as_json(self) -> dict:
        return {"sheet": self.sheet, "row": self.row, "field": self.field, "from": _jsonable(self.from_),
                "to": _jsonable(self.to), "code": self.code}


@dataclass(slots=True)
class Record:
    """One data row: the canonical, repaired values and whether it can be forwarded."""
    row: int  # Excel row number
    values: dict[str, Any]  # field → parsed value (date for dates, str otherwise)
    ok: bool = True
    form: str | None = None  # national layout: this row's form ("mau1" registration | "mau2")
    # the sheet's name when the file holds its people on several sheets (None: the only one)
    sheet: str | None = None


@dataclass
class SheetPart:
    """One sheet of the workbook that holds a list: what the annotator needs to mark it."""
    name: str
    layout: Layout
    form: str  # "mau1" | "mau2"
    grid: Sheet | None = field(default=None, repr=False)
    rows: int = 0  # people on this sheet
    skipped: dict[str, list[int]] = field(default_factory=dict)  # as Report.skipped, this sheet only


@dataclass
class Report:
    path: str
    form: str | None  # "mau1" | "mau2" | None (not a form)
    sheet: str | None = None
    layout: Layout | None = None
    records: list[Record] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    fixes: list[Fix] = field(default_factory=list)
    fatal: Unreadable | None = None  # set when the file is not a readable form
    checked_on: date | None = None
    grid: Sheet | None = field(default=None, repr=False)  # the sheet that was checked
    # rows below the header that are not people, by kind (service.forms.rows.KINDS): Excel rows
    skipped: dict[str, list[int]] = field(default_factory=dict)
    # every sheet that holds a list, in workbook order (``sheet``/``layout``/``grid`` above are
    # the largest one's); more than one when people are on several sheets
    parts: list[SheetPart] = field(default_factory=list)

    @property
    def multi_sheet(self) -> bool:
        return len(self.parts) > 1

    def drop_grids(self) -> None:
        """Forget the read grids (the report travels between processes without them)."""
        self.grid = None
        for p in self.parts:
            p.grid = None

    @property
    def rows(self) -> int:
        return len(self.records)

    @property
    def valid_rows(self) -> int:
        return sum(1 for r in self.records if r.ok)

    @property
    def exit_code(self) -> int:
        if self.fatal is not None or self.form is None:
            return 2
        return 1 if self.errors else 0

    def valid_records(self) -> Iterable[Record]:
        return (r for r in self.records if r.ok)

    def as_json(self) -> dict:
        out = {
            "file": self.path,
            "form": self.form,
            "sheet": self.sheet,
            "sheets": [p.name for p in self.parts] or ([self.sheet] if self.sheet else []),
            "rows": self.rows,
            "valid_rows": self.valid_rows,
            "errors": [e.as_json() for e in self.errors],
            "fixes": [f.as_json() for f in self.fixes],
            "warnings": [w.as_json() for w in self.warnings],
            "skipped": {k: len(v) for k, v in self.skipped.items() if v},
        }
        if self.fatal is not None:
            out["fatal"] = {"code": self.fatal.code, "message": self.fatal.message}
        return out


def column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 26 → AA)."""
    s = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        s = chr(65 + rem) + s
    return s


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (str, int, bool)):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() and abs(v) < 1e15 else v
    if hasattr(v, "strftime"):
        try:
            return v.strftime("%d/%m/%Y") if not hasattr(v, "hour") or (v.hour, v.minute, v.second) == (0, 0, 0) else v.isoformat()
        except ValueError:
            return str(v)
    return str(v)
