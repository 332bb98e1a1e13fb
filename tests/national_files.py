"""Workbooks in the national platform's import template, built from SPEC's column list.

``build(path, rows, notes=True)`` writes "PL1_Danh sach doi tuong tiem" as units fill it:
the notes in rows 1–5 (or none), the two-row header with its merges, data under it. ``rows``
are dicts keyed by column letter ("B": name, "D": gender code …). ``.xlsx`` via openpyxl,
``.xls`` via xlwt. ``drop``/``extra`` remove columns or add one at the end.
"""
from __future__ import annotations

from pathlib import Path

NOTES = [
    "Chú ý:",
    "1.Các cột có hoa thị (*) màu đỏ là cột bắt buộc phải nhập thông tin.",
    "2. Địa điểm tiêm nhập Mã cơ sở KCB của cơ sở tiêm, tham khảo tại PL4",
    "3. Với các cột không có thông tin hoặc thiếu thông tin thì KHÔNG NHẬP",
    "4. Thực hiện bỏ bộ lọc dữ liệu ( Filter) tại tất cả các sheet danh mục (sau khi thực hiện "
    "tra cứu) trước khi Tải file import lên hệ thống",
]
PLACE = "Nơi ở tạm trú (hiện tại) (*) (Tham khảo PL3)"
VACCINE = "Tên vắc xin (*) (Tham khảo PL5)"
DOSE = ["Ngày tiêm dạng dd/mm/yyyy (*)", "Lô vắc xin(*)", "Địa điểm tiêm (*) (Tham khảo PL4)"]
# SPEC, "The national platform's import template (2021)": letter → (row 7, row 8 or None)
SPEC_COLUMNS = [
    ("A", "#", None), ("B", "Họ và tên (*)", None), ("C", "Ngày sinh dạng dd/mm/yyyy (*)", None),
    ("D", "Giới tính (*) (0:nam, 1:nữ)", None),
    ("E", "Mã nhóm  đối tượng ưu tiên (*) (Tham khảo PL2)", None), ("F", "Đơn vị công tác", None),
    ("G", "Số điện thoại(*) (Tối thiểu 10 số)", None), ("H", "Số CMT/CCCD (Loại 8/9/12 số)", None),
    ("I", "Số thẻ bảo hiểm y tế (Mã thẻ 10/15 ký tự)", None),
    ("J", PLACE, "Tỉnh/Thành phố"), ("K", PLACE, "Mã  Tỉnh/Thành phố (*)"), ("L", PLACE, "Quận/Huyện"),
    ("M", PLACE, "Mã Quận/Huyện (*)"), ("N", PLACE, "Xã/Phường"), ("O", PLACE, "Mã Xã/Phường (*)"),
    ("P", PLACE, "Địa chỉ chi tiết"), ("Q", VACCINE, None),
    ("R", "Mũi 1", DOSE[0]), ("S", "Mũi 1", DOSE[1]), ("T", "Mũi 1", DOSE[2]), ("U", VACCINE, None),
    ("V", "Mũi 2", DOSE[0]), ("W", "Mũi 2", DOSE[1]), ("X", "Mũi 2", DOSE[2]),
    ("Y", "Ghi chú", None), ("Z", "Kết quả import (không điền ô này)", None),
]

# People as units write them: codes for gender (0 nam, 1 nữ), group, places.
REG = {"B": "Nguyễn Văn An", "C": "05/09/1980", "D": 0, "E": 4, "F": "UBND phường Mỹ Bình",
       "G": "0912345678", "H": "089080123456", "J": "An Giang", "K": 89, "L": "Thành phố Long Xuyên",
       "M": 883, "N": "Phường Mỹ Bình", "O": 30280, "P": "Số 5, khóm Đông Thịnh"}
REG_F = {"B": "Trần Thị Bình", "C": "12/03/1992", "D": 1, "E": 15, "G": "0987654321",
         "H": "089192004567", "J": "An Giang", "K": 89, "L": "Thành phố Long Xuyên", "M": 883,
         "N": "Phường Mỹ Long", "O": 30283}
DOSED = {"B": "Lê Văn Cường", "C": "01/01/1975", "D": 0, "E": 1, "G": "0903123456",
         "H": "089075001234", "J": "An Giang", "K": 89, "L": "Thành phố Long Xuyên", "M": 883,
         "N": "Phường Mỹ Bình", "O": 30280, "Q": "AstraZeneca", "R": "01/07/2021", "S": "A1234",
         "T": "Trung tâm Y tế thành phố Long Xuyên"}


def letters(drop=()):
    return [c for c in SPEC_COLUMNS if c[0] not in drop]


def _grid(rows, notes, drop, extra):
    cols = letters(drop)
    out = []
    if notes:
        out += [[t] for t in NOTES] + [[]]
    top, bottom = [], []
    prev = None
    for _, t, b in cols:
        if b is None:
            top.append(t); bottom.append(None)
        else:
            top.append(t if t != prev else None); bottom.append(b)
        prev = t if b is not None else None
    if extra:
        top.append(extra); bottom.append(None)
    out += [top, bottom]
    for n, r in enumerate(rows, 1):
        out.append([r.get(letter, n) if letter == "A" else r.get(letter) for letter, _, _ in cols]
                   + ([r.get("extra")] if extra else []))
    merges = []
    h = (len(NOTES) + 1) if notes else 0  # 0-based header row
    j = 0
    while j < len(cols):
        _, t, b = cols[j]
        if b is None:
            merges.append((h, h + 1, j, j))
            j += 1
            continue
        k = j
        while k + 1 < len(cols) and cols[k + 1][2] is not None and cols[k + 1][1] == t:
            k += 1
        merges.append((h, h, j, k))
        j = k + 1
    if extra:
        merges.append((h, h + 1, len(cols), len(cols)))
    return out, merges


def build(path, rows, notes=True, drop=(), extra=None) -> Path:
    path = Path(path)
    grid, merges = _grid(rows, notes, drop, extra)
    if path.suffix == ".xls":
        import xlwt
        wb = xlwt.Workbook(encoding="utf-8")
        ws = wb.add_sheet("PL1_Danh sach doi tuong tiem")
        merged_tail = set()
        for r0, r1, c0, c1 in merges:
            for r in range(r0, r1 + 1):
                for c in range(c0, c1 + 1):
                    if (r, c) != (r0, c0):
                        merged_tail.add((r, c))
        for r0, r1, c0, c1 in merges:
            ws.write_merge(r0, r1, c0, c1, grid[r0][c0])
        for r, row in enumerate(grid):
            for c, v in enumerate(row):
                if v is None or (r, c) in merged_tail or any(r == m[0] and c == m[2] for m in merges):
                    continue
                ws.write(r, c, v)
        wb.save(str(path))
    else:
        from openpyxl import Workbook
        wb = Workbook()
        ws = wb.active
        ws.title = "PL1_Danh sach doi tuong tiem"
        for row in grid:
            ws.append(row)
        for r0, r1, c0, c1 in merges:
            if (r0, c0) != (r1, c1):
                ws.merge_cells(start_row=r0 + 1, end_row=r1 + 1, start_column=c0 + 1, end_column=c1 + 1)
        wb.save(path)
    return path
