"""The record of what the mail server accepted, written the moment it says "250".

The main state (SQLite) may be held by the pipeline's long write transaction when a send
completes; recording the acceptance there left a window as long as that transaction in which
a kill -9 made the message go twice. So the sender first appends one line per accepted send
to this journal — its own file, held by no other thread, ``O_APPEND`` + ``fdatasync`` — and
indexes the store afterwards. Before each send both are consulted.

Lines are JSON: {"mid": Message-ID, "rcpts": [accepted recipients], "at": epoch}. A torn
last line (a crash mid-write) is ignored. ``compact()`` (at start-up) keeps the lines of
the last ``KEEP_DAYS`` days; older sends are long indexed in the store.
"""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Iterable

from service.queue import fsync_dir, write_file_durably

KEEP_DAYS = 14
COMPACT_BYTES = 1_000_000  # the journal is rewritten only once it is this large


class SentJournal:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._sent: dict[str, set[str]] = {}
        self._lines: list[tuple[float, bytes]] = []
        self._load()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _load(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        for line in data.split(b"\n"):
            if not line:
                continue
            try:
                rec = json.loads(line)
                mid, rcpts, at = rec["mid"], rec["rcpts"], float(rec.get("at", 0))
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line
            self._sent.setdefault(mid, set()).update(rcpts)
            self._lines.append((at, line))

    def record(self, message_id: str, rcpts: Iterable[str], at: float | None = None) -> None:
        """Durably note that the server accepted ``message_id`` for ``rcpts``."""
        rcpts = sorted(set(rcpts))
        if not rcpts:
            return
        at = time.time() if at is None else at
        line = json.dumps({"mid": message_id, "rcpts": rcpts, "at": at}, ensure_ascii=False).encode() + b"\n"
        with self._lock:
            os.write(self._fd, line)
            os.fdatasync(self._fd)
            self._sent.setdefault(message_id, set()).update(rcpts)
            self._lines.append((at, line.rstrip(b"\n")))

    def sent_rcpts(self, message_id: str) -> set[str]:
        with self._lock:
            return set(self._sent.get(message_id, ()))

    def items(self) -> list[tuple[str, set[str]]]:
        with self._lock:
            return [(m, set(r)) for m, r in self._sent.items()]

    def compact(self, now: float | None = None) -> int:
        """Drop lines older than KEEP_DAYS (they are indexed in the store); returns how many."""
        now = time.time() if now is None else now
        cutoff = now - KEEP_DAYS * 86400
        with self._lock:
            if sum(len(line) + 1 for _, line in self._lines) < COMPACT_BYTES:
                return 0
            keep = [(at, line) for at, line in self._lines if at >= cutoff]
            dropped = len(self._lines) - len(keep)
            if not dropped:
                return 0
            write_file_durably(self.path, b"".join(line + b"\n" for _, line in keep))
            os.close(self._fd)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._lines = keep
            self._sent = {}
            for _, line in keep:
                rec = json.loads(line)
                self._sent.setdefault(rec["mid"], set()).update(rec["rcpts"])
            fsync_dir(self.path.parent)
            return dropped

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
