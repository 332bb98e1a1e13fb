"""MaildirSource end to end, including a Maildir that Dovecot serves at the same time."""
import mailbox
import os
import threading
import time
from email.message import EmailMessage
from email.policy import SMTP

from service.intake import open_source
from service.intake.maildir import MaildirSource, maildirpp_folder_name
from service.intake.source import Source

DONE_DIR = ".&ARAA4w- x&Hu0- l&AP0-"


def _raw(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "xa.myhoa@angiang.example"
    msg["Subject"] = f"Danh sách {n}"
    msg["Message-ID"] = f"<maildir-{n}@angiang.example>"
    msg.set_content("Gửi danh sách.\n")
    return msg.as_bytes(policy=SMTP)


def _lf(data: bytes) -> bytes:
    """Maildir files keep lines with LF (mailbox.Maildir and Dovecot alike); IMAP serves CRLF."""
    return data.replace(b"\r\n", b"\n")


def test_folder_name_matches_dovecot():
    assert maildirpp_folder_name("Đã xử lý") == DONE_DIR


def test_maildir_end_to_end(tmp_path):
    root = tmp_path / "Maildir"
    source = open_source(f"maildir:{root}")
    assert isinstance(source, MaildirSource) and isinstance(source, Source)
    assert (root / "new").is_dir() and (root / DONE_DIR / "cur").is_dir()
    assert (root / DONE_DIR / "maildirfolder").exists()
    assert list(source.pending()) == [] and source.wait(0.1) is False

    box = mailbox.Maildir(root)
    first, second = _raw(1), _raw(2)
    key1 = box.add(first)
    os.utime(root / "new" / key1, (1, 1))  # older
    msg2 = mailbox.MaildirMessage(second)
    msg2.set_subdir("cur")
    msg2.set_flags("F")
    box.add(msg2)
    # A delivery still in tmp/ is not a message yet.
    (root / "tmp" / "123.partial").write_bytes(b"half")

    assert source.wait(5) is True
    got = list(source.pending())
    assert got[0].data == first  # exactly the stored bytes
    assert [_lf(m.data) for m in got] == [_lf(first), _lf(second)]
    assert got[0].key == f"maildir:{key1}"

    for m in got:
        source.mark_done(m.key)
    source.mark_done(got[0].key)  # already done: harmless
    assert list(source.pending()) == []
    done = sorted(os.listdir(root / DONE_DIR / "cur"))
    assert len(done) == 2 and all(":2," in n and "S" in n.split(":2,")[1] for n in done)
    assert any("F" in n.split(":2,")[1] for n in done)  # flags kept
    assert source.health()["connected"] is True


def test_wait_wakes_on_new_file_and_close(tmp_path):
    source = MaildirSource(tmp_path / "md")
    threading.Timer(0.3, lambda: mailbox.Maildir(tmp_path / "md").add(_raw(3))).start()
    assert source.wait(10) is True
    [msg] = list(source.pending())
    assert source.wait(0.3) is False  # seen, not new
    source.close()
    assert list(source.pending()) == [] and source.wait(5) is False
    assert _lf(msg.data) == _lf(_raw(3))


def test_maildir_shared_with_dovecot(dovecot):
    """Mail delivered by Dovecot (LMTP), taken by MaildirSource, shows in IMAP as "Đã xử lý"."""
    dovecot.add_user("mdshare")
    raw = _raw(4)
    dovecot.deliver("mdshare@angiang.example", raw)
    source = MaildirSource(dovecot.maildir("mdshare"))
    [msg] = list(source.pending())
    assert msg.data.endswith(_lf(raw))
    source.mark_done(msg.key)
    assert dovecot.fetch_all("mdshare", "INBOX") == []
    assert [m.endswith(raw) for m in dovecot.fetch_all("mdshare", "Đã xử lý")] == [True]
