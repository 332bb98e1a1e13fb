"""service.urls: the SPEC's URLs, secrets from credentials/environment, redaction."""
import pytest

from service.urls import URLError, parse_url, redacted, resolve_password


def test_imap_urls():
    u = parse_url("imap://tiep.nhan%40angiang.example:p%40ss%3Aw%2Frd@mail.angiang.example/"
                  "H%E1%BB%99p%20th%C6%B0")
    assert (u.scheme, u.host, u.port, u.user, u.password, u.path) == (
        "imap", "mail.angiang.example", 143, "tiep.nhan@angiang.example", "p@ss:w/rd", "Hộp thư")
    assert parse_url("imaps://u:p@mail.example").port == 993
    assert parse_url("imaps://u:p@mail.example").path == "INBOX"
    assert parse_url("imap://u:p@127.0.0.1:1143/").path == "INBOX"
    assert parse_url("IMAP://u:p@[::1]:1143").is_loopback
    assert not parse_url("imap://u:p@mail.example").is_loopback


def test_smtp_and_paths():
    assert parse_url("smtp://relay.example").port == 25
    assert parse_url("smtp://u:p@relay.example:587").port == 587
    assert parse_url("smtps://relay.example").port == 465
    assert parse_url("smtp://relay.example").user is None
    assert parse_url("maildir:/var/mail/vaxmail/").path == "/var/mail/vaxmail"
    assert parse_url("maildir:///var/mail/x").path == "/var/mail/x"
    assert parse_url("file:/srv/outbox").scheme == "file"


@pytest.mark.parametrize("bad", ["", "http://x", "imap://", "maildir:relative/path",
                                 "imap://u:p@host:99999", "smtp://host/path"])
def test_bad_urls_have_vietnamese_messages(bad):
    with pytest.raises(URLError) as info:
        parse_url(bad)
    assert info.value.message and "p@" not in info.value.message


def test_allowed_schemes():
    with pytest.raises(URLError):
        parse_url("smtp://x", allowed=("imap", "imaps", "maildir"))


def test_resolve_password(tmp_path, monkeypatch):
    url = parse_url("imap://u:from-url@h")
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("VAXMAIL_IMAP_PASSWORD", raising=False)
    assert resolve_password(url, env_name="VAXMAIL_IMAP_PASSWORD", credential_name="imap") == "from-url"
    monkeypatch.setenv("VAXMAIL_IMAP_PASSWORD", "from-env")
    assert resolve_password(url, env_name="VAXMAIL_IMAP_PASSWORD", credential_name="imap") == "from-env"
    (tmp_path / "imap").write_text("mật-khẩu-credential\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert resolve_password(url, env_name="VAXMAIL_IMAP_PASSWORD",
                            credential_name="imap") == "mật-khẩu-credential"
    assert resolve_password("imap://u@h") is None


def test_redacted_never_shows_password():
    text = "imap://u%40x:s%C3%AAcret@mail.example:143/INBOX"
    assert redacted(text) == "imap://u%40x:***@mail.example:143/INBOX"
    assert "cret" not in str(parse_url(text)) and "cret" not in repr(parse_url(text))
    assert redacted("smtp://relay.example") == "smtp://relay.example:25"
    assert "secret" not in redacted("bogus://user:secret@host")
    assert redacted("maildir:/var/mail/x") == "maildir:/var/mail/x"
