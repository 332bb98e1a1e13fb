"""The service: runners around durable queues (after GNU Mailman 3's core).

    mailbox ─┐                                   ┌─ outbox ── sender ── SMTP / file
             ├─ queue "in" ── pipeline ── commit ┤
    folder ──┘                                   └─ state (SQLite)

- The intake runners copy what arrived into the durable "in" queue (tmp, fsync, rename) and
  only then mark it done at the source (IMAP move, Maildir move).
- The pipeline runner claims one entry at a time, processes it into a Plan and commits it
  (outbox first, then one state transaction), then drops the entry.
- The sender drains the outbox with retries and backoff.
Each loop is a runner object (``runners.py``: mail intake, folder intake, pipeline, outbox
sender, scheduler) with ``run_once`` / ``stop`` / ``health``; ``run_forever`` starts them,
watches them (systemd's watchdog, a runner that died) and stops them. Start-up recovers claimed entries, so a crash or kill -9 at any point loses nothing, and the
state's record of finished items means nothing is done twice.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback

from .config import Settings
from .durable import make_private_dir, write_file_durably
from .intake import open_mailbox
from .intake.mail_item import failure_headers, mail_item, received_at
from .item import Item
from .outbox.sender import open_sender
from .outbox.spool import Outbox
from .pipeline import Context, process
from .pipeline.commit import commit
from .queue import Entry, Queue
from . import runners
from .runners import Runner
from .state import open_store, store_options

log = logging.getLogger("vaxmail")

FAILED_KIND = "failed"  # the hold kind of a parked (poison) entry
CRASHED = "crashed"  # an entry's last error when it was in hand as the daemon died

POISON_ATTEMPTS = 2  # an entry whose processing raised this often is parked and held
SWITCH_INTERVAL = 0.0005  # seconds; see run_forever
CRASH_ATTEMPTS = 3  # an entry in hand when the daemon died this often is parked and held
RETRY_DELAY = 30.0  # seconds before a failed entry is tried again (the queue behind goes on)
STOP_GRACE = 12.0  # seconds SIGTERM waits for the item in hand (the contract: exit within 15 s)
WATCHDOG_STALL = 100.0  # seconds without pipeline progress before systemd's watchdog may fire
SUPERVISE_EVERY = 5.0  # seconds between the supervisor's looks (watchdog, dead runners)
HEALTH_EVERY = 30.0  # seconds between health snapshots written to the store (vaxmail status)



class Service:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.state_dir = make_private_dir(settings.state_dir)
        self.store = open_store(self.state_dir, **store_options(settings))
        self.inq = Queue(self.state_dir / "queue", "in")
        self.outbox = Outbox(self.state_dir)
        self.ctx = Context.from_settings(settings, self.store)
        from .forms.worker import CheckPool, Limits
        self.ctx.checker = CheckPool(self.ctx.directory, self.ctx.workdir, Limits.from_settings(settings))
        self.mail = open_mailbox(settings)
        self.folder = self._open_folder()
        self.sender = open_sender(settings, self.outbox, self.store)
        self.stop = threading.Event()
        self._runners: list[Runner] = []
        self.unfinished = False
        self.retry_delay = RETRY_DELAY

    # ------------------------------------------------------------------ parts
    def _open_folder(self):
        if self.settings.folder_path is None:
            return None
        from .intake.folder import FolderIntake
        return FolderIntake(self.settings, self.ctx.directory, self.inq, self.store)

    # ------------------------------------------------------------------ intake
    def take_mail(self) -> int:
        """Copy every waiting message into the durable queue, then mark it done at the source."""
        if self.mail is None:
            return 0
        n = 0
        for raw in self.mail.pending():
            if self.stop.is_set():
                break
            self.inq.put(raw.data, key="mail-" + raw.key,
                         meta={"source": "mail", "source_key": raw.key, "taken_at": time.time()})
            self.mail.mark_done(raw.key)
            n += 1
        self.store.set_value("mailbox", self.mail.health())
        return n

    def take_folder(self, settle: bool = True) -> int:
        return self.folder.scan(settle=settle) if self.folder is not None else 0

    # ------------------------------------------------------------------ pipeline
    def _item(self, entry: Entry) -> Item:
        if entry.meta.get("source") == "folder":
            return self.folder.item(entry)
        return mail_item(entry.data, entry.meta, own_address=self.ctx.intake_address,
                         max_files=self.settings.limits.max_attachments,
                         max_file_bytes=self.settings.bytes_limit("max_file_mb"),
                         authserv_id=self.settings.trust.authserv_id)

    def process_entry(self, entry: Entry) -> str:
        item = self._item(entry)
        if not self.store.claim_incoming(item.key):
            outcome = self.store.incoming_outcome(item.key) or "done"
            self._finish(entry, item, None)
            return f"seen:{outcome}"
        plan = process(item, self.ctx)
        commit(plan, item, self.store, self.outbox, self.state_dir)
        self._finish(entry, item, plan)
        if plan.held:
            from .pipeline.held_cap import enforce
            enforce(self.state_dir, self.store, int(self.settings.limit("held_max_mb")) * 1_000_000)
        return plan.outcome

    def _finish(self, entry: Entry, item: Item, plan) -> None:
        if item.source == "folder" and self.folder is not None:
            self.folder.finish(entry, item, plan)
        self.inq.done(entry)

    def drain(self) -> int:
        """Process every entry of the "in" queue that is due."""
        n = 0
        while not self.stop.is_set():
            entry = self.inq.claim()
            if entry is None:
                break
            if entry.last_error == CRASHED and entry.attempts >= CRASH_ATTEMPTS:
                # in hand each time the daemon died: never take it again unattended
                self._park(entry, CRASHED)
                n += 1
                continue
            try:
                outcome = self.process_entry(entry)
                log.info("processed %s: %s", entry.name, outcome)
            except Exception as exc:  # noqa: BLE001 - a bug must not stop the service
                self._failed(entry, exc)
            n += 1
        return n

    def _failed(self, entry: Entry, exc: Exception) -> None:
        """Keep the entry; retry it once later (the entries behind it go on at once); park it
        and hold it for the operator when it fails again."""
        crash_dir = make_private_dir(self.state_dir / "crash")
        report = crash_dir / f"{entry.name}.txt"
        write_file_durably(report, "".join(traceback.format_exception(exc)).encode())
        attempts = entry.attempts + 1
        log.error("processing %s failed (%s, attempt %d); details in %s",
                  entry.name, type(exc).__name__, attempts, report)
        if attempts >= POISON_ATTEMPTS:
            entry.attempts = attempts
            entry.last_error = type(exc).__name__
            self._park(entry, type(exc).__name__)
        else:
            self.inq.release(entry, delay=self.retry_delay, error=type(exc).__name__)

    def _park(self, entry: Entry, why: str) -> None:
        """Park a poison entry in the queue's bad/, hold it for the operator (kind "failed",
        path: the parked entry, key: its name) and tell its sender once. Nothing here may
        raise: the queue behind must go on."""
        self.inq.park(entry, why)
        log.error("parked %s after %d failed attempts (%s)", entry.name, entry.attempts, why)
        sender = unit_key = None
        try:
            item, w = self._failure_work(entry)
            sender, unit_key = item.sender or None, w.plan.unit_key
        except Exception as exc:  # noqa: BLE001 - the hold alone must still be recorded
            log.error("reading parked %s failed (%s)", entry.name, type(exc).__name__)
            item = w = None
        self.store.hold(FAILED_KIND, self.ctx.renderer.reason(FAILED_KIND, why=why),
                        str(entry.path), key=entry.name, sender=sender, unit_key=unit_key)
        if w is None:
            return
        try:
            self._tell_sender(w)
            w.plan.audit.append(("parked", {"entry": entry.name, "why": why, "attempts": entry.attempts}))
            commit(w.plan, item, self.store, self.outbox, self.state_dir)
        except Exception as exc:  # noqa: BLE001
            log.error("notice for parked %s failed (%s)", entry.name, type(exc).__name__)

    def _failure_work(self, entry: Entry):
        """(Item, Work) for the notice about a parked entry, read from its headers only."""
        from .pipeline.context import Work
        from .pipeline.plan import Plan
        folder = entry.meta.get("source") == "folder"
        key = f"{entry.name}#failed-{int(entry.created)}"
        if folder:
            sender = name = subject = message_id = ""
            automatic = None
        else:
            sender, name, subject, message_id, automatic = failure_headers(entry.data, self.ctx.intake_address)
        item = Item(key=key, source="folder" if folder else "mail",
                    received_at=received_at(None, entry.meta.get("taken_at") or entry.created),
                    sender=sender, sender_name=name, subject=subject, message_id=message_id,
                    automatic=automatic, unit_key=entry.meta.get("unit"),
                    folder_file=entry.meta.get("path"))
        w = Work(item, Plan(key, self.store.tracking_code(key)))
        w.plan.outcome = "held"
        w.unit = (self.ctx.directory.unit(item.unit_key or "") if folder
                  else self.ctx.directory.unit_for_sender(sender) if sender else None)
        if w.unit is not None:
            w.plan.unit_key, w.plan.district_code = w.unit.key, w.unit.district_code
        return item, w

    def _tell_sender(self, w) -> None:
        from .pipeline.notices import send_notice
        item = w.item
        if item.source == "folder":
            if w.unit is not None:
                send_notice(w, self.ctx, "notice-failed")
        elif item.sender and not item.automatic and item.sender != self.ctx.intake_address:
            send_notice(w, self.ctx, "notice-failed")

    def requeue_parked(self, name: str, released: str | int) -> bool:
        """Operator release of a hold of kind "failed" (``held.key`` is the parked entry's
        name): the parked entry goes back into the "in" queue, due now, with a fresh
        attempt count and ``released`` in its meta, so it runs under a new incoming key
        (the sender's earlier failure notice does not block its real answer). False when
        no such parked entry exists. For ``vaxmail release``."""
        return self.inq.unpark(name, meta_update={"released": str(released)}) == 1

    def send(self) -> None:
        if self.sender is not None:
            self.sender.run_once(self.stop)

    # ------------------------------------------------------------------ modes
    def recover(self) -> None:
        self.inq.recover(crashed=CRASHED)
        self.outbox.recover()

    def run_once(self) -> dict:
        """Process everything waiting, then return (``vaxmail run --once``)."""
        self.recover()
        self.ctx.checker.start()
        taken = self.take_mail()
        taken += self.take_folder(settle=True)
        processed = self.drain()
        self.send()
        return {"taken": taken, "processed": processed}

    def purge_if_due(self, now: float | None = None) -> bool:
        """Run the retention purge when the last one is a day old (or never ran)."""
        from .retention import DAY, purge
        now = time.time() if now is None else now
        last = (self.store.get_value("retention") or {}).get("last_run") or 0.0
        if now - float(last) < DAY - 600:
            return False
        purge(self.settings, self.store, now=now, mailbox=self.mail)
        return True

    def build_runners(self) -> list[Runner]:
        """The daemon's runners, in start order (intakes wake the pipeline, which wakes the sender)."""
        sender = runners.OutboxSender(self)
        pipeline = runners.Pipeline(self, then=sender)
        parts: list[Runner] = [runners.MailIntake(self, then=pipeline)]
        if self.folder is not None:
            parts.append(runners.FolderIntake(self, then=pipeline))
        return parts + [pipeline, sender, runners.Scheduler(self), runners.Retention(self)]

    def request_stop(self) -> None:
        """Stop every runner after the item in hand (SIGTERM, SIGINT). Safe in a signal handler."""
        self.stop.set()
        for r in self._runners:
            r.stop()

    def health(self) -> dict[str, dict]:
        return {r.name: r.health().as_dict() for r in self._runners}

    def run_forever(self, notify=None) -> None:
        """The daemon: start the runners, watch them, stop them; returns after ``request_stop``."""
        # The sender thread must get the GIL back the moment the server's "250" arrives: with
        # the default 5 ms switch interval a busy pipeline thread delays the journal's record
        # by up to 5 ms per message, and a kill -9 in that window sends the message twice.
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.recover()
        self.ctx.checker.start()
        self._runners = self.build_runners()
        for r in self._runners:
            r.start()
        pipeline = next(r for r in self._runners if r.name == "pipeline")
        if notify:
            notify("READY=1")
        last_health = 0.0
        while not self.stop.wait(SUPERVISE_EVERY):
            # the watchdog is fed only while the pipeline keeps moving (one huge file takes ~25 s)
            if notify and time.monotonic() - pipeline.last_beat < WATCHDOG_STALL:
                notify("WATCHDOG=1")
            for r in self._runners:
                if not r.alive and not r.stopped:
                    log.error("runner %s ended; starting it again", r.name)
                    r.start()
            if time.monotonic() - last_health >= HEALTH_EVERY:
                last_health = time.monotonic()
                self._record_health()
        if notify:
            notify("STOPPING=1")
        self.request_stop()
        deadline = time.monotonic() + STOP_GRACE
        # the pipeline first (it may hand the sender one more batch), then the sender; the
        # intakes last: the mailbox's wait may outlast the grace (close() ends it)
        rank = {"pipeline": 0, "outbox": 1, "mail": 3, "folder": 3}  # others: 2
        for r in sorted(self._runners, key=lambda r: rank.get(r.name, 2)):
            r.join(deadline - time.monotonic())
        # An item still in hand after the grace period is left claimed: the next start
        # recovers it and, its commit being all-or-nothing, processes it exactly once.
        self.unfinished = any(r.alive for r in self._runners if r.name in ("pipeline", "outbox"))
        if not self.unfinished:
            self._record_health()

    def _record_health(self) -> None:
        try:
            self.store.set_value("runners", {"at": time.time(), **self.health()})
        except Exception as exc:  # noqa: BLE001 - health is a report, never a reason to stop
            log.error("recording runner health: %s", type(exc).__name__)

    def __enter__(self) -> "Service":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def memory_report(self) -> str:
        """One line for the log: the daemon's and the check workers' peak memory."""
        import resource
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        pool = self.ctx.checker
        workers = max(getattr(pool, "peak_rss_mb", 0),
                      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
        return (f"memory: daemon peak {own} MB, check workers peak {workers} MB, "
                f"{getattr(pool, 'deaths', 0)} workers lost to a limit")

    def close(self) -> None:
        try:
            log.info(self.memory_report())
        except Exception:  # noqa: BLE001
            pass
        self.stop.set()
        for part in (self.mail, self.folder, self.ctx.checker, self.sender):
            if part is not None:
                try:
                    part.close()
                except Exception:  # noqa: BLE001
                    pass
        self.store.close()


def sd_notify(message: str) -> None:
    """Tell systemd (Type=notify) our state; a no-op outside systemd."""
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return
    import socket
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(addr)
            s.sendall(message.encode())
    except OSError:
        pass
