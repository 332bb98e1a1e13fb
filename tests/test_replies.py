"""What a reply may promise: only what happened (rows read, a checked copy attached), and it
is addressed with the directory's name of the unit; display names decoded as mail clients do."""
from __future__ import annotations

import base64

from service.intake.mime import extract
from tests.factory import submission
from tests.test_pipeline_rules import Box

UNIT = "vanthu@stc.angiang.example"


def test_a_whole_file_failure_promises_no_forwarded_rows_and_no_attached_copy(tmp_path):
    box = Box(tmp_path)
    box.drop(submission(UNIT, b"PK\x03\x04 this is not a workbook", name="DS.xlsx"))
    (reply,) = box.run()
    assert reply["kind"] == "error-report"
    text = reply["text"]
    assert "Các dòng hợp lệ đã được chuyển ngay" not in text
    assert "tệp kiểm tra đính kèm" not in text and not reply["attachments"]
    assert "chưa đọc được dòng nào" in text and "gửi lại tệp" in text
    html = reply["msg"].get_body(("html",)).get_content()
    assert "Các dòng hợp lệ đã được chuyển ngay" not in html and "tệp kiểm tra đính kèm" not in html


def _split_words(name: str, cut_before: str) -> str:
    """``name`` as two base64 encoded words, split inside a word (as Outlook does)."""
    data = name.encode()
    i = data.rindex(cut_before.encode())
    return " ".join(f"=?utf-8?b?{base64.b64encode(part).decode()}?=" for part in (data[:i], data[i:]))


def test_a_display_name_split_mid_word_joins_without_the_space():
    name = "Sở Tài nguyên và Môi trường"
    for fold in (" ", "\r\n "):
        header = _split_words(name, "g").replace(" ", fold)
        raw = (f"From: {header} <stnmt@angiang.example>\r\nTo: tiemchung@angiang.example\r\n"
               "Subject: DS\r\nMessage-ID: <split@angiang.example>\r\n\r\nDS\r\n").encode()
        ex = extract(raw)
        assert (ex.from_name, ex.from_addr) == (name, "stnmt@angiang.example")
    # words of a plain name and quoted names are untouched
    raw = b'From: "Nguyen Van A" <a@angiang.example>\r\nSubject: x\r\n\r\nx\r\n'
    assert extract(raw).from_name == "Nguyen Van A"
