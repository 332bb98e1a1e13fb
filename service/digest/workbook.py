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
    since = f" (lũy kế từ {f.first_day.strftime('%d/%m/%Y')})" if f.first_day else ""

    count_heads = ["Lượt gửi", "Người Mẫu 1", "Người Mẫu 2", "Đã chuyển", "Dòng trả lại chờ sửa",
                   "Lượt giữ chờ xử lý"]
    heads = (["Hạng", "Địa phương / nhóm đơn vị", "Đơn vị trong danh bạ", "Đơn vị đã gửi"]
             + [f"{h} (ngày {f.day.strftime('%d/%m')})" for h in count_heads]
             + [f"{h} (lũy kế)" for h in count_heads]
             + ["Người trong các lô đã gửi", "Đã nhập (nơi nhận xác nhận)", "Tỷ lệ đã nhập",
                "Chỉ tiêu", "Đã chuyển / chỉ tiêu", "Đã nhập / chỉ tiêu"])
    rows = [[g.rank, g.name, g.units, g.units_reported, *_counts(g.day), *_counts(g.total),
             g.rows_sent, g.entered, _pct(g.entered_pct), g.target, _pct(g.target_pct),
             _pct(g.target_entered_pct)] for g in f.groups]
    total = [None, "Toàn tỉnh", sum(g.units for g in f.groups),
             sum(g.units_reported for g in f.groups), *_counts(f.day_total), *_counts(f.total),
             f.rows_sent, f.entered, _pct(f.entered_pct), None, None, None]
    fmts = {c: INT for c in range(3, 19)} | {19: PCT, 20: INT, 21: PCT, 22: PCT}
    _sheet(wb, "Tổng hợp", f"Tiến độ tiếp nhận và nhập dữ liệu tiêm chủng COVID-19 — ngày {d}{since}",
           heads, rows, [7, 34] + [12] * 20, fmts, total)

    unit_heads = ["Đơn vị", "Địa phương / nhóm", "Cấp", "Lượt gửi", "Người Mẫu 1", "Người Mẫu 2",
                  "Đã chuyển", "Dòng trả lại", "Lượt giữ", "Người trong các lô đã gửi", "Đã nhập",
                  "Lần gửi gần nhất", "Số ngày chưa gửi", "Tình trạng"]
    levels = {"tinh": "Cấp tỉnh", "huyen": "Cấp huyện", "xa": "Cấp xã", "doanh_nghiep": "Doanh nghiệp"}
    unit_rows = []
    for u in f.units:
        if u.last_day is None:
            state = "Chưa gửi lần nào"
        elif u.silent_days is not None and u.silent_days >= f.silent_days:
            state = f"Không gửi từ {u.silent_days} ngày"
        else:
            state = ""
        unit_rows.append([u.name, u.group_name, levels.get(u.level, u.level), *_counts(u.total),
                          u.rows_sent, u.entered, u.last_day, u.silent_days, state])
    _sheet(wb, "Theo đơn vị", f"Từng đơn vị trong danh bạ, lũy kế đến ngày {d}", unit_heads,
           unit_rows, [44, 26, 13] + [11] * 8 + [14, 11, 24],
           {c: INT for c in range(4, 12)} | {12: DAY, 13: INT})

    _sheet(wb, "14 ngày", f"Diễn biến 14 ngày đến ngày {d}",
           ["Ngày", "Lượt gửi", "Người trong danh sách gửi đến", "Đã chuyển", "Dòng trả lại"],
           [[t.day, t.files, t.submitted, t.forwarded, t.rejected] for t in f.trend],
           [13, 10, 16, 14, 14], {1: DAY, 2: INT, 3: INT, 4: INT, 5: INT})

    _sheet(wb, "Lỗi", f"Các loại lỗi trong danh sách gửi đến, đến ngày {d}",
           ["Mã lỗi", "Loại lỗi", f"Ngày {f.day.strftime('%d/%m')}", "Lũy kế"],
           [[e.code, e.label, e.day, e.total] for e in f.errors], [24, 44, 12, 12],
           {3: INT, 4: INT})

    _sheet(wb, "Nơi nhận", f"Cơ sở tiêm và cơ quan đã nhận danh sách, đến ngày {d}",
           ["Nơi nhận", "Mã", f"Lô ngày {f.day.strftime('%d/%m')}",
            f"Người ngày {f.day.strftime('%d/%m')}", "Lô lũy kế", "Người lũy kế", "Đã nhập",
            "Lô chưa xác nhận"],
           [[r.name, r.key, r.batches_day, r.rows_day, r.batches, r.rows, r.entered,
             r.unconfirmed_batches] for r in f.recipients],
           [44, 16, 11, 11, 11, 12, 11, 12], {c: INT for c in range(3, 9)})

    _sheet(wb, "Chưa xác nhận",
           f"Lô đã gửi quá {f.unconfirmed_days} ngày mà nơi nhận chưa xác nhận đã nhập (đến hết ngày {d})",
           ["Nơi nhận", "Mã", "Số lô", "Số người", "Mã lô cũ nhất", "Ngày gửi lô cũ nhất", "Số ngày"],
           [[s.name, s.recipient, s.batches, s.rows, s.oldest_code, s.oldest_day, s.days]
            for s in f.stale],
           [44, 16, 9, 11, 14, 14, 9], {3: INT, 4: INT, 6: DAY, 7: INT})

    held_rows = [[kind, f.held_labels.get(kind, kind), n] for kind, n in sorted(f.held_day.items())]
    _sheet(wb, "Mục đang giữ", f"Mục giữ lại chờ cán bộ xử lý — ngày {d}; đang chờ (mọi ngày): {f.held_open}",
           ["Loại", "Lý do", f"Ngày {f.day.strftime('%d/%m')}"], held_rows, [20, 44, 12], {3: INT},
           [None, "Đang chờ xử lý (mọi ngày)", f.held_open])

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def filename(day: date) -> str:
    return f"tien-do-tiem-chung-{day.isoformat()}.xlsx"
