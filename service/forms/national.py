"""The national platform's import template (2021): read it as units fill it, write it.

Sheet "PL1_Danh sach doi tuong tiem" of the template that health facilities used to upload
lists into the national vaccination system (SPEC, "The national platform's import
template"): notes in rows 1–5, a two-row header on rows 7–8, data from row 9, columns A–Z:

    A #  B name  C birth date  D gender (0:nam, 1:nữ)  E priority-group code  F workplace
    G phone  H ID  I BHYT  J–P "Nơi ở tạm trú": province, its code, district, its code, ward,
    its code, detailed address  Q dose 1's vaccine  R–T "Mũi 1": date, lot, place (facility
    code)  U dose 2's vaccine  V–X "Mũi 2"  Y note  Z "Kết quả import" (the platform's result)

Reading: ``adapt`` corrects what the generic header matcher makes of this header (the
vaccine columns outside their "Mũi" groups, the code columns, "Địa chỉ chi tiết", "#" and
column Z); ``is_national`` tells the engine the layout, whose rules differ (SPEC): a row with
dose data is a Mẫu 2 row, one without is a registration (Mẫu 1 row); what is required
follows the template's "(*)" marks (the ID number is optional there).

Writing: ``write`` puts records into the template's exact layout with its codes, so that a
receiver uploads a forward unchanged (raw SpreadsheetML via ``xlsx_writer``).

Results: ``import_results`` reads column Z of a workbook that went through the platform.
"""
from __future__ import annotations

import io
import os
import re
from datetime import date, datetime
from typing import IO, Any, Callable, Iterable, Iterator, Sequence

from ..directory import Directory
from ..textnorm import fold
from .model import Column, Record
from .xlsx_writer import Cell, SheetSpec, Style, write_xlsx

SHEET_NAME = "PL1_Danh sach doi tuong tiem"
NOTES = [
    "Chú ý:",
    "1.Các cột có hoa thị (*) màu đỏ là cột bắt buộc phải nhập thông tin.",
    "2. Địa điểm tiêm nhập Mã cơ sở KCB của cơ sở tiêm, tham khảo tại PL4",
    "3. Với các cột không có thông tin hoặc thiếu thông tin thì KHÔNG NHẬP",
    "4. Thực hiện bỏ bộ lọc dữ liệu ( Filter) tại tất cả các sheet danh mục (sau khi thực hiện "
    "tra cứu) trước khi Tải file import lên hệ thống",
]
HEADER_ROW = 7  # 1-based: rows 7–8 hold the header, data from row 9
GROUP_PLACE = "Nơi ở tạm trú (hiện tại) (*) (Tham khảo PL3)"
VACCINE_HEADER = "Tên vắc xin (*) (Tham khảo PL5)"
DOSE_PARTS = [("date", "Ngày tiêm dạng dd/mm/yyyy (*)"), ("lot", "Lô vắc xin(*)"),
              ("facility", "Địa điểm tiêm (*) (Tham khảo PL4)")]
# Layout-only keys (not SPEC fields): the GSO code columns and the platform's result.
PROVINCE_CODE, DISTRICT_CODE, WARD_CODE = "province_gso", "district_gso", "ward_gso"
IMPORT_RESULT = "import_result"
CODE_KEYS = (PROVINCE_CODE, DISTRICT_CODE, WARD_CODE)
NATIONAL_ONLY = frozenset(CODE_KEYS + (IMPORT_RESULT,))

