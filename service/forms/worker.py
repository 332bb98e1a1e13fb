"""The form engine in a bounded child process: no file can stop the service.

Readers are native code (python-calamine is Rust, xlrd parses binary records): a hostile or
merely unlucky file can make them allocate gigabytes or abort the process, which Python
cannot catch. So the daemon never imports them. Reading, checking, repairing and annotating
one file happen in a worker process with

- an address-space limit (``RLIMIT_AS`` = ``[limits] file_memory_mb``),
- a CPU-time limit (``RLIMIT_CPU``, per file) and a wall-clock limit (``[limits]
  file_seconds``; the parent kills the worker when it passes),
- no core dumps (``RLIMIT_CORE`` = 0).

A worker that dies, is killed by a limit or times out answers that file as refused (one
Vietnamese sentence, ``issues.UNSAFE_FILE``); the next file gets a fresh worker. Workers come
from a fresh interpreter (``python -m service.forms.worker_main``), and one is always
started ahead of need, so a typical file adds no visible latency. A worker retires after
``MAX_TASKS`` files or once its peak memory grew past ``RETIRE_RSS_MB``.

``CheckPool.check(name, data, today)`` → ``(Report, annotated bytes or None)``; the
in-process ``LocalChecker`` has the same interface (for tests and tools that want it).
The pipeline's check handler calls whichever the runner put in its context.
"""
from __future__ import annotations

import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from multiprocessing.connection import Connection

from .issues import UNSAFE_FILE
from .model import Report, Unreadable

log = logging.getLogger("vaxmail")

MAX_TASKS = 200  # files a worker checks before it is replaced
RETIRE_RSS_MB = 400  # a worker whose peak RSS passed this is replaced after its file
READY_SECONDS = 60.0  # a new worker that has not finished its imports by then is lost
SUFFIXES = {".xlsx", ".xlsm", ".xls", ".csv", ".htm", ".html"}


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 1024
    seconds: int = 120
    max_rows: int = 200_000
    max_bytes: int = 50_000_000

    @classmethod
    def from_settings(cls, settings) -> "Limits":
        def get(key: str, default: int) -> int:
            try:
                return int(settings.limit(key))
            except (KeyError, TypeError, ValueError):
                return default
        return cls(memory_mb=get("file_memory_mb", 1024), seconds=get("file_seconds", 120),
                   max_rows=get("max_rows", 200_000), max_bytes=get("max_file_mb", 50) * 1_000_000)


def suffix_for(name: str) -> str:
    s = Path(name).suffix.lower()
    return s if s in SUFFIXES else ".bin"


def wants_annotation(report: Report) -> bool:
    """The reply carries an annotated copy of a readable form with errors or warnings."""
    return report.fatal is None and bool(report.form) and bool(report.errors or report.warnings)


def refused(name: str, today: date | None, code: str = "unsafe-file") -> Report:
    """The answer for a file whose worker died, hit a limit or ran out of time."""
    report = Report(path=name, form=None, checked_on=today)
    report.fatal = Unreadable(code, UNSAFE_FILE.format(name=name))
    return report


class LocalChecker:
    """The engine in this process: for ``vaxmail check`` style tools and unit tests."""

    def __init__(self, directory, workdir: Path, limits: Limits = Limits()):
        self.directory, self.workdir, self.limits = directory, Path(workdir), limits

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    def check(self, name: str, data: bytes, today: date | None, *,
              max_rows: int | None = None) -> tuple[Report, bytes | None]:
        from .worker_main import check_bytes
        limits = replace(self.limits, max_rows=max_rows) if max_rows else self.limits
        return check_bytes(name, data, today, self.directory, self.workdir, limits)


