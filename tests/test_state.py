"""The SQLite store: transactions, keyed ID hashes, dedupe, rate limits, holds, stats."""
from __future__ import annotations

import re
import stat
import threading
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from service.state import Submission, incoming_key, normalise_code, open_store

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "state")
    yield s
    s.close()


def ts(y, m, d, h=9):
    return datetime(y, m, d, h, tzinfo=VN).timestamp()


def sub(store, key, **kw) -> Submission:
    code = store.tracking_code(key)
    base = dict(code=code, incoming_key=key, source="mail", sender="vp@ubnd-myhoa.angiang.example",
                status="forwarded", received_at=ts(2021, 8, 25), unit_key="ubnd-my-hoa",
                district_code=883, file_name="mau1.xlsx", form="mau1", rows=10, valid_rows=8,
                error_count=3, error_counts={"phone-invalid": 2, "dob-future": 1})
    base.update(kw)
    return Submission(**base)


def test_files_are_private(tmp_path):
    s = open_store(tmp_path / "state")
    s.set_value("x", 1)
    d = tmp_path / "state"
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    for f in d.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    assert {f.name for f in d.iterdir()} >= {"state.db", "id-hash.key"}
    s.close()


def test_incoming_claimed_once_and_code_stable(tmp_path):
    s = open_store(tmp_path / "st")
    key = incoming_key("<abc@unit.example>", b"file bytes")
    assert s.claim_incoming(key) is True
    code = s.tracking_code(key)
    assert re.fullmatch(r"VX-[0-9A-HJKMNP-TV-Z]{6}", code)
    assert s.claim_incoming(key) is True  # crashed before mark: process again, same code
    assert s.tracking_code(key) == code
    s.mark_incoming(key, "forwarded", code)
    assert s.claim_incoming(key) is False
    assert s.incoming_outcome(key) == "forwarded"
    s.close()
    s2 = open_store(tmp_path / "st")
    assert s2.tracking_code(key) == code and s2.claim_incoming(key) is False
    # the same code is derived in a fresh store (a re-run from scratch)
    s3 = open_store(tmp_path / "other")
    assert s3.tracking_code(key) == code
    assert normalise_code(" vx 7k3o9d ") == "VX-7K309D"


def test_transaction_is_atomic(store):
    key = incoming_key("<m1@x>", b"a")
    s = sub(store, key)
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.record_submission(s)
            store.record_forwarded(s.code, "mau1", "ttyt-cho-moi", ["079200001234", "089300004321"],
                                   district_code=883)
            store.note_reply("a@b.example", "2021-08-25")
            store.mark_incoming(key, "forwarded", s.code)
            raise RuntimeError("crash")
    assert store.submission(s.code) is None
    assert store.already_forwarded(["079200001234"], "mau1") == {}
    assert store.count_replies("a@b.example", "2021-08-25") == 0
    assert store.incoming_outcome(key) is None
    assert store.batches(s.code) == []
    # nested blocks join the outer transaction; a caught inner failure undoes only itself
    with store.transaction():
        store.record_submission(s)
        try:
            with store.transaction():
                store.note_reply("a@b.example", "2021-08-25")
                raise ValueError
        except ValueError:
            pass
        store.mark_incoming(key, "forwarded", s.code)
    assert store.submission(s.code).error_counts == {"dob-future": 1, "phone-invalid": 2}
    assert store.count_replies("a@b.example", "2021-08-25") == 0
    assert store.incoming_outcome(key) == "forwarded"


