"""The durable queue: states, idempotent keys, backoff, parking, crash recovery."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from service.queue import Queue

ROOT = Path(__file__).resolve().parents[1]


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_put_claim_done_and_modes(tmp_path):
    q = Queue(tmp_path, "work")
    name = q.put(b"hello", meta={"kind": "x"})
    for sub in ("tmp", "new", "claimed", "bad", "meta"):
        assert mode(tmp_path / "work" / sub) == 0o700
    assert mode(tmp_path / "work") == 0o700
    assert mode(tmp_path / "work" / "new" / name) == 0o600
    assert mode(tmp_path / "work" / "meta" / f"{name}.json") == 0o600
    assert len(q) == 1
    e = q.claim()
    assert e is not None and e.data == b"hello" and e.meta == {"kind": "x"} and e.state == "claimed"
    assert q.claim() is None
    assert q.counts() == {"new": 0, "claimed": 1, "bad": 0}
    q.done(e)
    assert len(q) == 0
    assert list((tmp_path / "work" / "meta").iterdir()) == []


def test_oldest_first(tmp_path):
    q = Queue(tmp_path, "q")
    names = [q.put(f"m{i}".encode()) for i in range(5)]
    got = []
    while (e := q.claim()) is not None:
        got.append(e.name)
        q.done(e)
    assert got == names


def test_idempotent_put_by_key(tmp_path):
    q = Queue(tmp_path, "q")
    a = q.put(b"one", key="<abc@x>", meta={"n": 1})
    b = q.put(b"two", key="<abc@x>", meta={"n": 2})
    assert a == b and len(q) == 1
    e = q.claim()
    assert e.data == b"one" and e.key == "<abc@x>" and e.meta == {"n": 1}
    assert q.put(b"three", key="<abc@x>") == a  # still one while claimed
    assert len(q) == 1
    q.park(e, "hỏng")
    assert q.put(b"four", key="<abc@x>") == a  # and while parked
    assert len(q) == 1
    assert q.put(b"plain", key="simple-key") == "simple-key"


def test_release_with_backoff_and_attempts(tmp_path):
    q = Queue(tmp_path, "q")
    q.put(b"x", key="k")
    now = time.time()
    e = q.claim(now=now)
    q.release(e, delay=60, error="tạm lỗi", now=now)
    assert q.claim(now=now + 30) is None
    e2 = q.claim(now=now + 61)
    assert e2 is not None and e2.attempts == 1 and e2.last_error == "tạm lỗi"
    assert abs(e2.not_before - (now + 60)) < 1e-3
    q.release(e2, delay=0, now=now + 61)
    e3 = q.claim(now=now + 62)
    assert e3.attempts == 2


def test_a_released_entry_does_not_block_others(tmp_path):
    q = Queue(tmp_path, "q")
    q.put(b"a", key="a")
    q.put(b"b", key="b")
    now = time.time() + 1
    a = q.claim(now=now)
    q.release(a, delay=3600, now=now)
    b = q.claim(now=now)
    assert b.name == "b"
    assert q.claim(now=now) is None


def test_park_list_and_unpark(tmp_path):
    q = Queue(tmp_path, "q")
    q.put(b"x", key="k1")
    q.put(b"y", key="k2")
    for _ in range(2):
        e = q.claim()
        q.release(e, delay=0)
    e = q.claim()
    q.park(e, "Máy chủ từ chối (550)")
    parked = q.entries_in("bad")
    assert [p.reason for p in parked] == ["Máy chủ từ chối (550)"]
    assert parked[0].data in (b"x", b"y")
    assert q.counts() == {"new": 1, "claimed": 0, "bad": 1}
    assert q.unpark() == 1
    back = q.find(parked[0].name)
    assert back.state == "new" and back.attempts == 0 and back.reason is None
    assert q.unpark("nope") == 0


def test_put_parked_directly_and_delayed(tmp_path):
    q = Queue(tmp_path, "q")
    q.put(b"x", key="p", park_reason="từ chối")
    q.put(b"y", key="d", delay=600)
    assert q.counts() == {"new": 1, "claimed": 0, "bad": 1}
    assert q.claim() is None
    assert q.claim(now=time.time() + 601).name == "d"


def test_recover_moves_claimed_back_and_clears_tmp(tmp_path):
    q = Queue(tmp_path, "q")
    q.put(b"x", key="a")
    q.claim()
    (tmp_path / "q" / "tmp" / ".torn.tmp").write_bytes(b"half")
    (tmp_path / "q" / "meta" / "ghost.json").write_text("{}")
    q2 = Queue(tmp_path, "q")  # a new process after a crash
    assert q2.recover() == 1
    assert list((tmp_path / "q" / "tmp").iterdir()) == []
    assert not (tmp_path / "q" / "meta" / "ghost.json").exists()
    e = q2.claim()
    assert e.data == b"x" and e.key == "a"


CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from service.queue import Queue
    q = Queue(Path({path!r}), "q")
    for i in range(20):
        q.put(("payload-%d" % i).encode() * 100, key="item-%d" % i)
    for _ in range(5):
        q.claim()
    print("ready", flush=True)
    i = 20
    while True:  # keep writing until killed: the kill lands mid-put
        q.put(("payload-%d" % i).encode() * 100, key="item-%d" % i)
        i += 1
""")


def test_sigkill_between_put_and_done_loses_nothing(tmp_path):
    script = CHILD.format(root=str(ROOT), path=str(tmp_path))
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL

    q = Queue(tmp_path, "q")
    assert q.counts()["claimed"] == 5
    assert q.recover() == 5
    assert q.counts()["claimed"] == 0
    assert list((tmp_path / "q" / "tmp").iterdir()) == []
    seen = set()
    while (e := q.claim()) is not None:
        i = int(e.key.split("-")[1])
        assert e.data == (f"payload-{i}").encode() * 100  # never a torn entry
        seen.add(i)
        q.done(e)
    assert set(range(20)) <= seen
    assert seen == set(range(max(seen) + 1))  # no gaps: every completed put survived
