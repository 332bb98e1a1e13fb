"""The runners: one object per loop of the daemon, in the manner of GNU Mailman 3's runners.

Every runner has the same small interface:

- ``run_once()`` does one round of its work and returns how much it did;
- ``stop()`` asks it to finish the round in hand and end;
- ``health()`` is a snapshot (rounds, work done, last round, last error, alive).

``start()`` runs ``run_once`` in its own thread until stopped, waiting between rounds in
``idle()`` (each runner knows what to wait for: the mailbox's IDLE, a wake-up from the
runner before it, a timer). A round that raises is logged by type (never a traceback with
personal data in it) and the loop goes on after a pause. The ``Service`` (runner.py) builds
the runners, starts them, watches them and stops them.

    MailIntake ─┐                                  ┌─ Outbox sender
                ├─ queue "in" ── Pipeline ── commit ┤
    FolderIntake┘                                  └─ state     Scheduler: digest, daily jobs
                                                                Retention: the daily purge
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime, time as clock_time
from typing import TYPE_CHECKING, Callable

from .digest.schedule import DigestScheduler

if TYPE_CHECKING:
    from .runner import Service

log = logging.getLogger("vaxmail")

ERROR_PAUSE = 5.0  # seconds a runner waits after a round that raised


@dataclass
class Health:
    name: str
    alive: bool
    rounds: int
    done: int  # items (messages, files, entries, jobs) handled since start
    last_round_at: float | None  # wall clock
    last_error: str | None  # exception type of the last failed round
    last_error_at: float | None

    def as_dict(self) -> dict:
        return asdict(self)


class Runner:
    """Base: the loop, the stop flag, the health counters. Subclasses write ``run_once``."""

    name = "runner"
    idle_seconds = 2.0

    def __init__(self, stopping: threading.Event):
        self.stopping = stopping  # the whole service is stopping
        self._halt = threading.Event()  # this runner alone
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = self.done = 0
        self.last_round_at: float | None = None
        self.last_beat = time.monotonic()  # monotonic end of the last round (the watchdog's)
        self.last_error: str | None = None
        self.last_error_at: float | None = None

    # -- the interface
    def run_once(self) -> int:
        raise NotImplementedError

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()

    def health(self) -> Health:
        return Health(self.name, self.alive, self.rounds, self.done, self.last_round_at,
                      self.last_error, self.last_error_at)

    # -- the loop
    @property
    def stopped(self) -> bool:
        return self._halt.is_set() or self.stopping.is_set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        """Work may be waiting: end the current ``idle()`` now."""
        self._wake.set()

    def idle(self) -> None:
        self._wake.wait(self.idle_seconds)
        self._wake.clear()

    def round(self) -> int:
        """One ``run_once`` with the bookkeeping; never raises."""
        try:
            n = self.run_once()
        except Exception as exc:  # noqa: BLE001 - a bug in one round must not stop the service
            self.last_error, self.last_error_at = type(exc).__name__, time.time()
            log.error("%s: %s", self.name, type(exc).__name__)
            self._halt.wait(ERROR_PAUSE)
            n = 0
        self.rounds += 1
        self.done += n
        self.last_round_at = time.time()
        self.last_beat = time.monotonic()
        return n

    def loop(self) -> None:
        while not self.stopped:
            self.round()
            if not self.stopped:
                self.idle()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.loop, name=f"vaxmail-{self.name}", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the thread to end; True when it did."""
        if self._thread is not None:
            self._thread.join(max(0.0, timeout))
        return not self.alive


class MailIntake(Runner):
    """Copies what waits in the mailbox into the durable queue; then waits on the mailbox."""

    name = "mail"

    def __init__(self, service: Service, then: Runner | None = None):
        super().__init__(service.stop)
        self.service = service
        self.then = then
        self.sweep = service.settings.mailbox.sweep_seconds

    def run_once(self) -> int:
        n = self.service.take_mail()
        if n and self.then is not None:
            self.then.wake()
        return n

    def idle(self) -> None:
        if self.service.mail is not None:
            self.service.mail.wait(min(self.sweep, 60.0))
        else:
            self._halt.wait(self.sweep)


class FolderIntake(Runner):
    """Takes the files that settled in the shared folder (its watch blocks between looks)."""

    name = "folder"

    def __init__(self, service: Service, then: Runner | None = None):
        super().__init__(service.stop)
        self.service = service
        self.then = then

    def run_once(self) -> int:
        n = self.service.folder.watch_once(self.stopping)
        if n and self.then is not None:
            self.then.wake()
        return n

    def idle(self) -> None:
        pass  # watch_once itself waits for news


class Pipeline(Runner):
    """Processes every due entry of the "in" queue, one at a time; wakes the sender after."""

    name = "pipeline"
    idle_seconds = 2.0

    def __init__(self, service: Service, then: Runner | None = None):
        super().__init__(service.stop)
        self.service = service
        self.then = then

    def run_once(self) -> int:
        n = self.service.drain()
        if n and self.then is not None:
            self.then.wake()
        return n


class OutboxSender(Runner):
    """Sends what the outbox holds, with retries and backoff (``outbox.sender.Sender``)."""

    name = "outbox"
    idle_seconds = 10.0

    def __init__(self, service: Service):
        super().__init__(service.stop)
        self.service = service

    def run_once(self) -> int:
        if self.service.sender is None:
            return 0
        return self.service.sender.run_once(self.stopping).sent


@dataclass
class DailyJob:
    """A job run once a day after ``at`` (local time of the digest's time zone); a day missed
    while the service was down is run at the next start. ``run`` gets the day."""
    name: str
    at: clock_time
    run: Callable[[date], object]


class Scheduler(Runner):
    """The morning digest (its own cron, lock and catch-up: ``digest.schedule``) and the daily
    jobs of ``daily_jobs()``. Adding a daily job is one line there."""

    name = "scheduler"
    idle_seconds = 60.0

    def __init__(self, service: Service):
        super().__init__(service.stop)
        self.service = service
        self.digest = DigestScheduler(service.settings, service.store, service.outbox, service.ctx.renderer)
        self.tz = self.digest.tz
        self.jobs = self.daily_jobs()
        self._started = False

    def daily_jobs(self) -> list[DailyJob]:
        return []  # e.g. DailyJob("purge", clock_time(3, 0), lambda day: purge(self.service.settings))

    def run_once(self) -> int:
        n = 0
        if not self._started:
            self._started = True
            self.digest.start()
            n += int(self.digest.run_due())  # a digest missed while the service was down
        now = datetime.now(self.tz)
        for job in self.jobs:
            key = f"daily:{job.name}"
            if now.time() < job.at or self.service.store.get_value(key) == now.date().isoformat():
                continue
            try:
                job.run(now.date())
            except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the others
                self.last_error, self.last_error_at = f"{job.name}: {type(exc).__name__}", time.time()
                log.error("daily job %s: %s", job.name, type(exc).__name__)
                continue
            self.service.store.set_value(key, now.date().isoformat())
            n += 1
        return n

    def loop(self) -> None:
        try:
            super().loop()
        finally:
            self.digest.shutdown()  # in this thread: a digest being queued finishes first


class Retention(Runner):
    """The daily purge of personal data older than ``[retention] days`` (``retention.py``):
    looks hourly, purges when the last purge is a day old."""

    name = "retention"
    idle_seconds = 3600.0

    def __init__(self, service: Service):
        super().__init__(service.stop)
        self.service = service

    def run_once(self) -> int:
        return int(self.service.purge_if_due())

    def idle(self) -> None:
        self._halt.wait(self.idle_seconds)  # stop() sets _halt: an hour's wait ends at once