def test_already_forwarded_with_exclude_and_keyed_hashes(store):
    a, b = sub(store, "k-a"), sub(store, "k-b")
    ids = ["089200001111", "089300002222", "351234567"]
    hashes = [store.id_hash(i) for i in ids]
    assert all(len(h) == 64 for h in hashes) and len(set(hashes)) == 3
    assert store.id_hash("0892 0000 1111") == hashes[0]
    assert store.record_forwarded(a.code, "mau1", "ttyt-cho-moi", hashes[:2], district_code=883) == 2
    # a re-run (or a second recipient) cannot forward the same person twice on a form
    assert store.record_forwarded(a.code, "mau1", "ttyt-cho-moi", hashes[:2]) == 0
    assert store.already_forwarded(hashes, "mau1") == {hashes[0]: a.code, hashes[1]: a.code}
    assert store.already_forwarded(hashes, "mau1", exclude_submission=a.code) == {}
    assert store.already_forwarded(hashes, "mau1", exclude_submission=b.code) == {
        hashes[0]: a.code, hashes[1]: a.code}
    assert store.already_forwarded(hashes, "mau2") == {}  # key is (person, form)
    # clear numbers are hashed by the store and answered in the caller's values
    assert store.already_forwarded(ids, "mau1") == {ids[0]: a.code, ids[1]: a.code}
    store.record_forwarded(b.code, "mau2", "bv-da-khoa", [ids[2]])
    assert store.already_forwarded([hashes[2]], "mau2") == {hashes[2]: b.code}
    assert store.batches(a.code)[0].rows_sent == 2


def test_clear_id_numbers_never_reach_the_database(tmp_path):
    s = open_store(tmp_path / "st")
    ids = [f"0892{n:08d}" for n in range(500)]
    c = s.tracking_code("k")
    s.record_forwarded(c, "mau1", "ttyt", ids, district_code=883)
    s.audit("forwarded", c, {"rows": 500})
    raw = b"".join(p.read_bytes() for p in (tmp_path / "st").iterdir() if p.name.startswith("state.db"))
    assert len(s.already_forwarded(ids, "mau1")) == 500
    for i in ids[:50] + ids[-5:]:
        assert i.encode() not in raw
    # another state directory has another secret: hashes cannot be matched across installations
    other = open_store(tmp_path / "st2")
    assert other.id_hash(ids[0]) != s.id_hash(ids[0])
    h = s.id_hash(ids[0])
    s.close()
    again = open_store(tmp_path / "st")  # the secret is kept: same hashes after a restart
    assert again.id_hash(ids[0]) == h
    assert again.already_forwarded(ids[:3], "mau1").keys() == set(ids[:3])


def test_reply_rate_limit(store):
    assert store.count_replies("A@X.example", date(2021, 8, 25)) == 0
    assert store.note_reply("A@X.example", date(2021, 8, 25)) == 1
    assert store.note_reply("a@x.example", "2021-08-25") == 2
    assert store.count_replies("a@x.example", "2021-08-25") == 2
    assert store.count_replies("a@x.example", "2021-08-26") == 0


def test_hold_list_release(store):
    h1 = store.hold("unknown-sender", "Người gửi không có trong danh bạ", "/s/held/1.eml",
                    key="k1", sender="la@x.example", at=ts(2021, 8, 25))
    assert store.hold("unknown-sender", "lần nữa", "/s/held/1.eml", key="k1") == h1  # idempotent
    h2 = store.hold("unreadable", "Tệp không đọc được", "/s/held/2.xlsx", key="k2", unit_key="u",
                    district_code=883, at=ts(2021, 8, 26))
    assert [h.id for h in store.list_held()] == [h1, h2]
    assert store.list_held()[0].reason == "lần nữa"  # the latest run's words
    assert store.release(h1) is True and store.release(h1) is False
    assert [h.id for h in store.list_held()] == [h2]
    assert len(store.list_held(include_released=True)) == 2
    assert store.held_stats("2021-08-25", "2021-08-25") == {"unknown-sender": 1, "open": 1}


def test_a_hold_that_recurs_after_release_is_open_again_and_settle_resolves_the_rest(store):
    code = store.tracking_code("k1")
    a = store.hold("unknown-facility", "2 dòng", "/s/held/a.xlsx", key="k1")
    b = store.hold("reply-cap", "vượt", None, key="k1")
    assert store.held_item(a).code == code and store.list_held()[0].code == code
    assert store.release(a) and store.release(b)
    # processed again: the facility is still unknown (1 row now), the reply went out
    assert store.hold("unknown-facility", "1 dòng", None, key="k1") == a
    assert store.settle_held("k1", {"unknown-facility"}) == []
    again = store.held_item(a)
    assert again.released_at is None and again.reason == "1 dòng" and again.path == "/s/held/a.xlsx"
    assert store.held_item(b).released_at is not None
    assert store.settle_held("k1", set()) == [a]
    assert store.list_held() == []