class _Worker:
    """One child process (``python -m service.forms.worker_main``) and a pipe to it: a
    fresh interpreter, so nothing of the daemon (threads, locks, open databases) is forked."""

    def __init__(self, directory, workdir: Path, limits: Limits):
        parent, child = socket.socketpair()
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service.forms.worker_main", str(child.fileno())],
            pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, env=env, cwd=str(workdir),
            start_new_session=True)  # a signal sent to the daemon's group is not the worker's
        child.close()
        self.conn = Connection(parent.detach())
        self.conn.send((directory, str(workdir), limits))
        self.tasks = 0
        self.ready = False

    def wait_ready(self, timeout: float) -> bool:
        """Wait for the child's "ready" (its imports done); False if it died or stayed silent."""
        if not self.ready:
            try:
                self.ready = self.conn.poll(timeout) and self.conn.recv() == "ready"
            except (EOFError, OSError):
                self.ready = False
        return self.ready

    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def exitcode(self) -> int | None:
        return self.proc.poll()

    def join(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def kill(self) -> None:
        if self.alive():
            try:
                self.proc.kill()
            except OSError:
                pass
        self.join(5)
        try:
            self.conn.close()
        except OSError:
            pass

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.join(2)
        self.kill()


class CheckPool:
    """One pre-started worker process at a time (files are checked one after another)."""

    def __init__(self, directory, workdir: Path, limits: Limits = Limits()):
        self.directory, self.workdir, self.limits = directory, Path(workdir), limits
        self._lock = threading.Lock()
        self._worker: _Worker | None = None
        self._abandoned = False
        self.deaths = 0  # workers lost to a limit, a crash or a timeout (for status/tests)
        self.peak_rss_mb = 0  # the largest peak RSS a worker reported

    def start(self, timeout: float = READY_SECONDS) -> None:
        """Start a worker now and wait until it is ready, so that the first file does not wait
        for one (and an item is never in hand, at a crash, only because a worker was starting)."""
        with self._lock:
            self._ensure().wait_ready(timeout)

    def _ensure(self) -> _Worker:
        w = self._worker
        if w is None or not w.alive():
            if w is not None:
                w.kill()
            w = self._worker = _Worker(self.directory, self.workdir, self.limits)
        return w

    def close(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.stop()
                self._worker = None

    def abandon(self) -> None:
        """The daemon exits with a file in hand (SIGTERM grace over): kill the worker now,
        without waiting for the check; the item is redone at the next start."""
        self._abandoned = True
        w = self._worker
        if w is not None and w.alive():
            try:
                w.proc.kill()
            except OSError:
                pass

    def check(self, name: str, data: bytes, today: date | None, *, max_rows: int | None = None,
              hook: str | None = None) -> tuple[Report, bytes | None]:
        """Check one file in the worker (``max_rows``: a lower row limit for this file).
        ``hook`` (tests only) makes the worker misbehave first: "sleep", "spin", "allocate",
        "abort" or "raise"."""
        with self._lock:
            w = self._ensure()
            started = time.monotonic()
            try:
                if not w.wait_ready(READY_SECONDS):
                    return self._lost(w, name, today, time.monotonic() - started)
                w.conn.send((name, data, today, hook, max_rows))
                answer = None
                if w.conn.poll(self.limits.seconds + 1):
                    answer = w.conn.recv()
            except (EOFError, OSError, BrokenPipeError):
                answer = None
            if answer is None:
                return self._lost(w, name, today, time.monotonic() - started)
            w.tasks += 1
            report, annotated, peak_mb = answer
            if report == "error":
                log.error("checking a file failed in the worker (%s); the file is answered as refused",
                          annotated)
                return refused(name, today, "check-failed"), None
            self.peak_rss_mb = max(self.peak_rss_mb, peak_mb)
            if w.tasks >= MAX_TASKS or peak_mb > RETIRE_RSS_MB:
                w.stop()
                self._worker = None
                self._ensure()  # the next one starts while this file goes on through the pipeline
            return report, annotated

    def _lost(self, w: _Worker, name: str, today: date | None, took: float):
        w.join(0.5)  # a worker that died is reaped at once; one that hangs is not
        if self._abandoned:  # the daemon is exiting: no answer for this file, ever
            raise SystemExit(0)  # ends the pipeline thread quietly; the item stays claimed
        timed_out = w.alive()
        w.kill()
        code = w.exitcode
        self._worker = None
        self.deaths += 1
        why = "timeout" if timed_out else (f"signal {-code}" if code is not None and code < 0 else f"exit {code}")
        log.warning("file check worker lost (%s after %.1f s); the file is answered as refused", why, took)
        try:
            self._ensure()
        except OSError as exc:
            log.error("file check worker could not be restarted: %s", type(exc).__name__)
        return refused(name, today), None


def memory_limit_bytes(limits: Limits) -> int:
    return max(64, limits.memory_mb) * 1024 * 1024


def apply_limits(limits: Limits) -> None:
    """In the worker: address space, no core dumps."""
    for res, value in ((resource.RLIMIT_AS, memory_limit_bytes(limits)), (resource.RLIMIT_CORE, 0)):
        try:
            _soft, hard = resource.getrlimit(res)
            v = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(res, (v, hard))
        except (ValueError, OSError):
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C on the daemon is the daemon's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def cpu_deadline(seconds: int) -> None:
    """In the worker, before each file: SIGXCPU (fatal) after ``seconds`` more CPU seconds."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    now = int(used.ru_utime + used.ru_stime) + 1
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = now + max(1, seconds)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ValueError, OSError):
        pass
