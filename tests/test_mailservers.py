"""The test mail servers themselves: Dovecot (IMAP + LMTP) and aiosmtpd, plain and with TLS."""
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP

import pytest

pytestmark = pytest.mark.slow  # processes, servers or kills: run them all with plain pytest



def _message(to: str, subject: str = "Thử nghiệm") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "xa.myhoa@angiang.example"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{abs(hash((to, subject)))}@angiang.example>"
    msg.set_content("Nội dung thư.")
    return msg


def test_dovecot_append_fetch_and_vietnamese_folder(dovecot):
    raw = _message("intake@angiang.example").as_bytes(policy=SMTP)
    dovecot.append("operator", "Đã xử lý", raw)
    assert "Đã xử lý" in dovecot.folders("operator")
    assert dovecot.fetch_all("operator", "Đã xử lý") == [raw]
    # Stored on disk under its modified UTF-7 Maildir++ name.
    assert (dovecot.maildir("operator") / ".&ARAA4w- x&Hu0- l&AP0-").is_dir()


def test_dovecot_users_log_in_and_wrong_password_fails(dovecot):
    import imaplib

    pw = dovecot.add_user("alice", "bí mật".encode().hex())
    client = imaplib.IMAP4(dovecot.host, dovecot.imap_port, timeout=10)
    assert client.login("alice", pw)[0] == "OK"
    client.logout()
    client = imaplib.IMAP4(dovecot.host, dovecot.imap_port, timeout=10)
    with pytest.raises(imaplib.IMAP4.error):
        client.login("alice", "wrong")
    client.shutdown()


def test_smtp_server_records_and_delivers_each_recipient(smtp_server, dovecot):
    msg = _message("cdc@angiang.example, ttyt.chaudoc@angiang.example", "Chuyển danh sách")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as smtp:
        smtp.send_message(msg, to_addrs=["cdc@angiang.example", "ttyt.chaudoc@angiang.example"])
    received = smtp_server.wait_for(1)
    assert received[0].rcpt_tos == ["cdc@angiang.example", "ttyt.chaudoc@angiang.example"]
    assert received[0].mail_from == "xa.myhoa@angiang.example"
    for user in ("cdc", "ttyt.chaudoc"):
        delivered = [m for m in dovecot.fetch_all(user) if msg["Message-ID"].encode() in m]
        assert len(delivered) == 1, user
        assert f"Delivered-To: {user}@angiang.example".encode() in delivered[0]


def test_smtp_server_stop_and_start_again(make_smtp_server):
    server = make_smtp_server()
    server.stop()
    with pytest.raises(OSError):
        smtplib.SMTP(server.host, server.port, timeout=5)
    server.start()
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.send_message(_message("vhtt@angiang.example"))
    assert len(server.wait_for(1)) == 1


def test_smtp_starttls_with_auth(make_smtp_server, tls_cert):
    server = make_smtp_server(mode="starttls", users={"vaxmail": "mat-khau-42"})
    ctx = ssl.create_default_context(cafile=str(tls_cert[0]))
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("auth")  # AUTH only after TLS
        with pytest.raises(smtplib.SMTPException):
            smtp.send_message(_message("cdc@angiang.example"))
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.starttls(context=ctx)
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login("vaxmail", "sai")
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.starttls(context=ctx)
        smtp.login("vaxmail", "mat-khau-42")
        smtp.send_message(_message("cdc@angiang.example"))
    got = server.wait_for(1)
    assert len(got) == 1 and got[0].auth_user == "vaxmail" and got[0].tls


def test_smtps(make_smtp_server, tls_cert):
    server = make_smtp_server(mode="smtps")
    ctx = ssl.create_default_context(cafile=str(tls_cert[0]))
    with smtplib.SMTP_SSL(server.host, server.port, timeout=10, context=ctx) as smtp:
        smtp.send_message(_message("cdc@angiang.example"))
    assert server.wait_for(1)[0].tls


def test_dovecot_restart_keeps_mail(fresh_dovecot):
    raw = _message("intake@angiang.example").as_bytes(policy=SMTP)
    fresh_dovecot.append("intake", "INBOX", raw)
    fresh_dovecot.restart()
    assert fresh_dovecot.fetch_all("intake") == [raw]
    fresh_dovecot.stop()
    assert not fresh_dovecot.running