def test_console_accounts_lock_out_and_sessions_end_on_password_change(store):
    assert store.add_user("lan", "operator", "h1") and not store.add_user("lan", "leader", "h2")
    u = store.user("lan")
    assert (u.role, u.disabled, u.failures, u.generation) == ("operator", False, 0, 0)
    for n in range(2):
        u = store.note_login("lan", False, max_failures=3, lock_seconds=60, at=1000.0 + n)
    assert u.failures == 2 and u.locked_until is None
    u = store.note_login("lan", False, max_failures=3, lock_seconds=60, at=1002.0)
    assert u.locked_until == 1062.0 and u.failures == 0
    u = store.note_login("lan", True, max_failures=3, lock_seconds=60, at=2000.0)
    assert u.locked_until is None and u.last_login == 2000.0
    assert store.update_user("lan", password_hash="h3") and store.user("lan").generation == 1
    assert store.update_user("lan", role="leader") and store.user("lan").generation == 1
    assert store.update_user("lan", disabled=True) and store.user("lan").generation == 2
    assert not store.update_user("nobody", disabled=True)
    assert [x.name for x in store.users()] == ["lan"]


def test_lookups_by_code_unit_sender_and_person(store):
    s = sub(store, "k")
    store.record_submission(s)
    store.record_forwarded(s.code, "mau1", "cdc", ["089190000001"], district_code=883,
                           unit_key="ubnd-my-hoa", at=ts(2021, 8, 25))
    store.note_outgoing("<m1@x>", "forward", ["cdc@x.example"], ref=s.code, at=ts(2021, 8, 25))
    assert store.code_for_key("k") == s.code and store.code_for_key("nope") is None
    assert [o.message_id for o in store.outgoing_for(s.code)] == ["<m1@x>"]
    assert [o.message_id for o in store.recent_outgoing()] == ["<m1@x>"]
    assert [x.code for x in store.unit_submissions("ubnd-my-hoa")] == [s.code]
    assert [x.code for x in store.sender_submissions("VP@ubnd-myhoa.angiang.example")] == [s.code]
    (f,) = store.forwardings("089 190 000 001")
    assert (f.form, f.code, f.recipient, f.sent_at) == ("mau1", s.code, "cdc", ts(2021, 8, 25))
    assert store.forwardings(store.id_hash("089190000001"))[0].code == s.code
    assert store.forwardings("089190000002") == []


def test_confirm_batches(store):
    s = sub(store, "k")
    store.record_forwarded(s.code, "mau2", "bv-a", ["1" * 64, "2" * 64, "3" * 64])
    store.record_forwarded(s.code, "mau2", "bv-b", ["4" * 64])
    b = store.confirm(s.code, "bv-a", 2)
    assert (b.rows_sent, b.rows_confirmed) == (3, 2) and b.confirmed_at
    assert store.confirm(s.code, "bv-b").rows_confirmed == 1  # None = everything sent
    assert store.confirm(s.code, "bv-a", 99).rows_confirmed == 3
    assert store.confirm("VX-NONE00", "bv-a") is None


