"""The whole pipeline on the sample inbox: Maildir in, `file:` outbox out, exactly the
messages the notice's routing table calls for — and a second run sends nothing."""
from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from service.config import load_settings
from service.runner import Service
from tests.outbox_reader import read_outbox

SAMPLES = Path(__file__).resolve().parent.parent / "inbox_samples"


def write_config(tmp: Path, *, folder: bool = False) -> Path:
    maildir = tmp / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    cfg = tmp / "vaxmail.toml"
    text = f'[mailbox]\nurl = "maildir:{maildir}"\n[smtp]\nurl = "file:{tmp / "out"}"\n[state]\npath = "{tmp / "state"}"\n'
    if folder:
        text += f'[folder]\npath = "{tmp / "share"}"\nsettle_seconds = 0\n'
    cfg.write_text(text, encoding="utf-8")
    return cfg


def deliver(tmp: Path, names: list[str]) -> None:
    for n, name in enumerate(names):
        src = SAMPLES / f"{name}.eml"
        (tmp / "Maildir" / "new" / f"{1629853200 + n}.{n}.test:{name}").write_bytes(src.read_bytes())


def run_once(cfg: Path) -> dict:
    svc = Service(load_settings(cfg))
    try:
        return svc.run_once()
    finally:
        svc.close()


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("samples")
    cfg = write_config(tmp)
    deliver(tmp, sorted(p.stem for p in SAMPLES.glob("*.eml")))
    first = run_once(cfg)
    sent = read_outbox(tmp / "out")
    second = run_once(cfg)
    return tmp, cfg, first, sent, second


def forwards(sent, to):
    return [m for m in sent if m["kind"] == "forward" and m["to"] == [to]]


def replies(sent, to):
    return [m for m in sent if m["kind"] != "forward" and m["to"] == [to]]


def test_mau1_of_a_provincial_unit_goes_to_cdc_copy_so_tttt_and_the_sender_gets_a_receipt(sample_run):
    _, _, _, sent, _ = sample_run
    cdc = forwards(sent, "cdc@angiang.example")
    syt = [m for m in cdc if "Sở Y tế" in m["subject"]]
    assert len(syt) == 1
    assert syt[0]["cc"] == ["stttt@angiang.example"]
    assert syt[0]["attachments"][0]["rows"] == 12
    (receipt,) = replies(sent, "vanthu@syt.angiang.example")
    assert receipt["kind"] == "receipt" and receipt["auto"] == "auto-replied"
    assert receipt["in_reply_to"] == "<sample-01@syt.angiang.example>"


def test_a_commune_file_with_errors_forwards_the_valid_rows_and_reports_the_rest(sample_run):
    _, _, _, sent, _ = sample_run
    fw = forwards(sent, "ttyt.longxuyen@angiang.example")
    mybinh = sorted(m["attachments"][0]["rows"] for m in fw if "Mỹ Bình" in m["subject"])
    assert mybinh == [3, 7]  # 7 valid rows first, then the 3 corrected ones
    assert all(m["cc"] == ["vhtt.longxuyen@angiang.example"] for m in fw if "Mỹ Bình" in m["subject"])
    got = replies(sent, "ubnd.mybinh.longxuyen@angiang.example")
    assert Counter(m["kind"] for m in got) == {"error-report": 1, "receipt": 1}
    report = next(m for m in got if m["kind"] == "error-report")
    assert "Cần sửa một số dòng" in report["subject"]  # Vietnamese words survive header encoding
    assert "Dòng 9" in report["text"] and "Ngày sinh" in report["text"]
    assert any(a["name"].endswith(".xlsx") for a in report["attachments"])
    # rows were read and a checked copy is attached: the reply may say both
    assert "Các dòng hợp lệ đã được chuyển ngay" in report["text"] and "mở tệp kiểm tra đính kèm" in report["text"]
    unit = load_settings().directory.unit_for_sender("ubnd.mybinh.longxuyen@angiang.example")
    assert report["msg"]["To"].addresses[0].display_name == unit.name  # the directory's name
    receipt = next(m for m in got if m["kind"] == "receipt")
    assert "7 người đã được chuyển" in receipt["text"]


def test_an_enterprise_mau1_goes_to_its_district_health_centre_copy_its_supervisor(sample_run):
    _, _, _, sent, _ = sample_run
    (fw,) = forwards(sent, "ttyt.chauthanh@angiang.example")
    assert fw["cc"] == ["bqlkkt@angiang.example"] and fw["attachments"][0]["rows"] == 8


