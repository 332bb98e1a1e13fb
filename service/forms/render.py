"""A report as readable Vietnamese text for the terminal (``vaxmail check`` without --json)."""
from __future__ import annotations

from collections import Counter

from .model import Report

FIX_LABELS = {
    "id-separators": "bỏ dấu cách, dấu chấm trong số CMND/CCCD",
    "id-leading-zero": "thêm số 0 đầu bị Excel làm mất ở số CMND/CCCD",
    "id-from-number": "đổi số CMND/CCCD dạng số sang dạng chữ",
    "phone-separators": "bỏ dấu cách, dấu chấm trong số điện thoại",
    "phone-country-code": "đổi +84/84 thành 0 ở số điện thoại",
    "phone-leading-zero": "thêm số 0 đầu bị mất ở số điện thoại",
    "phone-2018-conversion": "đổi số điện thoại 11 số sang 10 số (chuyển đổi năm 2018)",
    "phone-from-number": "đổi số điện thoại dạng số sang dạng chữ",
    "insurance-leading-zero": "thêm số 0 đầu ở số BHYT",
    "insurance-from-number": "đổi số BHYT dạng số sang dạng chữ",
    "date-two-digit-year": "ghi đủ năm có 2 chữ số",
    "legacy-tcvn3": "chuyển chữ TCVN3 (.VnTime) sang Unicode",
    "legacy-tcvn3h": "chuyển chữ TCVN3 in hoa (.VnTimeH) sang Unicode",
    "legacy-vni": "chuyển chữ VNI sang Unicode",
    "invisible-chars": "bỏ ký tự ẩn (dấu BOM, khoảng trắng không ngắt, gạch nối mềm, ký tự độ rộng 0)",
}

SKIPPED_LABELS = {
    "heading": "dòng tiêu đề nhóm", "subtotal": "dòng cộng/tổng", "column_numbers": "dòng đánh số cột",
    "repeated_header": "dòng tiêu đề lặp lại", "footer": "dòng chữ ký/ghi chú cuối bảng",
    "stt_only": "dòng chỉ có số thứ tự", "other": "dòng không đọc được là một người",
}

FORM_TITLES = {"mau1": "Mẫu 1 (đăng ký tiêm mũi 1)", "mau2": "Mẫu 2 (đã tiêm mũi 1, bổ sung thông tin/mũi 2)"}
NATIONAL_TITLE = ("Mẫu import của hệ thống tiêm chủng quốc gia: {mau1} người đăng ký tiêm (Mẫu 1), "
                  "{mau2} người đã tiêm (Mẫu 2)")


def _cut(s: str, n: int) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "…"


def render_text(report: Report, limit: int = 200) -> str:
    lines = [f"Tệp: {report.path}"]
    if report.fatal is not None:
        lines.append(f"Không đọc được: {report.fatal.message}")
        return "\n".join(lines)
    forms = [r.form for r in report.records if r.form]
    kind = (NATIONAL_TITLE.format(mau1=forms.count("mau1"), mau2=forms.count("mau2")) if forms
            else FORM_TITLES.get(report.form, report.form))
    multi = report.multi_sheet
    sheets = ", ".join(f'"{p.name}"' for p in report.parts) if multi else f'"{report.sheet}"'
    lines.append(f"Loại: {kind} — trang {sheets}")
    if multi:
        lines.append("Số người theo trang: " + "; ".join(f'"{p.name}": {p.rows}' for p in report.parts))
    lines.append(f"Số dòng: {report.rows}; hợp lệ: {report.valid_rows}; lỗi: {len(report.errors)}; "
                 f"cảnh báo: {len(report.warnings)}; đã tự sửa: {len(report.fixes)}")
    if report.skipped:
        parts = [f"{len(v)} {SKIPPED_LABELS.get(k, k)}" for k, v in report.skipped.items() if v]
        lines.append("Không tính là người: " + "; ".join(parts))
    for title, issues in (("LỖI", report.errors), ("CẢNH BÁO", report.warnings)):
        if not issues:
            continue
        lines.append("")
        lines.append(f"{title}:")
        head = f"{'Dòng':>6}  {'Ô':<6} {'Cột':<22} Nội dung"
        lines.append(f"{'Trang':<16}{head}" if multi else head)
        for i in issues[:limit]:
            cell = f"{i.column or ''}{i.row or ''}"
            line = f"{i.row or '':>6}  {cell:<6} {_cut(i.header or '', 22):<22} {i.message}"
            lines.append(f"{_cut(i.sheet or '', 15):<16}{line}" if multi else line)
        if len(issues) > limit:
            lines.append(f"… và {len(issues) - limit} mục khác.")
    if report.fixes:
        counts = Counter(f.code for f in report.fixes)
        lines.append("")
        lines.append("ĐÃ TỰ SỬA:")
        for code, n in counts.most_common():
            lines.append(f"  {n:>6} ô: {FIX_LABELS.get(code, code)}")
    return "\n".join(lines)
