"""Send the morning digest once a day (APScheduler 3, explicit Asia/Ho_Chi_Minh zone).

- A cron job at ``[digest] time`` (default 07:00) in ``[digest] timezone``, with a misfire
  grace of ``[digest] misfire_grace_hours`` (default 6) and coalescing: a process that was
  suspended or busy at 07:00 sends once when it can, not once per missed run.
- ``run_due()`` sends the digest for yesterday if its time has come and it was not sent yet.
  The daemon calls it at start-up too: a machine that was down at 07:00 sends when it comes
  back (any time that day; the next morning's digest supersedes an older one).
- "Sent for day D" is kept in the state (``digests`` table): a restart never sends twice.
  The digest is "sent" once it is in the durable outbox; the sender delivers it from there
  (exactly once per recipient, keyed by its stable Message-ID).
- One instance only: an exclusive ``flock`` on ``<state>/digest.lock``, held while the
  scheduler runs (and by ``run_due`` for its duration when the scheduler is not started).
  A second daemon on the same state neither schedules nor sends.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from ..config import ConfigError
from ..mail.compose import serialize
from .message import KIND, build_digest, digest_tz, intake_address

log = logging.getLogger(__name__)

LOCK_NAME = "digest.lock"


def parse_time(text: str) -> dtime:
    try:
        hh, mm = str(text).strip().split(":")
        return dtime(int(hh), int(mm))
    except ValueError:
        raise ConfigError(f'[digest] time must read HH:MM (e.g. "07:00"), not {text!r}') from None


class DigestLock:
    """An exclusive, non-blocking flock on a file; released on close or process exit."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def queue_digest(settings, store, outbox, renderer, day: date, *, message_id: str | None = None,
                 now: datetime | None = None) -> str:
    """Build the digest for ``day``, put it in the durable outbox, record it as sent for that
    day; returns its Message-ID. Raises ``ConfigError`` when the directory lists no leaders."""
    rcpts = list(settings.directory.leaders)
    if not rcpts:
        raise ConfigError("the directory lists no digest recipients ([digest] recipients)")
    msg, figures, _files = build_digest(settings, store, day, renderer, now=now, message_id=message_id)
    mid = str(msg["Message-ID"])
    ref = f"digest-{day.isoformat()}"
    outbox.add(serialize(msg), intake_address(settings), rcpts, kind=KIND, ref=ref, message_id=mid)
    with store.transaction():
        store.note_outgoing(mid, KIND, rcpts, ref=ref)
        store.mark_digest_sent(day, mid)
        store.set_value("last_digest", {"day": day.isoformat(), "message_id": mid,
                                        "queued_at": datetime.now(digest_tz(settings)).isoformat(),
                                        "forwarded_day": figures["day_total"]["forwarded"]})
        store.audit("digest", ref, {"message_id": mid, "recipients": len(rcpts)})
    return mid


class DigestScheduler:
    def __init__(self, settings, store, outbox, renderer):
        self.settings = settings
        self.store = store
        self.outbox = outbox
        self.renderer = renderer
        cfg = settings.section("digest")
        self.tz = digest_tz(settings)
        self.at = parse_time(cfg.get("time", "07:00"))
        self.grace = int(float(cfg.get("misfire_grace_hours", 6)) * 3600)
        self.lock = DigestLock(Path(settings.state_dir) / LOCK_NAME)
        self._scheduler: BackgroundScheduler | None = None
        self._busy = threading.Lock()  # the cron thread and a start-up call never overlap

    # -- life cycle
    def start(self) -> bool:
        """Take the lock and schedule the daily job; False when another instance holds it."""
        if self._scheduler is not None:
            return True
        if not self.lock.acquire():
            log.warning("digest: another vaxmail instance holds %s; this one will not send digests",
                        self.lock.path)
            return False
        sched = BackgroundScheduler(timezone=self.tz)
        sched.add_job(self._job, CronTrigger(hour=self.at.hour, minute=self.at.minute, timezone=self.tz),
                      id="digest", name="morning digest", misfire_grace_time=self.grace,
                      coalesce=True, max_instances=1, replace_existing=True)
        sched.start()
        self._scheduler = sched
        log.info("digest: scheduled daily at %s (%s)", self.at.strftime("%H:%M"), self.tz.key)
        return True

    def shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        self.lock.release()

    def next_run(self) -> datetime | None:
        if self._scheduler is None:
            return None
        job = self._scheduler.get_job("digest")
        return job.next_run_time if job else None

    def _job(self) -> None:
        try:
            self.run_due()
        except Exception as exc:  # noqa: BLE001 - a failed digest must not stop the scheduler
            log.error("digest: %s: %s", type(exc).__name__, exc)

    # -- the decision
    def due_day(self, now: datetime | None = None) -> date | None:
        """The day whose digest is due at ``now``: yesterday, once today's send time passed."""
        now = (now or datetime.now(self.tz)).astimezone(self.tz)
        if now.timetz().replace(tzinfo=None) < self.at:
            return None
        return now.date() - timedelta(days=1)

    def run_due(self, now: datetime | None = None) -> bool:
        """Send yesterday's digest if it is due and not sent yet; True when it was queued."""
        day = self.due_day(now)
        if day is None or self.store.digest_sent(day):
            return False
        if not self.store.last_submission_by_unit(until=day):
            # nothing has ever been received up to that day (a new installation): no digest of zeros
            log.info("digest: nothing received up to %s; not sending", day.isoformat())
            return False
        with self._busy:
            temporary = not self.lock.held
            if temporary and not self.lock.acquire():
                log.info("digest: another instance holds the lock; not sending for %s", day)
                return False
            try:
                if self.store.digest_sent(day):  # re-check under the lock
                    return False
                mid = queue_digest(self.settings, self.store, self.outbox, self.renderer, day,
                                   now=(now or datetime.now(self.tz)).astimezone(self.tz))
                log.info("digest for %s queued (%s)", day.isoformat(), mid)
                return True
            finally:
                if temporary:
                    self.lock.release()