# (field, row-7 text, row-8 text or None, group label or None) — columns A..Z in order.
COLUMNS: list[tuple[str, str | None, str | None]] = [
    ("stt", "#", None),
    ("full_name", "Họ và tên (*)", None),
    ("dob", "Ngày sinh dạng dd/mm/yyyy (*)", None),
    ("gender", "Giới tính (*) (0:nam, 1:nữ)", None),
    ("priority_group", "Mã nhóm  đối tượng ưu tiên (*) (Tham khảo PL2)", None),
    ("workplace", "Đơn vị công tác", None),
    ("phone", "Số điện thoại(*) (Tối thiểu 10 số)", None),
    ("id_number", "Số CMT/CCCD (Loại 8/9/12 số)", None),
    ("insurance_number", "Số thẻ bảo hiểm y tế (Mã thẻ 10/15 ký tự)", None),
    ("province", GROUP_PLACE, "Tỉnh/Thành phố"),
    (PROVINCE_CODE, GROUP_PLACE, "Mã  Tỉnh/Thành phố (*)"),
    ("district", GROUP_PLACE, "Quận/Huyện"),
    (DISTRICT_CODE, GROUP_PLACE, "Mã Quận/Huyện (*)"),
    ("ward", GROUP_PLACE, "Xã/Phường"),
    (WARD_CODE, GROUP_PLACE, "Mã Xã/Phường (*)"),
    ("address", GROUP_PLACE, "Địa chỉ chi tiết"),
    ("dose1_vaccine", VACCINE_HEADER, None),
    *[(f"dose1_{p}", "Mũi 1", h) for p, h in DOSE_PARTS],
    ("dose2_vaccine", VACCINE_HEADER, None),
    *[(f"dose2_{p}", "Mũi 2", h) for p, h in DOSE_PARTS],
    ("note", "Ghi chú", None),
    (IMPORT_RESULT, "Kết quả import (không điền ô này)", None),
]
FIELDS = [f for f, _, _ in COLUMNS]
DOSE_FIELDS = tuple(f for f in FIELDS if f.startswith("dose"))
WIDTHS = {"stt": 5, "full_name": 26, "dob": 13, "gender": 9, "priority_group": 12, "workplace": 22,
          "phone": 13, "id_number": 15, "insurance_number": 17, "province": 12, PROVINCE_CODE: 9,
          "district": 20, DISTRICT_CODE: 9, "ward": 20, WARD_CODE: 9, "address": 24,
          "dose1_vaccine": 13, "dose1_date": 13, "dose1_lot": 11, "dose1_facility": 16,
          "dose2_vaccine": 13, "dose2_date": 13, "dose2_lot": 11, "dose2_facility": 16,
          "note": 16, IMPORT_RESULT: 22}

# What the template's "(*)" marks require, per kind of row (SPEC). District and ward may be
# given by name or by code (the engine fills a blank name from its code before the checks).
# The template also marks the priority group and the lot of a dosed row: lists in the
# canonical Mẫu 2 carry neither as required, so there a blank one is a warning (the platform
# may refuse the row), which keeps every forward readable back without errors.
REQUIRED_REGISTRATION = frozenset({"full_name", "dob", "gender", "priority_group", "phone",
                                   "district", "ward"})
REQUIRED_DOSES = (REQUIRED_REGISTRATION - {"priority_group"}) | {
    "dose1_date", "dose1_vaccine", "dose1_facility"}
PLATFORM_WANTS = {"mau2": ("priority_group", "dose1_lot")}  # blank: a warning
# Columns without which the layout cannot be read at all (the rest are optional columns).
REQUIRED_COLUMNS = ("full_name", "dob", "gender", "priority_group", "phone")

# Folded leaf headers of this layout → field (applied on top of config/fields.toml).
_LEAVES = {
    "ma tinh thanh pho": PROVINCE_CODE, "ma tinh": PROVINCE_CODE, "ma tinh tp": PROVINCE_CODE,
    "ma quan huyen": DISTRICT_CODE, "ma huyen": DISTRICT_CODE,
    "ma xa phuong": WARD_CODE, "ma xa": WARD_CODE, "ma phuong xa": WARD_CODE,
    "dia chi chi tiet": "address",
    "ket qua import": IMPORT_RESULT, "ket qua": IMPORT_RESULT,
}
_VACCINE_LEAVES = ("ten vac xin", "loai vac xin", "ten vacxin", "vac xin", "ten vaccine")
_PAREN_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_ADDRESS_LEAVES = ("dia chi", "ap khom", "noi o", "so nha")


