"""Personal data does not outlive its use: everything that holds it is removed after
``[retention] days`` (default 30).

Places purged (age by the file's modification time, or by the dated folder's name):
    held          <state>/held/*            messages and files held for the operator
    crash         <state>/crash/*           reports of items that failed
    parked-in     <state>/queue/in/bad/*    incoming items parked after failures
    parked-out    <state>/outbox/bad/*      outgoing mail parked after retries
    results       <state>/results/*         results of dropped files not yet placed
    work          <state>/work/*            leftovers of the checker
    file-outbox   the ``file:`` outbox      copies of every message sent (when [smtp] url is file:)
    share         <share>/<unit>/Đã xử lý|Cần sửa/<YYYY-MM-DD>/  processed files and their results
    mailbox-done  the mailbox's done folder (a Maildir's, or IMAP's via the source)
and in the database the held items' paths and sender addresses (the items stay listed as
expired). Pending work (queue new/claimed, the outbox waiting to be sent) is never touched.
Symbolic links are removed as links, never followed.

``purge(settings, dry_run=...)`` returns counts per place; the daemon runs it once a day and
writes one audit line of counts (never names or content). ``summary`` gives the oldest item
still kept, for ``vaxmail status`` and the web console.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterator

log = logging.getLogger("vaxmail.retention")

DAY = 86400.0
_DATED = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def retention_days(settings) -> int:
    return max(1, int(settings.section("retention").get("days", 30)))


@dataclass
class Result:
    cutoff: float
    removed: dict[str, int] = field(default_factory=dict)  # place → items removed (or to remove)
    kept_oldest: float | None = None  # mtime of the oldest item kept anywhere
    oldest_any: float | None = None  # … of the oldest item found (kept or past the cutoff)
    held_expired: int = 0
    dry_run: bool = False

    def add(self, place: str, n: int = 1) -> None:
        self.removed[place] = self.removed.get(place, 0) + n

    def see(self, mtime: float) -> None:
        if self.oldest_any is None or mtime < self.oldest_any:
            self.oldest_any = mtime

    def keep(self, mtime: float) -> None:
        if self.kept_oldest is None or mtime < self.kept_oldest:
            self.kept_oldest = mtime

    @property
    def total(self) -> int:
        return sum(self.removed.values())

    def as_dict(self) -> dict[str, Any]:
        return {"cutoff": self.cutoff, "removed": dict(sorted(self.removed.items())),
                "total": self.total, "held_expired": self.held_expired,
                "oldest_kept": self.kept_oldest, "dry_run": self.dry_run}


def _children(folder: Path) -> Iterator[os.DirEntry]:
    try:
        with os.scandir(folder) as it:
            yield from [e for e in it if not e.name.startswith(".vaxmail")]
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return


def _mtime(entry: os.DirEntry) -> float | None:
    try:
        return entry.stat(follow_symlinks=False).st_mtime
    except FileNotFoundError:
        return None


def _remove(path: Path) -> None:
    """Remove a file, a link (the link, not its target) or a folder tree, without following links."""
    st = os.lstat(path)
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)  # rmtree never follows symlinks inside the tree
    else:
        os.unlink(path)


def _purge_flat(folder: Path, place: str, res: Result, *, sidecars: Path | None = None) -> None:
    """Every entry directly in ``folder`` older than the cutoff (with a queue's sidecar)."""
    for e in _children(folder):
        mt = _mtime(e)
        if mt is None:
            continue
        res.see(mt)
        if mt >= res.cutoff:
            res.keep(mt)
            continue
        res.add(place)
        if res.dry_run:
            continue
        try:
            _remove(Path(e.path))
            if sidecars is not None:
                (sidecars / f"{e.name}.json").unlink(missing_ok=True)
        except FileNotFoundError:
            pass


def _day_of(name: str) -> float | None:
    m = _DATED.match(name)
    if not m:
        return None
    try:
        d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    # the end of that day: a folder is old once its whole day is older than the cutoff
    return datetime(d.year, d.month, d.day).timestamp() + DAY


def _purge_share(root: Path, res: Result) -> None:
    from .intake.folder_files import DONE_DIR, FIX_DIR
    from .textnorm import fold

    wanted = {fold(DONE_DIR), fold(FIX_DIR)}
    for unit in _children(root):
        if not unit.is_dir(follow_symlinks=False):
            continue
        for sub in _children(Path(unit.path)):
            if fold(sub.name) not in wanted or not sub.is_dir(follow_symlinks=False):
                continue
            for day in _children(Path(sub.path)):
                end = _day_of(day.name)
                if end is None or not day.is_dir(follow_symlinks=False):
                    continue
                files = sum(1 for _ in _children(Path(day.path)))
                res.see(end - DAY)
                if end >= res.cutoff:
                    res.keep(end - DAY)
                    continue
                res.add("share", files)
                if not res.dry_run:
                    shutil.rmtree(day.path, ignore_errors=True)


def _file_outbox(settings) -> Path | None:
    url = str(settings.section("smtp").get("url", "") or "")
    if not url.startswith("file:"):
        return None
    from .urls import parse_url
    try:
        return Path(parse_url(url, allowed=("file",)).path)
    except Exception:  # noqa: BLE001 - a bad URL is reported where it is used
        return None


def _maildir_done(settings) -> Path | None:
    url = str(settings.section("mailbox").get("url", "") or "")
    if not url.startswith("maildir:"):
        return None
    from .urls import parse_url
    try:
        root = Path(parse_url(url, allowed=("maildir",)).path)
    except Exception:  # noqa: BLE001
        return None
    done = str(settings.section("mailbox").get("done_folder", "") or "")
    from .intake.maildir import maildirpp_folder_name
    return root / maildirpp_folder_name(done) if done else None


def purge(settings, store=None, *, dry_run: bool = False, now: float | None = None,
          mailbox=None) -> Result:
    """Remove (or with ``dry_run`` only count) personal data older than [retention] days."""
    now = time.time() if now is None else now
    res = Result(cutoff=now - retention_days(settings) * DAY, dry_run=dry_run)
    state = Path(settings.state_dir)
    _purge_flat(state / "held", "held", res)
    _purge_flat(state / "crash", "crash", res)
    _purge_flat(state / "queue" / "in" / "bad", "parked-in", res, sidecars=state / "queue" / "in" / "meta")
    _purge_flat(state / "outbox" / "bad", "parked-out", res, sidecars=state / "outbox" / "meta")
    _purge_flat(state / "results", "results", res)
    _purge_flat(state / "work", "work", res)
    out = _file_outbox(settings)
    if out is not None:
        _purge_flat(out, "file-outbox", res)
    done = _maildir_done(settings)
    if done is not None:
        for sub in ("cur", "new"):
            _purge_flat(done / sub, "mailbox-done", res)
    elif mailbox is not None and hasattr(mailbox, "purge_done"):
        try:
            n = mailbox.purge_done(res.cutoff, dry_run=dry_run)
            if n:
                res.add("mailbox-done", n)
        except Exception as exc:  # noqa: BLE001 - the mailbox may be away; next day again
            log.warning("retention: the mailbox's done folder was not purged (%s)", type(exc).__name__)
    share = settings.folder_path
    if share is not None and Path(share).is_dir():
        _purge_share(Path(os.path.realpath(share)), res)
    if store is not None:
        res.held_expired = store.expire_held(res.cutoff, dry_run=dry_run, at=now)
        if not dry_run:
            store.audit("retention-purge", None, {"days": retention_days(settings), **res.removed,
                                                  "held_expired": res.held_expired}, at=now)
            store.set_value("retention", {"last_run": now, "oldest_kept": res.kept_oldest})
    if store is not None and (res.total or res.held_expired):  # not for summary()'s look
        log.info("retention: %s %d item(s) older than %d days (%s)", "would remove" if dry_run else "removed",
                 res.total, retention_days(settings),
                 ", ".join(f"{k} {v}" for k, v in sorted(res.removed.items())) or "database only")
    return res


def summary(settings) -> dict[str, Any]:
    """Retention days and the oldest item still kept (a dry run: nothing is touched)."""
    res = purge(settings, None, dry_run=True)
    return {"retention_days": retention_days(settings), "oldest_kept": res.oldest_any,
            "due_for_purge": res.total}
