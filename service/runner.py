"""The service: runners around durable queues (after GNU Mailman 3's core).

    mailbox ─┐                                   ┌─ outbox ── sender ── SMTP / file
             ├─ queue "in" ── pipeline ── commit ┤
    folder ──┘                                   └─ state (SQLite)

- The intake runners copy what arrived into the durable "in" queue (tmp, fsync, rename) and
  only then mark it done at the source (IMAP move, Maildir move).
- The pipeline runner claims one entry at a time, processes it into a Plan and commits it
  (outbox first, then one state transaction), then drops the entry.
- The sender drains the outbox with retries and backoff.
Start-up recovers claimed entries, so a crash or kill -9 at any point loses nothing, and the
state's record of finished items means nothing is done twice.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from datetime import datetime
from email.parser import BytesParser
from email.policy import compat32
from email.utils import parsedate_to_datetime

from .config import Settings
from .intake import open_source
from .intake.imap import TRUNCATED_HEADER
from .outbox.sender import Sender
from .outbox.spool import Outbox
from .outbox.transport import open_transport
from .pipeline import Context, process
from .pipeline.commit import commit
from .pipeline.context import VN
from .pipeline.item import Item
from .queue import Entry, Queue, make_private_dir, write_file_durably
from .state import open_store
from .state.store import incoming_key
from .urls import parse_url, resolve_password

log = logging.getLogger("vaxmail")

MAX_ATTEMPTS = 5  # a pipeline entry that fails this often is parked and held for the operator
STOP_GRACE = 12.0  # seconds SIGTERM waits for the item in hand (the contract: exit within 15 s)
WATCHDOG_STALL = 100.0  # seconds without pipeline progress before systemd's watchdog may fire



class Service:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.state_dir = make_private_dir(settings.state_dir)
        self.store = open_store(self.state_dir / "state.db")
        self.inq = Queue(self.state_dir / "queue", "in")
        self.outbox = Outbox(self.state_dir)
        self.ctx = Context.from_settings(settings, self.store)
        self.mail = self._open_mail()
        self.folder = self._open_folder()
        self.sender = self._open_sender()
        self.stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.unfinished = False

    # ------------------------------------------------------------------ parts
    def _endpoint(self, section: str, allowed: tuple[str, ...], local: str):
        """(parsed URL, password, section settings) of [mailbox] or [smtp]; None if unset."""
        cfg = self.settings.section(section)
        url = str(cfg.get("url", ""))
        if not url:
            return None
        parsed = parse_url(url, allowed=allowed)
        password = None
        if parsed.scheme != local:
            password = resolve_password(parsed, env_name=cfg.get("password_env"),
                                        credential_name=cfg.get("password_credential"))
        return parsed, password, cfg

    def _open_mail(self):
        ep = self._endpoint("mailbox", ("imap", "imaps", "maildir"), "maildir")
        if ep is None:
            return None
        parsed, password, cfg = ep
        return open_source(parsed, password=password, cafile=cfg.get("cafile") or None,
                           done_folder=cfg.get("done_folder", "Đã xử lý"),
                           max_message_bytes=self.settings.limit("max_message_mb") * 1_000_000)

    def _open_folder(self):
        if self.settings.folder_path is None:
            return None
        from .intake.folder import FolderIntake
        return FolderIntake(self.settings, self.ctx.directory, self.inq, self.store)

    def _open_sender(self) -> Sender | None:
        ep = self._endpoint("smtp", ("smtp", "smtps", "file"), "file")
        if ep is None:
            return None
        parsed, password, cfg = ep
        transport = open_transport(cfg["url"], password=password, cafile=cfg.get("cafile") or None)
        return Sender(self.outbox, transport, self.store,
                      give_up_after=float(cfg.get("retry_days", 3)) * 86400,
                      base_delay=float(cfg.get("retry_base_seconds", 30)))

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
        meta = entry.meta
        if meta.get("source") == "folder":
            return self.folder.item(entry)
        return mail_item(entry.data, meta, self.settings, self.ctx.intake_address)

    def process_entry(self, entry: Entry) -> str:
        item = self._item(entry)
        if not self.store.claim_incoming(item.key):
            outcome = self.store.incoming_outcome(item.key) or "done"
            self._finish(entry, item, None)
            return f"seen:{outcome}"
        plan = process(item, self.ctx)
        commit(plan, item, self.store, self.outbox, self.state_dir)
        self._finish(entry, item, plan)
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
            try:
                outcome = self.process_entry(entry)
                log.info("processed %s: %s", entry.name, outcome)
            except Exception as exc:  # noqa: BLE001 - a bug must not stop the service
                self._failed(entry, exc)
            n += 1
        return n

    def _failed(self, entry: Entry, exc: Exception) -> None:
        """Keep the entry; retry with backoff; park and hold it after MAX_ATTEMPTS."""
        crash_dir = make_private_dir(self.state_dir / "crash")
        report = crash_dir / f"{entry.name}.txt"
        write_file_durably(report, "".join(traceback.format_exception(exc)).encode())
        attempts = int(entry.meta.get("attempts", 0)) + 1
        log.error("processing %s failed (%s, attempt %d); details in %s",
                  entry.name, type(exc).__name__, attempts, report)
        if attempts >= MAX_ATTEMPTS:
            self.inq.park(entry, type(exc).__name__)
            self.store.hold("failed", "Xử lý lỗi nhiều lần; đã chuyển vào hàng đợi lỗi, cần cán bộ kỹ thuật xem.",
                            str(report), key=entry.name)
        else:
            self.inq.release(entry, delay=min(3600, 30 * 2 ** attempts), error=type(exc).__name__)

    def send(self) -> None:
        if self.sender is not None:
            self.sender.run_once(self.stop)

    # ------------------------------------------------------------------ modes
    def recover(self) -> None:
        self.inq.recover()
        self.outbox.recover()

    def run_once(self) -> dict:
        """Process everything waiting, then return (``vaxmail run --once``)."""
        self.recover()
        taken = self.take_mail()
        taken += self.take_folder(settle=True)
        processed = self.drain()
        self.send()
        return {"taken": taken, "processed": processed}

    def run_forever(self, notify=None) -> None:
        """The daemon: threads for intake, pipeline and sending; returns after ``stop``."""
        self.recover()
        wake = threading.Event()
        self._wake = wake

        def mail_loop():
            sweep = float(self.settings.section("mailbox").get("sweep_seconds", 180))
            while not self.stop.is_set():
                try:
                    if self.take_mail():
                        wake.set()
                    if self.mail is not None:
                        self.mail.wait(min(sweep, 60.0))
                    else:
                        self.stop.wait(sweep)
                except Exception as exc:  # noqa: BLE001
                    log.error("mail intake: %s", type(exc).__name__)
                    self.stop.wait(5)

        def folder_loop():
            while not self.stop.is_set():
                try:
                    if self.folder.watch_once(self.stop):
                        wake.set()
                except Exception as exc:  # noqa: BLE001
                    log.error("folder intake: %s", type(exc).__name__)
                    self.stop.wait(5)

        def send_loop():
            while not self.stop.is_set():
                try:
                    self.send()
                except Exception as exc:  # noqa: BLE001
                    log.error("sender: %s", type(exc).__name__)
                self._send_wake.wait(10)
                self._send_wake.clear()

        self._send_wake = threading.Event()
        loops = [("mail", mail_loop)] + ([("folder", folder_loop)] if self.folder else []) + \
                [("send", send_loop)]
        for name, fn in loops:
            t = threading.Thread(target=fn, name=f"vaxmail-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        scheduler = None
        try:
            from .digest.schedule import DigestScheduler
            scheduler = DigestScheduler(self.settings, self.store, self.outbox, self.ctx.renderer)
            scheduler.start()
            scheduler.run_due()
        except ImportError:
            pass
        except Exception as exc:  # noqa: BLE001
            log.error("digest scheduler: %s", type(exc).__name__)
        beat = [time.monotonic()]

        def pipeline_loop():
            while not self.stop.is_set():
                try:
                    if self.drain():
                        self._send_wake.set()
                except Exception as exc:  # noqa: BLE001
                    log.error("pipeline: %s", type(exc).__name__)
                beat[0] = time.monotonic()
                wake.wait(2)
                wake.clear()

        pipeline = threading.Thread(target=pipeline_loop, name="vaxmail-pipeline", daemon=True)
        pipeline.start()
        if notify:
            notify("READY=1")
        while not self.stop.wait(5):
            # the watchdog is fed only while the pipeline keeps moving (one huge file takes ~25 s)
            if notify and time.monotonic() - beat[0] < WATCHDOG_STALL:
                notify("WATCHDOG=1")
        if notify:
            notify("STOPPING=1")
        deadline = time.monotonic() + STOP_GRACE
        wake.set()
        pipeline.join(timeout=max(0.0, deadline - time.monotonic()))
        if scheduler is not None:
            scheduler.shutdown()
        self._send_wake.set()
        for t in self._threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        # An item still in hand after the grace period is left claimed: the next start
        # recovers it and, its commit being all-or-nothing, processes it exactly once.
        self.unfinished = pipeline.is_alive() or any(t.is_alive() for t in self._threads
                                                      if t.name.endswith("send"))

    def __enter__(self) -> "Service":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.stop.set()
        for part in (self.mail, self.folder):
            if part is not None:
                try:
                    part.close()
                except Exception:  # noqa: BLE001
                    pass
        self.store.close()


def mail_item(data: bytes, meta: dict, settings: Settings, intake_address: str) -> Item:
    """A queued message as the pipeline's Item (also used to process a held one again)."""
    from .intake.mime import extract
    from .intake.autoreply import classify
    from .pipeline.item import FileIn
    ex = extract(data, max_files=settings.limit("max_attachments"),
                 max_file_bytes=settings.limit("max_file_mb") * 1_000_000)
    received = _received_at(ex.date, meta.get("taken_at"))
    headers = BytesParser(policy=compat32).parsebytes(data, headersonly=True)
    automatic = classify(headers, {intake_address})
    skipped = [(s.name, s.reason_code) for s in ex.skipped]
    if headers.get(TRUNCATED_HEADER):  # fetched as headers only: the whole mail is too large
        skipped.append((ex.subject or "(thư)", "too-large"))
    key = incoming_key(ex.message_id, data)
    return Item(
        key=key, source="mail", received_at=received,
        files=[FileIn(a.name, a.data) for a in ex.files],
        skipped=skipped,
        sender=ex.from_addr or "", sender_name=ex.from_name or "", subject=ex.subject or "",
        message_id=ex.message_id or "", in_reply_to=ex.in_reply_to or "",
        references=list(ex.references or []), body_text=ex.body_text or "",
        automatic=automatic, raw=data, problems=list(ex.problems or []))


def _received_at(date_header, taken_at) -> datetime:
    """When the item arrived: the time we took it (the Date header can lie)."""
    if taken_at:
        return datetime.fromtimestamp(float(taken_at), VN)
    if date_header:
        try:
            d = date_header if isinstance(date_header, datetime) else parsedate_to_datetime(str(date_header))
            return d.astimezone(VN) if d.tzinfo else d.replace(tzinfo=VN)
        except (TypeError, ValueError):
            pass
    return datetime.now(VN)


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


def send_outbox_now(settings: Settings) -> None:
    svc = Service(settings)
    try:
        svc.recover()
        svc.send()
    finally:
        svc.close()