def _leaf(text: str) -> str:
    return fold(_PAREN_RE.sub(" ", text)) or fold(text)


# ---------------------------------------------------------------------------- reading


def adapt(cols: list[list[str]], mapped: dict[str, Column], extra: dict[int, str],
          dose_of: Callable[[str], int | None]) -> tuple[dict[str, Column], dict[int, str]]:
    """Correct the generic column map for the national template, when the header is one.

    ``cols``: header texts per column (top to bottom); ``dose_of``: folded text → dose number
    of a "Mũi N" group label. Returns the map unchanged for any other header.
    """
    leaves = [_leaf(p[-1]) if p else "" for p in cols]
    hits = {i: _LEAVES[k] for i, k in enumerate(leaves) if k in _LEAVES}
    if sum(1 for f in hits.values() if f in NATIONAL_ONLY) < 2:
        return mapped, extra
    by_index = {c.index: k for k, c in mapped.items()}
    out = dict(mapped)
    rest = dict(extra)

    def put(key: str, i: int) -> None:
        old = by_index.get(i)
        if old is not None and out.get(old) is not None and out[old].index == i:
            del out[old]
        prev = out.get(key)
        if prev is not None and prev.index != i:
            rest[prev.index] = prev.header
        out[key] = Column(key, i, " / ".join(cols[i]))
        rest.pop(i, None)
        by_index[i] = key

    # "Mã Tỉnh/Thành phố (*)" is a code, not the address the group label suggested
    addr = out.get("address")
    if addr is not None and not any(leaves[addr.index].startswith(a) for a in _ADDRESS_LEAVES):
        del out["address"]
        rest[addr.index] = addr.header
    for i, key in hits.items():
        put(key, i)
    if "stt" not in out and cols and cols[0] and cols[0][-1].strip() == "#":
        put("stt", 0)
    # Vaccine names outside the groups: each belongs to the "Mũi N" group on its right
    # (template: Q before "Mũi 1", U before "Mũi 2"); after the last group, to that group.
    groups = [(i, d) for i, p in enumerate(cols) if p and (d := dose_of(_leaf(p[0])))]
    for i, leaf in enumerate(leaves):
        if len(cols[i]) != 1 or not any(leaf.startswith(v) for v in _VACCINE_LEAVES):
            continue
        right = next((d for j, d in groups if j > i), None)
        left = next((d for j, d in reversed(groups) if j < i), None)
        dose = right or left
        if dose and f"dose{dose}_vaccine" not in out:
            put(f"dose{dose}_vaccine", i)
    return out, rest


def is_national(columns: dict[str, Column]) -> bool:
    return sum(1 for k in columns if k in NATIONAL_ONLY) >= 2


def has_dose_data(raw: dict[str, Any]) -> bool:
    """A row that carries dose data is a Mẫu 2 row (SPEC)."""
    for f in DOSE_FIELDS:
        v = raw.get(f)
        if v is not None and v != "":
            return True
    return False


def row_form(raw: dict[str, Any]) -> str:
    return "mau2" if has_dose_data(raw) else "mau1"


def required_for(raw: dict[str, Any]) -> frozenset[str]:
    return REQUIRED_DOSES if has_dose_data(raw) else REQUIRED_REGISTRATION


