"""Retention: personal data older than [retention] days is removed from every place that
holds it — exactly what is older, nothing newer — with an audit line of counts only; the
ID-hash key lives outside the state directory once [state] key_file is set."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from service.config import load_settings
from service.intake.maildir import maildirpp_folder_name
from service.retention import purge, summary
from service.state import open_store, store_options
from tests.factory import mau1_xlsx, provincial_people, submission
from tests.test_e2e_mail import users  # noqa: F401  (the Dovecot users fixture)
from tests.test_pipeline_rules import Box

ROOT = Path(__file__).resolve().parent.parent
DAY = 86400


def aged(path: Path, days: float, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(data)
    t = time.time() - days * DAY
    os.utime(path, (t, t))
    return path


def build(tmp_path: Path) -> tuple[Box, dict[str, list[Path]], dict[str, list[Path]]]:
    """A real run (a held unknown sender, a forward), then old and new items in every place."""
    box = Box(tmp_path)
    with open(box.cfg, "a", encoding="utf-8") as fh:
        fh.write(f'[folder]\npath = "{tmp_path / "share"}"\nsettle_seconds = 0.0\n[retention]\ndays = 30\n')
    (tmp_path / "share").mkdir()
    box.drop(submission("stranger@gmail.example", mau1_xlsx("X", provincial_people(71, 1))))
    box.drop(submission("vanthu@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(72, 2))))
    box.run()
    state = tmp_path / "state"
    done = tmp_path / "Maildir" / maildirpp_folder_name("Đã xử lý")
    unit = tmp_path / "share" / "Sở Y tế"
    old = {
        "held": [aged(state / "held" / "VX-OLD001-0.eml", 31)],
        "crash": [aged(state / "crash" / "abc.txt", 40)],
        "parked-in": [aged(state / "queue" / "in" / "bad" / "old-in", 31)],
        "parked-out": [aged(state / "outbox" / "bad" / "old-out", 45)],
        "results": [aged(state / "results" / "VX-OLD002" / "0-receipt", 31).parent],
        "work": [aged(state / "work" / "tmp123.xlsx", 31)],
        "file-outbox": [aged(tmp_path / "out" / "old.eml", 31)],
        "mailbox-done": [aged(done / "cur" / "1600000000.1.old:2,S", 31)],
        "share": [aged(unit / "Đã xử lý" / "2021-08-01" / "DS.xlsx", 1).parent],
    }
    for p in old["results"]:
        os.utime(p, (time.time() - 31 * DAY,) * 2)
    aged(state / "queue" / "in" / "meta" / "old-in.json", 31, b"{}")
    aged(state / "outbox" / "meta" / "old-out.json", 45, b"{}")
    new = {
        "held": sorted((state / "held").glob("VX-*")) and [p for p in (state / "held").iterdir() if "OLD" not in p.name],
        "crash": [aged(state / "crash" / "new.txt", 29)],
        "parked-out": [aged(state / "outbox" / "bad" / "new-out", 1)],
        "file-outbox": [p for p in (tmp_path / "out").glob("*.eml") if p.name != "old.eml"],
        "mailbox-done": [aged(done / "cur" / "1700000000.2.new:2,S", 29.5)],
        "share": [aged(unit / "Cần sửa" / time.strftime("%Y-%m-%d") / "DS2.xlsx", 0).parent],
        "pending": [aged(state / "queue" / "in" / "new" / "waiting", 90)],  # pending work: never
    }
    assert all(new.values()), new
    return box, old, new


@pytest.mark.slow  # subprocesses or a mail server
def test_purge_removes_exactly_what_is_older_than_the_retention_and_nothing_newer(tmp_path):
    box, old, new = build(tmp_path)
    settings = load_settings(box.cfg)
    cli = [sys.executable, "-m", "service.cli", "purge", "--config", str(box.cfg)]
    dry = subprocess.run(cli + ["--dry-run"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "Chạy thử" in dry.stdout and "có 9 mục" in dry.stdout
    assert all(p.exists() for ps in old.values() for p in ps)  # a dry run deletes nothing
    assert summary(settings)["due_for_purge"] == 9
    run = subprocess.run(cli, cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "Đã xóa 9 mục" in run.stdout
    for place, paths in old.items():
        assert not any(p.exists() for p in paths), place
    for place, paths in new.items():
        assert all(p.exists() for p in paths), place
    assert not (tmp_path / "state" / "queue" / "in" / "meta" / "old-in.json").exists()
    store = open_store(tmp_path / "state", **store_options(settings))
    try:
        (event,) = [e for e in store.audit_events(limit=500) if e["event"] == "retention-purge"]
        detail = event["detail"]
        assert detail == {"days": 30, "crash": 1, "file-outbox": 1, "held": 1, "mailbox-done": 1,
                          "parked-in": 1, "parked-out": 1, "results": 1, "share": 1, "work": 1,
                          "held_expired": 0}
        assert "@" not in json.dumps(event)  # counts only: no address, no name, no number
    finally:
        store.close()
    # a second run finds nothing more
    assert purge(settings, None).total == 0


def test_held_items_past_the_retention_forget_their_file_and_sender(tmp_path):
    box, _, _ = build(tmp_path)
    settings = load_settings(box.cfg)
    store = open_store(tmp_path / "state", **store_options(settings))
    try:
        (h,) = store.list_held()
        assert h.sender and h.path
        later = time.time() + 31 * DAY
        assert purge(settings, store, now=later).held_expired == 1
        h2 = store.held_item(h.id)
        assert h2.sender is None and h2.path is None and h2.released_at is not None
        assert not Path(h.path).exists()
    finally:
        store.close()


def test_the_daemon_purges_once_a_day(tmp_path):
    from service.runner import Service
    box, old, _ = build(tmp_path)
    svc = Service(load_settings(box.cfg))
    try:
        assert svc.purge_if_due() is True
        assert not old["held"][0].exists()
        assert svc.purge_if_due() is False  # not again the same day
        assert svc.purge_if_due(now=time.time() + DAY) is True
    finally:
        svc.close()


@pytest.mark.slow
def test_the_id_hash_key_moves_out_of_the_state_directory_and_keeps_matching(tmp_path):
    box = Box(tmp_path)
    people = provincial_people(73, 2)
    box.drop(submission("vanthu@syt.angiang.example", mau1_xlsx("Sở Y tế", people)))
    box.run()
    state = tmp_path / "state"
    old_key = (state / "id-hash.key").read_bytes()
    key_file = tmp_path / "keys" / "id-hash.key"
    text = box.cfg.read_text().replace("[state]\n", f'[state]\nkey_file = "{key_file}"\n', 1)
    box.cfg.write_text(text)
    # the same people again: still recognised as already forwarded (same key, new place)
    box.drop(submission("vanthu@syt.angiang.example", mau1_xlsx("Sở Y tế", people), subject="again"))
    sent = box.run()
    assert not [m for m in sent if m["kind"] == "forward"]
    assert key_file.read_bytes() == old_key and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert not (state / "id-hash.key").exists()
    # a command opening the store without the setting still finds the key (the pointer)
    store = open_store(state)
    try:
        assert store.key_source == "file"
    finally:
        store.close()
    # a systemd credential wins
    cred = tmp_path / "creds"
    cred.mkdir()
    (cred / "id-hash-key").write_bytes(old_key)
    env = dict(os.environ, CREDENTIALS_DIRECTORY=str(cred))
    out = subprocess.run([sys.executable, "-c", "from service.state import open_store; import sys;"
                          f"s = open_store({str(state)!r}); print(s.key_source); s.close()"],
                         cwd=ROOT, capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "credential", out.stderr


@pytest.mark.slow  # subprocesses or a mail server
def test_the_imap_done_folder_is_purged_by_internal_date(users):
    from service.intake.imap import ImapSource
    users.create_folder("intake", "RET-IN")
    now = time.time()
    for days, subject in ((40, "old"), (5, "new")):
        raw = submission("vanthu@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(74, 1)), subject=subject)
        users.append("intake", "RET-DONE", raw, when=now - days * DAY)
    src = ImapSource(users.url("intake", folder="RET-IN"), done_folder="RET-DONE")
    try:
        cutoff = now - 30 * DAY
        assert src.purge_done(cutoff, dry_run=True) == 1
        assert len(users.fetch_all("intake", "RET-DONE")) == 2
        assert src.purge_done(cutoff) == 1
        (left,) = users.fetch_all("intake", "RET-DONE")
        assert b"Subject: new" in left
    finally:
        src.close()
