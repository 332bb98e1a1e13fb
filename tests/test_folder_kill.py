"""kill -9 at random moments while files are dropped: no file lost, none processed twice.

The real daemon (``python -m service.cli run --config F``) runs as a subprocess; drops go
into two unit folders (some copied slowly in chunks) while the process is killed with
SIGKILL and restarted. At the end every file sits in exactly one result folder with its
receipt, and the `file:` outbox holds one forward and one reply per file — no more.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.test_folder import MYBINH, MYLONG, drop, files_under, mau1, rows_of, sent, wait_for, write_config

pytestmark = pytest.mark.slow  # processes, servers or kills: run them all with plain pytest

REPO = Path(__file__).resolve().parent.parent
N_FILES = 14


def start(cfg: Path, log) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "service.cli", "run", "--config", str(cfg)],
                            cwd=REPO, stdout=log, stderr=log)


def placed(share: Path, name: str) -> list[str]:
    return [n for n in files_under(share) if Path(n).name == name]


def test_kill_9_at_random_moments_loses_nothing_and_repeats_nothing(tmp_path):
    rnd = random.Random(int(os.environ.get("VAXMAIL_KILL_SEED", "4")))
    cfg = write_config(tmp_path, mode="inotify")
    share = tmp_path / "share"
    files: dict[str, tuple[Path, bytes, int]] = {}  # name → (unit folder, bytes, valid rows)
    for i in range(N_FILES):
        people = [1000 + 3 * i, 1001 + 3 * i, 1002 + 3 * i]
        bad = {people[0]} if i % 4 == 3 else set()
        folder = share / (MYBINH.folder if i % 2 else MYLONG.folder)
        files[f"Danh sách {i:02d}.xlsx"] = (folder, mau1(people, bad=bad), 3 - len(bad))

    def dropper():
        for n, (name, (folder, data, _)) in enumerate(files.items()):
            if n % 3 == 0:  # a slow copy in chunks
                with open(folder / name, "wb") as fh:
                    for k in range(0, len(data), 2048):
                        fh.write(data[k:k + 2048])
                        fh.flush()
                        time.sleep(0.02)
            else:
                drop(folder, name, data)
            time.sleep(rnd.uniform(0.05, 0.4))

    log = open(tmp_path / "daemon.log", "ab")
    proc = start(cfg, log)
    t = threading.Thread(target=dropper)
    t.start()
    kills = 0
    try:
        deadline = time.monotonic() + 12
        while kills < 6 or t.is_alive():
            time.sleep(rnd.uniform(0.3, 1.6))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            proc = start(cfg, log)
            if time.monotonic() > deadline and not t.is_alive():
                break
        t.join()

        def all_placed():
            return all(len(placed(share, name)) == 1 and "/" in placed(share, name)[0].split("/", 1)[1]
                       for name in files)
        wait_for(all_placed, timeout=40, what="every file processed")
        wait_for(lambda: len(sent(tmp_path)) >= 2 * N_FILES, timeout=20, what="the outbox")
        time.sleep(1.5)  # anything extra would show up now
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=15)
        log.close()
    assert rc == 0
    assert kills >= 6

    for name, (folder, data, valid) in files.items():
        (where,) = placed(share, name)  # exactly one place…
        sub = "Cần sửa" if valid < 3 else "Đã xử lý"
        assert where.startswith(f"{folder.name}/{sub}/")
        assert (share / where).read_bytes() == data  # …holding the whole file
        assert (share / where).with_name(Path(name).stem + " - kết quả.txt").exists()

    msgs = sent(tmp_path)
    assert len({m["mid"] for m in msgs}) == len(msgs) == 2 * N_FILES  # one forward + one reply each
    kinds = Counter(m["kind"] for m in msgs)
    assert kinds["forward"] == N_FILES and kinds["receipt"] + kinds["error-report"] == N_FILES
    assert len({m["code"] for m in msgs if m["kind"] != "forward"}) == N_FILES
    forwarded = sum(rows_of(m["atts"][0][1]) for m in msgs if m["kind"] == "forward")
    assert forwarded == sum(v for _, _, v in files.values())  # nobody forwarded twice
    leftovers = [p for p in (tmp_path / "state" / "queue" / "in").rglob("*") if p.is_file()]
    assert not leftovers
