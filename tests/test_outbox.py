"""The durable outbox against real transports: a folder, and aiosmtpd on a loopback port."""
from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from service.outbox import (
    Outbox, PermanentError, Sender, TransientError, backoff, open_transport, tls_decision,
)
from service.state import open_store


# ---------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def message(n: int, to: str = "ttyt@angiang.example") -> bytes:
    m = EmailMessage()
    m["From"] = "vaxmail@angiang.example"
    m["To"] = to
    m["Subject"] = f"Danh sách đăng ký tiêm số {n}"
    m["Message-ID"] = f"<vx.{n}@angiang.example>"
    m["Auto-Submitted"] = "auto-generated"
    m.set_content(f"Kính gửi Trung tâm Y tế: danh sách số {n}.", cte="quoted-printable")
    return bytes(m)


class Recorder:
    """aiosmtpd handler: keeps every accepted message; refuses chosen recipients."""

    def __init__(self, refuse: dict[str, str] | None = None, reject_data: str | None = None):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse = refuse or {}
        self.reject_data = reject_data

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.reject_data:
            return self.reject_data
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted"

    def message_ids(self) -> list[str]:
        return [BytesParser().parsebytes(raw)["Message-ID"] for _, _, raw in self.messages]


@pytest.fixture
def smtpd():
    started = []

    def start(handler, port=None, **kw):
        c = Controller(handler, hostname="127.0.0.1", port=port or free_port(), **kw)
        c.start()
        started.append(c)
        return c

    yield start
    for c in started:
        try:
            c.stop()
        except Exception:
            pass


@pytest.fixture
def parts(tmp_path):
    store = open_store(tmp_path / "state")
    outbox = Outbox(tmp_path / "state")
    yield store, outbox
    store.close()


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


# ---------------------------------------------------------------------------- file:


def test_file_transport_one_eml_per_message_idempotent(tmp_path, parts):
    store, outbox = parts
    out = tmp_path / "sent"
    for n in range(3):
        outbox.add(message(n), "vaxmail@angiang.example", ["ttyt@angiang.example"], kind="forward")
    outbox.add(message(0), "vaxmail@angiang.example", ["ttyt@angiang.example"])  # same Message-ID
    assert len(outbox) == 3
    sender = Sender(outbox, open_transport(f"file:{out}"), store)
    r = sender.run_once()
    assert (r.sent, r.parked, r.deferred) == (3, 0, 0)
    files = sorted(out.glob("*.eml"))
    assert len(files) == 3
    assert {BytesParser().parsebytes(f.read_bytes())["Message-ID"] for f in files} == {
        f"<vx.{n}@angiang.example>" for n in range(3)}
    # sending the same message again (a re-run after a crash) rewrites the same file
    open_transport(f"file:{out}").send(message(1), "vaxmail@angiang.example", ["x@y"])
    assert len(list(out.glob("*.eml"))) == 3
    assert not list(out.glob(".*"))
    # queued again after it was sent: the store knows, nothing goes twice
    outbox.add(message(2), "vaxmail@angiang.example", ["ttyt@angiang.example"])
    r = sender.run_once()
    assert (r.sent, r.skipped) == (0, 1)
    assert len(outbox) == 0
    assert store.outgoing("<vx.0@angiang.example>").status == "sent"


# ---------------------------------------------------------------------------- smtp://


def test_smtp_delivers_to_aiosmtpd(parts, smtpd):
    store, outbox = parts
    h = Recorder()
    c = smtpd(h)
    for n in range(5):
        outbox.add(message(n), "vaxmail@angiang.example", ["a@angiang.example", "b@angiang.example"])
    r = Sender(outbox, open_transport(f"smtp://127.0.0.1:{c.port}"), store).run_once()
    assert r.sent == 5
    assert sorted(h.message_ids()) == sorted(f"<vx.{n}@angiang.example>" for n in range(5))
    assert all(rc == ["a@angiang.example", "b@angiang.example"] for _, rc, _ in h.messages)
    assert store.sent_rcpts("<vx.3@angiang.example>") == {"a@angiang.example", "b@angiang.example"}


