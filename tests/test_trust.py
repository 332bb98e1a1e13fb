"""Sender authentication ([trust] authserv_id, RFC 8601): only the province's own receiving
server's Authentication-Results are believed; unauthenticated mail is held, never forwarded,
never confirms anything; addresses that route elsewhere are never believed nor written to."""
from __future__ import annotations

from email.message import EmailMessage

import pytest

from service.addresses import is_plain
from service.intake.authres import aligned, believed, decide, parse, verify
from tests.factory import mau1_xlsx, provincial_people, submission
from tests.test_e2e_mail import users  # noqa: F401  (the Dovecot users fixture)
from tests.test_pipeline_rules import Box, reply

MX = "mx.angiang.example"
UNIT = "vanthu@syt.angiang.example"

# Real-world shapes (Gmail, Microsoft 365, Postfix + OpenDKIM/OpenDMARC, rspamd, RFC 8601 §B)
GMAIL = ("mx.google.com;\r\n       dkim=pass header.i=@syt.angiang.example header.s=20210112 header.b=Xx1+2/3;\r\n"
         "       spf=pass (google.com: domain of vanthu@syt.angiang.example designates 209.85.220.41 as "
         "permitted sender) smtp.mailfrom=vanthu@syt.angiang.example;\r\n"
         "       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=syt.angiang.example")
MICROSOFT = ("spf=pass (sender IP is 40.107.1.2) smtp.mailfrom=syt.angiang.example; dkim=pass "
             "(signature was verified) header.d=syt.angiang.example;dmarc=pass action=none "
             "header.from=syt.angiang.example;compauth=pass reason=100")


def with_headers(raw: bytes, *headers: str) -> bytes:
    """What the receiving server does: its own headers on top of the message as it came."""
    return "".join(h.rstrip("\r\n") + "\r\n" for h in headers).encode() + raw


def received() -> str:
    return f"Received: from mail.example (mail.example [203.0.113.9]) by {MX} (Postfix) with ESMTPS id 4Q; Mon, 30 Nov 2026 08:00:00 +0700"


# ------------------------------------------------------------------ the parser

def test_parser_reads_real_headers_with_comments_versions_and_quoted_values():
    ar = parse(GMAIL)
    assert ar.authserv_id == "mx.google.com"
    assert [(r.method, r.result) for r in ar.results] == [("dkim", "pass"), ("spf", "pass"), ("dmarc", "pass")]
    assert ar.results[0].props["header.i"] == "@syt.angiang.example"
    assert ar.results[1].props["smtp.mailfrom"] == "vanthu@syt.angiang.example"
    assert ar.results[2].props["header.from"] == "syt.angiang.example"
    v = parse('example.com 1; dkim=pass (good; signature) header.d="syt.angiang.example" header.b="a;b"; spf=none')
    assert v.authserv_id == "example.com"
    assert [(r.method, r.result) for r in v.results] == [("dkim", "pass"), ("spf", "none")]
    assert v.results[0].props["header.d"] == "syt.angiang.example"
    assert parse("example.com; none").results == []
    assert parse(MICROSOFT) is None  # no authserv-id: not a header we can attribute
    assert parse("") is None and parse(";;;") is None
    # a comment cannot smuggle a result: "(dmarc=pass)" is not a result
    assert [(r.method, r.result) for r in parse(f"{MX}; dmarc=fail (dmarc=pass) header.from=x.example").results] \
        == [("dmarc", "fail")]


def test_alignment_is_the_same_domain_or_a_subdomain_never_a_bare_label():
    assert aligned("syt.angiang.example", "syt.angiang.example")
    assert aligned("mail.syt.angiang.example", "syt.angiang.example")
    assert aligned("@syt.angiang.example", "vanthu@syt.angiang.example")
    assert not aligned("evil.example", "syt.angiang.example")
    assert not aligned("example", "syt.angiang.example")
    assert not aligned("syt.angiang.example.evil.example", "syt.angiang.example")


def H(*lines: str) -> list[tuple[str, str]]:
    return [tuple(x.split(":", 1)) for x in lines]  # type: ignore[misc]