def fill_names_from_codes(rows: Iterable[tuple[int, dict[str, Any]]], directory: Directory
                          ) -> Iterator[tuple[int, dict[str, Any]]]:
    """A blank province/district/ward name is read from its code column (when the code is in
    the directory; an unknown code is reported on the code cell)."""
    wards = {w.code: w for d in directory.districts for w in d.wards}
    for n, raw in rows:
        filled = None
        for name, key in (("province", PROVINCE_CODE), ("district", DISTRICT_CODE), ("ward", WARD_CODE)):
            if raw.get(name) not in (None, "") or raw.get(key) in (None, ""):
                continue
            code = _int(raw[key])
            if name == "province":
                place = directory.province_name if code == directory.province_code else None
            elif name == "district":
                d = directory.district(code)
                place = d.name if d else None
            else:
                w = wards.get(code)
                place = w.name if w else None
            if place is not None:
                raw[name] = place
                filled = filled or set()
                filled.add(name)
        if filled:
            raw["_from_code"] = filled
        yield n, raw


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and v.strip().isdigit():
        return int(v.strip())
    return None


def sheet_form(rows: list[list[Any]], indexes: Iterable[int], dose_columns: list[int]) -> str:
    """"mau1" when no data row carries dose data, else "mau2" (SPEC)."""
    for i in indexes:
        row = rows[i]
        n = len(row)
        for j in dose_columns:
            if j < n and row[j] is not None and row[j] != "":
                return "mau2"
    return "mau1"


def missing_columns(columns: dict[str, Column]) -> list[str]:
    """Required columns of the layout that the header lacks (district/ward: name or code)."""
    out = [k for k in REQUIRED_COLUMNS if k not in columns]
    for name, code in (("district", DISTRICT_CODE), ("ward", WARD_CODE)):
        if name not in columns and code not in columns:
            out.append(name)
    return out


def person_key(values: dict[str, Any]) -> str | None:
    """Who a row is, for finding the same person twice: the ID number; without one, the
    normalised name + birth date + phone (SPEC). The store keeps only a keyed hash of it."""
    idn = values.get("id_number")
    if idn:
        return str(idn)
    name, dob, phone = values.get("full_name"), values.get("dob"), values.get("phone")
    if not (name and dob and phone) or not isinstance(name, str):
        return None
    if isinstance(dob, (date, datetime)):
        dob = dob.strftime("%d/%m/%Y")
    return f"P|{fold(name)}|{dob}|{phone}"


# ---------------------------------------------------------------------------- writing

_FONT = "Times New Roman"
_NOTE = Style(font=_FONT, size=11, italic=True)
_NOTE_HEAD = Style(font=_FONT, size=11, bold=True, color="FF0000")
_HEAD = Style(font=_FONT, size=11, bold=True, border=True, align="center", valign="center", wrap=True,
              fill="DDEBF7")
_HEAD_REQUIRED = Style(font=_FONT, size=11, bold=True, border=True, align="center", valign="center",
                       wrap=True, fill="DDEBF7", color="FF0000")
_TEXT = Style(number_format="@")
_TEXT_FIELDS = frozenset({"dob", "phone", "id_number", "insurance_number", "dose1_date", "dose1_lot",
                          "dose2_date", "dose2_lot", "dose1_facility", "dose2_facility"})
GENDER_CODES = {"Nam": 0, "Nữ": 1}


def header_rows() -> list[list[Any]]:
    """Rows 7 and 8 of the template as styled cells."""
    top, bottom = [], []
    prev = None
    for _, t, b in COLUMNS:
        group = t if b is not None else None
        style = _HEAD_REQUIRED if "(*)" in (b or t) else _HEAD
        if group is None:
            top.append(Cell(t, style))
            bottom.append(Cell(None, _HEAD))
        else:
            gstyle = _HEAD_REQUIRED if "(*)" in t else _HEAD
            top.append(Cell(t, gstyle) if group != prev else Cell(None, _HEAD))
            bottom.append(Cell(b, style))
        prev = group
    return [top, bottom]


