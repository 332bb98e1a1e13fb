"""A durable on-disk queue in the manner of Maildir and GNU Mailman 3's switchboards.

Layout under ``root/name/`` (directories 0700, files 0600)::

    tmp/      files being written; anything here at start-up is a torn write and is removed
    new/      entries waiting (due when the file's mtime <= now)
    claimed/  entries a worker has taken; moved back to new/ by ``recover()`` at start-up
    bad/      parked entries: kept for the operator with the reason in the sidecar
    meta/     one sidecar JSON per entry: key, user meta, attempts, not-before, last error

An entry is one data file; its *directory* is its state and every state change is one
``rename(2)``, so a crash at any instant leaves each entry in exactly one state. Writes go
to ``tmp/`` first, are fsync'ed, then renamed in, and the directory is fsync'ed.

The data file's mtime is the time it becomes due: ``put`` leaves it at the write time and
``release(delay=...)`` sets it to the not-before time, so ``claim`` can pick the oldest due
entry from one directory scan without reading sidecars. The sidecar holds the rest and is
replaced atomically; a missing sidecar (crash between the two writes) reads as defaults.

Entries put with a ``key`` are named by it: putting the same key again while the entry
exists in new/, claimed/ or bad/ keeps the one entry (idempotent). After ``done`` the key
may be put again — callers that need "never twice" record completion elsewhere (the store).

``recover()`` must run when no other worker uses the queue (service start-up).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .durable import fsync_dir, make_private_dir, write_file_durably

STATES = ("new", "claimed", "bad")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$")


def name_for_key(key: str) -> str:
    """File name for a key: the key itself when it is a plain short token, else its SHA-256."""
    if _SAFE_NAME.match(key) and not key.endswith((".json", ".tmp")):
        return key
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- entries


@dataclass
class Entry:
    """One queued item. ``data`` is read on first access when the entry came from ``list()``."""
    name: str
    key: str
    state: str  # "new" | "claimed" | "bad"
    path: Path
    meta: dict[str, Any] = field(default_factory=dict)  # the caller's meta, as given to put()
    attempts: int = 0
    created: float = 0.0  # when first put
    since: float = 0.0  # start of the current delivery cycle (put, or operator retry)
    not_before: float = 0.0
    last_error: str | None = None
    reason: str | None = None  # why it was parked
    _data: bytes | None = field(default=None, repr=False)

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data = self.path.read_bytes()
        return self._data


class Queue:
    def __init__(self, root: Path, name: str):
        self.dir = make_private_dir(Path(root) / name)
        self.name = name
        for sub in ("tmp", "meta", *STATES):
            make_private_dir(self.dir / sub)
        self._lock = threading.Lock()
        self._candidates: list[str] = []  # due names from the last scan of new/, oldest last

    # -- paths
    def _p(self, state: str, name: str) -> Path:
        return self.dir / state / name

    def _meta_path(self, name: str) -> Path:
        return self.dir / "meta" / f"{name}.json"

    def _read_sidecar(self, name: str) -> dict[str, Any]:
        try:
            return json.loads(self._meta_path(name).read_bytes())
        except (FileNotFoundError, ValueError):
            return {}

    def _write_sidecar(self, name: str, side: dict[str, Any]) -> None:
        data = json.dumps(side, ensure_ascii=False, sort_keys=True).encode("utf-8")
        write_file_durably(self._meta_path(name), data, self.dir / "tmp")

    def _entry(self, state: str, name: str, side: dict[str, Any] | None = None,
               data: bytes | None = None) -> Entry:
        path = self._p(state, name)
        side = self._read_sidecar(name) if side is None else side
        if not side:
            try:
                mt = path.stat().st_mtime
            except FileNotFoundError:
                mt = 0.0
            side = {"created": mt, "since": mt}
        return Entry(name=name, key=side.get("key", name), state=state, path=path,
                     meta=side.get("meta") or {}, attempts=int(side.get("attempts", 0)),
                     created=float(side.get("created", 0.0)),
                     since=float(side.get("since", side.get("created", 0.0))),
                     not_before=float(side.get("not_before", 0.0)),
                     last_error=side.get("last_error"), reason=side.get("reason"), _data=data)

    @staticmethod
    def _sidecar_of(entry: Entry) -> dict[str, Any]:
        side: dict[str, Any] = {"key": entry.key, "meta": entry.meta, "attempts": entry.attempts,
                                "created": entry.created, "since": entry.since,
                                "not_before": entry.not_before}
        if entry.last_error is not None:
            side["last_error"] = entry.last_error
        if entry.reason is not None:
            side["reason"] = entry.reason
        return side

    def find(self, name: str) -> Entry | None:
        for state in STATES:
            if self._p(state, name).exists():
                return self._entry(state, name)
        return None

    # -- operations
    def put(self, data: bytes, key: str | None = None, meta: dict | None = None, *,
            delay: float = 0.0, park_reason: str | None = None) -> str:
        """Store ``data`` durably and return the entry's name.

        The entry lands in new/, due after ``delay`` seconds — or directly in bad/ when a
        ``park_reason`` is given. With a ``key``, an entry already present under that key
        (in any state) is kept as it is and its name returned.
        """
        now = time.time()
        if key is None:
            name = f"{time.time_ns():020d}-{secrets.token_hex(4)}"
            key = name
        else:
            name = name_for_key(key)
            if any(self._p(s, name).exists() for s in STATES):
                return name
        side = {"key": key, "meta": meta or {}, "attempts": 0, "created": now, "since": now,
                "not_before": now + max(0.0, delay)}
        if park_reason is not None:
            side["reason"] = park_reason
        self._write_sidecar(name, side)
        state = "new" if park_reason is None else "bad"
        # link(2) never clobbers: a concurrent put of the same key keeps the first entry
        write_file_durably(self._p(state, name), data, self.dir / "tmp", replace=False,
                           mtime=side["not_before"])
        return name

    def claim(self, now: float | None = None) -> Entry | None:
        """Take the oldest due entry (atomic rename new/ → claimed/), or None."""
        now = time.time() if now is None else now
        with self._lock:
            for rescan in (False, True):
                if rescan:
                    self._candidates = self._scan_due(now)
                while self._candidates:
                    name = self._candidates.pop()
                    src, dst = self._p("new", name), self._p("claimed", name)
                    try:
                        os.rename(src, dst)
                    except FileNotFoundError:
                        continue  # taken by another worker, or done meanwhile
                    try:
                        if dst.stat().st_mtime > now:  # released with a delay since the scan
                            os.rename(dst, src)
                            continue
                        data = dst.read_bytes()
                    except FileNotFoundError:
                        continue
                    return self._entry("claimed", name, data=data)
        return None

    def _scan_due(self, now: float) -> list[str]:
        due: list[tuple[int, str]] = []
        limit = int(now * 1e9)
        with os.scandir(self.dir / "new") as it:
            for de in it:
                if de.name.startswith("."):
                    continue
                try:
                    mt = de.stat().st_mtime_ns
                except FileNotFoundError:
                    continue
                if mt <= limit:
                    due.append((mt, de.name))
        due.sort(reverse=True)  # pop() from the end takes the oldest
        return [n for _, n in due]

    def done(self, entry: Entry) -> None:
        """The entry is finished: remove it for good."""
        try:
            os.unlink(self._p(entry.state, entry.name))
        except FileNotFoundError:
            pass
        fsync_dir(self.dir / entry.state)
        try:
            os.unlink(self._meta_path(entry.name))
        except FileNotFoundError:
            pass
        entry.state = "done"

    def release(self, entry: Entry, delay: float = 0.0, error: str | None = None,
                now: float | None = None) -> None:
        """Give a claimed entry back: due again after ``delay`` seconds, one more attempt."""
        now = time.time() if now is None else now
        entry.attempts += 1
        entry.not_before = now + max(0.0, delay)
        if error is not None:
            entry.last_error = error
        self._write_sidecar(entry.name, self._sidecar_of(entry))
        src = self._p(entry.state, entry.name)
        os.utime(src, (entry.not_before, entry.not_before))
        self._move(entry, "new")

    def park(self, entry: Entry, reason: str) -> None:
        """Move an entry to bad/ with the reason, for the operator."""
        entry.reason = reason
        self._write_sidecar(entry.name, self._sidecar_of(entry))
        self._move(entry, "bad")

    def unpark(self, name: str | None = None, now: float | None = None, *,
               meta_update: dict[str, Any] | None = None) -> int:
        """Operator retry: parked entries (one by name, or all) → new/, due now, fresh cycle;
        ``meta_update`` is merged into each entry's meta."""
        now = time.time() if now is None else now
        names = [name] if name is not None else sorted(os.listdir(self.dir / "bad"))
        count = 0
        for n in names:
            if n.startswith(".") or "/" in n or "\0" in n or not self._p("bad", n).exists():
                continue
            entry = self._entry("bad", n)
            entry.attempts, entry.since, entry.not_before, entry.reason = 0, now, now, None
            entry.last_error = None
            if meta_update:
                entry.meta = {**entry.meta, **meta_update}
            self._write_sidecar(n, self._sidecar_of(entry))
            os.utime(entry.path, (now, now))
            self._move(entry, "new")
            count += 1
        return count

    def _move(self, entry: Entry, state: str) -> None:
        src, dst = self._p(entry.state, entry.name), self._p(state, entry.name)
        os.rename(src, dst)
        fsync_dir(dst.parent)
        fsync_dir(src.parent)
        entry.state, entry.path = state, dst

    def recover(self, crashed: str | None = None) -> int:
        """Start-up: torn writes in tmp/ removed, claimed/ → new/, stray sidecars removed.

        With ``crashed``, each entry found claimed counts one more attempt and gets
        ``crashed`` as its last error (the caller parks entries that keep killing it).
        Returns the number of claimed entries put back.
        """
        with self._lock:
            self._candidates = []
            for p in (self.dir / "tmp").iterdir():
                p.unlink(missing_ok=True)
            moved = 0
            for p in (self.dir / "claimed").iterdir():
                target = self._p("new", p.name)
                if target.exists():  # crash inside release(): the new/ copy is the newer
                    p.unlink()
                else:
                    if crashed is not None:
                        entry = self._entry("claimed", p.name)
                        entry.attempts += 1
                        entry.last_error = crashed
                        self._write_sidecar(p.name, self._sidecar_of(entry))
                    os.rename(p, target)
                moved += 1
            live = {n for s in STATES for n in os.listdir(self.dir / s)}
            for p in (self.dir / "meta").iterdir():
                if p.name.endswith(".json") and p.name[:-5] not in live:
                    p.unlink(missing_ok=True)
            for sub in ("tmp", "meta", *STATES):
                fsync_dir(self.dir / sub)
            return moved

    # -- inspection
    def entries_in(self, state: str) -> list[Entry]:
        if state not in STATES:
            raise ValueError(f"unknown queue state {state!r}")
        names = [n for n in os.listdir(self.dir / state) if not n.startswith(".")]
        entries = [self._entry(state, n) for n in names]
        entries.sort(key=lambda e: (e.not_before or e.created, e.name))
        return entries

    def list(self) -> list[Entry]:
        return [e for s in STATES for e in self.entries_in(s)]

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.list())

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for n in os.listdir(self.dir / s) if not n.startswith(".")) for s in STATES}

    def __len__(self) -> int:
        """Entries not finished: waiting, claimed and parked."""
        return sum(self.counts().values())