def test_outbox_index_digest_audit_kv(store):
    store.note_outgoing("<m1@x>", "receipt", ["a@x", "b@x"], ref="VX-1")
    assert store.outgoing("<m1@x>").status == "queued"
    store.mark_sent("<m1@x>", ["a@x"])
    assert store.sent_rcpts("<m1@x>") == {"a@x"}
    store.mark_outgoing("<m1@x>", "partial", "b@x (550 no)")
    o = store.outgoing("<m1@x>")
    assert (o.status, o.rcpts, o.last_error, o.ref) == ("partial", ["a@x", "b@x"], "b@x (550 no)", "VX-1")
    assert not store.digest_sent(date(2021, 8, 25))
    store.mark_digest_sent(date(2021, 8, 25), "<d@x>")
    assert store.digest_sent("2021-08-25")
    store.audit("held", "VX-1", {"kind": "unknown-sender"})
    assert store.audit_events("VX-1")[0]["detail"] == {"kind": "unknown-sender"}
    store.set_value("imap.uidvalidity", {"INBOX": 42})
    assert store.get_value("imap.uidvalidity") == {"INBOX": 42}
    assert store.get_value("missing", 7) == 7


def test_stats_for_the_digest(store):
    d1, d2 = ts(2021, 8, 25), ts(2021, 8, 26)
    a = sub(store, "a", received_at=d1)
    b = sub(store, "b", received_at=d1, form="mau2", rows=4, valid_rows=4, error_count=0,
            error_counts={}, status="forwarded")
    c = sub(store, "c", received_at=d2, unit_key="ubnd-long-xuyen", district_code=883, status="answered",
            rows=5, valid_rows=0, error_count=5, error_counts={"phone-invalid": 5})
    for s in (a, b, c):
        store.record_submission(s)
    store.record_forwarded(a.code, "mau1", "ttyt-883", [f"{i:064x}" for i in range(8)],
                           district_code=883, unit_key="ubnd-my-hoa", at=d1)
    store.record_forwarded(b.code, "mau2", "bv-1", [f"{i:064x}" for i in range(100, 104)],
                           district_code=883, unit_key="ubnd-my-hoa", at=d1)
    rows = store.unit_stats("2021-08-25", "2021-08-25")
    assert len(rows) == 1
    r = rows[0]
    assert (r.files, r.rows_mau1, r.rows_mau2, r.valid_rows, r.error_rows) == (2, 10, 4, 12, 2)
    assert (r.forwarded_mau1, r.forwarded_mau2, r.files_forwarded) == (8, 4, 2)
    assert [x.unit_key for x in store.unit_stats("2021-08-25", "2021-08-26")] == ["ubnd-my-hoa", "ubnd-long-xuyen"]
    assert store.error_stats("2021-08-25", "2021-08-26") == {"phone-invalid": 7, "dob-future": 1}
    assert [(t.form, t.people) for t in store.forwarded_totals()] == [("mau1", 8), ("mau2", 4)]
    assert store.forwarded_totals("2021-08-24") == []
    store.confirm(a.code, "ttyt-883", 8)
    rs = {x.recipient: x for x in store.recipient_stats("2021-08-25", "2021-08-26")}
    assert (rs["ttyt-883"].rows_confirmed, rs["ttyt-883"].unconfirmed_batches) == (8, 0)
    assert (rs["bv-1"].rows_sent, rs["bv-1"].unconfirmed_batches, rs["bv-1"].oldest_unconfirmed) == (4, 1, d1)
    assert store.last_submission_by_unit() == {"ubnd-my-hoa": d1, "ubnd-long-xuyen": d2}


@pytest.mark.slow
def test_threads_share_a_store(store):
    errors = []

    def work(n):
        try:
            for i in range(50):
                store.note_reply(f"t{n}@x", "2021-08-25")
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [store.count_replies(f"t{n}@x", "2021-08-25") for n in range(4)] == [50] * 4


@pytest.mark.slow
def test_bulk_forwarded_100k(store, capsys):
    """100,000 people in one batch, then one lookup of 100,000: numbers reported, not asserted."""
    s = sub(store, "bulk")
    ids = [f"0892{n:08d}" for n in range(100_000)]
    t0 = time.perf_counter()
    hashes = [store.id_hash(i) for i in ids]
    t1 = time.perf_counter()
    with store.transaction():
        n = store.record_forwarded(s.code, "mau1", "ttyt-883", hashes, district_code=883, unit_key="u")
    t2 = time.perf_counter()
    found = store.already_forwarded(hashes, "mau1", exclude_submission="VX-OTHER")
    t3 = time.perf_counter()
    assert n == 100_000 and len(found) == 100_000
    with capsys.disabled():
        print(f"\n  hash 100k: {t1 - t0:.3f}s  record_forwarded 100k: {t2 - t1:.3f}s  "
              f"already_forwarded 100k: {t3 - t2:.3f}s")


