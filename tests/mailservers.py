"""Real mail servers for tests: a private Dovecot (IMAP + LMTP) and an aiosmtpd SMTP server.

The fixtures are registered for every test module by tests/conftest.py:

    pytest_plugins = ["tests.mailservers"]

`dovecot` (session) and `fresh_dovecot` (per test, for tests that stop/restart the server) are
`Dovecot` objects:

    dovecot.url("intake")                  imap://intake:pw-intake@127.0.0.1:PORT/INBOX
    dovecot.password("intake")             pw-intake (every fixed user: "pw-" + name)
    dovecot.add_user("alice", "secret")    adds an IMAP login (LMTP already accepts any local part)
    dovecot.append("intake", "INBOX", raw) APPEND as that user (folder created when missing)
    dovecot.fetch_all("cdc")               raw bytes of every message in a folder, in UID order
    dovecot.folders("intake")              folder names (decoded)
    dovecot.deliver("cdc@angiang.example", raw, mail_from="x@y")   one LMTP transaction
    dovecot.stop() / start() / restart()   for fault tests (same ports)

Every local part is a mailbox (static userdb, catch-all), so mail to any
`someone@angiang.example` delivered through LMTP lands in user `someone`; fixtures read any
mailbox through a Dovecot master login. Only users with a password (the fixed set below and
`add_user`) can log in themselves.

`smtp_server` is an `SmtpServer` (aiosmtpd) on a free loopback port that records every message
(`.messages`: list of `Received(mail_from, rcpt_tos, data)`) and delivers each recipient into
the session `dovecot` via LMTP. `make_smtp_server(mode="starttls", users={"u": "p"}, deliver_to=...)`
builds others: mode "plain" | "starttls" (STARTTLS required, AUTH only after TLS) | "smtps".
`.stop()`/`.start()` take it down and bring it back on the same port. `tls_cert` is a
self-signed certificate for 127.0.0.1/localhost: `(cert_path, key_path)`; clients use
cert_path as their CA file.
"""
from __future__ import annotations

import asyncio
import imaplib
import os
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

MAIL_UID = 65534
FIXED_USERS = ("intake", "cdc", "ttyt", "vhtt", "sotttt", "leader", "operator", "unit")
MASTER_USER = "fixturemaster"
MASTER_PASSWORD = "fixture-master-pw"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.01)
    return False


