"""The operator's tools: status, held, release after fixing the directory, folders."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from service.defaults import config_dir
from tests.factory import mau1_xlsx, provincial_people, submission
from tests.outbox_reader import read_outbox
from tests.test_pipeline_samples import write_config

pytestmark = pytest.mark.slow  # processes, servers or kills: run them all with plain pytest

ROOT = Path(__file__).resolve().parent.parent


def vaxmail(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "service.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_an_unknown_sender_is_held_then_released_once_the_directory_knows_it(tmp_path):
    cfg = write_config(tmp_path)
    raw = submission("truong.thpt@gmail.example", mau1_xlsx("Trường THPT Long Xuyên", provincial_people(70, 2)))
    (tmp_path / "Maildir" / "new" / "1.1.test").write_bytes(raw)
    assert vaxmail("run", "--config", str(cfg), "--once").returncode == 0
    assert [m["kind"] for m in read_outbox(tmp_path / "out")] == ["notice-unknown-sender"]

    held = vaxmail("held", "--config", str(cfg))
    (line,) = held.stdout.strip().splitlines()
    held_id, kind = line.split("\t")[:2]
    assert kind == "unknown-sender"

    # the operator adds the school to a copy of the directory and points the settings at it
    directory = (config_dir() / "directory.toml").read_text(encoding="utf-8")
    directory += ('\n[[unit]]\nname = "Trường THPT Long Xuyên"\nlevel = "tinh"\n'
                  'emails = ["truong.thpt@gmail.example"]\n')
    (tmp_path / "directory.toml").write_text(directory, encoding="utf-8")
    with open(cfg, "a", encoding="utf-8") as fh:
        fh.write('[data]\ndirectory = "directory.toml"\n')

    rel = vaxmail("release", "--config", str(cfg), held_id)
    assert rel.returncode == 0, rel.stderr
    assert vaxmail("run", "--config", str(cfg), "--once").returncode == 0
    kinds = sorted(m["kind"] for m in read_outbox(tmp_path / "out"))
    assert kinds == ["forward", "notice-unknown-sender", "receipt"]
    assert vaxmail("held", "--config", str(cfg)).stdout.strip() == "Không có mục nào đang giữ."
    assert vaxmail("release", "--config", str(cfg), held_id).returncode == 1  # already released


def test_status_reports_queues_and_held_items_as_json(tmp_path):
    cfg = write_config(tmp_path)
    (tmp_path / "Maildir" / "new" / "1.1.test").write_bytes(
        submission("someone@gmail.example", mau1_xlsx("X", provincial_people(71, 1))))
    vaxmail("run", "--config", str(cfg), "--once")
    out = vaxmail("status", "--config", str(cfg), "--json")
    assert out.returncode == 0, out.stderr
    st = json.loads(out.stdout)
    assert st["held_open"] == 1
    assert st["incoming_queue"]["new"] == 0
    assert st["mailbox"]["connected"] is True


def test_folders_creates_one_subfolder_per_unit(tmp_path):
    cfg = tmp_path / "v.toml"
    cfg.write_text(f'[folder]\npath = "{tmp_path / "share"}"\n[state]\npath = "{tmp_path / "state"}"\n')
    out = vaxmail("folders", "--config", str(cfg))
    assert out.returncode == 0, out.stderr
    lines = [ln.split("\t") for ln in out.stdout.strip().splitlines()]
    assert len(lines) == 179
    assert ["Sở Y tế", "Sở Y tế"] in lines
    assert ["Long Xuyên - Phường Mỹ Bình", "UBND Phường Mỹ Bình"] in lines
    assert all((tmp_path / "share" / folder).is_dir() for folder, _ in lines)


def test_a_bad_settings_file_is_one_clear_line_not_a_traceback(tmp_path):
    cfg = tmp_path / "v.toml"
    cfg.write_text("[mailbox\nurl = ")
    out = vaxmail("run", "--config", str(cfg), "--once")
    assert out.returncode == 2 and "Traceback" not in out.stderr and "TOML" in out.stderr
    cfg.write_text('[mailbox]\nurl = "pop3://x"\n[state]\npath = "%s"\n' % (tmp_path / "s"))
    out = vaxmail("run", "--config", str(cfg), "--once")
    assert out.returncode == 2 and "Traceback" not in out.stderr
