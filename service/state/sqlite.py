"""SQLite backend of ``Store``: one file in WAL mode, ``synchronous=FULL``.

One connection per thread (``threading.local``); writers take ``BEGIN IMMEDIATE`` so two
writers never deadlock on a lock upgrade, and wait up to ``busy_timeout`` for each other.
Nested ``transaction()`` blocks are SAVEPOINTs inside the outer transaction: an exception
caught inside the outer block undoes only the inner block; an exception leaving the outer
block undoes everything. The database file is 0600 (SQLite gives its -wal/-shm files the
same mode), the state directory 0700. See ``store.py`` for what is kept.
"""
from __future__ import annotations

import hmac
import json
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo

from service.durable import fsync_dir, make_private_dir
from service.state.store import (
    Batch, ConfirmationTotal, EarlierPerson, DayLike, ForwardedTotal, Forwarding, Held, OutgoingStatus,
    RecipientStats, StaleBatches, Store, Submission, UnitStats, User, tracking_code_candidate,
)

KEY_NAME = "id-hash.key"
SCHEMA_VERSION = 2  # 2: console accounts
_CHUNK = 10_000  # host parameters per IN (...) query; SQLite's limit is 32766

SCHEMA = """
CREATE TABLE IF NOT EXISTS incoming (
    key         TEXT PRIMARY KEY,
    code        TEXT UNIQUE,
    outcome     TEXT,
    submission  TEXT,
    first_seen  REAL NOT NULL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS submissions (  -- one row per file of an incoming item
    code          TEXT NOT NULL,
    file_name     TEXT NOT NULL DEFAULT '',  -- '': the item had no file
    incoming_key  TEXT NOT NULL,
    source        TEXT NOT NULL,
    sender        TEXT NOT NULL,
    unit_key      TEXT,
    district_code INTEGER,
    form          TEXT,
    rows          INTEGER NOT NULL DEFAULT 0,
    valid_rows    INTEGER NOT NULL DEFAULT 0,
    error_count   INTEGER NOT NULL DEFAULT 0,
    error_counts  TEXT NOT NULL DEFAULT '{}',
    status        TEXT NOT NULL,
    received_at   REAL NOT NULL,
    processed_at  REAL,
    day           TEXT NOT NULL,
    PRIMARY KEY (code, file_name)
);
CREATE INDEX IF NOT EXISTS submissions_day ON submissions (day, district_code, unit_key);
CREATE INDEX IF NOT EXISTS submissions_unit ON submissions (unit_key, received_at);
CREATE TABLE IF NOT EXISTS forwarded (  -- one row per person and form; the rest is in batches
    id_hash    BLOB NOT NULL,  -- HMAC-SHA256 of the ID number, 32 bytes
    form       TEXT NOT NULL,
    submission TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    PRIMARY KEY (id_hash, form)
) WITHOUT ROWID;
-- people forwarded per day, district, unit and form: kept in step by record_forwarded so the
-- digest never scans ``forwarded`` (no secondary index there: 100k inserts stay cheap)
CREATE TABLE IF NOT EXISTS forwarded_counts (
    day           TEXT NOT NULL,
    district_code INTEGER NOT NULL,  -- 0: unknown
    unit_key      TEXT NOT NULL,     -- '': unknown
    form          TEXT NOT NULL,
    people        INTEGER NOT NULL,
    PRIMARY KEY (day, district_code, unit_key, form)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
    code           TEXT NOT NULL,
    recipient      TEXT NOT NULL,
    rows_sent      INTEGER NOT NULL,
    rows_confirmed INTEGER NOT NULL DEFAULT 0,
    sent_at        REAL NOT NULL,
    confirmed_at   REAL,
    day            TEXT NOT NULL,
    district_code  INTEGER,
    unit_key       TEXT,
    PRIMARY KEY (code, recipient)
);
CREATE INDEX IF NOT EXISTS batches_day ON batches (day, recipient);
CREATE TABLE IF NOT EXISTS held (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    key           TEXT,
    kind          TEXT NOT NULL,
    reason        TEXT NOT NULL,
    path          TEXT,
    sender        TEXT,
    unit_key      TEXT,
    district_code INTEGER,
    created_at    REAL NOT NULL,
    released_at   REAL,
    day           TEXT NOT NULL,
    UNIQUE (key, kind)
);
CREATE INDEX IF NOT EXISTS held_open ON held (released_at, created_at);
CREATE INDEX IF NOT EXISTS held_day ON held (day, kind);
CREATE TABLE IF NOT EXISTS replies (
    addr  TEXT NOT NULL,
    day   TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (addr, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outgoing (
    message_id TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    ref        TEXT,
    rcpts      TEXT NOT NULL,
    status     TEXT NOT NULL,
    last_error TEXT,
    queued_at  REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outgoing_ref ON outgoing (ref);
CREATE TABLE IF NOT EXISTS sent (
    message_id TEXT NOT NULL,
    rcpt       TEXT NOT NULL,
    at         REAL NOT NULL,
    PRIMARY KEY (message_id, rcpt)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
    id      INTEGER PRIMARY KEY,
    at      REAL NOT NULL,
    event   TEXT NOT NULL,
    subject TEXT,
    detail  TEXT
);
CREATE INDEX IF NOT EXISTS audit_subject ON audit (subject, id);
CREATE TABLE IF NOT EXISTS digests (
    day        TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    sent_at    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS users (  -- console accounts
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    failures      INTEGER NOT NULL DEFAULT 0,
    locked_until  REAL,
    generation    INTEGER NOT NULL DEFAULT 0,
    created_at    REAL NOT NULL,
    last_login    REAL
);
CREATE INDEX IF NOT EXISTS submissions_sender ON submissions (sender, received_at);
CREATE TABLE IF NOT EXISTS kv (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""


# Per forwarded person (first forward wins, like ``forwarded``): keyed 8-byte hashes of the
# normalised name, birth date and phone, to tell a later different copy of them (a conflict)
# from a plain repeat. Created on every open: it needs no schema version of its own.
PERSON_DATA_SCHEMA = """
CREATE TABLE IF NOT EXISTS person_data (
    id_hash   BLOB NOT NULL,
    form      TEXT NOT NULL,
    data_hash BLOB NOT NULL,  -- 3 × 8 bytes: full_name, dob, phone (zeros: not given)
    PRIMARY KEY (id_hash, form)
) WITHOUT ROWID;
"""
PERSON_FIELDS = ("full_name", "dob", "phone")

# People the national platform reported as entered (column Z of an import result), per
# confirmation batch: keyed hashes like ``forwarded``. Created on every open.
ENTERED_SCHEMA = """
CREATE TABLE IF NOT EXISTS entered (
    code      TEXT NOT NULL,
    recipient TEXT NOT NULL,
    id_hash   BLOB NOT NULL,
    PRIMARY KEY (code, recipient, id_hash)
) WITHOUT ROWID;
"""


def _day(d: DayLike) -> str:
    return d.isoformat() if isinstance(d, date) else str(d)


class SQLiteStore(Store):
    def __init__(self, db_path: Path, tz: str = "Asia/Ho_Chi_Minh", busy_timeout_ms: int = 15_000,
                 key_file: Path | str | None = None):
        self.path = Path(db_path)
        self.state_dir = make_private_dir(self.path.parent)
        self.tz = ZoneInfo(tz)
        self._busy = busy_timeout_ms
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        os.chmod(self.path, 0o600)
        from service.state.keys import resolve
        # the ID-hash key: a systemd credential, [state] key_file, or (demo) the state directory
        self._secret, self.key_source = resolve(self.state_dir, Path(key_file) if key_file else None)
        self._tls = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            conn.executescript(f"BEGIN IMMEDIATE;{SCHEMA}PRAGMA user_version={SCHEMA_VERSION};COMMIT;")
        conn.executescript(PERSON_DATA_SCHEMA)
        conn.executescript(ENTERED_SCHEMA)

    # -- connections and transactions
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._tls, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=self._busy / 1000)
            conn.execute(f"PRAGMA busy_timeout={int(self._busy)}")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA cache_size=-16384")  # 16 MB: the hot part of 1M forwarded rows
            conn.execute("PRAGMA foreign_keys=ON")
            self._tls.conn, self._tls.depth = conn, 0
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[None]:
        conn = self._conn()
        depth = self._tls.depth
        if depth == 0:
            conn.execute("BEGIN IMMEDIATE")
        else:
            conn.execute(f"SAVEPOINT sp{depth}")
        self._tls.depth = depth + 1
        try:
            yield
        except BaseException:
            self._tls.depth = depth
            if depth == 0:
                conn.execute("ROLLBACK")
            else:
                conn.execute(f"ROLLBACK TO sp{depth}")
                conn.execute(f"RELEASE sp{depth}")
            raise
        self._tls.depth = depth
        if depth == 0:
            conn.execute("COMMIT")
        else:
            conn.execute(f"RELEASE sp{depth}")

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:  # made in another thread; gone with it
                    pass
            self._all.clear()
        self._tls = threading.local()

    def _q(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        return self._conn().execute(sql, args).fetchall()

    def day_of(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.tz).date().isoformat()

    # -- identities
    def id_hash(self, id_number: str) -> str:
        return self._digest_id(id_number).hex()

    def _digest_id(self, id_number: str) -> bytes:
        norm = "".join(str(id_number).split()).upper()
        return hmac.digest(self._secret, norm.encode("utf-8"), "sha256")

    # -- incoming
    def claim_incoming(self, key: str) -> bool:
        with self.transaction():
            row = self._q("SELECT outcome FROM incoming WHERE key=?", (key,))
            if row and row[0][0] is not None:
                return False
            self.tracking_code(key)
            return True

    def mark_incoming(self, key: str, outcome: str, submission: str | None = None) -> None:
        now = time.time()
        with self.transaction():
            self._conn().execute(
                "INSERT INTO incoming (key, outcome, submission, first_seen, finished_at) "
                "VALUES (?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET outcome=excluded.outcome, "
                "submission=excluded.submission, finished_at=excluded.finished_at",
                (key, outcome, submission, now, now))

    def incoming_outcome(self, key: str) -> str | None:
        row = self._q("SELECT outcome FROM incoming WHERE key=?", (key,))
        return row[0][0] if row else None

    def tracking_code(self, key: str) -> str:
        with self.transaction():
            row = self._q("SELECT code FROM incoming WHERE key=?", (key,))
            if row and row[0][0]:
                return row[0][0]
            for attempt in range(1000):
                code = tracking_code_candidate(key, attempt)
                taken = self._q("SELECT 1 FROM incoming WHERE code=? UNION ALL "
                                "SELECT 1 FROM submissions WHERE code=?", (code, code))
                if not taken:
                    break
            else:  # pragma: no cover - 1000 collisions in a 2^30 space
                raise RuntimeError("no free tracking code")
            self._conn().execute(
                "INSERT INTO incoming (key, code, first_seen) VALUES (?,?,?) "
                "ON CONFLICT(key) DO UPDATE SET code=excluded.code", (key, code, time.time()))
            return code

    # -- submissions
    def record_submission(self, sub: Submission) -> None:
        day = sub.day or self.day_of(sub.received_at)
        with self.transaction():
            self._conn().execute(
                "INSERT OR REPLACE INTO submissions (code, file_name, incoming_key, source, sender, "
                "unit_key, district_code, form, rows, valid_rows, error_count, error_counts, status, "
                "received_at, processed_at, day) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (sub.code, sub.file_name or "", sub.incoming_key, sub.source, sub.sender, sub.unit_key,
                 sub.district_code, sub.form, sub.rows, sub.valid_rows, sub.error_count,
                 json.dumps(sub.error_counts, sort_keys=True), sub.status, sub.received_at,
                 sub.processed_at if sub.processed_at is not None else time.time(), day))

    _SUB_COLS = ("code, incoming_key, source, sender, status, received_at, unit_key, district_code, "
                 "file_name, form, rows, valid_rows, error_count, error_counts, processed_at, day")

    @staticmethod
    def _sub(row: tuple) -> Submission:
        r = list(row)
        r[8] = r[8] or None
        r[13] = json.loads(r[13])
        return Submission(*r)

    def submission(self, code: str, file_name: str | None = None) -> Submission | None:
        if file_name is None:
            rows = self._q(f"SELECT {self._SUB_COLS} FROM submissions WHERE code=? "
                           "ORDER BY file_name LIMIT 1", (code,))
        else:
            rows = self._q(f"SELECT {self._SUB_COLS} FROM submissions WHERE code=? AND file_name=?",
                           (code, file_name))
        return self._sub(rows[0]) if rows else None

    def submissions(self, code: str) -> list[Submission]:
        return [self._sub(r) for r in self._q(
            f"SELECT {self._SUB_COLS} FROM submissions WHERE code=? ORDER BY file_name", (code,))]

    # -- forwarded people
    def _digest(self, value: str) -> bytes:
        """A caller's value as the stored 32-byte key: hex hashes as given, ID numbers hashed."""
        if len(value) == 64:
            try:
                return bytes.fromhex(value)
            except ValueError:
                pass
        return self._digest_id(value)

    def already_forwarded(self, id_hashes: Iterable[str], form: str,
                          exclude_submission: str | None = None) -> dict[str, str]:
        by_digest: dict[bytes, str] = {self._digest(v): v for v in id_hashes if v}
        blobs = sorted(by_digest)  # in key order: each chunk walks the B-tree forwards
        found: dict[str, str] = {}
        conn = self._conn()
        for i in range(0, len(blobs), _CHUNK):
            chunk = blobs[i:i + _CHUNK]
            sql = ("SELECT id_hash, submission FROM forwarded WHERE form=? AND id_hash IN ("
                   + ",".join("?" * len(chunk)) + ")")
            rows = conn.execute(sql, (form, *chunk)).fetchall()
            found.update({by_digest[h]: code for h, code in rows if code != exclude_submission})
        return found

    def _person_hash(self, fields: Mapping[str, str] | None) -> bytes:
        out = b""
        for f in PERSON_FIELDS:
            v = (fields or {}).get(f)
            out += hmac.new(self._secret, f"{f}|{v}".encode("utf-8"), "sha256").digest()[:8] if v else bytes(8)
        return out

    def earlier_people(self, people: Mapping[str, Mapping[str, str]], form: str,
                       exclude_submission: str | None = None) -> dict[str, EarlierPerson]:
        by_digest: dict[bytes, str] = {self._digest(v): v for v in people if v}
        blobs = sorted(by_digest)
        conn = self._conn()
        found: dict[str, EarlierPerson] = {}
        units: dict[str, str | None] = {}
        for i in range(0, len(blobs), _CHUNK):
            chunk = blobs[i:i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                "SELECT f.id_hash, f.submission, p.data_hash FROM forwarded f LEFT JOIN person_data p "
                "ON p.id_hash = f.id_hash AND p.form = f.form "
                f"WHERE f.form=? AND f.id_hash IN ({marks})", (form, *chunk)).fetchall()
            for h, code, data in rows:
                if code == exclude_submission:
                    continue
                if code not in units:
                    r = conn.execute("SELECT unit_key FROM submissions WHERE code=? LIMIT 1", (code,)).fetchone()
                    units[code] = r[0] if r else None
                value = by_digest[h]
                differs: tuple[str, ...] = ()
                if data:
                    mine = self._person_hash(people[value])
                    differs = tuple(f for n, f in enumerate(PERSON_FIELDS)
                                    if data[8 * n:8 * n + 8] != bytes(8) and mine[8 * n:8 * n + 8] != bytes(8)
                                    and data[8 * n:8 * n + 8] != mine[8 * n:8 * n + 8])
                found[value] = EarlierPerson(code, units[code], differs)
        return found

    def record_forwarded(self, submission: str, form: str, recipient: str,
                         id_hashes: Sequence[str], *, district_code: int | None = None,
                         unit_key: str | None = None, at: float | None = None,
                         person_data: Mapping[str, Mapping[str, str]] | None = None) -> int:
        at = time.time() if at is None else at
        day = self.day_of(at)
        digests = sorted({self._digest(h) for h in id_hashes if h})  # in key order: cheap B-tree appends
        conn = self._conn()
        with self.transaction():
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO forwarded (id_hash, form, submission, recipient) VALUES (?,?,?,?)",
                [(d, form, submission, recipient) for d in digests])
            n = conn.total_changes - before
            if person_data:
                conn.executemany(
                    "INSERT OR IGNORE INTO person_data (id_hash, form, data_hash) VALUES (?,?,?)",
                    sorted((self._digest(k), form, self._person_hash(v)) for k, v in person_data.items() if k))
            conn.execute(
                "INSERT INTO batches (code, recipient, rows_sent, sent_at, day, district_code, unit_key) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT(code, recipient) DO UPDATE SET "
                "rows_sent = rows_sent + excluded.rows_sent",
                (submission, recipient, n, at, day, district_code, unit_key))
            if n:
                conn.execute(
                    "INSERT INTO forwarded_counts (day, district_code, unit_key, form, people) "
                    "VALUES (?,?,?,?,?) ON CONFLICT(day, district_code, unit_key, form) DO UPDATE SET "
                    "people = people + excluded.people",
                    (day, district_code or 0, unit_key or "", form, n))
        return n

    # -- confirmation batches
    def confirm(self, code: str, recipient: str, count: int | None = None,
                at: float | None = None) -> Batch | None:
        at = time.time() if at is None else at
        with self.transaction():
            self._conn().execute(
                "UPDATE batches SET rows_confirmed = MIN(rows_sent, COALESCE(?, rows_sent)), "
                "confirmed_at = ? WHERE code=? AND recipient=?", (count, at, code, recipient))
            rows = self._q("SELECT code, recipient, rows_sent, rows_confirmed, sent_at, confirmed_at "
                           "FROM batches WHERE code=? AND recipient=?", (code, recipient))
        return Batch(*rows[0]) if rows else None

    def confirm_people(self, code: str, recipient: str, people: Sequence[str],
                       at: float | None = None) -> Batch | None:
        at = time.time() if at is None else at
        digests = sorted({self._digest(p) for p in people if p})
        conn = self._conn()
        with self.transaction():
            conn.executemany("INSERT OR IGNORE INTO entered (code, recipient, id_hash) VALUES (?,?,?)",
                             [(code, recipient, d) for d in digests])
            (n,) = conn.execute("SELECT COUNT(*) FROM entered WHERE code=? AND recipient=?",
                                (code, recipient)).fetchone()
        return self.confirm(code, recipient, n, at=at)

    def batches(self, code: str) -> list[Batch]:
        return [Batch(*r) for r in self._q(
            "SELECT code, recipient, rows_sent, rows_confirmed, sent_at, confirmed_at FROM batches "
            "WHERE code=? ORDER BY recipient", (code,))]

    # -- held items
    _HELD_COLS = ("h.id, h.kind, h.reason, h.path, h.created_at, h.released_at, h.key, h.sender, "
                  "h.unit_key, h.district_code, h.day, i.code")
    _HELD_FROM = "held AS h LEFT JOIN incoming AS i ON i.key = h.key"

    def hold(self, kind: str, reason: str, path: str | None, *, key: str | None = None,
             sender: str | None = None, unit_key: str | None = None,
             district_code: int | None = None, at: float | None = None) -> int:
        at = time.time() if at is None else at
        with self.transaction():
            if key is not None:
                row = self._q("SELECT id FROM held WHERE key=? AND kind=?", (key, kind))
                if row:  # processed again after a release: the same hold is open again
                    self._conn().execute(
                        "UPDATE held SET reason=?, path=COALESCE(?, path), released_at=NULL WHERE id=?",
                        (reason, path, row[0][0]))
                    return row[0][0]
            cur = self._conn().execute(
                "INSERT INTO held (key, kind, reason, path, sender, unit_key, district_code, "
                "created_at, day) VALUES (?,?,?,?,?,?,?,?,?)",
                (key, kind, reason, path, sender, unit_key, district_code, at, self.day_of(at)))
            return int(cur.lastrowid)

    def list_held(self, include_released: bool = False) -> list[Held]:
        where = "" if include_released else "WHERE h.released_at IS NULL"
        return [Held(*r) for r in self._q(
            f"SELECT {self._HELD_COLS} FROM {self._HELD_FROM} {where} ORDER BY h.created_at, h.id")]

    def expire_held(self, before: float, *, dry_run: bool = False, at: float | None = None) -> int:
        at = time.time() if at is None else at
        where = ("created_at < ? AND (path IS NOT NULL OR sender IS NOT NULL OR released_at IS NULL)")
        if dry_run:
            return int(self._q(f"SELECT COUNT(*) FROM held WHERE {where}", (before,))[0][0])
        with self.transaction():
            cur = self._conn().execute(
                f"UPDATE held SET path=NULL, sender=NULL, released_at=COALESCE(released_at, ?) WHERE {where}",
                (at, before))
            return cur.rowcount

    def held_item(self, held_id: int) -> Held | None:
        rows = self._q(f"SELECT {self._HELD_COLS} FROM {self._HELD_FROM} WHERE h.id=?", (held_id,))
        return Held(*rows[0]) if rows else None

    def settle_held(self, key: str, still: Iterable[str], at: float | None = None) -> list[int]:
        at = time.time() if at is None else at
        keep = set(still)
        with self.transaction():
            ids = [i for i, kind in self._q(
                "SELECT id, kind FROM held WHERE key=? AND released_at IS NULL", (key,)) if kind not in keep]
            self._conn().executemany("UPDATE held SET released_at=? WHERE id=?", [(at, i) for i in ids])
        return ids

    def release(self, held_id: int, at: float | None = None) -> bool:
        at = time.time() if at is None else at
        with self.transaction():
            cur = self._conn().execute(
                "UPDATE held SET released_at=? WHERE id=? AND released_at IS NULL", (at, held_id))
            return cur.rowcount == 1

    # -- lookups for the operator
    def code_for_key(self, key: str) -> str | None:
        rows = self._q("SELECT code FROM incoming WHERE key=?", (key,))
        return rows[0][0] if rows else None

    _OUT_COLS = "message_id, kind, ref, status, rcpts, queued_at, updated_at, last_error"

    @staticmethod
    def _out(row: tuple) -> OutgoingStatus:
        r = list(row)
        r[4] = json.loads(r[4])
        return OutgoingStatus(*r)

    def outgoing_for(self, ref: str) -> list[OutgoingStatus]:
        return [self._out(r) for r in self._q(
            f"SELECT {self._OUT_COLS} FROM outgoing WHERE ref=? ORDER BY queued_at, message_id", (ref,))]

    def recent_outgoing(self, limit: int = 50) -> list[OutgoingStatus]:
        return [self._out(r) for r in self._q(
            f"SELECT {self._OUT_COLS} FROM outgoing ORDER BY updated_at DESC LIMIT ?", (limit,))]

    def unit_submissions(self, unit_key: str, limit: int = 200) -> list[Submission]:
        return [self._sub(r) for r in self._q(
            f"SELECT {self._SUB_COLS} FROM submissions WHERE unit_key=? "
            "ORDER BY received_at DESC, code, file_name LIMIT ?", (unit_key, limit))]

    def sender_submissions(self, sender: str, limit: int = 200) -> list[Submission]:
        return [self._sub(r) for r in self._q(
            f"SELECT {self._SUB_COLS} FROM submissions WHERE sender=? "
            "ORDER BY received_at DESC, code, file_name LIMIT ?", (sender.lower(), limit))]

    def forwardings(self, id_number: str) -> list[Forwarding]:
        rows = self._q("SELECT f.form, f.submission, f.recipient, b.sent_at FROM forwarded AS f "
                       "LEFT JOIN batches AS b ON b.code = f.submission AND b.recipient = f.recipient "
                       "WHERE f.id_hash=? ORDER BY f.form", (self._digest(str(id_number).strip()),))
        return [Forwarding(*r) for r in rows]

    # -- console accounts
    _USER_COLS = ("name, role, password_hash, disabled, failures, locked_until, generation, "
                  "created_at, last_login")

    @staticmethod
    def _user(row: tuple) -> User:
        r = list(row)
        r[3] = bool(r[3])
        return User(*r)

    def add_user(self, name: str, role: str, password_hash: str, at: float | None = None) -> bool:
        at = time.time() if at is None else at
        with self.transaction():
            cur = self._conn().execute(
                "INSERT OR IGNORE INTO users (name, role, password_hash, created_at) VALUES (?,?,?,?)",
                (name, role, password_hash, at))
            return cur.rowcount == 1

    def update_user(self, name: str, *, password_hash: str | None = None, role: str | None = None,
                    disabled: bool | None = None) -> bool:
        ends_sessions = password_hash is not None or bool(disabled)
        with self.transaction():
            cur = self._conn().execute(
                "UPDATE users SET password_hash=COALESCE(?, password_hash), role=COALESCE(?, role), "
                "disabled=COALESCE(?, disabled), generation=generation+?, "
                "failures=CASE WHEN ? IS NULL THEN failures ELSE 0 END, "
                "locked_until=CASE WHEN ? IS NULL THEN locked_until ELSE NULL END WHERE name=?",
                (password_hash, role, None if disabled is None else int(disabled), int(ends_sessions),
                 password_hash, password_hash, name))
            return cur.rowcount == 1

    def user(self, name: str) -> User | None:
        rows = self._q(f"SELECT {self._USER_COLS} FROM users WHERE name=?", (name,))
        return self._user(rows[0]) if rows else None

    def users(self) -> list[User]:
        return [self._user(r) for r in self._q(f"SELECT {self._USER_COLS} FROM users ORDER BY name")]

    def note_login(self, name: str, ok: bool, *, max_failures: int, lock_seconds: float,
                   at: float | None = None) -> User | None:
        at = time.time() if at is None else at
        with self.transaction():
            if ok:
                self._conn().execute("UPDATE users SET failures=0, locked_until=NULL, last_login=? "
                                     "WHERE name=?", (at, name))
            else:
                self._conn().execute(
                    "UPDATE users SET failures=failures+1, locked_until=CASE WHEN failures+1 >= ? "
                    "THEN ? ELSE locked_until END WHERE name=?", (max_failures, at + lock_seconds, name))
                self._conn().execute("UPDATE users SET failures=0 WHERE name=? AND failures >= ?",
                                     (name, max_failures))
            return self.user(name)

    # -- reply rate limit
    def count_replies(self, addr: str, day: DayLike) -> int:
        rows = self._q("SELECT count FROM replies WHERE addr=? AND day=?", (addr.lower(), _day(day)))
        return rows[0][0] if rows else 0

    def note_reply(self, addr: str, day: DayLike) -> int:
        with self.transaction():
            self._conn().execute(
                "INSERT INTO replies (addr, day, count) VALUES (?,?,1) "
                "ON CONFLICT(addr, day) DO UPDATE SET count = count + 1", (addr.lower(), _day(day)))
            return self.count_replies(addr, day)

    # -- outbox index
    def note_outgoing(self, message_id: str, kind: str, rcpts: Sequence[str],
                      ref: str | None = None, at: float | None = None) -> None:
        at = time.time() if at is None else at
        with self.transaction():
            self._conn().execute(
                "INSERT OR IGNORE INTO outgoing (message_id, kind, ref, rcpts, status, queued_at, "
                "updated_at) VALUES (?,?,?,?,'queued',?,?)",
                (message_id, kind, ref, json.dumps(list(rcpts)), at, at))

    def sent_rcpts(self, message_id: str) -> set[str]:
        return {r[0] for r in self._q("SELECT rcpt FROM sent WHERE message_id=?", (message_id,))}

    def mark_sent(self, message_id: str, rcpts: Sequence[str], at: float | None = None) -> None:
        at = time.time() if at is None else at
        with self.transaction():
            self._conn().executemany("INSERT OR IGNORE INTO sent (message_id, rcpt, at) VALUES (?,?,?)",
                                     [(message_id, r, at) for r in rcpts])

    def mark_outgoing(self, message_id: str, status: str, error: str | None = None,
                      at: float | None = None) -> None:
        at = time.time() if at is None else at
        with self.transaction():
            self._conn().execute(
                "INSERT INTO outgoing (message_id, kind, rcpts, status, last_error, queued_at, updated_at) "
                "VALUES (?, 'unknown', '[]', ?, ?, ?, ?) ON CONFLICT(message_id) DO UPDATE SET "
                "status=excluded.status, last_error=COALESCE(excluded.last_error, last_error), "
                "updated_at=excluded.updated_at", (message_id, status, error, at, at))

    def outgoing(self, message_id: str) -> OutgoingStatus | None:
        rows = self._q(f"SELECT {self._OUT_COLS} FROM outgoing WHERE message_id=?", (message_id,))
        return self._out(rows[0]) if rows else None

    # -- audit, digests, health
    def audit(self, event: str, subject: str | None = None, detail: dict[str, Any] | None = None,
              at: float | None = None) -> None:
        at = time.time() if at is None else at
        with self.transaction():
            self._conn().execute(
                "INSERT INTO audit (at, event, subject, detail) VALUES (?,?,?,?)",
                (at, event, subject,
                 json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None))

    def audit_events(self, subject: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        if subject is None:
            rows = self._q("SELECT at, event, subject, detail FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self._q("SELECT at, event, subject, detail FROM audit WHERE subject=? "
                           "ORDER BY id DESC LIMIT ?", (subject, limit))
        return [{"at": a, "event": e, "subject": s, "detail": json.loads(d) if d else {}}
                for a, e, s, d in rows]

    def digest_sent(self, day: DayLike) -> bool:
        return bool(self._q("SELECT 1 FROM digests WHERE day=?", (_day(day),)))

    def mark_digest_sent(self, day: DayLike, message_id: str, at: float | None = None) -> None:
        at = time.time() if at is None else at
        with self.transaction():
            self._conn().execute("INSERT OR IGNORE INTO digests (day, message_id, sent_at) VALUES (?,?,?)",
                                 (_day(day), message_id, at))

    def get_value(self, key: str, default: Any = None) -> Any:
        rows = self._q("SELECT value FROM kv WHERE key=?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def set_value(self, key: str, value: Any) -> None:
        with self.transaction():
            self._conn().execute(
                "INSERT INTO kv (key, value, updated_at) VALUES (?,?,?) ON CONFLICT(key) DO UPDATE "
                "SET value=excluded.value, updated_at=excluded.updated_at",
                (key, json.dumps(value, ensure_ascii=False), time.time()))

    # -- stats for the digest
    def unit_stats(self, since: DayLike, until: DayLike) -> list[UnitStats]:
        lo, hi = _day(since), _day(until)
        out: dict[tuple, UnitStats] = {}
        for (day, dc, uk, files, r1, r2, valid, err, s_fwd, s_ans, s_part, s_held) in self._q(
                "SELECT day, district_code, unit_key, COUNT(*), "
                "SUM(CASE WHEN form='mau1' THEN rows ELSE 0 END), "
                "SUM(CASE WHEN form='mau2' THEN rows ELSE 0 END), SUM(valid_rows), "
                "SUM(MAX(rows - valid_rows, 0)), SUM(status='forwarded'), SUM(status='answered'), "
                "SUM(status='partial'), SUM(status='held') "
                "FROM submissions WHERE day BETWEEN ? AND ? GROUP BY day, district_code, unit_key",
                (lo, hi)):
            out[(day, dc, uk)] = UnitStats(day, dc, uk, files, r1, r2, valid, err, 0, 0,
                                           s_fwd, s_ans, s_part, s_held)
        for day, dc, uk, form, n in self._q(
                "SELECT day, district_code, unit_key, form, people FROM forwarded_counts "
                "WHERE day BETWEEN ? AND ?", (lo, hi)):
            dc, uk = dc or None, uk or None
            st = out.setdefault((day, dc, uk), UnitStats(day, dc, uk))
            if form == "mau1":
                st.forwarded_mau1 += n
            elif form == "mau2":
                st.forwarded_mau2 += n
        return sorted(out.values(), key=lambda s: (s.day, s.district_code or 0, s.unit_key or ""))

    def error_stats(self, since: DayLike, until: DayLike) -> dict[str, int]:
        return {k: int(v) for k, v in self._q(
            "SELECT j.key, SUM(j.value) FROM submissions AS s, json_each(s.error_counts) AS j "
            "WHERE s.day BETWEEN ? AND ? GROUP BY j.key ORDER BY 2 DESC, 1",
            (_day(since), _day(until)))}

    def forwarded_totals(self, until: DayLike | None = None) -> list[ForwardedTotal]:
        hi = "9999-12-31" if until is None else _day(until)
        rows = self._q("SELECT district_code, form, SUM(people) FROM forwarded_counts WHERE day <= ? "
                       "GROUP BY district_code, form ORDER BY 1, 2", (hi,))
        return [ForwardedTotal(dc or None, form, n) for dc, form, n in rows]

    def recipient_stats(self, since: DayLike, until: DayLike) -> list[RecipientStats]:
        return [RecipientStats(*r) for r in self._q(
            "SELECT recipient, COUNT(*), SUM(rows_sent), SUM(rows_confirmed), "
            "SUM(confirmed_at IS NULL), MIN(CASE WHEN confirmed_at IS NULL THEN sent_at END) "
            "FROM batches WHERE day BETWEEN ? AND ? GROUP BY recipient ORDER BY recipient",
            (_day(since), _day(until)))]

    def held_stats(self, since: DayLike, until: DayLike) -> dict[str, int]:
        out = {k: n for k, n in self._q(
            "SELECT kind, COUNT(*) FROM held WHERE day BETWEEN ? AND ? GROUP BY kind ORDER BY kind",
            (_day(since), _day(until)))}
        out["open"] = self._q("SELECT COUNT(*) FROM held WHERE released_at IS NULL")[0][0]
        return out

    def last_submission_by_unit(self, until: DayLike | None = None) -> dict[str, float]:
        hi = "9999-12-31" if until is None else _day(until)
        return {k: t for k, t in self._q(
            "SELECT unit_key, MAX(received_at) FROM submissions WHERE unit_key IS NOT NULL "
            "AND day <= ? GROUP BY unit_key", (hi,))}

    def confirmation_totals(self, until: DayLike | None = None) -> list[ConfirmationTotal]:
        hi = "9999-12-31" if until is None else _day(until)
        return [ConfirmationTotal(dc, uk, *rest) for dc, uk, *rest in self._q(
            "SELECT district_code, unit_key, COUNT(*), SUM(rows_sent), SUM(rows_confirmed), "
            "SUM(confirmed_at IS NOT NULL) FROM batches WHERE day <= ? AND rows_sent > 0 "
            "GROUP BY district_code, unit_key ORDER BY 1, 2", (hi,))]

    def stale_batches(self, sent_before: float, until: DayLike | None = None) -> list[StaleBatches]:
        hi = "9999-12-31" if until is None else _day(until)
        # SQLite takes the bare column ``code`` from the row that gives MIN(sent_at)
        return [StaleBatches(*r) for r in self._q(
            "SELECT recipient, COUNT(*), SUM(rows_sent), MIN(sent_at), code FROM batches "
            "WHERE confirmed_at IS NULL AND rows_sent > 0 AND sent_at < ? AND day <= ? "
            "GROUP BY recipient ORDER BY 4", (sent_before, hi))]