STORE_CHILD = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from service.state import Submission, open_store
s = open_store(Path({path!r}))
i = 0
while True:
    key = "item-%d" % i
    code = s.tracking_code(key)
    with s.transaction():
        s.record_submission(Submission(code=code, incoming_key=key, source="mail", sender="a@x",
                                       status="forwarded", received_at=1629860000.0, form="mau1",
                                       rows=300, valid_rows=300))
        s.record_forwarded(code, "mau1", "ttyt", ["%d-%d" % (i, n) for n in range(300)])
        s.mark_incoming(key, "forwarded", code)
    i += 1
    if i == 3:
        print("ready", flush=True)
"""


def test_sigkill_mid_transaction_leaves_all_or_nothing(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    child = subprocess.Popen([sys.executable, "-c", STORE_CHILD.format(root=root, path=str(tmp_path / "st"))],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    time.sleep(0.2)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    s = open_store(tmp_path / "st")
    done = 0
    for i in range(100_000):
        key = f"item-{i}"
        outcome = s.incoming_outcome(key)
        code = s.tracking_code(key)
        if outcome is None:
            assert s.submission(code) is None and s.batches(code) == []
            assert s.already_forwarded([f"{i}-0", f"{i}-299"], "mau1") == {}
            break
        assert s.submission(code).rows == 300
        assert len(s.already_forwarded([f"{i}-{n}" for n in range(300)], "mau1")) == 300
        done += 1
    assert done >= 3


def test_an_item_with_two_files_keeps_one_row_per_file(store):
    a = sub(store, "two-files", file_name="mau1.xlsx")
    b = sub(store, "two-files", file_name="mau2.xls", form="mau2", status="partial")
    with store.transaction():
        store.record_submission(a)
        store.record_submission(b)
        store.record_submission(b)  # a re-run writes the same rows again
    assert a.code == b.code
    assert [s.file_name for s in store.submissions(a.code)] == ["mau1.xlsx", "mau2.xls"]
    assert store.submission(a.code, "mau2.xls").status == "partial"
    assert store.unit_stats("2021-08-25", "2021-08-25")[0].files == 2


def test_a_state_directory_with_the_old_database_name_keeps_its_state(tmp_path):
    from service.state.sqlite import SQLiteStore
    old = SQLiteStore(tmp_path / "st" / "vaxmail.db")  # as open_store named it before
    code = old.tracking_code("item-1")
    old.mark_incoming("item-1", "forwarded", code)
    old.close()
    s = open_store(tmp_path / "st")
    try:
        assert s.incoming_outcome("item-1") == "forwarded"
        assert s.tracking_code("item-1") == code
    finally:
        s.close()
    assert (tmp_path / "st" / "state.db").exists() and not (tmp_path / "st" / "vaxmail.db").exists()


def test_open_store_takes_the_state_directory_only(tmp_path):
    with pytest.raises(ValueError):
        open_store(tmp_path / "state.db")


def test_the_sqlite_store_implements_every_part_of_the_protocol(store):
    from service.state import store as protocol
    parts = [protocol.Transactions, protocol.IncomingLog, protocol.SubmissionLog, protocol.ForwardingLog,
             protocol.HeldItems, protocol.Lookups, protocol.Accounts, protocol.ReplyCounts,
             protocol.OutboxIndex, protocol.Records, protocol.DigestStats]
    assert set(protocol.Store.__mro__) >= set(parts)
    for part in parts:
        assert part in type(store).__mro__
        for name in part.__abstractmethods__:
            assert callable(getattr(type(store), name)) and name not in type(store).__abstractmethods__
