"""A supervised watchdog observer on the shared folder.

inotify sees local changes at once but nothing that happens on the far side of an NFS or SMB
mount; there watchdog's polling observer is used instead (``[folder] mode``: "inotify",
"polling", or "auto": decided from the mount type in /proc/self/mountinfo).

Watchers fail quietly: a polling emitter can hang in a stat() on a dropped share while its
thread stays alive, and an inotify watch dies with the folder it watched (the share
unmounted, or removed and recreated). ``FolderWatcher.check()`` notices all three — a dead
emitter thread, a polling heartbeat gone stale, the root folder's identity (device, inode)
changed or gone — and restarts the observer; the caller then rescans, because events are
lost while nobody watched.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import (DirCreatedEvent, DirMovedEvent, FileClosedEvent, FileCreatedEvent,
                             FileModifiedEvent, FileMovedEvent, FileSystemEventHandler)

log = logging.getLogger("vaxmail.folder")
# watchdog's inotify emitter warns (with its whole watch table) when a folder made in quick
# succession (our "Đã xử lý/<date>") is registered twice; it is harmless and floods the log
warnings.filterwarnings("ignore", message="Callback with id", category=RuntimeWarning)

NETWORK_FS = ("nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "davfs",
              "sshfs")
_EVENTS = [FileCreatedEvent, FileModifiedEvent, FileMovedEvent, FileClosedEvent,
           DirCreatedEvent, DirMovedEvent]


@dataclass(frozen=True)
class Change:
    """Something to look at: a file that may have become complete, or a new folder to walk."""
    path: str
    is_dir: bool


# ---------------------------------------------------------------------------- mount type


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo
    out, i = [], 0
    while i < len(field):
        code = field[i + 1:i + 4]
        if field[i] == "\\" and len(code) == 3 and code.isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mount_type(path: Path, mountinfo: str = "/proc/self/mountinfo") -> str:
    """The file-system type of the mount holding ``path`` ("" when unknown)."""
    try:
        real = os.path.realpath(path)
        lines = Path(mountinfo).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    best, best_len = "", -1
    for line in lines:
        left, sep, right = line.partition(" - ")
        fields = left.split()
        if not sep or len(fields) < 5 or not right.split():
            continue
        point = _unescape(fields[4])
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) > best_len:
            best, best_len = right.split()[0], len(point)
    return best


def is_network_fs(fstype: str) -> bool:
    return fstype in NETWORK_FS or fstype.startswith("fuse.") or fstype == "fuse"


def choose_mode(mode: str, root: Path) -> str:
    """"inotify" or "polling" for the configured mode ("auto" looks at the mount type)."""
    mode = (mode or "auto").lower()
    if mode in ("inotify", "polling"):
        return mode
    return "polling" if is_network_fs(mount_type(root)) else "inotify"


# ---------------------------------------------------------------------------- watcher


class _Handler(FileSystemEventHandler):
    def __init__(self, out: "queue.SimpleQueue[Change]"):
        self.out = out
        self.active = True  # False once its observer is replaced

    def on_any_event(self, event) -> None:
        if not self.active:
            return
        path = getattr(event, "dest_path", "") or event.src_path
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        self.out.put(Change(path, event.is_directory))


def _identity(root: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(root)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if os.path.isdir(root) else None


class FolderWatcher:
    """One watchdog observer on ``root``, restarted by ``check()`` when it stalls or dies."""

    def __init__(self, root: Path, mode: str = "auto", poll_seconds: float = 5.0,
                 stall_seconds: float | None = None):
        self.root = Path(root)
        self.configured = mode
        self.poll_seconds = max(0.1, float(poll_seconds))
        # a polling heartbeat older than this means the emitter hangs (a dead mount's stat())
        self.stall_after = float(stall_seconds) if stall_seconds else 3 * self.poll_seconds + 10.0
        self.mode = ""  # effective: "inotify" | "polling" | "" (not watching)
        self.changes: "queue.SimpleQueue[Change]" = queue.SimpleQueue()
        self.restarts = 0
        self._observer = None
        self._ident: tuple[int, int] | None = None
        self._beat = 0.0
        self._last_start = -1e9
        self._lock = threading.Lock()
        self._gone_logged = False

    # -- heartbeat: every folder listing of the polling emitter (a slow walk still beats)
    def _listdir(self, path):
        it = os.scandir(path)
        self._beat = time.monotonic()
        return it

    def _schedule(self, observer) -> None:
        handler = _Handler(self.changes)
        observer._vaxmail_handlers = (handler,)
        observer.schedule(handler, str(self.root), recursive=True, event_filter=_EVENTS)

    def _start(self) -> bool:
        ident = _identity(self.root)
        if ident is None:
            return False
        mode = choose_mode(self.configured, self.root)
        observer = None
        if mode == "inotify":
            try:
                from watchdog.observers.inotify import InotifyObserver
                observer = InotifyObserver()
                self._schedule(observer)
                observer.start()
            except OSError as exc:  # inotify limits (ENOSPC, EMFILE): fall back to polling
                log.warning("inotify unavailable (%s); polling the shared folder instead",
                            type(exc).__name__)
                self._stop_observer(observer)
                observer, mode = None, "polling"
        if mode == "polling":
            from watchdog.observers.polling import PollingObserverVFS
            observer = PollingObserverVFS(os.stat, self._listdir, polling_interval=self.poll_seconds)
            self._schedule(observer)
            self._beat = time.monotonic()
            try:
                observer.start()
            except OSError as exc:  # the first snapshot failed: the share went away again
                log.warning("cannot watch the shared folder (%s)", type(exc).__name__)
                self._stop_observer(observer)
                return False
        self._observer, self._ident, self.mode = observer, ident, mode
        self._gone_logged = False
        log.info("watching the shared folder (%s)", mode)
        return True

    @staticmethod
    def _stop_observer(observer) -> None:
        """Stop an observer without ever blocking on it: watchdog joins its emitters, and an
        emitter stuck in a dead mount's stat() never returns — so stop it from a side thread."""
        if observer is None:
            return
        for handler in getattr(observer, "_vaxmail_handlers", ()):
            handler.active = False

        def stop() -> None:
            try:
                observer.stop()
                observer.join(timeout=5.0)
            except Exception:  # noqa: BLE001 - stopping a broken observer must not fail
                pass

        t = threading.Thread(target=stop, name="vaxmail-folder-stop", daemon=True)
        t.start()
        t.join(timeout=1.0)

    def _healthy(self) -> str | None:
        """Why the running observer must be restarted, or None."""
        obs = self._observer
        ident = _identity(self.root)
        if ident is None:
            return "gone"
        if ident != self._ident:
            return "replaced"
        if not obs.is_alive() or any(not e.is_alive() for e in obs.emitters) or not obs.emitters:
            return "stopped"
        if self.mode == "polling" and time.monotonic() - self._beat > self.stall_after:
            return "stalled"
        return None

    def check(self) -> bool:
        """Start or restart the observer as needed; True when it (re)started (rescan now)."""
        with self._lock:
            if self._observer is not None:
                why = self._healthy()
                if why is None:
                    return False
                self._stop_observer(self._observer)
                self._observer, self.mode = None, ""
                if why == "gone":
                    if not self._gone_logged:
                        log.warning("the shared folder is unavailable; waiting for it to return")
                        self._gone_logged = True
                    return False
                log.warning("folder watcher %s; restarting it", why)
                self.restarts += 1
            now = time.monotonic()
            if now - self._last_start < min(self.poll_seconds, 5.0):
                return False  # do not spin while the share flaps
            self._last_start = now
            return self._start()

    @property
    def watching(self) -> bool:
        return self._observer is not None

    def wait(self, timeout: float) -> list[Change]:
        """Changes reported within ``timeout`` seconds (returns at the first, with the rest)."""
        out: list[Change] = []
        try:
            out.append(self.changes.get(timeout=max(0.0, timeout)))
        except queue.Empty:
            return out
        while True:
            try:
                out.append(self.changes.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        with self._lock:
            self._stop_observer(self._observer)
            self._observer, self.mode = None, ""
