"""End to end against a real Dovecot (IMAP) and a real SMTP server (aiosmtpd): the daemon
as systemd runs it, messages APPENDed to the intake mailbox, forwards arriving at the
receivers' mailboxes; the IMAP server restarted, the SMTP server down and back, SIGTERM."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from tests.factory import mau1_xlsx, provincial_people, submission

pytestmark = pytest.mark.slow  # processes, servers or kills: run them all with plain pytest

ROOT = Path(__file__).resolve().parent.parent


def write_config(tmp: Path, imap_url: str, smtp_url: str, **extra) -> Path:
    cfg = tmp / "vaxmail.toml"
    lines = [f'[mailbox]\nurl = "{imap_url}"\nidle_cycle_seconds = 20\nsweep_seconds = 5\ntimeout_seconds = 10',
             f'[smtp]\nurl = "{smtp_url}"\nretry_base_seconds = 1',
             f'[state]\npath = "{tmp / "state"}"']
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cfg


class Daemon:
    def __init__(self, cfg: Path, log: Path):
        self.cfg, self.log = cfg, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.fh = open(self.log, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "service.cli", "run", "--config", str(self.cfg)],
                                     cwd=ROOT, stdout=self.fh, stderr=subprocess.STDOUT)

    def term(self, timeout: float = 15) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.fh.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.fh.close()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until(pred, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(step)
    return pred()


def kinds(messages) -> list[str]:
    return [message_from_bytes(m.data, policy=default_policy)["X-Vaxmail-Kind"] for m in messages]


@pytest.fixture
def users(dovecot):
    for u in ("intake", "cdc", "stttt", "vanthu"):
        dovecot.add_user(u)
    for folder in ("INBOX", "Đã xử lý"):
        try:
            for _ in dovecot.fetch_all("intake", folder):
                pass
        except Exception:  # noqa: BLE001
            pass
    return dovecot


def test_append_to_forward_and_receipt_then_sigterm_exits_cleanly(tmp_path, users, make_smtp_server):
    smtp = make_smtp_server(deliver_to=users)
    cfg = write_config(tmp_path, users.url("intake", folder="E2E1"), smtp.url())
    users.create_folder("intake", "E2E1")
    daemon = Daemon(cfg, tmp_path / "daemon.log")
    daemon.start()
    try:
        raw = submission("vanthu@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(1, 5)))
        users.append("intake", "E2E1", raw)
        got = smtp.wait_for(2, timeout=60)
        assert sorted(kinds(got)) == ["forward", "receipt"], daemon.log_text()
        fw = next(m for m in got if b"X-Vaxmail-Kind: forward" in m.data)
        assert sorted(fw.rcpt_tos) == ["cdc@angiang.example", "stttt@angiang.example"]
        # delivered for real into the receivers' mailboxes via LMTP
        assert wait_until(lambda: users.fetch_all("cdc"), 10)
        # the processed message left the inbox for "Đã xử lý"
        assert wait_until(lambda: not users.fetch_all("intake", "E2E1"), 10)
    finally:
        started = time.monotonic()
        rc = daemon.term()
        elapsed = time.monotonic() - started
    assert rc == 0 and elapsed < 15, daemon.log_text()
    assert "Traceback" not in daemon.log_text()


def test_imap_restart_and_smtp_outage_lose_nothing(tmp_path, users, make_smtp_server):
    smtp = make_smtp_server()
    users.create_folder("intake", "E2E2")
    cfg = write_config(tmp_path, users.url("intake", folder="E2E2"), smtp.url())
    daemon = Daemon(cfg, tmp_path / "daemon.log")
    daemon.start()
    try:
        users.append("intake", "E2E2", submission("vanthu@syt.angiang.example",
                                                 mau1_xlsx("Sở Y tế", provincial_people(2, 3))))
        assert len(smtp.wait_for(2, timeout=60)) == 2, daemon.log_text()
        # the IMAP server goes away and comes back
        users.restart()
        users.append("intake", "E2E2", submission("vanthu@syt.angiang.example",
                                                 mau1_xlsx("Sở Y tế", provincial_people(3, 3))))
        assert len(smtp.wait_for(4, timeout=90)) == 4, daemon.log_text()
        # the SMTP server goes away: the work is done and waits in the outbox
        smtp.stop()
        users.append("intake", "E2E2", submission("vanthu@syt.angiang.example",
                                                 mau1_xlsx("Sở Y tế", provincial_people(4, 3))))
        assert wait_until(lambda: not users.fetch_all("intake", "E2E2"), 60), daemon.log_text()
        smtp.start()
        got = smtp.wait_for(6, timeout=90)
        assert len(got) == 6, daemon.log_text()
    finally:
        rc = daemon.term()
    assert rc == 0
    ids = [message_from_bytes(m.data, policy=default_policy)["Message-ID"] for m in smtp.messages]
    assert len(ids) == len(set(ids)) == 6
    assert "Traceback" not in daemon.log_text()


def test_a_message_too_large_to_take_is_fetched_as_headers_and_answered(tmp_path, users):
    from service.intake.imap import TRUNCATED_HEADER, ImapSource
    from service.config import load_settings
    from service.runner import Service
    from tests.test_pipeline_samples import write_config as maildir_config

    users.create_folder("intake", "BIG")
    raw = submission("vanthu@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(9, 40)),
                     subject="Danh sách rất lớn")
    users.append("intake", "BIG", raw)
    src = ImapSource(users.url("intake", folder="BIG"), max_message_bytes=len(raw) // 2)
    try:
        (msg,) = list(src.pending())
    finally:
        src.close()
    assert msg.data.startswith(TRUNCATED_HEADER.encode()) and len(msg.data) < len(raw) // 2
    # the pipeline answers it as too large instead of reading an attachment it does not have
    cfg = maildir_config(tmp_path)
    (tmp_path / "Maildir" / "new" / "1.1.test").write_bytes(msg.data)
    svc = Service(load_settings(cfg))
    try:
        svc.run_once()
    finally:
        svc.close()
    from tests.outbox_reader import read_outbox
    (notice,) = read_outbox(tmp_path / "out")
    assert notice["kind"] == "notice-unsupported" and "quá lớn" in notice["text"]
