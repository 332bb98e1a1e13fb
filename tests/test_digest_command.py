"""``vaxmail digest``: --out files, --send through the outbox, the HTML in headless Chromium,
and the digest after the mail pipeline's demo matching what the pipeline recorded."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from argparse import Namespace
from datetime import date, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from email.utils import formatdate, make_msgid
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from PIL import Image

import pytest

from service.state import DB_NAME, open_store
from service.digest import command
from tests.test_digest import D, fill_scenario

pytestmark = pytest.mark.slow  # processes, servers or kills: run them all with plain pytest

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


def _config(tmp_path: Path, smtp: str | None = None) -> Path:
    cfg = tmp_path / "vaxmail.toml"
    text = f'[state]\npath = "{tmp_path / "state"}"\n'
    if smtp:
        text += f'[smtp]\nurl = "{smtp}"\n'
    cfg.write_text(text, encoding="utf-8")
    return cfg


def _filled(tmp_path: Path, smtp: str | None = None) -> Path:
    from service.config import load_settings
    cfg = _config(tmp_path, smtp)
    settings = load_settings(cfg)
    store = open_store(settings.state_dir)
    fill_scenario(store, settings.directory)
    store.close()
    return cfg


def _args(cfg, day=D, out=None, send=False) -> Namespace:
    return Namespace(config=str(cfg), date=day, out=str(out) if out else None, send=send)


def test_out_writes_the_digest_and_chromium_renders_it(tmp_path, capsys):
    cfg = _filled(tmp_path)
    out = tmp_path / "out"
    assert command.run(_args(cfg, out=out)) == 0
    names = {p.name for p in out.iterdir()}
    assert names == {"digest.eml", "digest.html", "digest.txt", "trend.png", "districts.png",
                     "tien-do-tiem-chung-2021-08-25.xlsx"}
    html = (out / "digest.html").read_text(encoding="utf-8")
    assert 'src="trend.png"' in html and 'src="districts.png"' in html and "cid:" not in html
    assert "chuyển 19 người trong ngày, lũy kế 26, đã nhập 9" in capsys.readouterr().out
    eml = message_from_bytes((out / "digest.eml").read_bytes(), policy=default_policy)
    assert eml.get_content_type() == "multipart/mixed"

    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium'}", "--hide-scrollbars", f"--screenshot={shot}",
         "--window-size=420,2000",
         (out / "digest.html").as_uri()],
        check=True, capture_output=True, timeout=120)
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert img.shape == (2000, 420, 3)
    inked = int((img.min(axis=2) < 200).sum())
    assert inked > 20_000  # text, tables and charts, not a blank page
    # the district chart loaded: its dark green "entered" bar is on the page
    green = (np.abs(img - np.array([0x2E, 0x7D, 0x32])).max(axis=2) < 12).sum()
    assert green > 200
    # nothing is wider than the phone: the card ends inside the window, the last column
    # of pixels is the page background all the way down
    assert (img[:, 419] == np.array([0xF4, 0xF5, 0xF7])).all()


def test_send_queues_sends_and_marks_the_day(tmp_path, capsys):
    sent = tmp_path / "sent"
    cfg = _filled(tmp_path, smtp=f"file:{sent}")
    assert command.run(_args(cfg, send=True)) == 0
    files = list(sent.glob("*.eml"))
    assert len(files) == 1
    msg = message_from_bytes(files[0].read_bytes(), policy=default_policy)
    assert msg["X-Vaxmail-Digest"] == "2021-08-25"
    store = open_store(tmp_path / "state")
    try:
        assert store.digest_sent(D)  # the scheduler will not send this day again
    finally:
        store.close()
    # a second manual send is what the operator asked for: it goes out again
    assert command.run(_args(cfg, send=True)) == 0
    assert len(list(sent.glob("*.eml"))) == 2


def test_failures_are_one_line(tmp_path, capsys):
    assert command.run(_args(tmp_path / "missing.toml")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    cfg = _config(tmp_path)  # the state directory does not exist yet
    assert command.run(_args(cfg)) == 2
    err = capsys.readouterr().err
    assert "không tìm thấy thư mục trạng thái" in err and err.count("\n") == 1


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "service.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_after_the_demo_the_digest_matches_the_state(tmp_path):
    demo = tmp_path / "demo"
    done = _cli("demo", "--dir", str(demo), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    cfg = demo / "vaxmail.toml"
    db = demo / "state" / DB_NAME

    def state() -> dict:
        with sqlite3.connect(db) as c:
            day = c.execute("SELECT MAX(day) FROM submissions").fetchone()[0]
            return {
                "day": day,
                "files": c.execute("SELECT COUNT(*) FROM submissions WHERE day=?", (day,)).fetchone()[0],
                "mau1": c.execute("SELECT COALESCE(SUM(rows),0) FROM submissions WHERE day=? AND form='mau1'", (day,)).fetchone()[0],
                "forwarded": c.execute("SELECT COALESCE(SUM(people),0) FROM forwarded_counts WHERE day<=?", (day,)).fetchone()[0],
                "people": c.execute("SELECT COUNT(*) FROM forwarded").fetchone()[0],
                "entered": c.execute("SELECT COALESCE(SUM(rows_confirmed),0) FROM batches").fetchone()[0],
                "held": c.execute("SELECT COUNT(*) FROM held WHERE released_at IS NULL").fetchone()[0],
                "batch": c.execute("SELECT code, recipient, rows_sent FROM batches WHERE rows_sent > 1 "
                                   "ORDER BY code LIMIT 1").fetchone(),
            }

    before = state()
    assert before["forwarded"] == before["people"] > 0 and before["entered"] == 0
    out = tmp_path / "out"
    done = _cli("digest", "--config", str(cfg), "--date", before["day"], "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (out / "digest.txt").read_text(encoding="utf-8")
    dd = date.fromisoformat(before["day"]).strftime("%d/%m/%Y")
    assert f"Nhận {before['files']} lượt gửi" in text
    assert f"(Mẫu 1: {before['mau1']};" in text
    assert f"Đã chuyển {before['forwarded']} người" in text
    assert f": 0 / {before['forwarded']} người (0%)" in text
    assert f"Mục đang giữ chờ cán bộ xử lý: {before['held']}." in text
    assert f"Ngày {dd}" in text and "Chưa gửi lần nào" in text
    for name in ("trend.png", "districts.png", f"tien-do-tiem-chung-{before['day']}.xlsx"):
        assert (out / name).stat().st_size > 1000

    # a receiver replies to its forward: "Đã nhập 1/N" with the tracking code
    code, recipient, rows = before["batch"]
    from service.config import load_settings
    directory = load_settings(cfg).directory
    emails = {f.key: f.email for f in directory.facilities} | {o.key: o.email for o in directory.offices.values()}
    reply = EmailMessage()
    reply["From"] = emails[recipient]
    reply["To"] = "tiemchung@angiang.example"
    reply["Subject"] = f"Re: [{code}] Danh sách"
    reply["Message-ID"] = make_msgid(domain="angiang.example")
    reply["Date"] = formatdate(localtime=True)
    reply.set_content(f"ĐÃ NHẬP 1/{rows}\n")
    (demo / "Maildir" / "new" / "reply.1:2,").write_bytes(bytes(reply))
    done = _cli("run", "--config", str(cfg), "--once", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    after = state()
    assert after["entered"] == 1
    done = _cli("digest", "--config", str(cfg), "--date", before["day"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f": 1 / {before['forwarded']} người" in done.stdout  # the "entered" figure moved
