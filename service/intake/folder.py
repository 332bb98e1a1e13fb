"""The shared-folder intake: files dropped into unit subfolders become pipeline items.

    <share>/<unit folder>/Danh sách.xlsx                      a drop
    <share>/<unit folder>/Đã xử lý/2021-08-25/Danh sách.xlsx  after processing, every row accepted
                                  … Danh sách - kết quả.txt    the receipt (tracking code, who got what)
    <share>/<unit folder>/Cần sửa/2021-08-25/Danh sách.xlsx   after processing, something to fix
                                  … Danh sách - kiểm tra.xlsx  the annotated workbook

A file is taken when it is complete: its signature (size, mtime, ctime, inode) unchanged for
``settle_seconds`` across looks, and — to wait out a client that pauses mid-copy — it opens
as what its name claims (a zip with its central directory, an OLE2 or HTML .xls, text
.csv); a file that stays stable but invalid is taken anyway after a longer grace, and the
pipeline answers "tệp hỏng". The bytes go into the durable "in" queue under a stable key.

Identity. The incoming key hashes the unit, the path, the mtime and the content, plus a
*generation*: how many earlier drops with the same base were moved out after processing
(kept in the store as ``folder-moved:<base>``). So a crash or a rescan finds the same key
(the file is processed once), while the same file dropped again after the first copy moved
away — Windows keeps the mtime on copy — gets a new key and its own answer.

Finishing is idempotent: ``finish`` first records where the file and its results go
(``placed.json`` in the item's results folder), then writes the results, moves the file,
records the move (the generation) and removes the results folder. A crash anywhere re-runs
``finish`` from the queue entry and completes what is missing. Nothing of the user's is
ever overwritten: clashes get " (2)", " (3)" ….
"""
from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from threading import Event

from ..item import ANNOTATED_SUFFIX, RECEIPT_SUFFIX, VN, FileIn, Item, results_dir
from ..durable import fsync_dir, write_file_durably
from ..queue import Queue
from ..state.store import incoming_key
from .folder_files import (DONE_DIR, FIX_DIR, Signature, find_child, fit_name, is_candidate_name, is_candidate_path,
                           is_ignored_dir, looks_complete, nfc, numbered, signature)
from .folder_watch import FolderWatcher

log = logging.getLogger("vaxmail.folder")

PLACED = "placed.json"
UNIT_FOLDERS_KEY = "unit-folders"  # state value: {folder name as created: unit key}
LINK_ASIDE = " - liên kết bị bỏ qua"  # a link standing where we need a folder is renamed aside
RESULT_MODE = 0o640
IDLE_WAIT = 2.0  # seconds watch_once blocks when nothing is settling
BUSY_WAIT = 0.2  # … and while files settle


@dataclass
class _Pending:
    sig: Signature
    since: float  # monotonic time this signature was first seen


def _safe_rel(rel: str) -> tuple[str, str | None]:
    """(display path, hex of the raw bytes when the name is not valid UTF-8)."""
    try:
        rel.encode("utf-8")
        return rel, None
    except UnicodeEncodeError:
        raw = os.fsencode(rel)
        return raw.decode("utf-8", errors="replace"), raw.hex()


def _path_id(rel: str) -> str:
    """A short stand-in for a path in logs (file names may carry people's names)."""
    return hashlib.sha256(os.fsencode(rel)).hexdigest()[:10]


