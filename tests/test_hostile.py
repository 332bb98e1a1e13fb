"""Hostile and wrong files: each ends in Unreadable with a stable code and one Vietnamese
sentence, before any parser can be hurt; legitimate odd files are still read."""
import json
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import msoffcrypto.format.ooxml
import openpyxl
import pytest
import xlwt

from service.forms.model import Unreadable
from service.forms.read import MESSAGES, read_workbook
from service.forms.read.guard import VARIANTS

ROOT = Path(__file__).resolve().parent.parent


def refused(path, code, **kw) -> Unreadable:
    with pytest.raises(Unreadable) as info:
        read_workbook(path, **kw)
    err = info.value
    assert err.code == code, (err.code, err.message)
    assert err.message == str(err)
    assert "vui lòng" in err.message and err.message.endswith(".")
    assert err.message.count("; ") == 1  # one sentence: what happened; what to do
    return err


def small_xlsx(path, value="Nguyễn Văn An"):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Họ và tên"
    wb.active["A2"] = value
    wb.save(path)
    return path


def replace_member(src, dst, name, data):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, data if item.filename == name else zin.read(item))
    return dst


# ---------------------------------------------------------------------------- zip helpers


def zip_with_zeros(path, small: dict[str, bytes], big_name: str, big_size: int):
    """A zip whose member ``big_name`` inflates to ``big_size`` zero bytes, written in about a
    second: one full-flushed deflate block of 16 MiB zeros is repeated (the stream stays valid)."""
    block = 1 << 24
    assert big_size % block == 0
    comp = zlib.compressobj(1, zlib.DEFLATED, -15)
    piece = comp.compress(b"\0" * block) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = comp.flush(zlib.Z_FINISH)
    crc = 0
    zeros = b"\0" * block
    for _ in range(big_size // block):
        crc = zlib.crc32(zeros, crc)
    entries = [(n, zlib.crc32(d), d, _deflate(d), len(d)) for n, d in small.items()]
    entries.append((big_name, crc, None, None, big_size))
    central = []
    with open(path, "wb") as fh:
        for name, crc_, data, comp_data, usize in entries:
            offset = fh.tell()
            csize = len(comp_data) if comp_data is not None else len(piece) * (big_size // block) + len(tail)
            raw = name.encode()
            fh.write(struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, 8, 0, 0x21, crc_, csize, usize, len(raw), 0))
            fh.write(raw)
            if comp_data is not None:
                fh.write(comp_data)
            else:
                for _ in range(big_size // block):
                    fh.write(piece)
                fh.write(tail)
            central.append(struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, 8, 0, 0x21,
                                       crc_, csize, usize, len(raw), 0, 0, 0, 0, 0o644 << 16, offset) + raw)
        cd_offset = fh.tell()
        cd = b"".join(central)
        fh.write(cd)
        fh.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), len(cd), cd_offset, 0))
    return path


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def ooxml_parts(tmp_path) -> dict[str, bytes]:
    src = small_xlsx(tmp_path / "src.xlsx")
    with zipfile.ZipFile(src) as z:
        return {n: z.read(n) for n in z.namelist()}


# ---------------------------------------------------------------------------- cases


def test_empty_file(tmp_path):
    (tmp_path / "a.xlsx").write_bytes(b"")
    refused(tmp_path / "a.xlsx", "empty-file")


def test_too_large(tmp_path):
    path = small_xlsx(tmp_path / "a.xlsx")
    err = refused(path, "too-large", max_bytes=1000)
    assert "1 MB" in err.message


