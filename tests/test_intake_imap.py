"""ImapSource against a real Dovecot: IDLE push, UID sweep, done folder, restarts, UIDVALIDITY."""
import threading
import time
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from service.intake import open_source
from service.intake.imap import ImapSource
from service.intake.source import Source

DONE = "Đã xử lý"
_counter = iter(range(1, 10_000))


def _raw(subject: str = "Danh sách tiêm") -> bytes:
    n = next(_counter)
    msg = EmailMessage()
    msg["From"] = "Xã Mỹ Hòa <xa.myhoa@angiang.example>"
    msg["To"] = "intake@angiang.example"
    msg["Subject"] = f"{subject} {n}"
    msg["Message-ID"] = f"<imap-test-{n}-{time.time_ns()}@angiang.example>"
    msg.set_content("Gửi danh sách.\n")
    return msg.as_bytes(policy=SMTP)


@pytest.fixture
def user(dovecot):
    """A mailbox of its own for each test on the shared server."""
    name = f"u{next(_counter)}"
    dovecot.add_user(name)
    return name


def test_idle_push_pending_and_mark_done(dovecot, user):
    source = ImapSource(dovecot.url(user), idle_cycle=5)
    assert isinstance(source, Source)
    try:
        assert list(source.pending()) == []
        raw = _raw()
        threading.Timer(0.3, dovecot.append, (user, "INBOX", raw)).start()
        started = time.monotonic()
        assert source.wait(30) is True
        print(f"IDLE push after {time.monotonic() - started:.2f} s")  # measured ~0.8 s
        messages = list(source.pending())
        assert [m.data for m in messages] == [raw]  # exact bytes
        assert messages[0].key.startswith("imap:") and messages[0].key.endswith(":1")
        # Fetching did not mark it \Seen.
        assert "\\Seen" not in " ".join(dovecot.flags_all(user))
        source.mark_done(messages[0].key)
        assert dovecot.fetch_all(user, "INBOX") == []
        assert dovecot.fetch_all(user, DONE) == [raw]
        assert list(source.pending()) == []
        health = source.health()
        assert health["connected"] and health["last_round_trip"]
        assert "pw-" not in str(health)
    finally:
        source.close()
    assert source.health()["connected"] is False


def test_oldest_first_and_wait_sees_mail_that_came_before(dovecot, user):
    raws = [_raw() for _ in range(3)]
    for raw in raws:
        dovecot.append(user, "INBOX", raw)
    source = open_source(dovecot.url(user))
    try:
        assert source.wait(0) is True  # already waiting: no IDLE needed
        got = list(source.pending())
        assert [m.data for m in got] == raws
        # Not marked done: still pending, but wait() does not report them as new again.
        assert source.wait(0.5) is False
        assert [m.data for m in source.pending()] == raws
        for m in got:
            source.mark_done(m.key)
        source.mark_done(got[0].key)  # twice: harmless
        assert len(dovecot.fetch_all(user, DONE)) == 3
    finally:
        source.close()


@pytest.mark.slow
def test_server_restart_between_calls(fresh_dovecot):
    d = fresh_dovecot
    source = ImapSource(d.url("intake"), idle_cycle=5)
    try:
        first = _raw()
        d.append("intake", "INBOX", first)
        [msg] = list(source.pending())
        d.restart()
        second = _raw()
        d.append("intake", "INBOX", second)
        # The dead connection is noticed and replaced within the same call.
        source.mark_done(msg.key)
        assert [m.data for m in source.pending()] == [second]
        assert source.health()["reconnects"] >= 1

        # Down for a while: calls return quietly, then it comes back.
        d.stop(kill=True)
        assert list(source.pending()) == []
        assert source.wait(0.2) is False
        assert source.health()["connected"] is False
        assert "Connection" in source.health()["last_error"]
        third = _raw()
        d.start()
        d.append("intake", "INBOX", third)
        deadline = time.monotonic() + 30
        got = []
        while time.monotonic() < deadline and third not in got:
            source.wait(2)
            got = [m.data for m in source.pending()]
        assert got == [second, third]
        assert d.fetch_all("intake", DONE) == [first]
    finally:
        source.close()


@pytest.mark.slow
def test_uidvalidity_change_gives_new_keys(dovecot, user):
    folder = "Hộp thư đến"
    dovecot.create_folder(user, folder)
    source = ImapSource(dovecot.url(user, folder), idle_cycle=5)
    try:
        old = _raw()
        dovecot.append(user, folder, old)
        [first] = list(source.pending())
        dovecot.delete_folder(user, folder)
        time.sleep(1.1)  # Dovecot derives UIDVALIDITY from the clock
        dovecot.create_folder(user, folder)
        new = _raw()
        dovecot.append(user, folder, old)
        dovecot.append(user, folder, new)
        got = list(source.pending())
        if not got:  # the deletion cost the connection; the next call reconnects
            got = list(source.pending())
        assert [m.data for m in got] == [old, new]
        assert got[0].key != first.key
        health = source.health()
        assert health["uidvalidity_changes"] == 1
        assert str(health["uidvalidity"]) == got[0].key.split(":")[1]
        source.mark_done(first.key)  # stale key: left alone, no exception
        assert source.health()["stale_keys"] == 1
        assert len(dovecot.fetch_all(user, folder)) == 2
        for m in got:
            source.mark_done(m.key)
        assert dovecot.fetch_all(user, folder) == []
    finally:
        source.close()


def test_done_folder_impossible_falls_back_to_flags(dovecot, user):
    raw = _raw()
    dovecot.append(user, "INBOX", raw)
    # Dovecot refuses this name: "Name must not have '/' characters"
    source = ImapSource(dovecot.url(user), done_folder="a/b")
    try:
        [msg] = list(source.pending())
        source.mark_done(msg.key)
        assert source.health()["mark_done_fallbacks"] == 1
        assert dovecot.fetch_all(user) == [raw]  # still there, but flagged
        flags = " ".join(dovecot.flags_all(user))
        assert "\\Seen" in flags and "$VaxmailDone" in flags
        assert list(source.pending()) == []
    finally:
        source.close()


@pytest.mark.slow
def test_close_interrupts_wait(dovecot, user):
    source = ImapSource(dovecot.url(user), idle_cycle=60)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("r", source.wait(120)))
    thread.start()
    time.sleep(0.5)
    source.close()
    thread.join(15)
    assert not thread.is_alive() and result["r"] is False
    assert list(source.pending()) == [] and source.wait(5) is False


def test_wrong_password_backs_off_without_raising(dovecot, user):
    url = dovecot.url(user).replace(f":{dovecot.password(user)}@", ":sai-mat-khau@")
    source = ImapSource(url)
    try:
        assert list(source.pending()) == []
        assert source.wait(0.1) is False
        health = source.health()
        assert health["connected"] is False and health["retry_in"] > 0
        assert "sai-mat-khau" not in str(health)
    finally:
        source.close()


def test_imaps_and_starttls_with_private_ca(tls_dovecot, tls_cert):
    d = tls_dovecot
    raw = _raw()
    d.append("intake", "INBOX", raw)
    for source in (ImapSource(d.url("intake", scheme="imaps"), cafile=str(tls_cert[0])),
                   ImapSource(d.url("intake"), cafile=str(tls_cert[0]), starttls=True)):
        try:
            assert [m.data for m in source.pending()] == [raw]
        finally:
            source.close()
    # Without the CA the certificate is refused: nothing is read, nothing raises.
    untrusted = ImapSource(d.url("intake", scheme="imaps"))
    try:
        assert list(untrusted.pending()) == []
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.health()["last_error"]
    finally:
        untrusted.close()