@pytest.mark.parametrize("headers, ok, why", [
    # pass: DMARC, or an aligned DKIM or SPF
    ([f"Authentication-Results: {MX}; dmarc=pass header.from=syt.angiang.example", received()], True, "dmarc=pass"),
    ([f"Authentication-Results: {MX}; dkim=pass header.d=syt.angiang.example", received()], True, "dkim=pass"),
    ([f"Authentication-Results: {MX}; spf=pass smtp.mailfrom=bounce@syt.angiang.example", received()], True, "spf=pass"),
    # one milter per header (OpenDMARC, SPF, OpenDKIM): a run of headers with our id
    ([f"Authentication-Results: {MX}; spf=fail smtp.mailfrom=x@evil.example",
      f"Authentication-Results: {MX}; dkim=pass header.d=syt.angiang.example", received()], True, "dkim=pass"),
    # fail / none
    ([f"Authentication-Results: {MX}; dmarc=fail (p=reject) header.from=syt.angiang.example", received()], False, "dmarc=fail"),
    ([f"Authentication-Results: {MX}; none", received()], False, "none"),
    ([received(), "Subject: x"], False, "no-results"),
    # passes that do not speak for the From domain
    ([f"Authentication-Results: {MX}; dkim=pass header.d=evil.example; spf=pass smtp.mailfrom=a@evil.example",
      received()], False, "dkim=pass,spf=pass"),
    ([f"Authentication-Results: {MX}; dmarc=pass header.from=evil.example", received()], False, "dmarc=pass"),
    # a DMARC fail is final even beside an aligned DKIM pass further down the same run
    ([f"Authentication-Results: {MX}; dmarc=fail header.from=syt.angiang.example",
      f"Authentication-Results: {MX}; dkim=pass header.d=syt.angiang.example"], False, "dmarc=fail"),
    # planted by the sender below the server's own fail: never believed
    ([f"Authentication-Results: {MX}; dmarc=fail header.from=syt.angiang.example", received(),
      f"Authentication-Results: {MX}; dmarc=pass header.from=syt.angiang.example"], False, "dmarc=fail"),
    # planted below a server that wrote nothing useful (spf=none): still not believed
    ([f"Authentication-Results: {MX}; spf=none smtp.mailfrom=a@evil.example", received(),
      f"Authentication-Results: {MX}; dkim=pass header.d=syt.angiang.example"], False, "spf=none"),
    # another server's pass (planted, or a relay's): not ours
    ([f"Authentication-Results: mx.google.com; dmarc=pass header.from=syt.angiang.example", received()], False, "no-results"),
    ([f"Authentication-Results: mx.google.com; dmarc=pass header.from=syt.angiang.example",
      f"Authentication-Results: {MX}; dmarc=fail header.from=syt.angiang.example"], False, "dmarc=fail"),
    # a look-alike id is another id
    ([f"Authentication-Results: {MX}.evil.example; dmarc=pass header.from=syt.angiang.example"], False, "no-results"),
    # the planted header ABOVE a Received but with no server header at all: only the topmost
    # run counts, and a sender cannot put anything above the server's own Received
    ([received(), f"Authentication-Results: {MX}; dmarc=pass header.from=syt.angiang.example"], True, "dmarc=pass"),
])
def test_verdicts_on_header_blocks(headers, ok, why):
    verdict = decide(believed(H(*headers), MX), UNIT)
    assert (verdict.ok, verdict.why) == (ok, why)


def test_verify_reads_the_raw_message_top_block_only():
    inner = submission(UNIT, mau1_xlsx("Sở Y tế", provincial_people(1, 1)))
    raw = with_headers(inner, f"Authentication-Results: {MX};\r\n\tdmarc=pass (p=reject)\r\n\theader.from=syt.angiang.example",
                       received())
    assert verify(raw, UNIT, MX).ok
    assert verify(raw, UNIT, "MX.ANGIANG.EXAMPLE ").ok  # ids compare without case
    assert not verify(raw, "x@evil.example", MX).ok
    assert not verify(b"\xff\xfe garbage", UNIT, MX).ok


def test_only_plain_addresses_are_believed():
    assert is_plain("vanthu@syt.angiang.example") and is_plain("Van.Thu+ds@syt.angiang.example")
    for bad in ("attacker%evil.example@syt.angiang.example", "evil!x@syt.angiang.example",
                '"x@y"@syt.angiang.example', "@a.example:x@syt.angiang.example", "x@[10.0.0.1]",
                "x y@syt.angiang.example", "x@syt", "x@@syt.angiang.example", ""):
        assert not is_plain(bad), bad


# ------------------------------------------------------------------ through the pipeline

def trusted_box(tmp_path, **limits) -> Box:
    box = Box(tmp_path, **limits)
    with open(box.cfg, "a", encoding="utf-8") as fh:
        fh.write(f'[trust]\nauthserv_id = "{MX}"\n')
    return box


