"""kill -9 at random points through a 200-message run: after restarts every expected
message is sent, each Message-ID once, and nothing is left behind or processed twice."""
from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from email import message_from_bytes
from email.policy import default as default_policy

import pytest

from tests.factory import People, mau1_xlsx, submission
from tests.test_e2e_mail import Daemon, write_config

pytestmark = pytest.mark.slow  # processes, servers or kills: run them all with plain pytest

N = 200
KILLS = 10


def inputs() -> list[tuple[str, bytes]]:
    out = []
    for i in range(N):
        people = People(10_000 + i)
        rows = []
        for j in range(2):
            p = people.person("Thành phố Long Xuyên", "Phường Mỹ Long")
            p["cccd"] = p["cccd"][:6] + f"{i * 2 + j:06d}"  # unique across the run
            rows.append(p)
        mid = f"<crash-{i:03d}@syt.angiang.example>"
        # reply caps are per sender address: one clerk per message keeps every receipt under the cap
        out.append((mid, submission(f"nv{i:03d}@syt.angiang.example", mau1_xlsx("Sở Y tế", rows), message_id=mid,
                                    subject=f"Danh sách số {i}")))
    return out


def test_kill_9_at_random_points_loses_nothing_and_sends_nothing_twice(tmp_path, dovecot, make_smtp_server):
    dovecot.add_user("intake")
    dovecot.create_folder("intake", "CRASH")
    smtp = make_smtp_server()
    cfg = write_config(tmp_path, dovecot.url("intake", folder="CRASH"), smtp.url())
    with open(cfg, "a", encoding="utf-8") as fh:  # one unit sends all 200: not a flood here
        fh.write("[limits]\nforwards_per_unit_day = 1000\n")
    msgs = inputs()
    for _, raw in msgs:
        dovecot.append("intake", "CRASH", raw)
    rng = random.Random(7)
    daemon = Daemon(cfg, tmp_path / "daemon.log")
    kills = 0
    for _ in range(KILLS):
        daemon.start()
        time.sleep(rng.uniform(0.8, 3.0))
        daemon.kill()  # SIGKILL: no chance to clean up
        kills += 1
    daemon.start()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        ids = {message_from_bytes(m.data, policy=default_policy)["Message-ID"] for m in list(smtp.messages)}
        if len(ids) >= 2 * N:
            break
        time.sleep(0.5)
    time.sleep(1.0)  # anything extra would show up now
    assert daemon.term() == 0

    parsed = [message_from_bytes(m.data, policy=default_policy) for m in smtp.messages]
    by_id = Counter(m["Message-ID"] for m in parsed)
    distinct = {m["Message-ID"]: m for m in parsed}
    receipts = [m for m in distinct.values() if m["X-Vaxmail-Kind"] in ("receipt", "error-report")]
    forwards = [m for m in distinct.values() if m["X-Vaxmail-Kind"] == "forward"]
    # one receipt per input message, answering it
    assert sorted(m["In-Reply-To"] for m in receipts) == sorted(mid for mid, _ in msgs), daemon.log_text()[-3000:]
    # one forward per input, carrying the same tracking code as its receipt
    codes = defaultdict(list)
    for m in forwards:
        codes[m["X-Vaxmail-Code"]].append(m)
    assert sorted(codes) == sorted(m["X-Vaxmail-Code"] for m in receipts)
    assert all(len(v) == 1 for v in codes.values())
    assert len(distinct) == 2 * N
    # a Message-ID could reach the server twice only if a kill fell within the milliseconds
    # between the server's OK and the sent journal's fsync: counted by Message-ID and by
    # recipient, every sender got exactly one reply
    resent = sum(c - 1 for c in by_id.values())
    print(f"kill -9 x{kills}: {resent} duplicate sends")
    per_sender = Counter(m["To"] for m in parsed if m["X-Vaxmail-Kind"] in ("receipt", "error-report"))
    assert set(per_sender.values()) == {1} and len(per_sender) == N
    assert resent == 0
    # the mailbox is empty: every message was moved to "Đã xử lý"
    assert dovecot.fetch_all("intake", "CRASH") == []
    assert len(dovecot.fetch_all("intake", "Đã xử lý")) >= N
    assert "Traceback" not in daemon.log_text()
