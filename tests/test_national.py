"""The national platform's import template (SPEC): read as units fill it, forwarded in it,
and its import results closing the loop. Workbooks are built from SPEC's column list
(tests/national_files.py), as .xlsx (openpyxl) and .xls (xlwt), with and without notes."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
import tomllib
from datetime import date, datetime, timezone
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from openpyxl import load_workbook

from service.defaults import config_dir
from service.directory import Directory, load_default
from service.forms import national
from service.forms.checks.config import vaccines
from service.forms.engine import check_file
from service.forms.template import load_priority_groups
from tests.national_files import DOSED, REG, REG_F, SPEC_COLUMNS, build
from tests.outbox_reader import read_forward

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2021, 9, 1)
FIRST = 9  # data from row 9 with the notes; row 3 without


def check(path, **kw):
    return check_file(path, today=TODAY, **kw)


def codes(report):
    return [e.code for e in report.errors]


@pytest.fixture(params=[(".xlsx", True), (".xlsx", False), (".xls", True), (".xls", False)],
                ids=["xlsx-notes", "xlsx", "xls-notes", "xls"])
def shape(request):
    return request.param


# ------------------------------------------------------------------ reading


def test_registrations_only_are_mau1_and_clean(tmp_path, shape):
    suffix, notes = shape
    r = check(build(tmp_path / f"dk{suffix}", [REG, REG_F], notes=notes))
    assert (r.form, r.rows, r.valid_rows, codes(r)) == ("mau1", 2, 2, [])
    cols = {k: c.letter for k, c in r.layout.columns.items()}
    assert cols["address"] == "P" and cols["province_gso"] == "K" and cols["priority_group"] == "E"
    assert cols["dose1_vaccine"] == "Q" and cols["dose2_vaccine"] == "U" and cols["import_result"] == "Z"
    a, b = r.records
    assert (a.values["gender"], b.values["gender"]) == ("Nam", "Nữ")  # 0 = nam, 1 = nữ
    assert a.values["address"] == "Số 5, khóm Đông Thịnh"
    assert (a.values["district_code"], a.values["ward_code"], a.values["priority_group"]) == (883, 30280, 4)
    assert {rec.form for rec in r.records} == {"mau1"}
    assert r.records[0].row == (FIRST if notes else 3)


def test_dosed_rows_only_are_mau2(tmp_path, shape):
    suffix, notes = shape
    second = {**DOSED, "B": "Phạm Thị Dung", "D": 1, "H": "089185001111", "C": "03/04/1985",
              "G": "0908111222", "U": "AstraZeneca", "V": "10/08/2021", "W": "B5678",
              "X": "Trung tâm Y tế thành phố Long Xuyên"}
    r = check(build(tmp_path / f"tiem{suffix}", [DOSED, second], notes=notes))
    assert (r.form, r.rows, r.valid_rows, codes(r)) == ("mau2", 2, 2, [])
    assert r.records[1].values["dose2_vaccine"] == "AstraZeneca"
    assert r.records[0].values["dose1_facility_key"] == "ttyt-883"


def test_mixed_file_is_mau2_with_a_form_per_row(tmp_path, shape):
    suffix, notes = shape
    r = check(build(tmp_path / f"tron{suffix}", [REG, DOSED, REG_F], notes=notes))
    assert (r.form, r.valid_rows, codes(r)) == ("mau2", 3, [])
    assert [rec.form for rec in r.records] == ["mau1", "mau2", "mau1"]


def test_a_dosed_row_needs_its_dose_columns_and_a_registration_its_group(tmp_path):
    r = check(build(tmp_path / "thieu.xlsx", [{**DOSED, "T": None}, {**REG, "E": None}]))
    found = {(e.field, e.row) for e in r.errors if e.code == "required-missing"}
    assert found == {("dose1_facility", 9), ("priority_group", 10)}


def test_missing_id_is_a_warning_and_duplicates_are_found_by_name_birth_date_and_phone(tmp_path):
    no_id = {**REG, "H": None}
    r = check(build(tmp_path / "khongcccd.xlsx", [no_id, REG_F, {**no_id, "A": 3}]))
    assert [(w.code, w.row, w.column) for w in r.warnings if w.code == "id-missing"] == [
        ("id-missing", 9, "H"), ("id-missing", 11, "H")]
    dup = [e for e in r.errors if e.code == "person-duplicate"]
    assert [(e.row, e.column) for e in dup] == [(11, "B")] and "dòng 9" in dup[0].message
    assert [rec.ok for rec in r.records] == [True, True, False]


def test_eight_digit_ids_are_accepted_as_the_template_allows(tmp_path):
    r = check(build(tmp_path / "8so.xlsx", [{**REG, "H": "12345678"}]))
    assert codes(r) == [] and r.records[0].values["id_number"] == "12345678"


def test_gender_follows_the_header_legend(tmp_path):
    path = build(tmp_path / "legend.xlsx", [{**REG, "D": 1, "H": None}, {**REG_F, "D": 0, "H": None}])
    wb = load_workbook(path)
    ws = wb.active
    ws["D7"] = "Giới tính (*) (1: nam, 0: nữ)"  # a unit's own legend, inverted
    wb.save(path)
    r = check(path)
    assert [rec.values["gender"] for rec in r.records] == ["Nam", "Nữ"]


def test_a_bare_0_1_gender_without_legend_is_the_national_coding(tmp_path):
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.append(["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CMND/CCCD", "Số điện thoại",
               "Nhóm ưu tiên", "Huyện", "Xã"])
    ws.append([1, "Nguyễn Văn An", "05/09/1980", 0, "089080123456", "0912345678", 4,
               "Long Xuyên", "Mỹ Bình"])
    ws.append([2, "Trần Thị Bình", "12/03/1992", 1, "089192004567", "0987654321", 4,
               "Long Xuyên", "Mỹ Long"])
    wb.save(tmp_path / "canonical.xlsx")
    r = check(tmp_path / "canonical.xlsx")
    assert codes(r) == []  # a CCCD's sex digit agrees with 0 = Nam, 1 = Nữ
    assert [rec.values["gender"] for rec in r.records] == ["Nam", "Nữ"]


def test_code_and_name_that_disagree_name_both_cells(tmp_path):
    r = check(build(tmp_path / "lech.xlsx", [{**REG, "M": 884}, {**REG_F, "O": 99999}]))
    mismatch = [e for e in r.errors if e.code == "place-code-mismatch"]
    assert [(e.row, e.column, e.field) for e in mismatch] == [(9, "M", "district")]  # SPEC's field keys
    assert "L9" in mismatch[0].message and "Thành phố Châu Đốc" in mismatch[0].message
    assert "Thành phố Long Xuyên" in mismatch[0].message
    unknown = [e for e in r.errors if e.code == "place-code-unknown"]
    assert [(e.row, e.column, e.field, e.value) for e in unknown] == [(10, "O", "ward", 99999)]
    assert r.valid_rows == 0


def test_a_blank_name_is_read_from_its_code(tmp_path):
    r = check(build(tmp_path / "ma.xlsx", [{**REG, "L": None, "N": None}]))
    assert codes(r) == []
    v = r.records[0].values
    assert (v["district"], v["ward"], v["ward_code"]) == ("Thành phố Long Xuyên", "Phường Mỹ Bình", 30280)


def _directory_with_codes() -> Directory:
    with open(config_dir() / "directory.toml", "rb") as fh:
        data = tomllib.load(fh)
    data = copy.deepcopy(data)
    data["facility"][0]["code"] = "89015"  # Bệnh viện Đa khoa Trung tâm An Giang
    data["district"][0]["health_centre"]["code"] = 89001
    return Directory.from_dict(data)


def test_facility_by_its_platform_code(tmp_path):
    d = _directory_with_codes()
    r = check(build(tmp_path / "ma_cs.xlsx", [{**DOSED, "T": "89015"}, {**DOSED, "B": "Lê Văn Dũng",
              "H": "089075001235", "G": "0903123457", "T": 89001}]), directory=d)
    assert codes(r) == []
    assert [rec.values["dose1_facility"] for rec in r.records] == [
        "Bệnh viện Đa khoa Trung tâm An Giang", "Trung tâm Y tế thành phố Long Xuyên"]
    # and forwards write the code back where the directory has one
    out = tmp_path / "fw.xlsx"
    national.write(r.records, out, d)
    ws = load_workbook(out).active
    assert (ws["T9"].value, ws["T10"].value) == ("89015", "89001")


def test_extra_and_missing_optional_columns(tmp_path):
    r = check(build(tmp_path / "cot.xlsx", [REG, DOSED], drop=("F", "I", "Y", "Z"), extra="Dân tộc"))
    assert (r.form, r.valid_rows, codes(r)) == ("mau2", 2, [])


def test_column_z_is_not_data(tmp_path):
    r = check(build(tmp_path / "z.xlsx", [REG, {"Z": "Thành công"}]))
    assert r.rows == 1


# ------------------------------------------------------------------ vaccines and groups


def test_abdala_is_three_doses_14_days_apart():
    abdala = next(v for v in vaccines() if v.name == "Abdala")
    assert (abdala.doses, abdala.min_interval_days) == (3, 14)


def test_abdala_dose2_sooner_than_14_days_is_an_error(tmp_path):
    rows = [{**DOSED, "Q": "Abdala", "R": "01/07/2021", "U": "Abdala", "V": "14/07/2021", "W": "L2",
             "X": "Trung tâm Y tế thành phố Long Xuyên"},
            {**DOSED, "B": "Võ Văn Em", "H": "089075001236", "G": "0903123458", "Q": "Abdala",
             "U": "Abdala", "V": "15/07/2021", "W": "L2", "X": "Trung tâm Y tế thành phố Long Xuyên"}]
    r = check(build(tmp_path / "abdala.xlsx", rows))
    assert [(e.code, e.row) for e in r.errors] == [("dose-interval-too-short", 9)]


def test_priority_group_names_are_the_platforms():
    names = dict(load_priority_groups())
    assert "và thân nhân" in names[5]
    assert "lực lượng bác sỹ trẻ" in names[8] and "công chứng, đấu giá" in names[8]
    assert "vận tải, tín dụng, du lịch" in names[13] and "khu du lịch" in names[13]
    assert names[16].endswith("đề xuất của các đơn vị viện trợ vắc xin cho Bộ Y tế")


# ------------------------------------------------------------------ writing and round trip


def _people(report):
    return sorted((r.values["full_name"], str(r.values["dob"]), r.values.get("id_number"),
                   r.values["gender"], r.values.get("phone"), r.values.get("district_code"),
                   r.values.get("ward_code"), str(r.values.get("dose1_date")),
                   r.values.get("dose1_vaccine"), r.values.get("dose1_facility_key"))
                  for r in report.valid_records())


def test_the_written_layout_is_the_template(tmp_path):
    r = check(build(tmp_path / "src.xlsx", [REG, DOSED]))
    out = tmp_path / "fw.xlsx"
    national.write(list(r.valid_records()), out, load_default())
    ws = load_workbook(out).active
    assert ws.title == "PL1_Danh sach doi tuong tiem"
    assert ws["A1"].value == "Chú ý:" and ws["A5"].value.startswith("4. Thực hiện bỏ bộ lọc")
    for letter, top, bottom in SPEC_COLUMNS:
        if bottom is None:
            assert ws[f"{letter}7"].value == top, letter
        else:
            assert ws[f"{letter}8"].value == bottom, letter
    merged = {str(m) for m in ws.merged_cells.ranges}
    assert {"J7:P7", "R7:T7", "V7:X7", "A7:A8", "Q7:Q8", "U7:U8", "Z7:Z8"} <= merged
    row9 = [ws.cell(9, c).value for c in range(1, 27)]
    assert row9[:5] == [1, "Nguyễn Văn An", "05/09/1980", 0, 4]
    assert row9[9:15] == ["An Giang", 89, "Thành phố Long Xuyên", 883, "Phường Mỹ Bình", 30280]
    assert ws["D10"].value == 0 and ws["A10"].value == 2 and ws["R10"].value == "01/07/2021"
    assert ws["Z9"].value is None and ws["Z10"].value is None


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_round_trip_keeps_the_people_and_has_no_errors(tmp_path, suffix):
    src = check(build(tmp_path / f"src{suffix}", [REG, REG_F, DOSED, {**REG, "B": "Đỗ Văn Hùng",
                "H": None, "G": "0912000111"}]))
    out = tmp_path / "fw.xlsx"
    national.write(list(src.valid_records()), out, load_default())
    back = check(out)
    assert back.errors == [] and back.rows == src.valid_rows == 4
    assert _people(back) == _people(src)


def test_vaxmail_check_reads_a_forward_back_clean(tmp_path):
    src = check(build(tmp_path / "src.xlsx", [REG, DOSED]))
    out = tmp_path / "fw.xlsx"
    national.write(list(src.valid_records()), out, load_default())
    proc = subprocess.run([sys.executable, "-m", "service.cli", "check", str(out), "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    data = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stdout
    assert (data["form"], data["rows"], data["valid_rows"], data["errors"]) == ("mau2", 2, 2, [])


# ------------------------------------------------------------------ through the pipeline

UNIT = "ubnd.mybinh.longxuyen@angiang.example"  # UBND Phường Mỹ Bình (Long Xuyên)
TTYT = "ttyt.longxuyen@angiang.example"
BV = "bvdktt@angiang.example"


def _mail(sender, subject, attachment: bytes, name: str, body: str, in_reply_to: str = "") -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, "tiemchung@angiang.example", subject
    m["Date"] = format_datetime(datetime.now(timezone.utc))
    m["Message-ID"] = make_msgid(domain=sender.split("@")[1])
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
    m.set_content(body)
    m.add_attachment(attachment, maintype="application",
                     subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename=name)
    return bytes(m)


@pytest.mark.slow
def test_mixed_file_routed_row_by_row_and_import_results_close_the_loop(tmp_path, make_smtp_server):
    from service.config import load_settings
    from service.digest.data import gather
    from service.item import VN
    from service.runner import Service

    smtp = make_smtp_server()
    text = (config_dir() / "directory.toml").read_text(encoding="utf-8")
    # the provincial hospital asked for the old canonical layout
    text = text.replace('email = "bvdktt@angiang.example"', 'email = "bvdktt@angiang.example"\nlayout = "canonical"')
    (tmp_path / "directory.toml").write_text(text, encoding="utf-8")
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    cfg = tmp_path / "vaxmail.toml"
    cfg.write_text(f'[mailbox]\nurl = "maildir:{maildir}"\n[smtp]\nurl = "{smtp.url()}"\n'
                   f'[state]\npath = "{tmp_path / "state"}"\n[data]\ndirectory = "{tmp_path / "directory.toml"}"\n',
                   encoding="utf-8")

    def run():
        svc = Service(load_settings(cfg))
        try:
            svc.run_once()
        finally:
            svc.close()

    src = build(tmp_path / "DS_MyBinh.xlsx", [
        REG, {**REG_F, "N": "Phường Mỹ Bình", "O": 30280},
        {**DOSED, "T": "Bệnh viện Đa khoa Trung tâm An Giang"}])
    (maildir / "new" / "1.1.test").write_bytes(
        _mail(UNIT, "Danh sách tiêm chủng phường Mỹ Bình", src.read_bytes(), src.name, "Kính gửi."))
    run()
    got = smtp.wait_for(3)
    msgs = [message_from_bytes(x.data, policy=default_policy) for x in got]
    by_kind = {}
    for m in msgs:
        by_kind.setdefault(str(m["X-Vaxmail-Kind"]), []).append(m)
    fw = {str(m["To"]).split("<")[-1].rstrip(">"): m for m in by_kind["forward"]}
    assert set(fw) == {TTYT, BV}
    # the registrations went to the district's health centre, the dosed row to its facility
    att = {k: next(m.iter_attachments()).get_payload(decode=True) for k, m in fw.items()}
    back = {k: read_forward(v) for k, v in att.items()}
    assert (back[TTYT]["form"], back[TTYT]["rows"], back[TTYT]["national"]) == ("mau1", 2, True)
    assert (back[BV]["form"], back[BV]["rows"], back[BV]["national"]) == ("mau2", 1, False)
    assert back[TTYT]["errors"] == [] and back[BV]["errors"] == []  # the round trip
    assert back[TTYT]["people"] == [("Nguyễn Văn An", "1980-09-05", "089080123456"),
                                    ("Trần Thị Bình", "1992-03-12", "089192004567")]
    assert back[BV]["people"] == [("Lê Văn Cường", "1975-01-01", "089075001234")]
    assert "Mẫu 1" in str(fw[TTYT]["Subject"]) and "Mẫu 2" in str(fw[BV]["Subject"])
    (receipt,) = by_kind["receipt"]
    body = receipt.get_body(("plain",)).get_content()
    assert "2 người đăng ký tiêm" in body and "1 người đã tiêm" in body and "tách ra" in body

    # the health centre imports, and replies with the platform's result in column Z
    wb_path = tmp_path / "ket_qua.xlsx"
    wb_path.write_bytes(att[TTYT])
    wb = load_workbook(wb_path)
    ws = wb.active
    ws["Z9"] = "Import thành công"
    ws["Z10"] = "Số điện thoại đã tồn tại trên hệ thống"
    wb.save(wb_path)
    code = str(fw[TTYT]["X-Vaxmail-Code"])
    (maildir / "new" / "2.2.test").write_bytes(_mail(
        TTYT, f"Re: {fw[TTYT]['Subject']}", wb_path.read_bytes(), "ket_qua.xlsx",
        "Đã import, gửi lại kết quả.", in_reply_to=str(fw[TTYT]["Message-ID"])))
    run()
    got = smtp.wait_for(4)
    (back_mail,) = [message_from_bytes(x.data, policy=default_policy) for x in got[3:]]
    assert str(back_mail["X-Vaxmail-Kind"]) == "import-failed" and got[3].rcpt_tos == [UNIT]
    text = back_mail.get_body(("plain",)).get_content()
    assert "Trần Thị Bình" in text and "Số điện thoại đã tồn tại trên hệ thống" in text
    flat = " ".join(text.split())
    assert "Nguyễn Văn An" not in text and "đã nhập được 1 người; 1 người bị từ chối" in flat
    failed_back = read_forward(next(back_mail.iter_attachments()).get_payload(decode=True))
    assert failed_back["rows"] == 1 and failed_back["errors"] == []
    # the same result sent again: counted once, and the unit is not told twice
    (maildir / "new" / "3.3.test").write_bytes(_mail(
        TTYT, f"Re: {fw[TTYT]['Subject']}", wb_path.read_bytes(), "ket_qua.xlsx",
        "Gửi lại kết quả.", in_reply_to=str(fw[TTYT]["Message-ID"])))
    run()
    assert len(smtp.wait_for(5, timeout=2)) == 4
    # "entered" in the digest comes from column Z
    svc = Service(load_settings(cfg))
    try:
        (batch,) = [b for b in svc.store.batches(code) if b.recipient == "ttyt-883"]
        assert (batch.rows_sent, batch.rows_confirmed) == (2, 1)
        fig = gather(svc.ctx.directory, svc.store, datetime.now(VN).date(), tz=VN).as_dict()
        rec = {r["key"]: r for r in fig["recipients"]}
        assert (rec["ttyt-883"]["rows"], rec["ttyt-883"]["entered"]) == (2, 1)
    finally:
        svc.close()


# ------------------------------------------------------------------ blank templates, annotated copies


def test_template_quocgia_is_the_blank_national_template(tmp_path):
    out = tmp_path / "quocgia.xlsx"
    proc = subprocess.run([sys.executable, "-m", "service.cli", "template", "quocgia", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    wb = load_workbook(out)
    assert wb.sheetnames[0] == "PL1_Danh sach doi tuong tiem"
    ws = wb.active
    assert [ws[f"{c}7"].value for c in "ABCD"] == [t for _, t, _ in SPEC_COLUMNS[:4]]
    assert ws["K8"].value == "Mã  Tỉnh/Thành phố (*)" and ws.max_row == 8
    pl2 = wb["PL2_Nhom doi tuong"]
    assert [pl2.cell(r, 1).value for r in range(2, 18)] == list(range(1, 17))
    pl3 = [tuple(c.value for c in row) for row in wb["PL3_Dia ban"].iter_rows(min_row=2)]
    assert ("An Giang", 89, "Thành phố Long Xuyên", 883, "Phường Mỹ Bình", 30280) in pl3
    # filled in by a unit, it reads as any national-layout list
    r = check(out)
    assert r.layout is not None and national.is_national(r.layout.columns)


@pytest.mark.slow
@pytest.mark.parametrize("form", ["mau1", "mau2"])
def test_canonical_templates_still_read_back(tmp_path, form):
    from service.forms.template import write_template
    out = tmp_path / f"{form}.xlsx"
    write_template(form, str(out), load_default())
    r = check(out)
    assert r.form == form and not national.is_national(r.layout.columns)


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_annotated_copy_of_a_national_file_marks_the_cells(tmp_path, suffix):
    from service.forms.annotate import ERROR_FILL, annotate
    src = build(tmp_path / f"loi{suffix}", [{**REG, "M": 884}, {**REG_F, "G": "abc"}])
    r = check(src)
    out = tmp_path / "loi - kiểm tra.xlsx"
    annotate(r, str(src), str(out), grid=r.grid)
    ws = load_workbook(out)["PL1_Danh sach doi tuong tiem"]
    assert ws["M9"].fill.fgColor.rgb.endswith(ERROR_FILL) and ws["G10"].fill.fgColor.rgb.endswith(ERROR_FILL)
    assert ws["M9"].comment is not None and "L9" in ws["M9"].comment.text


def test_header_texts_as_the_circulated_template_wraps_them(tmp_path):
    """The copy circulated with the Vaccom tool breaks its header texts over lines."""
    path = build(tmp_path / "wrapped.xlsx", [REG, DOSED])
    wb = load_workbook(path)
    ws = wb.active
    for cell, text in {"D7": "Giới tính (*)\n(0:nam, 1:nữ)",
                       "E7": "Mã nhóm \nđối tượng ưu tiên (*)\n(Tham khảo PL2)",
                       "G7": "Số điện thoại(*)\n(Tối thiểu 10 số)", "H7": "Số CMT/CCCD\n(Loại 8/9/12 số)",
                       "K8": "Mã\n Tỉnh/Thành phố (*)", "M8": "Mã Quận/Huyện\n(*)", "O8": "Mã Xã/Phường\n(*)",
                       "T8": "Địa điểm tiêm (*)\n(Tham khảo PL4)", "Z7": "Kết quả import\n(không điền ô này)"}.items():
        ws[cell] = text
    wb.save(path)
    r = check(path)
    assert (r.form, r.valid_rows, codes(r)) == ("mau2", 2, [])
    cols = {k: c.letter for k, c in r.layout.columns.items()}
    assert (cols["province_gso"], cols["district_gso"], cols["ward_gso"], cols["import_result"]) == ("K", "M", "O", "Z")
    assert (cols["address"], cols["dose1_vaccine"], cols["dose1_facility"]) == ("P", "Q", "T")


@pytest.mark.parametrize("text, ok", [
    ("Thành công", True), ("Import thành công", True), ("IMPORT THÀNH CÔNG", True), ("thanh cong", True),
    ("Import không thành công: sai mã xã", False), ("Số điện thoại không hợp lệ", False),
    ("Lỗi: trùng CCCD", False), ("Đối tượng đã tồn tại", False),
])
def test_column_z_success_wording(text, ok):
    assert national.import_succeeded(text) is ok


@pytest.mark.slow
def test_a_person_without_id_is_not_forwarded_twice_across_files(tmp_path):
    from service.config import load_settings
    from service.runner import Service
    from tests.outbox_reader import read_outbox

    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    cfg = tmp_path / "vaxmail.toml"
    cfg.write_text(f'[mailbox]\nurl = "maildir:{maildir}"\n[smtp]\nurl = "file:{tmp_path / "out"}"\n'
                   f'[state]\npath = "{tmp_path / "state"}"\n', encoding="utf-8")
    no_id = {**REG, "H": None}
    first = build(tmp_path / "dot1.xlsx", [no_id])
    second = build(tmp_path / "dot2.xlsx", [{**no_id, "B": "NGUYỄN VĂN AN"}, REG_F])  # same person, other case
    for n, path in enumerate((first, second), 1):
        (maildir / "new" / f"{n}.{n}.test").write_bytes(
            _mail(UNIT, f"Danh sách đợt {n}", path.read_bytes(), path.name, "Kính gửi."))
        svc = Service(load_settings(cfg))
        try:
            svc.run_once()
        finally:
            svc.close()
    sent = read_outbox(tmp_path / "out")
    fw = [m for m in sent if m["kind"] == "forward"]
    assert sorted(a["check"]["people"] for m in fw for a in m["attachments"]) == [
        [("Nguyễn Văn An", "1980-09-05", "")], [("Trần Thị Bình", "1992-03-12", "089192004567")]]
    reply = [m for m in sent if m["kind"] != "forward" and "đợt 2" in m["subject"]][0]
    assert "đã được chuyển từ tệp gửi trước" in reply["text"]


def test_export_keeps_a_national_list_in_the_national_template(tmp_path):
    src = build(tmp_path / "tron.xlsx", [REG, DOSED])
    out = tmp_path / "sach.xlsx"
    proc = subprocess.run([sys.executable, "-m", "service.cli", "export", str(src), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    back = check(out)
    assert national.is_national(back.layout.columns) and back.errors == []
    assert [r.form for r in back.records] == ["mau1", "mau2"]


def test_entered_people_add_up_across_result_files_and_count_once(tmp_path):
    from service.state import open_store
    store = open_store(tmp_path / "state")
    try:
        store.record_forwarded("VX-AAAAAA", "mau1", "ttyt-883", ["089080123456", "P|an|01/01/1990|0912345678"])
        store.record_forwarded("VX-AAAAAA", "mau2", "ttyt-883", ["089075001234"])
        assert store.confirm_people("VX-AAAAAA", "ttyt-883", ["089080123456"]).rows_confirmed == 1
        again = store.confirm_people("VX-AAAAAA", "ttyt-883", ["089080123456"])  # the same result twice
        assert again.rows_confirmed == 1
        both = store.confirm_people("VX-AAAAAA", "ttyt-883", ["089075001234", "P|an|01/01/1990|0912345678"])
        assert (both.rows_sent, both.rows_confirmed) == (3, 3)
    finally:
        store.close()
