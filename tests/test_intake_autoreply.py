"""classify(): every reason a message must not be answered, and the ordinary case."""
import email
import email.policy

import pytest

from service.intake.autoreply import classify

OWN = {"intake@angiang.example", "vaxmail@angiang.example"}


def _msg(headers: str, ctype: str = "text/plain") -> email.message.EmailMessage:
    raw = ("From: Xã Mỹ Hòa <xa.myhoa@angiang.example>\r\nTo: intake@angiang.example\r\n"
           f"Subject: Danh sách\r\n{headers}Content-Type: {ctype}\r\n\r\nNội dung\r\n")
    return email.message_from_bytes(raw.encode(), policy=email.policy.default)


@pytest.mark.parametrize("headers, expected", [
    ("", None),
    ("Auto-Submitted: no\r\n", None),
    ("Return-Path: <xa.myhoa@angiang.example>\r\n", None),
    ("Precedence: first-class\r\n", None),
    ("X-Auto-Response-Suppress: None\r\n", None),
    ("Auto-Submitted: auto-replied\r\n", "auto-submitted"),
    ("Auto-Submitted: auto-generated; owner=x\r\n", "auto-submitted"),
    ("Auto-Submitted: Auto-Notified\r\n", "auto-submitted"),
    ("X-Autoreply: yes\r\n", "auto-submitted"),
    ("Return-Path: <>\r\n", "null-return-path"),
    ("Return-Path: < >\r\n", "null-return-path"),
    ("Precedence: bulk\r\n", "precedence"),
    ("Precedence: List\r\n", "precedence"),
    ("Precedence: junk\r\n", "precedence"),
    ("X-Auto-Response-Suppress: All\r\n", "auto-response-suppress"),
    ("X-Auto-Response-Suppress: DR, RN, NRN\r\n", "auto-response-suppress"),
    ("X-Auto-Response-Suppress: OOF, AutoReply\r\n", "auto-response-suppress"),
    ("List-Id: <tin-tuc.angiang.example>\r\n", "mailing-list"),
    ("List-Unsubscribe: <mailto:leave@angiang.example>\r\n", "mailing-list"),
    ("X-Loop: intake@angiang.example\r\n", "loop"),
    ("X-Vaxmail-Loop: 1\r\n", "loop"),
    ("Sender: MAILER-DAEMON@mx.angiang.example\r\n", "system-sender"),
    ("Return-Path: <bounces+123@list.example>\r\n", "system-sender"),
])
def test_header_cases(headers, expected):
    assert classify(_msg(headers), OWN) == expected


@pytest.mark.parametrize("sender", ["mailer-daemon@x.example", "Postmaster@angiang.example",
                                    "noreply@vnpt.vn", "no-reply@gmail.com", "donotreply@x.vn"])
def test_system_senders(sender):
    msg = _msg("")
    msg.replace_header("From", sender)
    assert classify(msg, OWN) == "system-sender"


def test_reports_and_own_address():
    dsn = _msg("", 'multipart/report; report-type=delivery-status; boundary="b"')
    assert classify(dsn, OWN) == "report"
    mdn = _msg("", 'multipart/report; report-type=disposition-notification; boundary="b"')
    assert classify(mdn, OWN) == "report"
    own = _msg("")
    own.replace_header("From", "VaxMail <Intake@AnGiang.example>")
    assert classify(own, OWN) == "own-address"
    assert classify(own, set()) is None
    assert classify(_msg("X-Vaxmail-Check: 1\r\n"), OWN, loop_header="X-Vaxmail-Check") == "loop"


def test_broken_headers_do_not_raise():
    raw = (b"From: <<<\r\nAuto-Submitted: =?utf-8?B?!!?=\r\nReturn-Path: \r\n"
           b"Content-Type: multipart/report\r\n\r\n")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert classify(msg, OWN) is not None
