"""Hardening around the service: the systemd units, the start-up warnings, and the session-wide
guard that no log line carries personal data (tests/privacy_guard.py)."""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.privacy_guard import _hit

ROOT = Path(__file__).resolve().parent.parent


def test_the_log_guard_sees_records_and_knows_personal_data(no_personal_data_in_any_log):
    rec = no_personal_data_in_any_log
    before = rec.seen
    logging.getLogger("vaxmail.test").info("processed %s (%d rows)", "VX-3J12N6", 12)
    assert rec.seen == before + 1 and not rec.hits
    for bad in ("phone 0912345678 here", "id 089201123646", "cmnd 351234567", "+84912345678", "84912345678"):
        assert _hit(bad), bad
    for fine in ("VX-3J12N6", "port 54321", "at 1700000000", "sha a14a2e8e5f7c39f953ee4", "127.0.0.1:10025",
                 "2026-11-30 20:30:01", "file id 705a766134"):
        assert not _hit(fine), fine


def test_systemd_units_forbid_core_dumps_and_limit_the_network():
    unit = (ROOT / "systemd" / "vaxmail.service").read_text(encoding="utf-8")
    for line in ("LimitCORE=0", "UMask=0077", "IPAddressDeny=any", "IPAddressAllow=localhost",
                 "PrivateUsers=yes", "StateDirectory=vaxmail vaxmail-key"):
        assert f"\n{line}\n" in unit, line
    web = (ROOT / "systemd" / "vaxmail-web.service").read_text(encoding="utf-8")
    assert "\nLimitCORE=0\n" in web and "\nUMask=0077\n" in web
    tool = shutil.which("systemd-analyze")
    if tool:  # the unit parses (no unknown keys); ExecStart pointed at an existing binary
        tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"vaxmail-verify-{os.getpid()}.service"
        tmp.write_text(unit.replace("/usr/local/bin/vaxmail", "/bin/true"), encoding="utf-8")
        try:
            out = subprocess.run([tool, "verify", str(tmp)], capture_output=True, text=True, timeout=60)
        finally:
            tmp.unlink()
        assert "Unknown key" not in out.stderr and "Unknown lvalue" not in out.stderr, out.stderr


@pytest.mark.slow  # subprocesses or a mail server
def test_a_password_in_a_config_file_others_can_read_is_warned_about_at_start(tmp_path):
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    cfg = tmp_path / "vaxmail.toml"
    cfg.write_text(f'[mailbox]\nurl = "maildir:{maildir}"\n[smtp]\nurl = "smtp://tiemchung:S3cret-pw@127.0.0.1:9"\n'
                   f'[state]\npath = "{tmp_path / "state"}"\n', encoding="utf-8")
    cmd = [sys.executable, "-m", "service.cli", "run", "--config", str(cfg), "--once"]
    results = {}
    for mode in (0o644, 0o600):
        os.chmod(cfg, mode)
        results[mode] = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "người khác đọc được (quyền 644)" in results[0o644].stderr
    assert "người khác đọc được" not in results[0o600].stderr
    for r in results.values():
        assert r.returncode == 0, r.stderr
        assert "S3cret-pw" not in r.stderr + r.stdout
        assert "Chưa xác thực người gửi" in r.stderr  # no [trust]: said at every start
