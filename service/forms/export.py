"""Export the valid, repaired rows in the project's canonical Mẫu 1 / Mẫu 2 layout.

The canonical columns are data (``CANONICAL_COLUMNS``) shared with ``template``: the blank
templates and the exported lists read the same. Every header is a synonym in
config/fields.toml, so an exported file is itself a valid form for the engine (round trip).
IDs, phones and insurance numbers are written as text (number format "@") so that Excel
never turns them into numbers again; dates are real dates shown dd/mm/yyyy, a bare birth
year stays the whole number.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.cell_range import MultiCellRange

from .model import Record, Report, column_letter

# (field key, header) in order. Dose fields carry their group ("Mũi 1"/"Mũi 2") separately.
_PERSON = [
    ("stt", "STT"),
    ("full_name", "Họ và tên"),
    ("dob", "Ngày sinh"),
    ("gender", "Giới tính"),
]
_PERSON_REST = [
    ("occupation", "Nghề nghiệp"),
    ("workplace", "Đơn vị công tác"),
    ("phone", "Số điện thoại"),
    ("id_number", "Số CMND/CCCD"),
    ("insurance_number", "Số thẻ BHYT"),
    ("ethnicity", "Dân tộc"),
    ("nationality", "Quốc tịch"),
    ("province", "Tỉnh/Thành phố"),
    ("district", "Quận/Huyện"),
    ("ward", "Xã/Phường"),
    ("address", "Địa chỉ"),
]
_DOSE_PARTS = [("date", "Ngày tiêm"), ("vaccine", "Tên vắc xin"), ("lot", "Số lô"), ("facility", "Nơi tiêm")]
_DOSES = [(f"dose{n}_{part}", header) for n in (1, 2) for part, header in _DOSE_PARTS]
_TAIL = [("note", "Ghi chú"), ("source_row", "Dòng trong tệp gốc")]

CANONICAL_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "mau1": _PERSON + [("priority_group", "Nhóm ưu tiên")] + _PERSON_REST + _TAIL,
    "mau2": _PERSON + _PERSON_REST + _DOSES + _TAIL,
}
DOSE_GROUPS = {"dose1": "Mũi 1", "dose2": "Mũi 2"}
TEXT_FIELDS = {"phone", "id_number", "insurance_number", "dose1_lot", "dose2_lot"}
DATE_FIELDS = {"dob", "dose1_date", "dose2_date"}
FORM_TITLES = {
    "mau1": "DANH SÁCH ĐĂNG KÝ TIÊM VẮC XIN PHÒNG COVID-19 (MẪU 1)",
    "mau2": "DANH SÁCH BỔ SUNG THÔNG TIN NGƯỜI ĐÃ TIÊM VẮC XIN PHÒNG COVID-19 (MẪU 2)",
}
COLUMN_WIDTHS = {
    "stt": 6, "full_name": 26, "dob": 12, "gender": 9, "priority_group": 10, "occupation": 16,
    "workplace": 24, "phone": 14, "id_number": 16, "insurance_number": 18, "ethnicity": 9,
    "nationality": 11, "province": 14, "district": 20, "ward": 20, "address": 28,
    "dose1_date": 12, "dose1_vaccine": 14, "dose1_lot": 11, "dose1_facility": 28,
    "dose2_date": 12, "dose2_vaccine": 14, "dose2_lot": 11, "dose2_facility": 28,
    "note": 18, "source_row": 10,
}
FONT_NAME = "Times New Roman"
DATE_FORMAT = "dd/mm/yyyy"


def group_of(field: str) -> str | None:
    """"Mũi 1" / "Mũi 2" for a dose field, else None."""
    return DOSE_GROUPS.get(field.split("_", 1)[0]) if field.startswith("dose") else None


def header_rows(form: str) -> list[list[str | None]]:
    """The canonical header as rows of cells: one row (Mẫu 1) or two (Mẫu 2, groups above)."""
    cols = CANONICAL_COLUMNS[form]
    if not any(group_of(f) for f, _ in cols):
        return [[h for _, h in cols]]
    top, bottom, prev = [], [], None
    for f, h in cols:
        g = group_of(f)
        if g:
            top.append(g if g != prev else None)
            bottom.append(h)
        else:
            top.append(h)
            bottom.append(None)
        prev = g
    return [top, bottom]


def header_merges(form: str, first_row: int) -> list[str]:
    """Merged ranges of the header (1-based ``first_row``): groups across, singles down."""
    cols = CANONICAL_COLUMNS[form]
    if not any(group_of(f) for f, _ in cols):
        return []
    out = []
    j = 0
    while j < len(cols):
        g = group_of(cols[j][0])
        if g is None:
            out.append(f"{column_letter(j)}{first_row}:{column_letter(j)}{first_row + 1}")
            j += 1
            continue
        k = j
        while k + 1 < len(cols) and group_of(cols[k + 1][0]) == g:
            k += 1
        out.append(f"{column_letter(j)}{first_row}:{column_letter(k)}{first_row}")
        j = k + 1
    return out


# ---------------------------------------------------------------------------- styles

_THIN = Side(style="thin", color="FF000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FONT = Font(name=FONT_NAME, size=11, bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEAD_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
_TITLE_FONT = Font(name=FONT_NAME, size=14, bold=True)
_SUB_FONT = Font(name=FONT_NAME, size=12, bold=True)
_TEXT_FONT = Font(name=FONT_NAME, size=11)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=False)


def _title_cell(ws, value: str, font: Font):
    c = WriteOnlyCell(ws, value)
    c.font = font
    c.alignment = _CENTER
    return c


def _head_cell(ws, value):
    c = WriteOnlyCell(ws, value)
    c.font = _HEAD_FONT
    c.fill = _HEAD_FILL
    c.border = _BOX
    c.alignment = _HEAD_ALIGN
    return c


# ---------------------------------------------------------------------------- values


def _text(v: Any) -> str | None:
    if v is None or v == "":
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _cell(ws, field: str, v: Any):
    """A data cell: text for IDs/phones, real dates for dates, the plain value otherwise."""
    if v is None or v == "":
        return None
    if field in TEXT_FIELDS:
        c = WriteOnlyCell(ws, _text(v))
        c.number_format = "@"
        return c
    if field in DATE_FIELDS:
        if isinstance(v, (date, datetime)):
            c = WriteOnlyCell(ws, v if isinstance(v, datetime) else datetime(v.year, v.month, v.day))
            c.number_format = DATE_FORMAT
            return c
        if isinstance(v, (int, float)) or (isinstance(v, str) and v.isdigit() and len(v) == 4):
            return int(v)  # a bare birth year
        return str(v)
    if field == "priority_group" and isinstance(v, str) and v.isdigit():
        return int(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


# ---------------------------------------------------------------------------- public


def export(report: Report, out_path: str, records: Iterable[Record] | None = None,
           title: str | None = None) -> None:
    """Write the valid, repaired rows (or the ``records`` given) in the canonical layout."""
    form = report.form if report.form in CANONICAL_COLUMNS else "mau1"
    recs = list(report.valid_records() if records is None else records)
    write_rows(form, out_path, recs, title=title, source=report.path)


def write_rows(form: str, out_path: str, records: list[Record], title: str | None = None,
               source: str | None = None) -> None:
    cols = CANONICAL_COLUMNS[form]
    ncol = len(cols)
    last = column_letter(ncol - 1)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Danh sách")
    for j, (f, _) in enumerate(cols):
        ws.column_dimensions[column_letter(j)].width = COLUMN_WIDTHS.get(f, 14)
    heads = header_rows(form)
    rows_before = 4 if title else 3
    first_head = rows_before + 1
    ws.freeze_panes = f"C{first_head + len(heads)}"
    ws.append([_title_cell(ws, FORM_TITLES[form], _TITLE_FONT)])
    if title:
        ws.append([_title_cell(ws, title, _SUB_FONT)])
    ws.append([_title_cell(ws, f"Số người: {len(records)}", Font(name=FONT_NAME, size=11, italic=True))])
    ws.append([])
    for h in heads:
        ws.append([_head_cell(ws, v) for v in h])
    merges = [f"A{r}:{last}{r}" for r in range(1, rows_before)] + header_merges(form, first_head)
    ws.merged_cells = MultiCellRange(merges)
    for n, rec in enumerate(records, 1):
        v = rec.values
        row = []
        for f, _ in cols:
            if f == "stt":
                row.append(n)
            elif f == "source_row":
                row.append(rec.row)
            else:
                row.append(_cell(ws, f, v.get(f)))
        ws.append(row)
    wb.save(out_path)
