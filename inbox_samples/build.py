"""Build the sample inbox: realistic .eml messages covering every row of the routing table
and every bad case. Deterministic; run from the repository root:

    python inbox_samples/build.py

Each sample is NN-short-name.eml; EXPECTED.toml lists what the service must send for each.
All people are invented; CCCD/phone numbers are well-formed but fictitious.
"""
from __future__ import annotations

import io
import random
import sys
import zipfile
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font

HERE = Path(__file__).resolve().parent
TZ = timezone(timedelta(hours=7))
BASE_TIME = datetime(2021, 8, 25, 8, 0, tzinfo=TZ)
INTAKE = "tiemchung@angiang.example"

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Trương", "Bùi", "Đặng", "Đỗ", "Ngô", "Dương", "Lý"]
MALE = ["Văn An", "Văn Bình", "Minh Châu", "Quốc Dũng", "Hữu Đức", "Thanh Hải", "Văn Hùng", "Minh Khang",
        "Công Lý", "Tấn Phát", "Hoàng Phúc", "Văn Tài", "Đức Thắng", "Văn Toàn", "Quang Vinh"]
FEMALE = ["Thị Anh", "Ngọc Bích", "Thị Cúc", "Thị Diễm", "Thu Hà", "Thị Hồng", "Kim Loan", "Thị Mai",
          "Ngọc Nhung", "Thị Oanh", "Thanh Phương", "Thị Thảo", "Bích Trâm", "Thị Tuyết", "Hải Yến"]
PHONE_PREFIXES = ["090", "091", "093", "094", "097", "098", "032", "033", "034", "035", "036", "037",
                  "038", "039", "070", "076", "077", "078", "079", "081", "082", "083", "084", "085", "086",
                  "088", "0896", "0899", "096"]

MAU1_HEADER = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Nhóm ưu tiên", "Nghề nghiệp",
               "Đơn vị công tác", "Số điện thoại", "Số CMND/CCCD", "Số thẻ BHYT", "Quận/Huyện",
               "Xã/Phường", "Địa chỉ", "Ghi chú"]
MAU2_TOP = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số điện thoại", "Số CMND/CCCD",
            "Quận/Huyện", "Xã/Phường", "Địa chỉ", "Mũi 1", None, None, None, "Mũi 2", None, None, None, "Ghi chú"]
MAU2_SUB = [None] * 9 + ["Ngày tiêm", "Tên vắc xin", "Số lô", "Nơi tiêm"] * 2 + [None]