class FolderIntake:
    def __init__(self, settings, directory, inq: Queue, store):
        # events name real paths: watch the resolved folder (a symlink to the mount point is common)
        self.root = Path(os.path.realpath(settings.folder_path))
        self.directory = directory
        self.inq = inq
        self.store = store
        self.state_dir = Path(settings.state_dir)
        f = settings.folder
        self.settle = max(0.0, f.settle_seconds)
        # a file stable but not (yet) a valid workbook waits this long before it is taken anyway
        self.grace = f.invalid_grace_seconds or max(10.0, 5 * self.settle)
        self.rescan_every = max(1.0, f.rescan_minutes * 60)
        self.max_bytes = settings.bytes_limit("max_file_mb")
        self.watcher = FolderWatcher(self.root, f.mode, f.poll_seconds)
        self._pending: dict[str, _Pending] = {}
        self._known: dict[str, Signature] = {}  # path → signature already queued or finished
        self._warned: set[tuple[str, str]] = set()
        self._next_rescan = 0.0
        self._root_warned = False
        self.result_gid = _result_gid(f.result_group)

    # ------------------------------------------------------------------ places
    def _rel(self, path: Path) -> str | None:
        try:
            rel = Path(path).relative_to(self.root)
        except ValueError:
            return None
        return rel.as_posix() if rel.parts else None

    def _unit_key(self, rel: str) -> str | None:
        """The unit owning the top folder: by the exact name ``vaxmail folders`` created (kept
        in the state), else the directory's exact folder name. Never by folding."""
        parts = rel.split("/")
        if len(parts) < 2:
            return None  # top level: nobody's folder
        made = self.store.get_value(UNIT_FOLDERS_KEY) or {}
        key = made.get(nfc(parts[0]))
        if key and self.directory.unit(key) is not None:
            return key
        unit = self.directory.unit_for_folder(nfc(parts[0]))
        return unit.key if unit else None

    def _no_links(self, path: Path) -> bool:
        """True when ``path`` is inside the share and no part of it is a symbolic link."""
        p = os.path.abspath(path)
        return os.path.realpath(p) == p and (p == str(self.root) or p.startswith(str(self.root) + os.sep))

    def _links(self, start: Path):
        """Symbolic links under ``start`` (to files or folders), never followed."""
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not is_ignored_dir(d)]
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                if os.path.islink(p):
                    yield p

    def _take_link(self, path: Path) -> str:
        """A link in a unit's folder is answered and moved aside; its target is never read."""
        rel = self._rel(path)
        if rel is None:
            return "gone"
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return "gone"
        sig = Signature(0, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        if self._known.get(str(path)) == sig:
            return "known"
        unit = self._unit_key(rel)
        if unit is None:
            self._warn(path, "symbolic link outside a unit folder (ignored, never followed)")
            self._known[str(path)] = sig
            return "ignored"
        base, key = self._identity(rel, unit, st.st_mtime_ns, b"symlink")
        if self._is_known(key):
            self._known[str(path)] = sig
            return "known"
        shown, raw = _safe_rel(rel)
        meta = {"source": "folder", "path": shown, "unit": unit, "taken_at": time.time(), "size": 0,
                "mtime_ns": st.st_mtime_ns, "key": key, "base": base, "link": True}
        if raw is not None:
            meta["path_hex"] = raw
        self.inq.put(b"", key=self._queue_key(key), meta=meta)
        self._known[str(path)] = sig
        log.warning("shared folder: a symbolic link in %r (file id %s) is answered and moved aside, never followed",
                    shown.split("/")[0], _path_id(rel))
        return "queued"

    def _walk(self, start: Path):
        """Every candidate file under ``start`` (skipping hidden, system and output folders)."""
        def onerror(exc: OSError) -> None:
            self._warn(exc.filename or "", f"list-{type(exc).__name__}")

        base_rel = self._rel(start)
        if base_rel is not None and any(is_ignored_dir(p) for p in base_rel.split("/")):
            return
        for dirpath, dirnames, filenames in os.walk(start, onerror=onerror):
            dirnames[:] = [d for d in dirnames if not is_ignored_dir(d)]
            for name in filenames:
                if is_candidate_name(name):
                    yield Path(dirpath) / name

    def _warn(self, path, what: str) -> None:
        rel = self._rel(Path(path)) if path else None
        key = (str(path), what)
        if key in self._warned:
            return
        self._warned.add(key)
        where = rel.split("/")[0] if rel and "/" in rel else "(gốc)"
        log.warning("shared folder: %s on a file in %r (file id %s); will retry", what,
                    _safe_rel(where)[0], _path_id(rel or str(path)))

    def _root_ok(self) -> bool:
        if self.root.is_dir():
            self._root_warned = False
            return True
        if not self._root_warned:
            log.warning("the shared folder %s is not available", self.root)
            self._root_warned = True
        return False

    # ------------------------------------------------------------------ identity
    def _moved_codes(self, base: str) -> list[str]:
        return list(self.store.get_value(f"folder-moved:{base}", []) or [])

    def _identity(self, rel: str, unit: str | None, mtime_ns: int, data: bytes) -> tuple[str, str]:
        """(base, incoming key) of a drop; see the module doc for the generation."""
        prefix = f"folder\0{unit or ''}\0{nfc(rel)}\0{mtime_ns}\0".encode("utf-8", "surrogateescape")
        base = hashlib.sha256(prefix + data).hexdigest()
        gen = len(self._moved_codes(base))
        return base, incoming_key(None, prefix + f"{gen}\0".encode() + data)

    @staticmethod
    def _queue_key(key: str) -> str:
        return "folder-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]

    def _is_known(self, key: str) -> bool:
        return self.inq.find(self._queue_key(key)) is not None or \
            self.store.incoming_outcome(key) is not None

    def _read(self, path: Path, sig: Signature) -> tuple[str, bytes | None]:
        """("ok", bytes) or a reason the file cannot be taken now."""
        if sig.size > self.max_bytes:
            self._warn(path, "file larger than [limits] max_file_mb")
            return "large", None
        if not self._no_links(path.parent):
            return "gone", None  # a folder replaced by a link meanwhile: never read through it
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as fh:
                data = fh.read(sig.size + 1)
        except (FileNotFoundError, NotADirectoryError):
            return "gone", None
        except PermissionError:
            self._warn(path, "permission denied")
            return "denied", None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "gone", None  # became a link: the link pass answers it, never follows it
            self._warn(path, type(exc).__name__)
            return "error", None
        if signature(path) != sig or len(data) != sig.size:
            return "changed", None
        return "ok", data

    def _take(self, path: Path, sig: Signature, *, peek: bool = False) -> str:
        """Queue the file (or with ``peek`` only check whether it is known).

        Returns "queued", "known", "new" (peek), or why it could not be read now.
        """
        rel = self._rel(path)
        if rel is None:
            return "gone"
        status, data = self._read(path, sig)
        if status == "large":
            # Too large to take in: still answered (and moved) so it does not sit there unseen.
            data, too_large = b"", sig.size
        elif data is None:
            return status
        else:
            too_large = None
        unit = self._unit_key(rel)
        base, key = self._identity(rel, unit, sig.mtime_ns,
                                   data if too_large is None else f"too-large:{too_large}".encode())
        if self._is_known(key):
            self._known[str(path)] = sig
            return "known"
        if peek:
            return "new"
        shown, raw = _safe_rel(rel)
        meta = {"source": "folder", "path": shown, "unit": unit, "taken_at": time.time(),
                "size": sig.size, "mtime_ns": sig.mtime_ns, "key": key, "base": base}
        if raw is not None:
            meta["path_hex"] = raw
        if too_large is not None:
            meta["too_large"] = too_large
        self.inq.put(data, key=self._queue_key(key), meta=meta)
        self._known[str(path)] = sig
        log.info("shared folder: took a file from %r%s", shown.split("/")[0] if unit else "(không rõ đơn vị)",
                 "" if unit else f" (file id {_path_id(rel)})")
        return "queued"

    # ------------------------------------------------------------------ scanning
    def scan(self, settle: bool = True) -> int:
        """Full rescan; with ``settle`` one wait of settle_seconds for every candidate."""
        if not self._root_ok():
            return 0
        n = sum(self._take_link(p) == "queued" for p in self._links(self.root))
        fresh: list[tuple[Path, Signature]] = []
        for path in self._walk(self.root):
            sig = signature(path)
            if sig is None or self._known.get(str(path)) == sig:
                continue
            if self._take(path, sig, peek=True) == "known":
                continue
            fresh.append((path, sig))
        if settle and self.settle > 0 and fresh:
            time.sleep(self.settle)
        for path, sig in fresh:
            if signature(path) != sig:
                continue  # still changing: next time
            if self._take(path, sig) == "queued":
                n += 1
        return n

    def _consider(self, path: Path, now: float) -> None:
        key = str(path)
        if key in self._pending:
            return
        if os.path.islink(path):
            self._take_link(path)
            return
        rel = self._rel(path)
        if rel is None or not is_candidate_path(Path(rel)):
            return
        sig = signature(path)
        if sig is None or self._known.get(key) == sig:
            return
        self._pending[key] = _Pending(sig, now)

    def _rescan_into_pending(self, now: float) -> None:
        for path in self._links(self.root):
            self._take_link(path)
        for path in self._walk(self.root):
            self._consider(path, now)

    def _settle_pending(self, stop: Event) -> int:
        n = 0
        for key, p in list(self._pending.items()):
            if stop.is_set():
                break
            now = time.monotonic()
            path = Path(key)
            sig = signature(path)
            if sig is None:
                del self._pending[key]
                continue
            if sig != p.sig:
                p.sig, p.since = sig, now
                continue
            if self._known.get(key) == sig:
                del self._pending[key]
                continue
            age = now - p.since
            if age < self.settle:
                continue
            try:
                valid = looks_complete(path)
            except (FileNotFoundError, NotADirectoryError):
                del self._pending[key]
                continue
            except PermissionError:
                self._warn(path, "permission denied")
                p.since = now  # look again after another settle period
                continue
            except OSError as exc:
                self._warn(path, type(exc).__name__)
                p.since = now
                continue
            if not valid and age < self.grace:
                continue
            status = self._take(path, sig)
            if status in ("queued", "known", "gone", "large"):
                del self._pending[key]
                n += status == "queued"
            elif status == "changed":
                p.since = now
            else:  # denied or an I/O error: try again later
                p.since = now
        return n

    def watch_once(self, stop: Event) -> bool:
        """One round of the daemon: supervise the watcher, gather changes, take settled files."""
        restarted = self.watcher.check()
        now = time.monotonic()
        if (restarted or now >= self._next_rescan) and self._root_ok():
            self._rescan_into_pending(now)
            self._next_rescan = now + self.rescan_every
        elif not self.watcher.watching:
            self._next_rescan = 0.0  # rescan as soon as the folder is back
        changes = self.watcher.wait(BUSY_WAIT if self._pending else IDLE_WAIT)
        now = time.monotonic()
        for c in changes:
            path = Path(c.path)
            if c.is_dir:
                if path.is_dir():
                    for p in self._walk(path):
                        self._consider(p, now)
            else:
                self._consider(path, now)
        return self._settle_pending(stop) > 0

    # ------------------------------------------------------------------ items
    def item(self, entry) -> Item:
        meta = entry.meta
        data = entry.data
        rel = meta.get("path") or ""
        key = meta.get("key")
        if not key:  # an entry from an older version: recompute
            key = self._identity(rel, meta.get("unit"), int(meta.get("mtime_ns", 0)), data)[1]
        taken = float(meta.get("taken_at") or time.time())
        name = nfc(Path(rel).name) or "tep.xlsx"
        if meta.get("link"):  # answered, never read
            return Item(key=key, source="folder", received_at=datetime.fromtimestamp(taken, VN),
                        skipped=[(name, "symlink")], unit_key=meta.get("unit"), folder_file=rel)
        if meta.get("too_large"):
            return Item(key=key, source="folder", received_at=datetime.fromtimestamp(taken, VN),
                        skipped=[(name, "too-large")], unit_key=meta.get("unit"), folder_file=rel)
        return Item(key=key, source="folder", received_at=datetime.fromtimestamp(taken, VN),
                    files=[FileIn(name, data)], unit_key=meta.get("unit"), folder_file=rel)

    # ------------------------------------------------------------------ finishing
    def _src(self, meta: dict) -> Path:
        if meta.get("path_hex"):
            return self.root / os.fsdecode(bytes.fromhex(meta["path_hex"]))
        return self.root / meta.get("path", "")

    def _needs_fixing(self, plan, code: str) -> bool:
        if plan is not None:
            return plan.outcome == "held" or not plan.files or \
                any(f.errors or f.fatal or f.held_rows for f in plan.files)
        sub = self.store.submission(code)
        if sub is None:
            return True
        if sub.status == "forwarded":
            return False
        if sub.status == "answered":
            return bool(sub.error_count) or sub.form is None
        return True

    def _mkdirs(self, base: Path, names: list[str]) -> Path:
        if not self._no_links(base):
            raise OSError(errno.ELOOP, "a unit folder is a symbolic link", str(base))
        mode = base.stat().st_mode & 0o7777
        here = base
        for name in names:
            here = find_child(here, name)
            if os.path.islink(here):  # never write through a link: move it aside
                os.rename(here, self._free(here.parent, here.name + LINK_ASIDE))
            if not here.is_dir():
                try:
                    here.mkdir()
                except FileExistsError:
                    pass
                try:
                    os.chmod(here, mode)
                except OSError:
                    pass
        return here

    def _place(self, meta: dict, item: Item, plan, code: str, rdir: Path) -> dict:
        """Decide (once) where the file and its results go; durable in ``placed.json``."""
        path = rdir / PLACED
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            pass
        src = self._src(meta)
        rel = Path(src).relative_to(self.root)
        outdir = FIX_DIR if self._needs_fixing(plan, code) else DONE_DIR
        day = item.received_at.astimezone(VN).date().isoformat()
        dest = self._mkdirs(self.root / rel.parts[0], [outdir, day])
        name = src.name
        stem, ext = Path(name).stem, Path(name).suffix
        results = sorted(p.name for p in rdir.iterdir() if p.name != PLACED) if rdir.is_dir() else []
        taken = _names_in(dest)
        n = 1
        while True:
            fname = numbered(stem, ext, n)
            fstem = Path(fname).stem
            names = {r: fit_name(nfc(fstem), RECEIPT_SUFFIX if r.endswith("receipt") else
                                 ANNOTATED_SUFFIX if r.endswith("annotated") else f" - {r}")
                     for r in results}
            if not any(nfc(x) in taken for x in (fname, *names.values())):
                break
            n += 1
        placed = {"dir": dest.relative_to(self.root).as_posix(), "name": fname, "results": names}
        rdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_file_durably(path, json.dumps(placed, ensure_ascii=False).encode("utf-8"))
        return placed

    @staticmethod
    def _free(dest: Path, name: str) -> Path:
        stem, ext = Path(name).stem, Path(name).suffix
        taken = _names_in(dest)
        n = 1
        while True:
            target = dest / numbered(stem, ext, n)
            if nfc(target.name) not in taken and not os.path.lexists(target):
                return target
            n += 1

    def _write_result(self, target: Path, data: bytes, mode: int) -> None:
        """Put a result file beside the drop (0640, [folder] result_group); an identical one
        (a re-run) is left as it is. Never through a link, never outside the share."""
        if not self._no_links(target.parent):
            raise OSError(errno.ELOOP, "a result folder is a symbolic link", str(target.parent))
        if os.path.islink(target):
            target = self._free(target.parent, target.name)  # a planted link: never read or replaced
        elif target.exists():
            try:
                if target.read_bytes() == data:
                    return
            except OSError:
                pass
            target = self._free(target.parent, target.name)  # a user's file: never overwrite
        tmp = target.parent / f".{os.getpid()}-{time.time_ns()}.vaxmail.tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, mode)
            if self.result_gid is not None:
                os.chown(tmp, -1, self.result_gid)
        except OSError as exc:
            self._warn(tmp, f"result mode/group not set ({type(exc).__name__})")
        if os.path.lexists(target):  # appeared meanwhile
            target = self._free(target.parent, target.name)
        os.rename(tmp, target)

    def finish(self, entry, item: Item, plan) -> None:
        """Move the file into Đã xử lý/Cần sửa/<date>/ with its results beside it (idempotent)."""
        meta = entry.meta
        if not meta.get("unit") or self.directory.unit(meta["unit"]) is None:
            return  # an unknown place: the file stays where it is, held for the operator
        code = self.store.tracking_code(item.key)
        rdir = results_dir(self.state_dir, code)
        src = self._src(meta)
        if meta.get("link"):  # the link itself (lstat), never its target
            try:
                st = os.lstat(src)
                ours = os.path.islink(src) and st.st_mtime_ns == meta.get("mtime_ns")
            except FileNotFoundError:
                ours = False
        else:
            sig = signature(src)
            ours = sig is not None and sig.size == meta.get("size") and sig.mtime_ns == meta.get("mtime_ns")
        if ours and not self._no_links(src.parent):
            ours = False  # a folder on the way became a link: never move through it
        if not ours and not rdir.is_dir():
            return  # finished before (or the file was taken away): nothing left to do
        placed = self._place(meta, item, plan, code, rdir)
        dest = self.root / placed["dir"]
        for rname, target_name in placed["results"].items():
            try:
                data = (rdir / rname).read_bytes()
            except FileNotFoundError:
                continue
            self._write_result(dest / target_name, data, RESULT_MODE)
        if ours:
            target = dest / placed["name"]
            if os.path.lexists(target) and not _same_entry(target, src):
                target = self._free(dest, placed["name"])
            if os.path.lexists(target):  # the same file under both names: a crash between link and unlink
                os.unlink(src)
            else:
                os.rename(src, target)  # rename moves a link itself, never its target
            try:
                fsync_dir(dest)
            except OSError:
                pass  # some network file systems refuse fsync on a folder
            self._known.pop(str(src), None)
        base = meta.get("base")
        if base:
            codes = self._moved_codes(base)
            if code not in codes:
                self.store.set_value(f"folder-moved:{base}", codes + [code])
        shutil.rmtree(rdir, ignore_errors=True)

    def close(self) -> None:
        self.watcher.close()


def _same_entry(a: Path, b: Path) -> bool:
    """Both names are the same directory entry's inode (links compared as links)."""
    try:
        sa, sb = os.lstat(a), os.lstat(b)
    except FileNotFoundError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _result_gid(name: str) -> int | None:
    if not name:
        return None
    import grp
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        log.warning("shared folder: [folder] result_group %r is not a group on this machine", name)
        return None


def _names_in(folder: Path) -> set[str]:
    """Names in a folder, NFC (a name written in NFD by a Mac clashes with its NFC twin)."""
    try:
        return {nfc(n) for n in os.listdir(folder)}
    except FileNotFoundError:
        return set()


def create_unit_folders(root: Path, directory, store=None) -> list[tuple[str, str]]:
    """One subfolder per unit of the directory; returns (folder, unit name) for each. With a
    store, the exact names created are kept (``unit-folders``): the intake knows a unit's folder
    by that name only (a look-alike is nobody's)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    out: list[tuple[str, str]] = []
    made: dict[str, str] = dict(store.get_value(UNIT_FOLDERS_KEY) or {}) if store is not None else {}
    for unit in directory.units:
        if not unit.folder:
            continue
        path = find_child(root, unit.folder)
        if os.path.islink(path):
            log.warning("shared folder: %r is a symbolic link; moved aside", unit.folder)
            os.rename(path, root / (unit.folder + LINK_ASIDE))
            path = root / unit.folder
        path.mkdir(exist_ok=True)
        made[nfc(path.name)] = unit.key
        out.append((unit.folder, unit.name))
    if store is not None:
        store.set_value(UNIT_FOLDERS_KEY, made)
    return out