def passed(raw: bytes, domain: str = "syt.angiang.example") -> bytes:
    return with_headers(raw, f"Authentication-Results: {MX}; dkim=pass header.d={domain}; dmarc=pass header.from={domain}",
                        received())


def failed(raw: bytes, domain: str = "syt.angiang.example") -> bytes:
    return with_headers(raw, f"Authentication-Results: {MX}; dkim=none; spf=softfail smtp.mailfrom=a@evil.example; "
                        f"dmarc=fail (p=none) header.from={domain}", received())


@pytest.mark.slow
def test_authenticated_mail_is_forwarded_unauthenticated_is_held_with_one_short_notice(tmp_path):
    box = trusted_box(tmp_path)
    box.drop(passed(submission(UNIT, mau1_xlsx("Sở Y tế", provincial_people(21, 3)))))
    assert sorted(m["kind"] for m in box.run()) == ["forward", "receipt"]
    people = provincial_people(22, 3)
    forged = [
        failed(submission(UNIT, mau1_xlsx("Sở Y tế", people))),                       # explicit fail
        submission(UNIT, mau1_xlsx("Sở Y tế", people), subject="no header at all"),   # none
        with_headers(  # planted pass below the server's fail
            with_headers(submission(UNIT, mau1_xlsx("Sở Y tế", people), subject="planted"),
                         f"Authentication-Results: {MX}; dmarc=pass header.from=syt.angiang.example"),
            f"Authentication-Results: {MX}; dmarc=fail header.from=syt.angiang.example", received()),
        with_headers(submission(UNIT, mau1_xlsx("Sở Y tế", people), subject="other server"),
                     "Authentication-Results: relay.evil.example; dmarc=pass header.from=syt.angiang.example",
                     received()),
    ]
    for raw in forged:
        box.drop(raw)
    sent = box.run()
    # nothing forwarded, nothing with personal data back: one fixed-text notice (cap 1 a day)
    assert [m["kind"] for m in sent] == ["notice-unverified"]
    (notice,) = sent
    assert notice["to"] == [UNIT] and notice["attachments"] == []
    assert notice["subject"] == "Thư gửi hộp thư tiếp nhận danh sách tiêm chủng chưa được xác thực"
    for p in people:
        assert p["name"] not in notice["text"] and p["cccd"] not in notice["text"]
    assert box.held_kinds() == ["unverified"] * 4


@pytest.mark.slow
def test_a_forged_confirmation_does_not_move_entered(tmp_path):
    box = trusted_box(tmp_path)
    box.drop(passed(submission(UNIT, mau1_xlsx("Sở Y tế", provincial_people(23, 12)))))
    (fw,) = [m for m in box.run() if m["kind"] == "forward"]
    box.drop(failed(reply(fw, "cdc@angiang.example", "Đã nhập 12/12"), domain="angiang.example"))
    box.run()
    store = box.store()
    try:
        (batch,) = store.batches(fw["code"])
        assert batch.rows_confirmed == 0
    finally:
        store.close()
    assert box.held_kinds() == ["unverified"]
    # the real one, authenticated, counts
    box.drop(passed(reply(fw, "cdc@angiang.example", "Đã nhập 12/12").replace(b"<reply-", b"<reply2-"),
                    domain="angiang.example"))
    box.run()
    store = box.store()
    try:
        assert store.batches(fw["code"])[0].rows_confirmed == 12
    finally:
        store.close()


def test_a_forwarded_message_is_credited_to_the_outer_authenticated_sender_only(tmp_path):
    box = trusted_box(tmp_path)
    inner = passed(submission(UNIT, mau1_xlsx("Sở Y tế", provincial_people(24, 2))))
    outer = EmailMessage()
    outer["From"] = "someone@gmail.example"
    outer["To"] = "tiemchung@angiang.example"
    outer["Subject"] = "Fwd: danh sách"
    outer["Message-ID"] = "<fwd-1@gmail.example>"
    outer.set_content("chuyển tiếp")
    outer.add_attachment(inner, maintype="message", subtype="rfc822")
    box.drop(passed(bytes(outer), domain="gmail.example"))
    sent = box.run()
    assert [m["kind"] for m in sent] == ["notice-unknown-sender"]
    assert sent[0]["to"] == ["someone@gmail.example"]
    assert box.held_kinds() == ["unknown-sender"]