def _end_group(pgid: int) -> None:
    """End what is left of a process group this module started (Dovecot's imap, log, stats
    processes outlive the master: a real restart must drop the client connections too)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _live_members(pgid):
        time.sleep(0.01)


def _live_members(pgid: int) -> list[int]:
    """Members of the group that are still running (orphaned zombies do not count)."""
    live = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            live.append(int(entry))
    return live


def _short_tempdir(prefix: str) -> Path:
    # Unix sockets in base_dir are limited to 108 characters: keep the path short.
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)  # Dovecot's auth process must read the users file.
    return path


def _imap_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------- Dovecot

DOVECOT_CONF = """\
instance_name = {instance}
base_dir = {root}/run
state_dir = {root}/state
log_path = /dev/stderr
info_log_path = /dev/stderr
protocols = imap lmtp
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
auth_master_user_separator = *
mail_location = maildir:~/Maildir
mail_uid = {uid}
mail_gid = {uid}
first_valid_uid = {first_uid}
first_valid_gid = 0
postmaster_address = postmaster@angiang.example
hostname = dovecot.test
lmtp_save_to_detail_mailbox = no
{nonroot}
passdb {{
  driver = passwd-file
  master = yes
  args = scheme=PLAIN {root}/master-users
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%Ln {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={root}/mail/%Ln allow_all_users=yes
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
  {chroot}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
service anvil {{
  {chroot}
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
auth_failure_delay = 0

"""

NONROOT_SETTINGS = """\
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
"""


class DovecotError(RuntimeError):
    pass


class Dovecot:
    def __init__(self, root: Path | None = None, *, tls: tuple[Path, Path] | None = None):
        """tls=(cert, key) turns on STARTTLS and an imaps listener (`imaps_port`)."""
        self.root = root or _short_tempdir("vxd-")
        self.tls = tls
        self.imaps_port = free_port() if tls else 0
        self.imap_port = free_port()
        self.lmtp_port = free_port()
        self.host = "127.0.0.1"
        self.proc: subprocess.Popen | None = None
        self._stderr_path = self.root / "dovecot.log"
        self._stderr = None
        self._passwords: dict[str, str] = {}
        self._write_config()
        for name in FIXED_USERS:
            self.add_user(name)  # not running yet: no need to wait

    # ----- configuration
    def _write_config(self) -> None:
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(exist_ok=True)
        as_root = os.geteuid() == 0
        uid = MAIL_UID if as_root else os.geteuid()
        if as_root:
            os.chown(self.root / "mail", MAIL_UID, MAIL_UID)
        import grp
        import pwd

        nonroot = "" if as_root else NONROOT_SETTINGS.format(
            user=pwd.getpwuid(os.geteuid()).pw_name, group=grp.getgrgid(os.getegid()).gr_name)
        conf = DOVECOT_CONF.format(
            instance=f"vxd{self.imap_port}", root=self.root, uid=uid,
            first_uid=min(uid, 500), imap_port=self.imap_port, lmtp_port=self.lmtp_port,
            nonroot=nonroot, chroot="" if as_root else "chroot =", imaps_port=self.imaps_port,
            ssl=(f"ssl = yes\nssl_cert = <{self.tls[0]}\nssl_key = <{self.tls[1]}"
                 if self.tls else "ssl = no"))
        self.conf = self.root / "dovecot.conf"
        self.conf.write_text(conf)
        (self.root / "master-users").write_text(f"{MASTER_USER}:{{PLAIN}}{MASTER_PASSWORD}\n")
        (self.root / "users").write_text("")
        # Dovecot's auth process (user dovecot) reads these: readable whatever the umask is.
        for name in ("master-users", "users"):
            (self.root / name).chmod(0o644)
        self.conf.chmod(0o644)

    def add_user(self, name: str, password: str | None = None) -> str:
        """Give `name` an IMAP login (Dovecot re-reads the users file when it changes)."""
        name = name.lower()
        password = password if password is not None else f"pw-{name}"
        if ":" in password or "\n" in password:
            raise ValueError("passwords in the users file cannot contain ':' or newlines")
        self._passwords[name] = password
        lines = [f"{user}:{{PLAIN}}{pw}::::::" for user, pw in self._passwords.items()]
        tmp = self.root / "users.tmp"
        tmp.write_text("\n".join(lines) + "\n")
        tmp.chmod(0o644)
        os.replace(tmp, self.root / "users")
        if self.running:
            self._wait_for_login(name, password)
        return password

    def _wait_for_login(self, name: str, password: str) -> None:
        """Dovecot re-reads the users file at most once a second: wait until it knows `name`."""
        deadline = time.monotonic() + 5
        while True:
            client = imaplib.IMAP4(self.host, self.imap_port, timeout=10)
            try:
                client.login(name, password)
                client.logout()
                return
            except imaplib.IMAP4.error:
                client.shutdown()
                if time.monotonic() > deadline:
                    raise DovecotError(f"Dovecot does not accept the new user {name!r}:\n{self.log()}")
                time.sleep(0.1)

    def password(self, user: str) -> str:
        return self._passwords[user.lower()]

    def url(self, user: str, folder: str = "INBOX", *, scheme: str = "imap") -> str:
        pw = self.password(user)
        port = self.imaps_port if scheme == "imaps" else self.imap_port
        return (f"{scheme}://{quote(user, safe='')}:{quote(pw, safe='')}@{self.host}:{port}/"
                f"{quote(folder, safe='')}")

    def maildir(self, user: str) -> Path:
        return self.root / "mail" / user.lower() / "Maildir"

    def log(self) -> str:
        try:
            return self._stderr_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    # ----- process control
    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self._stderr = open(self._stderr_path, "ab")
        self.proc = subprocess.Popen(
            ["dovecot", "-F", "-c", str(self.conf)],
            stdout=self._stderr, stderr=self._stderr, start_new_session=True)
        ok = (wait_for_port(self.imap_port, 10, self.proc)
              and wait_for_port(self.lmtp_port, 10, self.proc))
        if not ok:
            self.stop()
            raise DovecotError(f"Dovecot did not start (exit {self.proc.returncode}):\n{self.log()}")
        # First login proves the auth process works.
        deadline = time.monotonic() + 10
        while True:
            try:
                self._master_login("intake").logout()
                break
            except (OSError, imaplib.IMAP4.error) as exc:
                if time.monotonic() > deadline:
                    self.stop()
                    raise DovecotError(f"Dovecot login failed: {exc}\n{self.log()}") from exc
                time.sleep(0.05)

    def stop(self, *, kill: bool = False) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if proc is not None:
            _end_group(proc.pid)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        # Wait until the ports are free again so start() can bind them.
        for port in (self.imap_port, self.lmtp_port, self.imaps_port):
            if not port:
                continue
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        pass
                    time.sleep(0.02)
                except OSError:
                    break

    def restart(self, *, kill: bool = False) -> None:
        self.stop(kill=kill)
        self.start()

    def cleanup(self) -> None:
        self.stop(kill=True)
        shutil.rmtree(self.root, ignore_errors=True)

    # ----- mailbox access (through a master login: works for every local part)
    def _master_login(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.imap_port, timeout=10)
        try:
            client.login(f"{user.lower()}*{MASTER_USER}", MASTER_PASSWORD)
        except Exception:
            try:
                client.shutdown()
            except OSError:
                pass
            raise
        return client

    def _session(self, user: str):
        if not self.running:
            raise DovecotError("Dovecot is not running")
        return _Session(self._master_login(user))

    def folders(self, user: str) -> list[str]:
        from imap_tools.imap_utf7 import utf7_decode

        with self._session(user) as c:
            typ, data = c.list()
            names = []
            for line in data:
                if not line:
                    continue
                raw = line.rsplit(b' "." ', 1)[-1].strip()
                if raw.startswith(b'"') and raw.endswith(b'"'):
                    raw = raw[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
                names.append(utf7_decode(raw))
            return sorted(names)

    def create_folder(self, user: str, folder: str) -> None:
        with self._session(user) as c:
            c._simple_command("CREATE", _folder_arg(folder))

    def delete_folder(self, user: str, folder: str) -> None:
        with self._session(user) as c:
            typ, data = c._simple_command("DELETE", _folder_arg(folder))
            if typ != "OK":
                raise DovecotError(f"DELETE {folder!r} failed: {data}")

    def append(self, user: str, folder: str, raw: bytes, flags: str | None = None,
               when: float | None = None) -> None:
        """APPEND ``raw``; ``when`` (epoch seconds) sets the message's internal date."""
        with self._session(user) as c:
            if folder.upper() != "INBOX":
                c._simple_command("CREATE", _folder_arg(folder))  # NO when it exists: fine
            date = imaplib.Time2Internaldate(when) if when is not None else None
            typ, data = c.append(_folder_arg(folder), flags, date, raw)
            if typ != "OK":
                raise DovecotError(f"APPEND to {folder!r} failed: {data}")

    def fetch_all(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """Raw bytes of every message in the folder, in UID order ([] if the folder is absent)."""
        with self._session(user) as c:
            typ, _ = c.select(_folder_arg(folder), readonly=True)
            if typ != "OK":
                return []
            typ, data = c.uid("SEARCH", "ALL")
            uids = data[0].split() if data and data[0] else []
            out = []
            for uid in uids:
                typ, data = c.uid("FETCH", uid, "(BODY.PEEK[])")
                for item in data:
                    if isinstance(item, tuple):
                        out.append(item[1])
            return out

    def flags_all(self, user: str, folder: str = "INBOX") -> list[str]:
        with self._session(user) as c:
            typ, _ = c.select(_folder_arg(folder), readonly=True)
            if typ != "OK":
                return []
            typ, data = c.uid("FETCH", "1:*", "(FLAGS)")
            return [d.decode() for d in data if d]

    def deliver(self, rcpt: str, raw: bytes, mail_from: str = "sender@angiang.example") -> None:
        with smtplib.LMTP(self.host, self.lmtp_port, timeout=10) as lmtp:
            lmtp.sendmail(mail_from, [rcpt], raw)


def _folder_arg(folder: str) -> str:
    from imap_tools.imap_utf7 import utf7_encode

    return _imap_quote(utf7_encode(folder).decode("ascii"))


class _Session:
    def __init__(self, client: imaplib.IMAP4):
        self.client = client

    def __enter__(self) -> imaplib.IMAP4:
        return self.client

    def __exit__(self, *exc) -> None:
        try:
            self.client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


# --------------------------------------------------------------------------- TLS certificate

def make_self_signed_cert(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60)
    key.chmod(0o644)
    return cert, key


# --------------------------------------------------------------------------- SMTP (aiosmtpd)

@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    auth_user: str | None = None
    tls: bool = False


WORKBOOK_PROBLEMS: list[str] = []  # macros/links/formulas seen in any message the SMTP servers got


@dataclass
class _Handler:
    owner: "SmtpServer"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        auth = session.auth_data
        auth_user = None
        if auth is not None:
            login = getattr(auth, "login", None)
            auth_user = login.decode() if isinstance(login, bytes) else login
        # the workbooks are inspected when the server's fixture ends (inspect_sent), not here:
        # a slow DATA handler widens the window in which a client killed after its final dot
        # never sees the 250 of a message the server keeps (RFC 1047), which the kill -9
        # tests count as a duplicate
        msg = Received(envelope.mail_from, list(envelope.rcpt_tos), data, auth_user,
                       tls=server.transport.get_extra_info("ssl_object") is not None)
        target = self.owner.deliver_to
        if target is not None:
            loop = asyncio.get_running_loop()
            for rcpt in msg.rcpt_tos:  # one LMTP transaction per recipient
                try:
                    await loop.run_in_executor(None, target.deliver, rcpt, data, msg.mail_from or "<>")
                except Exception as exc:  # noqa: BLE001 - the client sees a temporary failure
                    return f"451 4.3.0 LMTP delivery failed: {type(exc).__name__}"
        with self.owner.lock:
            self.owner.messages.append(msg)
        return "250 2.0.0 OK"


class SmtpServer:
    def __init__(self, *, mode: str = "plain", users: dict[str, str] | None = None,
                 deliver_to: Dovecot | None = None, cert: tuple[Path, Path] | None = None):
        if mode not in ("plain", "starttls", "smtps"):
            raise ValueError(mode)
        if mode != "plain" and cert is None:
            raise ValueError("TLS modes need a certificate")
        self.mode = mode
        self.users = dict(users or {})
        self.deliver_to = deliver_to
        self.cert = cert
        self.host = "127.0.0.1"
        self.port = free_port()
        self.messages: list[Received] = []
        self.lock = threading.Lock()
        self.auth_failures = 0
        self._controller = None

    def url(self, user: str | None = None) -> str:
        scheme = "smtps" if self.mode == "smtps" else "smtp"
        cred = ""
        if user is not None:
            cred = f"{quote(user, safe='')}:{quote(self.users[user], safe='')}@"
        return f"{scheme}://{cred}{self.host}:{self.port}"

    def _authenticator(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
            if login in self.users and self.users[login] == password:
                return AuthResult(success=True, auth_data=auth_data)
        self.auth_failures += 1
        return AuthResult(success=False, handled=False)

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        if self._controller is not None:
            return
        kwargs: dict = {}
        if self.mode != "plain":
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(str(self.cert[0]), str(self.cert[1]))
            if self.mode == "starttls":
                kwargs.update(tls_context=ctx, require_starttls=True)
            else:
                kwargs.update(ssl_context=ctx)
        if self.users:
            kwargs.update(authenticator=self._authenticator, auth_required=True,
                          auth_require_tls=self.mode != "plain")
        else:
            kwargs.update(auth_require_tls=False)
        controller = Controller(_Handler(self), hostname=self.host, port=self.port,
                                server_hostname="smtp.test", ready_timeout=10, **kwargs)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    pass
                time.sleep(0.02)
            except OSError:
                break

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        """Block until at least `count` messages arrived (returns them; fewer on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        with self.lock:
            return list(self.messages)


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session", autouse=True)
def no_formulas_in_any_workbook_sent():
    """Every workbook the service sent to a test SMTP server in this session was clean."""
    yield
    assert not WORKBOOK_PROBLEMS, WORKBOOK_PROBLEMS[:10]


@pytest.fixture(scope="session")
def dovecot():
    server = Dovecot()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def fresh_dovecot():
    server = Dovecot()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def tls_cert():
    directory = _short_tempdir("vxc-")
    try:
        yield make_self_signed_cert(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def tls_dovecot(tls_cert):
    """A Dovecot of its own with STARTTLS and imaps (certificate: tls_cert)."""
    server = Dovecot(tls=tls_cert)
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def make_smtp_server(tls_cert):
    servers: list[SmtpServer] = []

    def make(*, mode: str = "plain", users: dict[str, str] | None = None,
             deliver_to: Dovecot | None = None) -> SmtpServer:
        server = SmtpServer(mode=mode, users=users, deliver_to=deliver_to,
                            cert=tls_cert if mode != "plain" else None)
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
        inspect_sent(server)


def inspect_sent(server: SmtpServer) -> None:
    """Note macros/links/formulas in any workbook this server received (checked at session end)."""
    from tests.outbox_reader import workbook_problems
    with server.lock:
        received = list(server.messages)
    for msg in received:
        WORKBOOK_PROBLEMS.extend(workbook_problems(msg.data))


@pytest.fixture
def smtp_server(make_smtp_server, dovecot):
    return make_smtp_server(deliver_to=dovecot)