@pytest.mark.slow
def test_smtp_down_then_back_delivers_each_message_once(parts, smtpd):
    store, outbox = parts
    port = free_port()  # nothing listens yet: the server is down
    for n in range(10):
        outbox.add(message(n), "vaxmail@angiang.example", ["ttyt@angiang.example"])
    clock = [time.time()]
    sender = Sender(outbox, open_transport(f"smtp://127.0.0.1:{port}", timeout=5), store,
                    clock=lambda: clock[0])
    r = sender.run_once()
    assert r.sent == 0 and r.deferred == 1 and r.stopped  # stops at the dead server
    clock[0] += 1
    sender.run_once()
    st = sender.status()
    assert (st.pending, st.parked) == (10, 0) and st.deferred == 2
    assert "127.0.0.1" in st.last_error
    first = [e for e in outbox.pending() if e.attempts][0]
    assert first.last_error and first.not_before > clock[0]

    h = Recorder()
    smtpd(h, port=port)  # back up
    r = sender.run_once()
    assert r.sent == 8  # the two deferred wait for their backoff
    clock[0] += backoff(1) + 1
    r = sender.run_once()
    assert r.sent == 2
    assert len(outbox) == 0
    ids = h.message_ids()
    assert len(ids) == 10 and len(set(ids)) == 10
    assert sender.status().last_sent_at is not None


def test_crash_after_server_ok_is_not_sent_again(tmp_path, parts, smtpd):
    store, outbox = parts
    h = Recorder()
    c = smtpd(h)
    outbox.add(message(1), "vaxmail@angiang.example", ["a@angiang.example"])
    # what a crash between the server's OK + the store's record and ``done`` leaves behind
    entry = outbox.queue.claim()
    open_transport(f"smtp://127.0.0.1:{c.port}").send(entry.data, "vaxmail@angiang.example",
                                                       ["a@angiang.example"])
    store.mark_sent("<vx.1@angiang.example>", ["a@angiang.example"])
    restarted = Outbox(tmp_path / "state")
    assert restarted.recover() == 1
    r = Sender(restarted, open_transport(f"smtp://127.0.0.1:{c.port}"), store).run_once()
    assert (r.sent, r.skipped) == (0, 1)
    assert len(h.messages) == 1 and len(restarted) == 0


def test_5xx_parks_at_once_and_retry_requeues(parts, smtpd):
    store, outbox = parts
    h = Recorder(reject_data="554 5.7.1 Nội dung bị từ chối")
    c = smtpd(h)
    outbox.add(message(1), "vaxmail@angiang.example", ["a@angiang.example"])
    sender = Sender(outbox, open_transport(f"smtp://127.0.0.1:{c.port}"), store)
    r = sender.run_once()
    assert (r.sent, r.parked) == (0, 1)
    parked = sender.list_parked()
    assert len(parked) == 1 and "554" in parked[0].reason
    assert store.outgoing("<vx.1@angiang.example>").status == "parked"
    assert sender.status().parked == 1
    h.reject_data = None
    assert sender.retry() == 1
    assert sender.run_once().sent == 1
    assert len(h.messages) == 1 and sender.status().parked == 0


def test_partial_refusal_parks_a_copy_for_the_refused(parts, smtpd):
    store, outbox = parts
    h = Recorder(refuse={"gone@angiang.example": "550 5.1.1 Không có hộp thư",
                         "full@angiang.example": "452 4.2.2 Hộp thư đầy"})
    c = smtpd(h)
    outbox.add(message(7), "vaxmail@angiang.example",
               ["ok@angiang.example", "gone@angiang.example", "full@angiang.example"])
    clock = [time.time()]
    sender = Sender(outbox, open_transport(f"smtp://127.0.0.1:{c.port}"), store, clock=lambda: clock[0])
    r = sender.run_once()
    assert (r.sent, r.parked) == (1, 1)
    assert [rc for _, rc, _ in h.messages] == [["ok@angiang.example"]]
    parked = sender.list_parked()
    assert [p.meta["rcpts"] for p in parked] == [["gone@angiang.example"]]
    assert "550" in parked[0].reason
    assert store.outgoing("<vx.7@angiang.example>").status == "partial"
    # the temporarily refused recipient gets its own copy later
    del h.refuse["full@angiang.example"]
    clock[0] += backoff(1) + 1
    assert sender.run_once().sent == 1
    assert [rc for _, rc, _ in h.messages] == [["ok@angiang.example"], ["full@angiang.example"]]
    assert store.sent_rcpts("<vx.7@angiang.example>") == {"ok@angiang.example", "full@angiang.example"}