class People:
    """Deterministic invented people: CCCD agrees with sex and birth year; phones are valid."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)

    def person(self, district: str, ward: str) -> dict:
        r = self.r
        male = r.random() < 0.5
        dob = date(r.randint(1950, 2003), r.randint(1, 12), r.randint(1, 28))
        g = (0 if male else 1) + (2 if dob.year >= 2000 else 0)
        cccd = f"089{g}{dob.year % 100:02d}{r.randint(0, 999999):06d}"
        prefix = r.choice(PHONE_PREFIXES)
        phone = prefix + f"{r.randint(0, 10 ** (10 - len(prefix)) - 1):0{10 - len(prefix)}d}"
        name = f"{r.choice(FAMILY)} {r.choice(MALE if male else FEMALE)}"
        return {"name": name, "dob": dob, "gender": "Nam" if male else "Nữ", "cccd": cccd, "phone": phone,
                "district": district, "ward": ward, "address": f"Ấp {r.choice(['Bình An', 'Hòa Long', 'Mỹ Phú', 'Tân Thành'])}",
                "group": r.choice([4, 5, 7, 9, 12]), "job": r.choice(["Công chức", "Giáo viên", "Công nhân", "Nông dân", "Buôn bán"])}


def _title_block(ws, title: str, unit: str, width: int) -> None:
    ws.append(["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"])
    ws.append(["Độc lập - Tự do - Hạnh phúc"])
    ws.append([title])
    ws.append([f"Đơn vị: {unit}"])
    for r in range(1, 5):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        ws.cell(r, 1).font = Font(bold=True)
        ws.cell(r, 1).alignment = Alignment(horizontal="center")


def mau1_xlsx(unit: str, people: list[dict], *, bad: dict[int, dict] | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Mau 1"
    _title_block(ws, "DANH SÁCH ĐĂNG KÝ TIÊM VẮC XIN PHÒNG COVID-19 (MŨI 1)", unit, len(MAU1_HEADER))
    ws.append(MAU1_HEADER)
    ws.append(list(range(1, len(MAU1_HEADER) + 1)))
    for i, p in enumerate(people, 1):
        row = [i, p["name"], p["dob"].strftime("%d/%m/%Y"), p["gender"], p["group"], p["job"], unit,
               p["phone"], p["cccd"], None, p["district"], p["ward"], p["address"], None]
        for col, value in (bad or {}).get(i, {}).items():
            row[MAU1_HEADER.index(col)] = value
        ws.append(row)
    ws.append([])
    ws.append([None, "Người lập biểu", None, None, None, None, None, None, "Thủ trưởng đơn vị"])
    return _save(wb)


def mau2_xlsx(unit: str, people: list[dict], facilities: list[str], *, bad: dict[int, dict] | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Mau 2"
    _title_block(ws, "DANH SÁCH BỔ SUNG THÔNG TIN NGƯỜI ĐÃ TIÊM VẮC XIN PHÒNG COVID-19", unit, len(MAU2_TOP))
    ws.append(MAU2_TOP)
    ws.append(MAU2_SUB)
    for c in range(1, 10):
        ws.merge_cells(start_row=5, start_column=c, end_row=6, end_column=c)
    ws.merge_cells(start_row=5, start_column=10, end_row=5, end_column=13)
    ws.merge_cells(start_row=5, start_column=14, end_row=5, end_column=17)
    ws.merge_cells(start_row=5, start_column=18, end_row=6, end_column=18)
    for i, p in enumerate(people, 1):
        d1 = date(2021, 6, 1) + timedelta(days=(i * 3) % 50)
        vaccine = ["AstraZeneca", "Vero Cell", "AZ", "Pfizer"][i % 4]
        fac = facilities[i % len(facilities)]
        second = i % 3 == 0
        gap = {"AstraZeneca": 56, "AZ": 56, "Vero Cell": 28, "Pfizer": 21}[vaccine]
        row = [i, p["name"], p["dob"], p["gender"], p["phone"], p["cccd"], p["district"], p["ward"], p["address"],
               d1, vaccine, f"A{1000 + i}", fac,
               d1 + timedelta(days=gap) if second else None, vaccine if second else None,
               f"B{2000 + i}" if second else None, fac if second else None, None]
        for col, value in (bad or {}).get(i, {}).items():
            row[col] = value
        ws.append(row)
        for c in (3, 10, 14):
            ws.cell(ws.max_row, c).number_format = "dd/mm/yyyy"
    ws.append([])
    ws.append([None, "Người lập biểu", None, None, None, None, "Thủ trưởng đơn vị"])
    return _save(wb)


def _save(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def message(n: int, sender: str, subject: str, body: str, files: list[tuple[str, bytes, tuple[str, str]]] = (),
            headers: dict[str, str] | None = None, sender_name: str = "") -> EmailMessage:
    m = EmailMessage()
    m["From"] = f"{sender_name} <{sender}>" if sender_name else sender
    m["To"] = INTAKE
    m["Subject"] = subject
    m["Date"] = format_datetime(BASE_TIME + timedelta(minutes=7 * n))
    m["Message-ID"] = f"<sample-{n:02d}@{sender.split('@')[-1]}>"
    for k, v in (headers or {}).items():
        m[k] = v
    m.set_content(body)
    for name, data, (maintype, subtype) in files:
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m


def build() -> dict[str, EmailMessage]:
    ppl = People(2021)
    out: dict[str, EmailMessage] = {}

    # 1. Mẫu 1, provincial unit → CDC, copy Sở TT&TT. All valid → receipt.
    syt = [ppl.person("Thành phố Long Xuyên", "Phường Mỹ Bình") for _ in range(12)]
    out["01-mau1-so-y-te"] = message(1, "vanthu@syt.angiang.example", "Danh sách đăng ký tiêm mũi 1 - Sở Y tế",
                                     "Kính gửi Sở TT&TT,\nSở Y tế gửi danh sách đăng ký tiêm mũi 1.\nTrân trọng.",
                                     [("DS dang ky tiem mui 1 - So Y te.xlsx", mau1_xlsx("Sở Y tế", syt), XLSX)],
                                     sender_name="Văn thư Sở Y tế")
    # 2. Mẫu 1, commune → district health centre, copy culture office. Some errors.
    mb = [ppl.person("TP Long Xuyên", "P. Mỹ Bình") for _ in range(10)]
    bad = {3: {"Ngày sinh": "31/02/1975"}, 5: {"Số điện thoại": "09l2345678"}, 8: {"Số CMND/CCCD": "8.9123E+11"}}
    out["02-mau1-xa-co-loi"] = message(2, "ubnd.mybinh.longxuyen@angiang.example",
                                       "DS dang ky tiem - P. My Binh",
                                       "Gửi danh sách đăng ký tiêm của phường Mỹ Bình.",
                                       [("Danh sách Mẫu 1 - Mỹ Bình.xlsx", mau1_xlsx("UBND Phường Mỹ Bình", mb, bad=bad), XLSX)])
    # 3. The corrected resubmission: only the three fixed rows are new.
    out["03-mau1-xa-gui-lai"] = message(3, "ubnd.mybinh.longxuyen@angiang.example",
                                        "Gửi lại danh sách đã sửa - P. Mỹ Bình", "Đã sửa các dòng lỗi.",
                                        [("Danh sách Mẫu 1 - Mỹ Bình (đã sửa).xlsx",
                                          mau1_xlsx("UBND Phường Mỹ Bình", mb), XLSX)])
    # 4. Mẫu 1, enterprise (KCN Bình Hòa, Châu Thành, under BQL KKT) → TTYT Châu Thành, copy BQL KKT.
    dn = [ppl.person("Huyện Châu Thành", "Thị trấn An Châu") for _ in range(8)]
    out["04-mau1-doanh-nghiep"] = message(4, "cty.binhhoa@angiang.example", "Danh sách công nhân đăng ký tiêm",
                                          "Công ty gửi danh sách công nhân đăng ký tiêm mũi 1.",
                                          [("DS cong nhan.xlsx", mau1_xlsx("Công ty TNHH Thực phẩm Bình Hòa", dn), XLSX)])
    # 5. Mẫu 2, provincial unit → split per dose-1 facility, copy Sở TT&TT.
    sgd = [ppl.person("Thành phố Châu Đốc", "Phường Núi Sam") for _ in range(9)]
    facs = ["BVĐK Trung tâm An Giang", "TTYT Châu Đốc", "Bệnh viện Đa khoa khu vực tỉnh An Giang"]
    out["05-mau2-so-gddt"] = message(5, "tochuc@sgddt.angiang.example", "Bổ sung thông tin người đã tiêm - Sở GD&ĐT",
                                     "Sở GD&ĐT gửi danh sách Mẫu 2.",
                                     [("Mau 2 - So GDDT.xlsx", mau2_xlsx("Sở Giáo dục và Đào tạo", sgd, facs), XLSX)])
    # 6. Mẫu 2, commune, one row with an unknown facility → held for the operator.
    ap = [ppl.person("Huyện An Phú", "Xã Khánh An") for _ in range(6)]
    out["06-mau2-xa-noi-tiem-la"] = message(6, "ubnd.khanhan.anphu@angiang.example", "Mẫu 2 - xã Khánh An",
                                            "Gửi danh sách Mẫu 2.",
                                            [("Mau2 Khanh An.xlsx", mau2_xlsx("UBND Xã Khánh An", ap,
                                                                              ["TYT Khánh An", "TTYT An Phú"],
                                                                              bad={4: {12: "Phòng khám tư Hòa Bình"}}), XLSX)])
    # 7. Mẫu 2, enterprise supervised by Sở Công Thương.
    mq = [ppl.person("Thành phố Long Xuyên", "Phường Mỹ Quý") for _ in range(5)]
    out["07-mau2-doanh-nghiep"] = message(7, "cty.myquy@angiang.example", "Danh sách đã tiêm mũi 1",
                                          "Công ty gửi danh sách Mẫu 2.",
                                          [("Mau 2 cong ty My Quy.xlsx", mau2_xlsx("Công ty TNHH Thủy sản Mỹ Quý", mq,
                                                                                  ["TTYT Long Xuyên"]), XLSX)])
    # 8. Unknown sender → held, one short notice.
    out["08-nguoi-gui-la"] = message(8, "nguyenvana1980@gmail.example", "Danh sach tiem",
                                     "Gửi danh sách.", [("ds.xlsx", mau1_xlsx("Tổ dân phố", syt[:3]), XLSX)])
    # 9. An out-of-office auto-reply → never answered.
    out["09-tra-loi-tu-dong"] = message(9, "vanthu@snv.angiang.example", "Trả lời tự động: Vắng mặt",
                                        "Tôi đang nghỉ phép đến 30/8.", headers={"Auto-Submitted": "auto-replied"})
    # 10. A bounce (DSN) → never answered.
    dsn_raw = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.angiang.example>\r\n"
        f"To: {INTAKE}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {format_datetime(BASE_TIME + timedelta(minutes=70))}\r\n"
        "Message-ID: <sample-10@mx.angiang.example>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nThe message could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.angiang.example\r\n\r\nFinal-Recipient: rfc822; x@y.example\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n--b1--\r\n")
    from email import message_from_bytes
    from email.policy import default as default_policy
    dsn = message_from_bytes(dsn_raw.encode(), policy=default_policy)
    out["10-thu-bao-loi"] = dsn
    # 11. No attachment → notice with blank templates.
    out["11-khong-dinh-kem"] = message(11, "vanthu@stc.angiang.example", "Danh sách tiêm chủng Sở Tài chính",
                                       "Gửi anh chị danh sách (quên đính kèm).")
    # 12. Wrong file type → notice.
    out["12-sai-loai-tep"] = message(12, "vanthu@stp.angiang.example", "DS tiêm chủng Sở Tư pháp", "Gửi danh sách.",
                                     [("Danh sach.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n",
                                       ("application", "pdf"))])
    # 13. Inside a .zip.
    zbuf = io.BytesIO()
    zsnv = [ppl.person("Thành phố Long Xuyên", "Phường Mỹ Xuyên") for _ in range(4)]
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Mau1_So_Noi_vu.xlsx", mau1_xlsx("Sở Nội vụ", zsnv))
    out["13-tep-nen-zip"] = message(13, "vanthu@snv.angiang.example", "Danh sách Mẫu 1 (file nén)",
                                    "Gửi danh sách nén.", [("DanhSach.zip", zbuf.getvalue(), ("application", "zip"))])
    # 14. Forwarded as an attached message (message/rfc822).
    inner = message(14, "nhanvien@skhcn.angiang.example", "Danh sách Sở KH&CN", "Nhờ gửi giúp.",
                    [("Mau1 SKHCN.xlsx", mau1_xlsx("Sở Khoa học và Công nghệ",
                                                  [ppl.person("Huyện Chợ Mới", "Thị trấn Chợ Mới") for _ in range(3)]), XLSX)])
    fwd = message(15, "vanthu@skhcn.angiang.example", "Fwd: Danh sách Sở KH&CN", "Chuyển tiếp danh sách.")
    fwd.add_attachment(inner)
    out["14-thu-chuyen-tiep"] = fwd
    # 15. A workbook that is not a form → error report with both blank templates.
    wb = openpyxl.Workbook()
    wb.active.append(["Nội dung", "Kinh phí (đồng)"])
    wb.active.append(["Mua vật tư", 1200000])
    out["15-khong-phai-mau"] = message(16, "ketoan@sxd.angiang.example", "Báo cáo", "Gửi báo cáo.",
                                       [("Bao cao kinh phi.xlsx", _save(wb), XLSX)])
    # 16. A broken workbook (truncated) → error report.
    whole = mau1_xlsx("Sở Xây dựng", [ppl.person("Huyện Tri Tôn", "Thị trấn Tri Tôn") for _ in range(3)])
    out["16-tep-hong"] = message(17, "vanthu@sxd.angiang.example", "DS tiêm chủng Sở Xây dựng", "Gửi danh sách.",
                                 [("DS Mau 1.xlsx", whole[: len(whole) // 2], XLSX)])
    return out


def folder_drops() -> dict[str, bytes]:
    """Files staff drop into the shared folder, one subfolder per unit."""
    ppl = People(1975)
    stc = [ppl.person("Thành phố Long Xuyên", "Phường Mỹ Long") for _ in range(7)]
    mk = [ppl.person("Thành phố Long Xuyên", "Xã Mỹ Khánh") for _ in range(6)]
    return {
        "Sở Tài chính/DS dang ky tiem mui 1 - So Tai chinh.xlsx": mau1_xlsx("Sở Tài chính", stc),
        "Long Xuyên - Xã Mỹ Khánh/Mẫu 2 xã Mỹ Khánh.xlsx": mau2_xlsx(
            "UBND Xã Mỹ Khánh", mk, ["TYT Mỹ Khánh", "TTYT Long Xuyên"], bad={2: {9: "12/02/2021"}}),
    }


def main() -> int:
    msgs = build()
    drops = HERE / "folder"
    if drops.exists():
        import shutil
        shutil.rmtree(drops)
    for rel, data in folder_drops().items():
        target = drops / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for old in HERE.glob("*.eml"):
        old.unlink()
    for name, m in msgs.items():
        data = m.as_bytes() if not getattr(m, "_raw", None) else m._raw
        (HERE / f"{name}.eml").write_bytes(data)
    print(f"wrote {len(msgs)} messages to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