def header_merges(first_row: int = HEADER_ROW) -> list[str]:
    """Singles merged down over rows 7–8, groups merged across row 7 (J7:P7, R7:T7, V7:X7)."""
    from .model import column_letter
    out, j = [], 0
    while j < len(COLUMNS):
        _, t, b = COLUMNS[j]
        if b is None:
            letter = column_letter(j)
            out.append(f"{letter}{first_row}:{letter}{first_row + 1}")
            j += 1
            continue
        k = j
        while k + 1 < len(COLUMNS) and COLUMNS[k + 1][2] is not None and COLUMNS[k + 1][1] == t:
            k += 1
        out.append(f"{column_letter(j)}{first_row}:{column_letter(k)}{first_row}")
        j = k + 1
    return out


def _ddmmyyyy(v: Any) -> Any:
    if isinstance(v, (date, datetime)):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return None if v is None else str(v)


def _facility_cell(values: dict[str, Any], field: str, codes: dict[str, str]) -> Any:
    key = values.get(field + "_key")
    if key and codes.get(key):
        return codes[key]
    return values.get(field)


def record_row(n: int, rec: Record, directory: Directory, fac_codes: dict[str, str]) -> list[Any]:
    """One data row (columns A..Z) for a record, with the platform's codes."""
    v = rec.values
    get = v.get
    home = get("province") in (None, directory.province_name)
    gender = get("gender")
    group = get("priority_group")
    row: list[Any] = [
        n,
        get("full_name"),
        _ddmmyyyy(get("dob")),
        GENDER_CODES.get(gender, gender),
        group if isinstance(group, int) else (int(group) if isinstance(group, str) and group.isdigit() else group),
        get("workplace"),
        get("phone"),
        get("id_number"),
        get("insurance_number"),
        _short_province(directory) if home else get("province"),
        directory.province_code if home else _code_text(get(PROVINCE_CODE)),
        get("district"),
        get("district_code") if home else _code_text(get(DISTRICT_CODE)),
        get("ward"),
        get("ward_code") if home else _code_text(get(WARD_CODE)),
        get("address"),
        get("dose1_vaccine"),
        _ddmmyyyy(get("dose1_date")),
        get("dose1_lot"),
        _facility_cell(v, "dose1_facility", fac_codes),
        get("dose2_vaccine"),
        _ddmmyyyy(get("dose2_date")),
        get("dose2_lot"),
        _facility_cell(v, "dose2_facility", fac_codes),
        get("note"),
        None,  # Z: the platform's result, left empty
    ]
    for j, f in enumerate(FIELDS):
        x = row[j]
        if x is None or x == "":
            row[j] = None
        elif f in _TEXT_FIELDS:
            row[j] = Cell(x if isinstance(x, str) else _ddmmyyyy(x), _TEXT)
        elif isinstance(x, float) and x.is_integer():
            row[j] = int(x)
        elif not isinstance(x, (str, int, float)):
            row[j] = str(x)
    return row