def test_a_provincial_mau2_is_split_per_dose1_facility(sample_run):
    _, _, _, sent, _ = sample_run
    split = [m for m in sent if m["kind"] == "forward" and "Giáo dục" in m["subject"]]
    assert sorted(m["to"][0] for m in split) == ["bvdkkv@angiang.example", "bvdktt@angiang.example",
                                                 "ttyt.chaudoc@angiang.example"]
    assert sum(m["attachments"][0]["rows"] for m in split) == 9
    assert all(m["cc"] == ["stttt@angiang.example"] for m in split)


def test_unknown_facility_rows_are_reported_and_held_the_rest_forwarded(sample_run):
    tmp, cfg, _, sent, _ = sample_run
    khanhan = [m for m in sent if m["kind"] == "forward" and "Khánh An" in m["subject"]]
    assert sum(m["attachments"][0]["rows"] for m in khanhan) == 5
    assert all(m["cc"] == ["vhtt.anphu@angiang.example"] for m in khanhan)
    (report,) = replies(sent, "ubnd.khanhan.anphu@angiang.example")
    assert report["kind"] == "error-report" and "Phòng khám tư Hòa Bình" in report["text"]
    svc = Service(load_settings(cfg))
    try:
        kinds = Counter(h.kind for h in svc.store.list_held())
    finally:
        svc.close()
    assert kinds["unknown-facility"] == 1


def test_unknown_senders_get_one_notice_and_are_held(sample_run):
    tmp, cfg, _, sent, _ = sample_run
    (notice,) = replies(sent, "nguyenvana1980@gmail.example")
    assert notice["kind"] == "notice-unknown-sender"
    assert "0296.3500.666" in notice["text"]
    assert not [m for m in sent if m["kind"] == "forward" and "Tổ dân phố" in m["subject"]]


def test_automatic_mail_and_bounces_are_never_answered(sample_run):
    _, _, _, sent, _ = sample_run
    assert not replies(sent, "mailer-daemon@mx.angiang.example")
    assert not [m for m in sent if m["in_reply_to"] in ("<sample-09@snv.angiang.example>",
                                                         "<sample-10@mx.angiang.example>")]


def test_no_attachment_and_wrong_file_type_get_a_notice_with_the_blank_forms(sample_run):
    _, _, _, sent, _ = sample_run
    (n1,) = replies(sent, "vanthu@stc.angiang.example")
    assert n1["kind"] == "notice-no-attachment" and len(n1["attachments"]) == 2
    (n2,) = replies(sent, "vanthu@stp.angiang.example")
    assert n2["kind"] == "notice-unsupported" and "Danh sach.pdf" in n2["text"]


def test_zipped_and_forwarded_files_are_found(sample_run):
    _, _, _, sent, _ = sample_run
    cdc = forwards(sent, "cdc@angiang.example")
    assert any("Sở Nội vụ" in m["subject"] and m["attachments"][0]["rows"] == 4 for m in cdc)
    assert any("Khoa học" in m["subject"] and m["attachments"][0]["rows"] == 3 for m in cdc)


def test_not_a_form_and_broken_files_get_an_error_report(sample_run):
    _, _, _, sent, _ = sample_run
    got = replies(sent, "ketoan@sxd.angiang.example") + replies(sent, "vanthu@sxd.angiang.example")
    assert sorted(m["kind"] for m in got) == ["error-report", "error-report"]
    notform = replies(sent, "ketoan@sxd.angiang.example")[0]
    assert len(notform["attachments"]) == 2  # both blank forms


def test_every_message_carries_auto_submitted_and_a_unique_message_id(sample_run):
    _, _, _, sent, _ = sample_run
    assert all(m["auto"] in ("auto-generated", "auto-replied") for m in sent)
    assert all(m["auto"] == "auto-generated" for m in sent if m["kind"] == "forward")
    ids = [m["message_id"] for m in sent]
    assert len(ids) == len(set(ids))


def test_a_second_run_sends_nothing(sample_run):
    tmp, _, first, sent, second = sample_run
    assert first["processed"] == 16
    assert second["processed"] == 0
    assert len(read_outbox(tmp / "out", count_rows=False)) == len(sent)


def test_every_forward_is_the_national_template_and_reads_back_clean(sample_run):
    _, _, _, sent, _ = sample_run
    checks = [a["check"] for m in sent if m["kind"] == "forward" for a in m["attachments"]]
    assert len(checks) >= 10
    for c in checks:
        assert c["national"] and c["errors"] == [] and c["rows"] == len(c["people"]) > 0