def test_truncated_xlsx(tmp_path):
    path = small_xlsx(tmp_path / "a.xlsx")
    data = path.read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(data[: len(data) // 2])
    refused(tmp_path / "cut.xlsx", "corrupt-file")


def test_damaged_member_inside_a_sound_zip(tmp_path):
    path = small_xlsx(tmp_path / "a.xlsx")
    replace_member(path, tmp_path / "bad.xlsx", "xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row")
    refused(tmp_path / "bad.xlsx", "corrupt-file")


def test_zip_bomb_one_gigabyte_member(tmp_path):
    started = time.monotonic()
    parts = ooxml_parts(tmp_path)
    del parts["xl/worksheets/sheet1.xml"]
    path = zip_with_zeros(tmp_path / "bomb.xlsx", parts, "xl/worksheets/sheet1.xml", 1 << 30)
    assert path.stat().st_size < 5_000_000
    refused(path, "zip-bomb")
    assert time.monotonic() - started < 60  # sanity only: refusing must not inflate the gigabyte


def test_zip_bomb_by_ratio_under_the_total(tmp_path):
    parts = ooxml_parts(tmp_path)
    path = zip_with_zeros(tmp_path / "ratio.xlsx", parts, "xl/media/image1.png", 1 << 26)
    refused(path, "zip-bomb")


BILLION_LAUGHS = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>"""


@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/styles.xml", "xl/workbook.xml"])
def test_billion_laughs(tmp_path, member):
    path = small_xlsx(tmp_path / "a.xlsx")
    replace_member(path, tmp_path / "lol.xlsx", member, BILLION_LAUGHS)
    refused(tmp_path / "lol.xlsx", "xml-entities")


def test_external_entity_behind_a_long_prolog(tmp_path):
    path = small_xlsx(tmp_path / "a.xlsx")
    xxe = (b'<?xml version="1.0"?>' + b"<!-- " + b"x" * 20000 + b" -->"
           b'<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
           b'<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>')
    replace_member(path, tmp_path / "xxe.xlsx", "xl/worksheets/sheet1.xml", xxe)
    refused(tmp_path / "xxe.xlsx", "xml-entities")


def test_encrypted_xlsx(tmp_path):
    path = small_xlsx(tmp_path / "a.xlsx")
    with open(path, "rb") as src, open(tmp_path / "locked.xlsx", "wb") as dst:
        msoffcrypto.format.ooxml.OOXMLFile(src).encrypt("matkhau", dst)
    assert (tmp_path / "locked.xlsx").read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    err = refused(tmp_path / "locked.xlsx", "encrypted")
    assert "mật khẩu" in err.message


def test_encrypted_xls(tmp_path):
    wb = xlwt.Workbook()
    wb.add_sheet("DS").write(0, 0, "Họ và tên")
    wb.save(str(tmp_path / "a.xls"))
    data = bytearray((tmp_path / "a.xls").read_bytes())
    at = data.find(b"\x09\x08\x10\x00") + 20  # the record after the workbook's BOF
    assert data[at:at + 2] == b"\xe1\x00"
    data[at:at + 2] = b"\x2f\x00"  # → FILEPASS: what Excel writes for a password-protected .xls
    (tmp_path / "locked.xls").write_bytes(bytes(data))
    refused(tmp_path / "locked.xls", "encrypted")


def test_xlsm_macros_never_run_values_read(tmp_path):
    src = small_xlsx(tmp_path / "a.xlsx", value="Lê Văn Tám")
    path = tmp_path / "macro.xlsm"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item))
        # an auto-open macro project; nothing in the reader may execute it
        zout.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1Sub Auto_Open(): Shell \"rm -rf /\": End Sub")
    wb = read_workbook(path)
    assert wb.kind == "xlsm" and wb.sheets[0].rows[1] == ["Lê Văn Tám"]


def write_big_xlsx(path, nrows, ncols=4):
    """A real one-sheet xlsx, its sheet XML streamed straight into the zip (seconds, not minutes)."""
    letters = "ABCDEFGHIJKLMNOPQRST"[:ncols]
    parts = ooxml_parts(path.parent)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in parts.items():
            if name != "xl/worksheets/sheet1.xml" and name != "xl/sharedStrings.xml":
                z.writestr(name, data)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                    b'spreadsheetml/2006/main"><dimension ref="A1:' + f"{letters[-1]}{nrows}".encode()
                    + b'"/><sheetData>')
            buf = []
            for i in range(1, nrows + 1):
                buf.append(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c><c r="B{i}" t="inlineStr"><is><t>Nguyễn Văn {i}'
                           f'</t></is></c>' + "".join(f'<c r="{c}{i}"><v>{i * 3}</v></c>' for c in letters[2:]) + "</row>")
                if len(buf) == 5000:
                    f.write("".join(buf).encode())
                    buf = []
            f.write(("".join(buf) + "</sheetData></worksheet>").encode())
    return path


_MEASURE = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from tests.memprobe import peak_mb
from service.forms.read import read_workbook
from service.forms.model import Unreadable
t = time.perf_counter()
try:
    wb = read_workbook(sys.argv[1])
    out = {"rows": len(wb.sheets[0].rows)}
except Unreadable as e:
    out = {"code": e.code, "message": e.message}
out["seconds"] = round(time.perf_counter() - t, 2)
out["peak_rss_mb"] = round(peak_mb())
print(json.dumps(out))
"""


def measure(path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(path), str(ROOT)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_too_many_rows_is_refused_with_bounded_memory(tmp_path):
    path = write_big_xlsx(tmp_path / "big.xlsx", 300_000)
    out = measure(path)
    print("300k rows:", out)
    assert out["code"] == "too-many-rows"
    assert "200.000" in out["message"] and "\u201cSheet\u201d" in out["message"]
    assert out["peak_rss_mb"] < 300  # generous: the dimension is read first, nothing is loaded


def test_rows_limit_without_dimension_is_found_by_streaming(tmp_path):
    path = write_big_xlsx(tmp_path / "big.xlsx", 1200)
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    sheet = sheet.replace(b'<dimension ref="A1:D1200"/>', b"")
    replace_member(path, tmp_path / "nodim.xlsx", "xl/worksheets/sheet1.xml", sheet)
    err = refused(tmp_path / "nodim.xlsx", "too-many-rows", max_rows=1000)
    assert "1.000" in err.message
    wb = read_workbook(tmp_path / "nodim.xlsx", max_rows=1200)
    assert wb.sheets[0].rows[1199][1] == "Nguyễn Văn 1200"


@pytest.mark.parametrize("magic, what", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40, "hình ảnh"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40, "hình ảnh"),
])
def test_pdf_and_images_renamed_xlsx(tmp_path, magic, what):
    (tmp_path / "ds.xlsx").write_bytes(magic)
    err = refused(tmp_path / "ds.xlsx", "unsupported-type")
    assert what in err.message


def test_word_document_renamed_xlsx(tmp_path):
    path = tmp_path / "ds.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    assert "Word" in refused(path, "unsupported-type").message


def test_plain_zip_is_not_a_workbook(tmp_path):
    path = tmp_path / "ds.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("ds/ds.xlsx", b"PK")
    assert "zip" in refused(path, "unsupported-type").message


def test_binary_garbage_and_damaged_ole2(tmp_path):
    (tmp_path / "junk.xls").write_bytes(bytes(range(256)) * 50)
    refused(tmp_path / "junk.xls", "unsupported-type")
    (tmp_path / "ole.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 3000)
    refused(tmp_path / "ole.xls", "corrupt-file")


def test_html_with_absurd_colspan(tmp_path):
    path = tmp_path / "ds.xls"
    path.write_text("<html><table>" + "<tr>" + '<td colspan="1000">x</td>' * 40 + "</tr></table></html>")
    refused(path, "too-many-columns")


def test_html_without_table(tmp_path):
    path = tmp_path / "ds.xls"
    path.write_text("<html><body><p>Không có gì</p></body></html>", encoding="utf-8")
    refused(path, "unsupported-type")


def test_html_renamed_xls_and_csv_files_are_legitimate(tmp_path):
    (tmp_path / "ds.xls").write_text("<table><tr><td>Họ và tên</td></tr><tr><td>An</td></tr></table>",
                                     encoding="utf-8")
    assert read_workbook(tmp_path / "ds.xls").sheets[0].rows == [["Họ và tên"], ["An"]]
    (tmp_path / "ds.xlsx").write_bytes("Họ và tên;Ngày sinh\r\nAn;1990\r\n".encode("utf-16"))
    wb = read_workbook(tmp_path / "ds.xlsx")
    assert wb.kind == "csv" and wb.sheets[0].rows == [["Họ và tên", "Ngày sinh"], ["An", "1990"]]


def test_xml_spreadsheet_2003_is_named_and_refused(tmp_path):
    path = tmp_path / "ds.xls"
    path.write_text('<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?>'
                    '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="DS"/></Workbook>')
    assert "XML 2003" in refused(path, "unsupported-type").message


def test_csv_too_many_rows(tmp_path):
    (tmp_path / "ds.csv").write_text("a,b\n" * 50, encoding="utf-8")
    refused(tmp_path / "ds.csv", "too-many-rows", max_rows=10)


def test_every_message_is_vietnamese_and_one_sentence():
    for code, text in {**MESSAGES, **VARIANTS}.items():
        assert text.endswith("."), code
        assert "vui lòng" in text, code
        assert any(ch in text for ch in "ệốảờ"), code
