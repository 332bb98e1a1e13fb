"""A local Maildir as the intake mailbox (`maildir:/path`).

Messages are read from new/ and cur/ of the Maildir's top folder; done ones are moved into the
Maildir++ subfolder ".Đã xử lý" (name in IMAP modified UTF-7 on disk, as Dovecot and Courier
store it, so an IMAP server on the same Maildir shows the folder under its Vietnamese name).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Iterator

from imap_tools.imap_utf7 import utf7_encode

from service.intake.source import DONE_FOLDER, RawMessage

log = logging.getLogger("vaxmail.intake.maildir")

KEY_PREFIX = "maildir:"


def maildirpp_folder_name(folder: str) -> str:
    """On-disk name of a Maildir++ subfolder: "." + modified UTF-7 ("Đã xử lý" → ".&ARAA4w- x&Hu0- l&AP0-")."""
    import unicodedata

    return "." + utf7_encode(unicodedata.normalize("NFC", folder)).decode("ascii")


def ensure_maildir(path: Path, *, subfolder: bool = False, like: Path | None = None) -> None:
    """Create the Maildir directories; with `like`, new ones copy its owner and mode (so an
    IMAP server sharing the Maildir, e.g. Dovecot as the mail user, can still write there)."""
    created = []
    for directory in (path, path / "tmp", path / "new", path / "cur"):
        if not directory.is_dir():
            directory.mkdir(parents=True, exist_ok=True)
            created.append(directory)
    if subfolder:
        marker = path / "maildirfolder"
        if not marker.exists():
            marker.touch()
            created.append(marker)
    if like is not None and created:
        st = like.stat()
        for item in created:
            try:
                if os.geteuid() == 0:
                    os.chown(item, st.st_uid, st.st_gid)
                if item.is_dir():
                    os.chmod(item, st.st_mode & 0o7777)
            except OSError:
                pass


def _unique(filename: str) -> str:
    return filename.split(":", 1)[0]


class MaildirSource:
    def __init__(self, path: str | os.PathLike, *, done_folder: str = DONE_FOLDER,
                 poll_interval: float = 0.2):
        self.path = Path(path)
        self.done_path = self.path / maildirpp_folder_name(done_folder)
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._known: set[str] = set()
        self._last_scan: float | None = None
        self._last_error: str | None = None
        ensure_maildir(self.path)
        ensure_maildir(self.done_path, subfolder=True, like=self.path)

    # ----- helpers
    def _listing(self) -> list[tuple[int, str, Path]]:
        entries = []
        for sub in ("new", "cur"):
            try:
                with os.scandir(self.path / sub) as it:
                    for entry in it:
                        if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                            continue
                        try:
                            mtime = entry.stat(follow_symlinks=False).st_mtime_ns
                        except FileNotFoundError:
                            continue
                        entries.append((mtime, entry.name, Path(entry.path)))
            except FileNotFoundError:
                ensure_maildir(self.path)
        entries.sort(key=lambda e: (e[0], e[1]))
        return entries

    def _find(self, unique: str) -> Path | None:
        for sub in ("new", "cur"):
            directory = self.path / sub
            try:
                names = os.listdir(directory)
            except FileNotFoundError:
                continue
            for name in names:
                if _unique(name) == unique:
                    return directory / name
        return None

    # ----- Source
    def pending(self) -> Iterator[RawMessage]:
        if self._stop.is_set():
            return
        try:
            listing = self._listing()
            self._last_error = None
        except OSError as exc:
            self._last_error = type(exc).__name__
            log.error("cannot list Maildir %s: %s", self.path, type(exc).__name__)
            return
        self._last_scan = time.time()
        self._known = {_unique(name) for _, name, _ in listing}
        for _, name, file in listing:
            if self._stop.is_set():
                return
            try:
                data = file.read_bytes()
            except FileNotFoundError:
                continue  # moved away meanwhile
            except OSError as exc:
                log.error("cannot read Maildir message %s: %s", _unique(name), type(exc).__name__)
                continue
            yield RawMessage(key=KEY_PREFIX + _unique(name), data=data)

    def mark_done(self, key: str) -> None:
        unique = key[len(KEY_PREFIX):] if key.startswith(KEY_PREFIX) else key
        if "/" in unique or not unique or unique.startswith("."):
            raise ValueError(f"not a Maildir key: {key!r}")
        source = self._find(unique)
        if source is None:
            log.info("Maildir message %s already gone (done earlier?)", unique)
            return
        flags = ""
        if ":2," in source.name:
            flags = source.name.split(":2,", 1)[1]
        if "S" not in flags:
            flags = "".join(sorted(flags + "S"))
        ensure_maildir(self.done_path, subfolder=True, like=self.path)
        target = self.done_path / "cur" / f"{unique}:2,{flags}"
        os.rename(source, target)  # same file system: atomic
        self._known.discard(unique)

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + max(0.0, timeout)
        while not self._stop.is_set():
            try:
                current = {_unique(name) for _, name, _ in self._listing()}
            except OSError:
                current = set()
            if current - self._known:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._stop.wait(min(self.poll_interval, remaining))
        return False

    def close(self) -> None:
        self._stop.set()

    def health(self) -> dict:
        return {
            "kind": "maildir",
            "path": str(self.path),
            "connected": self.path.is_dir() and self._last_error is None,
            "last_round_trip": self._last_scan,
            "last_error": self._last_error,
        }
