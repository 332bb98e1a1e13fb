"""A workbook that holds its people on several sheets (one per hamlet), as real units send them:
the same Mẫu 1 header on "Ấp 1", "Ấp 2", "Ấp 3" and a notes sheet "Ghi chú" without a list.

``workbook(kind, counts, bad=...)`` writes .xlsx (openpyxl) or .xls (xlwt). ``bad`` maps
(sheet, person number on that sheet) → {header: value}. Data starts at Excel row ``FIRST``.
"""
from __future__ import annotations

import io

import openpyxl

from .factory import People, build

HEADER = build.MAU1_HEADER
SHEETS = ("Ấp 1", "Ấp 2", "Ấp 3")
NOTES = "Ghi chú"
UNIT = "UBND Phường Mỹ Bình"
FIRST = 4  # title row, header row, column numbers, then people


def people(counts: tuple[int, ...], seed: int = 14) -> dict[str, list[dict]]:
    p = People(seed)
    return {name: [p.person("Thành phố Long Xuyên", "Phường Mỹ Bình") for _ in range(n)]
            for name, n in zip(SHEETS, counts)}


def _grid(persons: list[dict], bad: dict[int, dict]) -> list[list]:
    rows = [["DANH SÁCH ĐĂNG KÝ TIÊM VẮC XIN PHÒNG COVID-19"], HEADER, list(range(1, len(HEADER) + 1))]
    for i, p in enumerate(persons, 1):
        row = [i, p["name"], p["dob"].strftime("%d/%m/%Y"), p["gender"], p["group"], p["job"], UNIT,
               p["phone"], p["cccd"], None, p["district"], p["ward"], p["address"], None]
        for col, value in bad.get(i, {}).items():
            row[HEADER.index(col)] = value
        rows.append(row)
    rows += [[], [None, "Người lập biểu", None, None, None, None, None, None, "Thủ trưởng đơn vị"]]
    return rows


NOTES_ROWS = [["Ghi chú"], ["Danh sách gồm ba ấp, mỗi ấp một trang tính."],
              ["Người lập: Nguyễn Văn An", "Điện thoại: 0909123456"]]


def workbook(kind: str, counts: tuple[int, ...] = (3, 4, 2), *,
             bad: dict[tuple[str, int], dict] | None = None,
             lists: dict[str, list[dict]] | None = None, headerless: set[str] = frozenset()) -> bytes:
    """``headerless``: sheets written with their people but without title and header rows."""
    lists = lists or people(counts)
    sheets = [(name, _grid(lists[name], {n: v for (s, n), v in (bad or {}).items() if s == name}))
              for name in SHEETS if name in lists]
    sheets = [(name, rows[3:] if name in headerless else rows) for name, rows in sheets]
    sheets.insert(1, (NOTES, NOTES_ROWS))  # a notes sheet between the lists
    sheets.append(("Trống", []))  # and an empty one
    buf = io.BytesIO()
    if kind == "xlsx":
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for name, rows in sheets:
            ws = wb.create_sheet(name)
            for row in rows:
                ws.append(row)
        wb.save(buf)
    elif kind == "xls":
        import xlwt
        wb = xlwt.Workbook(encoding="utf-8")
        for name, rows in sheets:
            ws = wb.add_sheet(name)
            for r, row in enumerate(rows):
                for c, v in enumerate(row):
                    if v is not None:
                        ws.write(r, c, v)
        wb.save(buf)
    else:
        raise ValueError(kind)
    return buf.getvalue()