def _code_text(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _short_province(directory: Directory) -> str:
    """"Tỉnh An Giang" → "An Giang" (as the platform's PL3 names provinces)."""
    name = directory.province_name
    return name[5:] if name.lower().startswith("tỉnh ") else name


def facility_codes(directory: Directory) -> dict[str, str]:
    return {f.key: f.code for f in directory.facilities if getattr(f, "code", "")}


def write(records: Sequence[Record], out: str | os.PathLike[str] | IO[bytes], directory: Directory,
          notes: bool = True, results: Sequence[str | None] | None = None) -> None:
    """``records`` in the national template's layout: notes rows 1–5, header rows 7–8, data
    from row 9, the platform's codes, ``#`` from 1, column Z empty (or ``results[i]``: the
    platform's answer, when rows go back to their unit)."""
    codes = facility_codes(directory)
    first = HEADER_ROW if notes else 1

    def rows() -> Iterator[list[Any]]:
        if notes:
            yield [Cell(NOTES[0], _NOTE_HEAD)]
            for t in NOTES[1:]:
                yield [Cell(t, _NOTE)]
            yield []
        yield from header_rows()
        for n, rec in enumerate(records, 1):
            row = record_row(n, rec, directory, codes)
            if results is not None and results[n - 1]:
                row[-1] = results[n - 1]
            yield row

    sheet = SheetSpec(
        name=SHEET_NAME, rows=rows(), merged=header_merges(first),
        widths={j: WIDTHS.get(f, 12) for j, f in enumerate(FIELDS)},
        freeze=(first + 1, 2), size=(first + 1 + len(records), len(COLUMNS)))
    write_xlsx(out, [sheet], default_font=_FONT, default_size=11)


def write_bytes(records: Sequence[Record], directory: Directory,
                results: Sequence[str | None] | None = None) -> bytes:
    buf = io.BytesIO()
    write(records, buf, directory, results=results)
    return buf.getvalue()


def write_blank(out: str | os.PathLike[str] | IO[bytes], directory: Directory,
                groups: Sequence[tuple[int, str]] = (), vaccines: Sequence[str] = ()) -> None:
    """The blank template (``vaxmail template quocgia``): the list sheet with its notes and
    header, and the catalogues it refers to — PL2 priority groups, PL3 places with their GSO
    codes, PL4 facilities (code where the directory has one), PL5 vaccines."""
    head = Style(font=_FONT, size=11, bold=True, border=True, fill="DDEBF7")
    text = Style(number_format="@")

    def main() -> Iterator[list[Any]]:
        yield [Cell(NOTES[0], _NOTE_HEAD)]
        for t in NOTES[1:]:
            yield [Cell(t, _NOTE)]
        yield []
        yield from header_rows()

    places: list[list[Any]] = [[Cell(h, head) for h in (
        "Tỉnh/Thành phố", "Mã tỉnh", "Quận/Huyện", "Mã quận/huyện", "Xã/Phường", "Mã xã/phường")]]
    province = _short_province(directory)
    for d in directory.districts:
        for w in d.wards:
            places.append([province, directory.province_code, d.name, d.code, w.name, w.code])
    facilities = [[Cell("Mã cơ sở KCB", head), Cell("Tên cơ sở tiêm", head)]]
    facilities += [[Cell(f.code, text) if f.code else None, f.name] for f in directory.facilities]
    sheets = [
        SheetSpec(SHEET_NAME, main(), merged=header_merges(HEADER_ROW),
                  widths={j: WIDTHS.get(f, 12) for j, f in enumerate(FIELDS)},
                  freeze=(HEADER_ROW + 1, 2), size=(HEADER_ROW + 1, len(COLUMNS))),
        SheetSpec("PL2_Nhom doi tuong", [[Cell("Mã", head), Cell("Nhóm đối tượng ưu tiên", head)]]
                  + [[n, name] for n, name in groups], widths={0: 6, 1: 120}),
        SheetSpec("PL3_Dia ban", places, widths={0: 14, 1: 8, 2: 26, 3: 12, 4: 26, 5: 12}),
        SheetSpec("PL4_Co so tiem", facilities, widths={0: 14, 1: 50}),
        SheetSpec("PL5_Vac xin", [[Cell("Tên vắc xin", head)]] + [[v] for v in vaccines], widths={0: 20}),
    ]
    write_xlsx(out, sheets, default_font=_FONT, default_size=11)


# ---------------------------------------------------------------------------- results

# What column Z says after an import: success wording, else the platform's error text.
_SUCCESS_RE = re.compile(r"^(?:import )?(?:thanh cong|da import|ok|success)\b")


def import_succeeded(text: str) -> bool:
    return bool(_SUCCESS_RE.match(fold(text)))


def import_results(records: Iterable[Record]) -> list[tuple[Record, bool, str]]:
    """(record, entered?, the platform's text) for every row whose column Z is filled."""
    out = []
    for rec in records:
        z = rec.values.get(IMPORT_RESULT)
        if z is None or (isinstance(z, str) and not z.strip()):
            continue
        text = str(z).strip()
        out.append((rec, import_succeeded(text), text))
    return out