def test_all_recipients_refused_permanently_raises(smtpd):
    c = smtpd(Recorder(refuse={"x@angiang.example": "550 no such user"}))
    t = open_transport(f"smtp://127.0.0.1:{c.port}")
    with pytest.raises(PermanentError) as e:
        t.send(message(1), "vaxmail@angiang.example", ["x@angiang.example"])
    assert e.value.refused["x@angiang.example"][0] == 550
    t.close()


def test_give_up_after_the_configured_days(parts):
    store, outbox = parts
    outbox.add(message(1), "vaxmail@angiang.example", ["a@angiang.example"])
    clock = [time.time()]
    sender = Sender(outbox, open_transport(f"smtp://127.0.0.1:{free_port()}", timeout=5), store,
                    clock=lambda: clock[0], give_up_after=86400)
    assert sender.run_once().deferred == 1
    clock[0] += 86400 + 1
    r = sender.run_once()
    assert r.parked == 1
    assert "1 ngày" in sender.list_parked()[0].reason


def test_backoff_schedule():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(50) == 3600


# ---------------------------------------------------------------------------- TLS and AUTH


def _auth(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"vaxmail" and auth_data.password == b"m\xe1\xba\xadt kh\xe1\xba\xa9u"
    return AuthResult(success=True) if ok else AuthResult(success=False, handled=False)


def test_starttls_and_auth_with_self_signed_cert(tmp_path, parts, smtpd):
    store, outbox = parts
    cert, key = self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    h = Recorder()
    c = smtpd(h, tls_context=server_ctx, require_starttls=True, authenticator=_auth,
              auth_required=True, auth_require_tls=True)
    url = f"smtp://vaxmail:m%E1%BA%ADt%20kh%E1%BA%A9u@127.0.0.1:{c.port}"
    outbox.add(message(1), "vaxmail@angiang.example", ["a@angiang.example"])
    r = Sender(outbox, open_transport(url, cafile=str(cert)), store).run_once()
    assert r.sent == 1 and len(h.messages) == 1

    # a wrong password: the message waits, the round stops, the operator sees why
    outbox.add(message(2), "vaxmail@angiang.example", ["a@angiang.example"])
    bad = open_transport(f"smtp://vaxmail:wrong@127.0.0.1:{c.port}", cafile=str(cert))
    r = Sender(outbox, bad, store).run_once()
    assert r.deferred == 1 and "đăng nhập" in r.stopped

    # a certificate from another CA is refused when a cafile is configured
    (tmp_path / "other").mkdir()
    other, _ = self_signed(tmp_path / "other")
    with pytest.raises(TransientError) as e:
        open_transport(url, cafile=str(other)).send(message(3), "v@angiang.example", ["a@angiang.example"])
    assert "TLS" in e.value.message and e.value.connection


def test_smtps_from_the_first_byte(tmp_path, parts, smtpd):
    store, outbox = parts
    cert, key = self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    h = Recorder()
    c = smtpd(h, ssl_context=server_ctx)
    outbox.add(message(1), "vaxmail@angiang.example", ["a@angiang.example"])
    r = Sender(outbox, open_transport(f"smtps://127.0.0.1:{c.port}", cafile=str(cert)), store).run_once()
    assert r.sent == 1 and len(h.messages) == 1


def test_plain_smtp_refused_off_loopback():
    assert tls_decision("smtp.angiang.example", offers_starttls=False) == "refuse"
    assert tls_decision("10.0.0.5", offers_starttls=False) == "refuse"
    assert tls_decision("smtp.angiang.example", offers_starttls=True) == "starttls"
    assert tls_decision("127.0.0.1", offers_starttls=False) == "plain"
    assert tls_decision("localhost", offers_starttls=False) == "plain"
    assert tls_decision("::1", offers_starttls=False) == "plain"
    assert tls_decision("127.0.0.1", offers_starttls=True) == "starttls"


def test_sender_stops_when_asked(parts, tmp_path):
    store, outbox = parts
    for n in range(3):
        outbox.add(message(n), "v@angiang.example", ["a@angiang.example"])
    stop = threading.Event()
    stop.set()
    r = Sender(outbox, open_transport(f"file:{tmp_path / 'out'}"), store).run_once(stop)
    assert r.sent == 0 and len(outbox) == 3


SENDER_CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from service.outbox import Outbox, Sender, open_transport
from service.outbox.transport import FileTransport
from service.state import open_store

class Slow(FileTransport):
    def send(self, data, envelope_from, rcpts):
        out = super().send(data, envelope_from, rcpts)
        print("sent", flush=True)
        time.sleep(0.02)
        return out

state = Path({state!r})
Sender(Outbox(state), Slow(Path({out!r})), open_store(state)).run_once()
print("finished", flush=True)
"""


@pytest.mark.slow
def test_sigkill_while_sending_then_restart_delivers_each_once(tmp_path, parts):
    import os
    import signal
    import subprocess
    import sys

    store, outbox = parts
    for n in range(40):
        outbox.add(message(n), "vaxmail@angiang.example", ["ttyt@angiang.example"])
    root = str(Path(__file__).resolve().parents[1])
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-c", SENDER_CHILD.format(root=root, state=str(tmp_path / "state"), out=str(out))],
        stdout=subprocess.PIPE, text=True)
    for _ in range(5):
        assert child.stdout.readline().strip() == "sent"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert 5 <= len(list(out.glob("*.eml"))) < 40

    restarted = Outbox(tmp_path / "state")
    assert restarted.recover() == 1  # the message in hand
    r = Sender(restarted, open_transport(f"file:{out}"), store).run_once()
    assert r.parked == r.deferred == 0
    assert len(restarted) == 0
    files = list(out.glob("*.eml"))
    assert len(files) == 40
    assert len({BytesParser().parsebytes(f.read_bytes())["Message-ID"] for f in files}) == 40


def test_an_accepted_send_is_journaled_before_the_store_and_never_sent_again(tmp_path):
    """The store is locked by another connection (the pipeline's long transaction) when the
    server says 250: the acceptance is in the journal at once, the send fails to index, and
    a fresh sender (after a restart) skips the message instead of sending it again."""
    import sqlite3
    from service.outbox.journal import SentJournal
    from service.outbox.spool import Outbox
    from service.outbox.transport import open_transport
    from service.outbox.sender import Sender
    from service.state import open_store

    state = tmp_path / "state"
    store = open_store(state, busy_timeout_ms=300)
    outbox = Outbox(state)
    raw = (b"From: a@angiang.example\r\nTo: b@angiang.example\r\nSubject: x\r\n"
           b"Message-ID: <j-1@angiang.example>\r\n\r\nhello\r\n")
    outbox.add(raw, "a@angiang.example", ["b@angiang.example"], message_id="<j-1@angiang.example>")
    out = tmp_path / "out"
    sender = Sender(outbox, open_transport(f"file:{out}"), store)
    db = next(p for p in state.iterdir() if p.suffix in (".db", ".sqlite"))
    blocker = sqlite3.connect(db, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")  # another thread's long write transaction
    try:
        try:
            sender.run_once()
        except Exception:  # noqa: BLE001 - the store could not be written: that is the point
            pass
        assert SentJournal(outbox.queue.dir / "sent.journal").sent_rcpts(
            "<j-1@angiang.example>") == {"b@angiang.example"}
    finally:
        blocker.rollback()
        blocker.close()
    sender.close()
    outbox.recover()  # the restart
    import time
    again = Sender(outbox, open_transport(f"file:{out}"), store, clock=lambda: time.time() + 3600)
    r = again.run_once()
    again.close()
    assert r.sent == 0 and r.skipped == 1
    assert len(list(out.glob("*.eml"))) == 1
    assert store.sent_rcpts("<j-1@angiang.example>") == {"b@angiang.example"}  # indexed later
