"""extract(): headers, spreadsheets from every place they hide, what is skipped and why."""
import base64
import glob
import io
import os
import zipfile
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP

import openpyxl
import pytest

from service.intake.mime import extract

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _xlsx(text: str = "Nguyễn Văn An") -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(["Họ và tên", "Ngày sinh"])
    wb.active.append([text, "01/01/1980"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _base(subject: str = "Danh sách đăng ký tiêm vắc xin") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "UBND Xã Mỹ Hòa <XA.MyHoa@AnGiang.example>"
    msg["To"] = "Tiếp nhận <intake@angiang.example>, cdc@angiang.example"
    msg["Cc"] = "vhtt.longxuyen@angiang.example"
    msg["Subject"] = subject
    msg["Message-ID"] = "<abc.123@angiang.example>"
    msg["In-Reply-To"] = "<prev@angiang.example>"
    msg["References"] = "<first@angiang.example> <prev@angiang.example>"
    msg["Date"] = "Tue, 24 Aug 2021 08:30:00 +0700"
    msg.set_content("Kính gửi Sở TT&TT,\nXã gửi danh sách kèm theo.\n")
    return msg


def _names(result):
    return [a.name for a in result.files]


def _skips(result):
    return [(s.name, s.reason_code) for s in result.skipped]


def test_headers_and_rfc2231_name():
    msg = _base()
    data = _xlsx()
    msg.make_mixed()
    part = MIMEApplication(data, XLSX_TYPE.split("/")[1])
    part.add_header("Content-Disposition", "attachment",
                    filename=("utf-8", "", "Danh sách Mẫu 1 - Xã Mỹ Hòa.xlsx"))
    msg.attach(part)
    raw = msg.as_bytes(policy=SMTP)
    assert b"filename*" in raw and b"=?" not in raw.split(b"filename", 1)[1][:80]  # RFC 2231
    r = extract(raw)
    assert r.message_id == "<abc.123@angiang.example>"
    assert r.subject == "Danh sách đăng ký tiêm vắc xin"
    assert r.from_addr == "xa.myhoa@angiang.example" and r.from_name == "UBND Xã Mỹ Hòa"
    assert r.to == ["intake@angiang.example", "cdc@angiang.example"]
    assert r.cc == ["vhtt.longxuyen@angiang.example"]
    assert r.date.year == 2021 and r.date.utcoffset().total_seconds() == 7 * 3600
    assert r.in_reply_to == "<prev@angiang.example>"
    assert r.references == ["<first@angiang.example>", "<prev@angiang.example>"]
    assert r.body_text.startswith("Kính gửi Sở TT&TT,")
    assert _names(r) == ["Danh sách Mẫu 1 - Xã Mỹ Hòa.xlsx"]
    assert r.files[0].data == data and r.files[0].origin == "attachment"
    assert r.files[0].content_type == XLSX_TYPE
    assert r.skipped == [] and r.problems == []


def test_rfc2047_names_octet_stream_and_content_type_name():
    data = _xlsx()
    encoded = "=?utf-8?B?" + base64.b64encode("Danh sách Mẫu 2.xlsx".encode()).decode() + "?="
    raw = (
        "From: =?utf-8?B?" + base64.b64encode("Trường THPT Long Xuyên".encode()).decode()
        + "?= <thpt.lx@angiang.example>\r\n"
        "To: intake@angiang.example\r\n"
        "Subject: =?utf-8?Q?G=E1=BB=ADi_danh_s=C3=A1ch?=\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nXin gửi.\r\n"
        f'--b1\r\nContent-Type: application/octet-stream; name="{encoded}"\r\n'
        f'Content-Disposition: attachment; filename="{encoded}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(data).decode().replace("\n", "\r\n")
        + '--b1\r\nContent-Type: application/vnd.ms-excel; name="Bao cao.xls"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(b"\xd0\xcf\x11\xe0 fake xls").decode().replace("\n", "\r\n")
        + "--b1--\r\n"
    ).encode()
    r = extract(raw)
    assert r.subject == "Gửi danh sách"
    assert r.from_name == "Trường THPT Long Xuyên"
    assert _names(r) == ["Danh sách Mẫu 2.xlsx", "Bao cao.xls"]
    assert r.files[0].data == data
    assert r.body_text == "Xin gửi."


def test_undeclared_utf8_headers_and_names():
    raw = (
        "From: Phường Mỹ Bình <pmb@angiang.example>\r\n"
        "Subject: Danh sách tiêm mũi 2\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/csv; charset=utf-8\r\n"
        'Content-Disposition: attachment; filename="Danh sách.csv"\r\n\r\n'
        "Họ và tên,Ngày sinh\r\nLê Thị Hoa,1990\r\n--b--\r\n"
    ).encode("utf-8")
    r = extract(raw)
    assert r.subject == "Danh sách tiêm mũi 2" and r.from_name == "Phường Mỹ Bình"
    assert _names(r) == ["Danh sách.csv"]
    assert "Lê Thị Hoa" in r.files[0].data.decode("utf-8")


def test_inline_file_signature_image_and_unsupported_types():
    msg = MIMEMultipart("mixed")
    msg["From"] = "a@angiang.example"
    msg["Subject"] = "Có logo"
    related = MIMEMultipart("related")
    related.attach(MIMEText("<p>Xin g&#7917;i <img src='cid:logo'></p>", "html", "utf-8"))
    logo = MIMEImage(PNG, "png")
    logo.add_header("Content-ID", "<logo>")
    logo.add_header("Content-Disposition", "inline", filename="image001.png")
    related.attach(logo)
    msg.attach(related)
    inline_sheet = MIMEApplication(_xlsx(), XLSX_TYPE.split("/")[1])
    inline_sheet.add_header("Content-Disposition", "inline", filename="DS tiêm.xlsx")
    msg.attach(inline_sheet)
    for name, sub in (("Công văn.pdf", "pdf"), ("Tờ trình.doc", "msword"), ("DS.rar", "x-rar"),
                      ("winmail.dat", "ms-tnef"), ("smime.p7s", "pkcs7-signature"),
                      ("Bảng.ods", "vnd.oasis.opendocument.spreadsheet")):
        part = MIMEApplication(b"not really " + name.encode(), sub)
        part.add_header("Content-Disposition", "attachment", filename=name)
        msg.attach(part)
    r = extract(msg.as_bytes())
    assert _names(r) == ["DS tiêm.xlsx"] and r.files[0].origin == "inline"
    assert _skips(r) == [
        ("image001.png", "image"),
        ("Công văn.pdf", "unsupported-type"),
        ("Tờ trình.doc", "unsupported-type"),
        ("DS.rar", "unsupported-type"),
        ("winmail.dat", "unsupported-type"),
        ("smime.p7s", "signature"),
        ("Bảng.ods", "unsupported-type"),
    ]
    assert r.body_text == "Xin gửi"  # from the HTML part


def test_unnamed_spreadsheet_is_sniffed():
    msg = MIMEMultipart()
    msg["From"] = "a@angiang.example"
    msg.attach(MIMEApplication(_xlsx()))  # octet-stream, no name at all
    r = extract(msg.as_bytes())
    assert len(r.files) == 1 and r.files[0].name.endswith(".xlsx")


def _zip(members: dict[str, bytes], *, utf8_flag: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _legacy_zip(name_bytes: bytes, placeholder: str, data: bytes) -> bytes:
    """A zip whose member name is stored in a legacy code page, no UTF-8 flag (old Windows)."""
    assert len(placeholder.encode()) == len(name_bytes)
    raw = _zip({placeholder: data})
    return raw.replace(placeholder.encode(), name_bytes)


def _with_encrypted_flag(raw: bytes) -> bytes:
    out = bytearray(raw)
    pos = out.find(b"PK\x03\x04")
    out[pos + 6] |= 1
    pos = out.find(b"PK\x01\x02")
    out[pos + 8] |= 1
    return bytes(out)


def _attach(msg, data: bytes, name: str, sub: str = "zip"):
    part = MIMEApplication(data, sub)
    part.add_header("Content-Disposition", "attachment", filename=name)
    msg.attach(part)


def test_zip_contents_names_and_limits():
    sheet = _xlsx()
    msg = MIMEMultipart()
    msg["From"] = "a@angiang.example"
    _attach(msg, _zip({"Danh sách xã Mỹ Hòa.xlsx": sheet, "ghi chú.txt": b"x", "logo.png": PNG,
                       "__MACOSX/._x": b"", "thư mục/DS 2.csv": b"a,b\r\n"}), "Hồ sơ.zip")
    _attach(msg, _legacy_zip("Danh sách.xlsx".encode("cp1258"), "Danh sXch.xlsx", sheet),
            "cp1258.zip")
    _attach(msg, _legacy_zip("Mẫu 1.csv".encode("utf-8"), "MXXXu 1.csv", b"a,b"), "utf8noflag.zip",
            "octet-stream")
    _attach(msg, _with_encrypted_flag(_zip({"bí mật.xlsx": sheet})), "khoa.zip")
    _attach(msg, _zip({"bom.csv": b"0" * 3_000_000}), "bom.zip")
    _attach(msg, b"PK\x03\x04 broken", "hỏng.zip")
    r = extract(msg.as_bytes())
    assert _names(r) == ["Danh sách xã Mỹ Hòa.xlsx", "DS 2.csv", "Danh sách.xlsx", "Mẫu 1.csv"]
    assert r.files[0].data == sheet and r.files[0].origin == "attachment > zip:Hồ sơ.zip"
    assert _skips(r) == [
        ("ghi chú.txt", "unsupported-type"),
        ("logo.png", "image"),
        ("bí mật.xlsx", "encrypted"),
        ("bom.csv", "archive-bomb"),
        ("hỏng.zip", "corrupt-archive"),
    ]


def test_nested_zip_depth_limit():
    level4 = _zip({"sâu.csv": b"a,b"})
    level3 = _zip({"l4.zip": level4, "l3.csv": b"a"})
    level2 = _zip({"l3.zip": level3})
    msg = MIMEMultipart()
    msg["From"] = "a@angiang.example"
    _attach(msg, _zip({"l2.zip": level2}), "l1.zip")
    r = extract(msg.as_bytes(), max_depth=3)  # three archives deep at most
    assert _names(r) == ["l3.csv"]
    assert _skips(r) == [("l4.zip", "too-deep")]
    assert r.files[0].origin == "attachment > zip:l1.zip > zip:l2.zip > zip:l3.zip"
    assert _names(extract(msg.as_bytes(), max_depth=4)) == ["sâu.csv", "l3.csv"]


def test_forwarded_messages():
    inner = _base("Fwd: danh sách")
    inner.add_attachment(_xlsx(), maintype="application", subtype="octet-stream",
                         filename="Danh sách chuyển tiếp.xlsx")
    middle = _base("Fwd: Fwd")
    middle.add_attachment(inner)  # message/rfc822
    outer = _base("Chuyển tiếp")
    outer.add_attachment(middle)
    eml = MIMEApplication(inner.as_bytes(), "octet-stream")
    eml.add_header("Content-Disposition", "attachment", filename="thư gốc.eml")
    outer.attach(eml)
    r = extract(outer.as_bytes())
    assert _names(r) == ["Danh sách chuyển tiếp.xlsx", "Danh sách chuyển tiếp.xlsx"]
    assert [f.origin for f in r.files] == ["forwarded > forwarded > attachment", "forwarded > attachment"]
    assert r.subject == "Chuyển tiếp"
    assert r.body_text.startswith("Kính gửi")
    shallow = extract(outer.as_bytes(), max_depth=1)
    assert _names(shallow) == ["Danh sách chuyển tiếp.xlsx"]
    assert ("forwarded.eml", "too-deep") in _skips(shallow)


def test_too_many_and_too_large():
    msg = MIMEMultipart()
    msg["From"] = "a@angiang.example"
    for i in range(22):
        part = MIMEBase("text", "csv")
        part.set_payload(f"a,b\r\n{i},x\r\n")
        part.add_header("Content-Disposition", "attachment", filename=f"ds{i}.csv")
        msg.attach(part)
    _attach(msg, b"x" * 2000, "lớn.xlsx", XLSX_TYPE.split("/")[1])
    r = extract(msg.as_bytes(), max_files=20, max_file_bytes=1000)
    assert len(r.files) == 20
    assert _skips(r) == [("ds20.csv", "too-many"), ("ds21.csv", "too-many"), ("lớn.xlsx", "too-large")]


def test_malformed_input_never_raises():
    cases = [
        b"",
        b"\x00\xff\xfe garbage",
        b"From: <<<>>>\r\nSubject: =?utf-8?B?!!!?=\r\nDate: not a date\r\nContent-Type: multipart/mixed\r\n\r\nno boundary",
        b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: application/zip; '
        b'name="a.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@not base64@@@\r\n',
        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(b"From: x@y\r\nSubject: inner\r\n\r\nbody\r\n"),
        b"From: a@b\r\nContent-Type: text/plain; charset=unknown-8bit-xyz\r\n\r\n\xe1\xbb\x99",
        b"Content-Type: multipart/mixed; boundary=a\r\n\r\n" + b"--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" * 200,
    ]
    for raw in cases:
        r = extract(raw)
        assert isinstance(r.files, list)
    assert "malformed" in extract(cases[2]).problems
    assert "no-from" in extract(cases[0]).problems
    assert extract(cases[5]).body_text  # undecodable charset still gives text


def _stdlib_email_corpus() -> list[str]:
    import test  # the CPython test package (Debian: libpython3.11-testsuite)

    directory = os.path.join(os.path.dirname(test.__file__), "test_email", "data")
    files = sorted(glob.glob(os.path.join(directory, "*")))
    if not files:
        pytest.fail(f"Python's e-mail test corpus is missing ({directory}); on Debian install "
                    "libpython3.11-testsuite")
    return files


def test_stdlib_email_corpus_never_raises():
    files = _stdlib_email_corpus()
    assert len(files) > 40
    for path in files:
        with open(path, "rb") as fh:
            extract(fh.read())
    found = extract(open([f for f in files if f.endswith("msg_07.txt")][0], "rb").read())
    assert [(s.name, s.reason_code) for s in found.skipped] == [("dingusfish.gif", "image")]