def test_routing_addresses_at_a_units_domain_are_not_the_unit_and_never_written_to(tmp_path):
    box = Box(tmp_path)  # even without [trust]
    for n, addr in enumerate(("attacker%evil.example@syt.angiang.example", '"x@evil.example"@syt.angiang.example')):
        raw = submission("placeholder@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(30 + n, 1)))
        raw = raw.replace(b"From: placeholder@syt.angiang.example", f"From: <{addr}>".encode())
        box.drop(raw)
    sent = box.run()
    assert sent == []  # not the unit; and no notice goes to a routed address
    assert box.held_kinds() == ["unknown-sender", "unknown-sender"]


# ------------------------------------------------------------------ end to end

@pytest.mark.slow
def test_end_to_end_only_the_authenticated_message_is_forwarded(tmp_path, users, make_smtp_server):
    """The daemon against Dovecot (IMAP) and aiosmtpd: pass, planted-below-fail, another
    server's pass, no header at all; then a forged "Đã nhập" from the receiver's address. Only
    the first list is forwarded; the rest is held (one notice); the forged confirmation counts
    for nothing."""
    import time as _time
    from tests.outbox_reader import read_message
    from tests.test_e2e_mail import Daemon, kinds, wait_until, write_config as e2e_config

    smtp = make_smtp_server(deliver_to=users)
    users.create_folder("intake", "TRUST")
    cfg = e2e_config(tmp_path, users.url("intake", folder="TRUST"), smtp.url())
    with open(cfg, "a", encoding="utf-8") as fh:
        fh.write(f'[trust]\nauthserv_id = "{MX}"\n')
    people = provincial_people(41, 2)
    users.append("intake", "TRUST", passed(submission(UNIT, mau1_xlsx("Sở Y tế", provincial_people(40, 2)))))
    users.append("intake", "TRUST", with_headers(
        with_headers(submission(UNIT, mau1_xlsx("Sở Y tế", people)),
                     f"Authentication-Results: {MX}; dmarc=pass header.from=syt.angiang.example"),
        f"Authentication-Results: {MX}; dmarc=fail header.from=syt.angiang.example", received()))
    users.append("intake", "TRUST", with_headers(
        submission(UNIT, mau1_xlsx("Sở Y tế", people)),
        "Authentication-Results: relay.evil.example; dmarc=pass header.from=syt.angiang.example", received()))
    users.append("intake", "TRUST", submission(UNIT, mau1_xlsx("Sở Y tế", people), subject="no header"))
    daemon = Daemon(cfg, tmp_path / "daemon.log")
    daemon.start()
    try:
        got = smtp.wait_for(3, timeout=60)
        assert sorted(kinds(got)) == ["forward", "notice-unverified", "receipt"], daemon.log_text()
        assert wait_until(lambda: not users.fetch_all("intake", "TRUST"), 20)
        fw = read_message(next(m for m in got if b"X-Vaxmail-Kind: forward" in m.data).data)
        # the receiver's address, but not authenticated: "Đã nhập 2/2" must not count
        users.append("intake", "TRUST", with_headers(
            reply(fw, "cdc@angiang.example", "Đã nhập 2/2"),
            f"Authentication-Results: {MX}; spf=fail smtp.mailfrom=cdc@angiang.example; "
            "dmarc=fail header.from=angiang.example", received()))
        assert wait_until(lambda: not users.fetch_all("intake", "TRUST"), 30)
        # the real receiver learns of it: one fixed notice to the forged From, nothing else
        last = smtp.wait_for(4, timeout=30)[3]
        assert kinds([last]) == ["notice-unverified"] and last.rcpt_tos == ["cdc@angiang.example"]
        _time.sleep(0.5)  # nothing more comes
        assert len(smtp.messages) == 4
    finally:
        assert daemon.term() == 0
    fw_raw = next(m for m in got if b"X-Vaxmail-Kind: forward" in m.data)
    assert sorted(fw_raw.rcpt_tos) == ["cdc@angiang.example", "stttt@angiang.example"]
    (att,) = fw["attachments"]
    assert att["rows"] == 2  # the authenticated list only
    from service.state import open_store
    store = open_store(tmp_path / "state")
    try:
        assert sorted(h.kind for h in store.list_held()) == ["unverified"] * 4
        assert [b.rows_confirmed for b in store.batches(fw["code"])] == [0]
    finally:
        store.close()
    assert "Traceback" not in daemon.log_text()
