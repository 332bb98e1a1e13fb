"""The project's blank Mẫu 1 / Mẫu 2 workbooks.

``write_template(form, out, directory)``: the title block, the canonical header (the same
columns as ``export``), a comment on each header cell explaining the column, drop-down lists
(gender, priority group, district, the district's wards, vaccine), ID/phone columns formatted
as text, a "Hướng dẫn" sheet and a hidden "DanhMuc" sheet holding the lists.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from ..defaults import config_dir
from ..directory import Directory
from .export import (CANONICAL_COLUMNS, COLUMN_WIDTHS, DATE_FIELDS, DATE_FORMAT, FONT_NAME, FORM_TITLES,
                     TEXT_FIELDS, group_of, header_merges, header_rows)
from .model import column_letter

DATA_ROWS = 1000  # rows prepared with formats and drop-downs
GENDERS = ["Nam", "Nữ", "Khác"]
FALLBACK_VACCINES = ["AstraZeneca", "Pfizer", "Moderna", "Sinopharm", "Hayat-Vax", "Sputnik V", "Abdala", "Janssen"]
LIST_SHEET = "DanhMuc"
GUIDE_SHEET = "Hướng dẫn"
DATA_SHEET = "Danh sách"

HINTS = {
    "stt": "Số thứ tự: 1, 2, 3...",
    "full_name": "Họ và tên đầy đủ, có dấu. Ví dụ: Nguyễn Văn An.",
    "dob": "Ngày sinh theo dạng ngày/tháng/năm (dd/mm/yyyy), ví dụ 05/09/1980. Nếu chỉ biết năm sinh, ghi năm (ví dụ 1950).",
    "gender": "Chọn trong danh sách: Nam, Nữ hoặc Khác.",
    "priority_group": "Số nhóm ưu tiên từ 1 đến 16 theo Quyết định 3355/QĐ-BYT (xem trang “Hướng dẫn”).",
    "occupation": "Nghề nghiệp hiện nay.",
    "workplace": "Tên cơ quan, đơn vị, doanh nghiệp nơi làm việc.",
    "phone": "Số điện thoại di động 10 chữ số, ví dụ 0912345678. Ô đã định dạng Văn bản để giữ số 0 đầu.",
    "id_number": "Số CCCD 12 chữ số (hoặc CMND 9 chữ số, hộ chiếu 1 chữ cái + 7 chữ số). Ô đã định dạng Văn bản: gõ đủ số, kể cả số 0 đầu.",
    "insurance_number": "Mã thẻ BHYT 15 ký tự (ví dụ GD4898912345678) hoặc mã số BHXH 10 chữ số.",
    "ethnicity": "Dân tộc, ví dụ Kinh, Khmer, Chăm, Hoa.",
    "nationality": "Quốc tịch, ví dụ Việt Nam.",
    "province": "Tỉnh/thành phố nơi ở hiện nay (mặc định An Giang).",
    "district": "Chọn huyện, thị xã, thành phố trong danh sách.",
    "ward": "Chọn xã, phường, thị trấn (danh sách theo huyện đã chọn ở cột trước).",
    "address": "Số nhà, ấp/khóm nơi ở hiện nay.",
    "dose1_date": "Ngày tiêm mũi 1 (dd/mm/yyyy), từ 08/03/2021 đến nay.",
    "dose1_vaccine": "Chọn tên vắc xin đã tiêm mũi 1.",
    "dose1_lot": "Số lô vắc xin ghi trên giấy xác nhận tiêm.",
    "dose1_facility": "Tên cơ sở đã tiêm mũi 1, ví dụ Trung tâm Y tế huyện Chợ Mới, Trạm Y tế Xã Mỹ Khánh.",
    "dose2_date": "Ngày tiêm mũi 2 (dd/mm/yyyy), nếu đã tiêm; phải sau mũi 1 đủ khoảng cách của vắc xin.",
    "dose2_vaccine": "Chọn tên vắc xin đã tiêm mũi 2 (Janssen chỉ tiêm 1 mũi; Abdala tiêm 3 mũi, mỗi mũi cách nhau ít nhất 14 ngày).",
    "dose2_lot": "Số lô vắc xin mũi 2.",
    "dose2_facility": "Tên cơ sở đã tiêm mũi 2.",
    "note": "Ghi chú (nếu có).",
    "source_row": "Để trống (dùng khi hệ thống xuất danh sách).",
}
# Template columns: the canonical ones without the export-only "source row".
TEMPLATE_SKIP = {"source_row"}

_THIN = Side(style="thin", color="FF000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def load_priority_groups(path: str | Path | None = None) -> list[tuple[int, str]]:
    p = Path(path) if path else config_dir() / "priority_groups.toml"
    with open(p, "rb") as fh:
        data = tomllib.load(fh)
    return [(int(g["number"]), g["name"]) for g in data.get("group", [])]


def load_vaccine_names(path: str | Path | None = None) -> list[str]:
    p = Path(path) if path else config_dir() / "vaccines.toml"
    try:
        with open(p, "rb") as fh:
            data = tomllib.load(fh)
        names = [v["name"] for v in data.get("vaccine", []) if v.get("name")]
        return names or list(FALLBACK_VACCINES)
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError):
        return list(FALLBACK_VACCINES)


def template_columns(form: str) -> list[tuple[str, str]]:
    return [(f, h) for f, h in CANONICAL_COLUMNS[form] if f not in TEMPLATE_SKIP]


def _name_for(code: int) -> str:
    return f"PX_{code}"


def write_template(form: str, out_path: str, directory: Directory) -> None:
    if form == "quocgia":  # the national platform's import template, with its catalogues
        from .national import write_blank
        write_blank(out_path, directory, load_priority_groups(), load_vaccine_names())
        return
    if form not in CANONICAL_COLUMNS:
        raise ValueError(f"unknown form {form!r}")
    cols = template_columns(form)
    col_of = {f: j for j, (f, _) in enumerate(cols)}
    last = column_letter(len(cols) - 1)
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    groups = load_priority_groups()
    vaccines = load_vaccine_names()

    # ---------------------------------------------------------------- title block
    title_font = Font(name=FONT_NAME, size=13, bold=True)
    center = Alignment(horizontal="center", vertical="center", wrap_text=False)
    lines = [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", title_font),
             ("Độc lập - Tự do - Hạnh phúc", Font(name=FONT_NAME, size=13, bold=True, underline="single")),
             (None, None),
             (FORM_TITLES[form], Font(name=FONT_NAME, size=14, bold=True)),
             ("Đơn vị: ..........................................................................", Font(name=FONT_NAME, size=12)),
             (None, None)]
    for i, (text, font) in enumerate(lines, 1):
        if text:
            c = ws.cell(i, 1, text)
            c.font = font
            c.alignment = center
            ws.merge_cells(f"A{i}:{last}{i}")
    first_head = len(lines) + 1

    # ---------------------------------------------------------------- header
    heads = header_rows(form)
    heads = [[v for v, (f, _) in zip(h, CANONICAL_COLUMNS[form]) if f not in TEMPLATE_SKIP] for h in heads]
    head_font = Font(name=FONT_NAME, size=11, bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    head_align = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for k, h in enumerate(heads):
        r = first_head + k
        ws.row_dimensions[r].height = 32 if len(heads) == 1 else 24
        for j, v in enumerate(h):
            c = ws.cell(r, j + 1, v)
            c.font, c.fill, c.alignment, c.border = head_font, head_fill, head_align, _BOX
    for rng in header_merges(form, first_head):
        ws.merge_cells(rng)
    if len(heads) == 1:
        ws.row_dimensions[first_head].height = 36
    hint_row = first_head + len(heads) - 1
    for f, j in col_of.items():
        hint = HINTS.get(f)
        if hint:
            cm = Comment(hint, "vaxmail", width=300, height=110)
            ws.cell(hint_row if group_of(f) else first_head, j + 1).comment = cm
        ws.column_dimensions[column_letter(j)].width = max(COLUMN_WIDTHS.get(f, 14), 10)
    data_start = hint_row + 1
    data_end = data_start + DATA_ROWS - 1
    ws.freeze_panes = f"C{data_start}"
    ws.print_title_rows = f"{first_head}:{hint_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    # ---------------------------------------------------------------- formats of the data rows
    body_font = Font(name=FONT_NAME, size=11)
    for f, j in col_of.items():
        fmt = "@" if f in TEXT_FIELDS else DATE_FORMAT if f in DATE_FIELDS else None
        if fmt:  # whole column too, for rows typed below the prepared ones
            ws.column_dimensions[column_letter(j)].number_format = fmt
        for r in range(data_start, data_end + 1):
            c = ws.cell(r, j + 1)
            c.font = body_font
            c.border = _BOX
            if fmt:
                c.number_format = fmt

    # ---------------------------------------------------------------- lists (hidden sheet)
    lists = wb.create_sheet(LIST_SHEET)
    lists.append(["Nhóm ưu tiên", "Tên nhóm (QĐ 3355/QĐ-BYT)", "Huyện/Thị xã/Thành phố", "Tên vùng xã",
                  "Giới tính", "Vắc xin"])
    districts = list(directory.districts)
    n_rows = max(len(groups), len(districts), len(GENDERS), len(vaccines))
    for i in range(n_rows):
        lists.append([
            groups[i][0] if i < len(groups) else None,
            groups[i][1] if i < len(groups) else None,
            districts[i].name if i < len(districts) else None,
            _name_for(districts[i].code) if i < len(districts) else None,
            GENDERS[i] if i < len(GENDERS) else None,
            vaccines[i] if i < len(vaccines) else None,
        ])
    all_wards_col = 8  # H: every ward; then one column per district
    lists.cell(1, all_wards_col, "Tất cả xã/phường/thị trấn")
    wards = [w for d in districts for w in d.wards]
    for i, w in enumerate(wards, 2):
        lists.cell(i, all_wards_col, w.name)
    wb.defined_names["DS_XaPhuong"] = DefinedName(
        "DS_XaPhuong", attr_text=f"{LIST_SHEET}!$H$2:$H${len(wards) + 1}")
    for k, d in enumerate(districts):
        col = all_wards_col + 1 + k
        L = column_letter(col - 1)
        lists.cell(1, col, d.name)
        for i, w in enumerate(d.wards, 2):
            lists.cell(i, col, w.name)
        name = _name_for(d.code)
        wb.defined_names[name] = DefinedName(name, attr_text=f"{LIST_SHEET}!${L}$2:${L}${len(d.wards) + 1}")
    lists.sheet_state = "hidden"

    # ---------------------------------------------------------------- drop-downs
    def add_list(field: str, formula: str, title: str, strict: bool = True) -> None:
        if field not in col_of:
            return
        L = column_letter(col_of[field])
        dv = DataValidation(type="list", formula1=formula, allow_blank=True, showDropDown=False)
        dv.errorStyle = "stop" if strict else "warning"
        dv.errorTitle = title
        dv.error = f"Vui lòng chọn {title.lower()} trong danh sách."
        dv.promptTitle = title
        dv.prompt = HINTS.get(field, "")[:255]
        dv.showInputMessage = True
        dv.showErrorMessage = True
        dv.add(f"{L}{data_start}:{L}{data_end}")
        ws.add_data_validation(dv)

    add_list("gender", '"Nam,Nữ,Khác"', "Giới tính")
    add_list("priority_group", f"{LIST_SHEET}!$A$2:$A${len(groups) + 1}", "Nhóm ưu tiên")
    add_list("district", f"{LIST_SHEET}!$C$2:$C${len(districts) + 1}", "Huyện/Thị xã/Thành phố")
    if "ward" in col_of and "district" in col_of:
        dcol = column_letter(col_of["district"])
        add_list("ward", f"INDIRECT(IFERROR(VLOOKUP(${dcol}{data_start},{LIST_SHEET}!$C$2:$D${len(districts) + 1},"
                         f"2,FALSE),\"DS_XaPhuong\"))", "Xã/Phường/Thị trấn", strict=False)
    for f in ("dose1_vaccine", "dose2_vaccine"):
        add_list(f, f"{LIST_SHEET}!$F$2:$F${len(vaccines) + 1}", "Vắc xin", strict=False)

    # ---------------------------------------------------------------- instructions
    guide = wb.create_sheet(GUIDE_SHEET, 1)
    _write_guide(guide, form, cols, groups, vaccines, data_start)
    wb.active = 0
    wb.save(out_path)


def _write_guide(ws, form: str, cols, groups, vaccines, data_start: int) -> None:
    bold = Font(name=FONT_NAME, size=12, bold=True)
    normal = Font(name=FONT_NAME, size=11)
    wrap = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 8
    ws.column_dimensions["B"].width = 28
    ws.column_dimensions["C"].width = 95
    form_no = "1" if form == "mau1" else "2"
    purpose = ("Mẫu 1 dùng để đăng ký tiêm vắc xin phòng COVID-19 lần đầu (mũi 1)." if form == "mau1" else
               "Mẫu 2 dùng cho người đã tiêm mũi 1 (hoặc đủ 2 mũi): bổ sung thông tin để nhập lên hệ thống "
               "tiêm chủng quốc gia, hoặc đăng ký tiêm mũi 2. Danh sách được chuyển đến cơ sở đã tiêm mũi 1.")
    rows = [
        (f"HƯỚNG DẪN ĐIỀN DANH SÁCH THEO MẪU {form_no}", bold),
        (purpose, normal),
        (f"1. Điền mỗi người một dòng ở trang “{DATA_SHEET}”, bắt đầu từ dòng {data_start}; không thêm, "
         "bớt hay đổi tên các cột tiêu đề, không gộp ô trong vùng dữ liệu.", normal),
        ("2. Ngày tháng ghi theo dạng ngày/tháng/năm (dd/mm/yyyy), ví dụ 05/09/1980.", normal),
        ("3. Số CMND/CCCD và số điện thoại đã được định dạng Văn bản: gõ đủ các chữ số, kể cả số 0 ở đầu; "
         "không dán từ nơi khác dưới dạng số (Excel sẽ làm mất số 0 hoặc đổi sang dạng 8,9E+11).", normal),
        ("4. Giới tính, nhóm ưu tiên, huyện, xã và tên vắc xin: chọn trong danh sách thả xuống của ô.", normal),
        ("5. Lưu tệp dạng Excel (.xlsx) và gửi qua thư điện tử về địa chỉ tiếp nhận. Hệ thống sẽ trả lời "
         "trong vài phút: xác nhận đã nhận hoặc danh sách các ô cần sửa.", normal),
        (None, None),
    ]
    r = 1
    for text, font in rows:
        if text:
            c = ws.cell(r, 1, text)
            c.font = font
            c.alignment = Alignment(wrap_text=True, vertical="top")
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=3)
            ws.row_dimensions[r].height = 18 if len(text) < 110 else 34
        r += 1
    ws.cell(r, 1, "CÁC CỘT").font = bold
    r += 1
    for j, (f, h) in enumerate(cols):
        ws.cell(r, 1, column_letter(j)).font = normal
        ws.cell(r, 2, h).font = normal
        c = ws.cell(r, 3, HINTS.get(f, ""))
        c.font, c.alignment = normal, wrap
        r += 1
    r += 1
    if form == "mau1":
        ws.cell(r, 1, "NHÓM ƯU TIÊN THEO QUYẾT ĐỊNH 3355/QĐ-BYT NGÀY 08/07/2021").font = bold
        r += 1
        for n, name in groups:
            ws.cell(r, 1, n).font = normal
            c = ws.cell(r, 2, name)
            c.font, c.alignment = normal, wrap
            ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=3)
            ws.row_dimensions[r].height = 18 if len(name) < 110 else 34
            r += 1
        r += 1
    ws.cell(r, 1, "TÊN VẮC XIN").font = bold
    r += 1
    ws.cell(r, 1, ", ".join(vaccines)).font = normal
