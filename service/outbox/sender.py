"""Drains the outbox: claim → send → record "sent" in the journal, then the store → done.

Exactly-once, as far as SMTP allows:
- The server's acceptance is appended (fsync'd) to the sent journal (``journal.py``) the
  moment it is given — a file no other thread holds — and only then indexed in the store,
  which the pipeline may be holding in a long transaction.
- Before sending, the recipients the journal or the store already recorded as accepted for
  this Message-ID are skipped (a crash between the server's OK and ``done``): a message whose
  every recipient is recorded is finished without a second send.
- A crash between the server's OK and the journal's fsync (milliseconds) is the one window
  where a message can go twice; it carries the same Message-ID, so mail clients show it once.
- A temporary failure releases the entry with exponential backoff (30 s, 1 min, 2 min, …
  capped at 1 h). After ``give_up_after`` (default 3 days) in the current cycle it is parked
  with the last error. A permanent failure (5xx for every recipient) parks it at once.
- Partial refusal: the accepted recipients are recorded; a copy of the message for the
  refused ones is queued again (temporary refusals) or parked (permanent refusals).
- When the server cannot be used at all (down, TLS or login failure) the round stops after
  the first attempt instead of trying every message against it.

The operator sees ``status()`` and ``list_parked()`` and calls ``retry(name | None)``.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from service.outbox.spool import Outbox
from service.outbox.transport import PermanentError, Refused, TransientError, Transport
from service.queue import Entry
from service.retry import backoff
from service.state.store import Store
from service.wording import say

log = logging.getLogger(__name__)

DAY = 86_400.0


@dataclass
class RunResult:
    sent: int = 0
    skipped: int = 0  # already recorded as sent: finished without sending
    deferred: int = 0
    parked: int = 0
    stopped: str | None = None  # why the round stopped early (server unusable)


@dataclass
class OutboxStatus:
    pending: int  # waiting in new/ (due or not)
    due: int
    deferred: int  # waiting for their next attempt
    claimed: int
    parked: int
    oldest_pending_age: float | None  # seconds since the oldest pending message was queued
    last_error: str | None
    last_error_at: float | None
    last_sent_at: float | None


class Sender:
    def __init__(self, outbox: Outbox, transport: Transport, store: Store, *,
                 give_up_after: float = 3 * DAY, base_delay: float = 30.0, max_delay: float = 3600.0,
                 clock: Callable[[], float] = time.time):
        self.outbox = outbox
        self.queue = outbox.queue
        self.transport = transport
        self.store = store
        self.give_up_after = give_up_after
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.clock = clock
        from service.outbox.journal import SentJournal
        self.journal = SentJournal(self.queue.dir / "sent.journal")
        self._reindex()

    def _reindex(self) -> None:
        """Start-up: sends the journal holds but the store missed (a crash between the two)
        are indexed now; old journal lines are dropped."""
        try:
            for mid, rcpts in self.journal.items():
                missing = rcpts - self.store.sent_rcpts(mid)
                if missing:
                    self.store.mark_sent(mid, sorted(missing), at=self.clock())
            self.journal.compact(self.clock())
        except Exception as exc:  # noqa: BLE001 - the journal alone still prevents a resend
            log.error("indexing the sent journal failed: %s", type(exc).__name__)

    # -- the loop
    def run_once(self, stop: threading.Event | None = None) -> RunResult:
        """Send every message that is due now; returns what happened."""
        result = RunResult()
        try:
            while not (stop and stop.is_set()):
                entry = self.queue.claim(now=self.clock())
                if entry is None:
                    break
                if not self._deliver(entry, result):
                    break
        finally:
            self.transport.close()
        if result.sent:
            self.store.set_value("outbox.last_sent_at", self.clock())
        return result

    def _deliver(self, entry: Entry, result: RunResult) -> bool:
        """One message; False when the round must stop (server unusable)."""
        m = entry.meta
        mid, rcpts = m.get("message_id"), list(m.get("rcpts") or [])
        if not mid or not rcpts:
            self._park(entry, say("outbox.no-envelope"), result)
            return True
        done_for = self.journal.sent_rcpts(mid) | self.store.sent_rcpts(mid)
        todo = [r for r in rcpts if r not in done_for]
        if not todo:
            self.queue.done(entry)
            result.skipped += 1
            return True
        try:
            refused = self.transport.send(entry.data, m.get("envelope_from") or "", todo)
        except PermanentError as exc:
            self._park(entry, exc.message, result)
            return True
        except TransientError as exc:
            self._defer(entry, exc.message, result)
            if exc.connection:
                result.stopped = exc.message
                return False
            return True
        except Exception as exc:  # a bug or an unexpected library error: keep the message
            log.error("unexpected error sending %s: %s", entry.name, type(exc).__name__)
            self._defer(entry, say("outbox.unexpected", error=type(exc).__name__), result)
            result.stopped = type(exc).__name__
            return False
        accepted = [r for r in todo if r not in refused]
        self.journal.record(mid, accepted, at=self.clock())  # first, before anything can block
        try:
            self._record(entry, mid, accepted, refused, result)
        except BaseException:
            # the store failed after the server's OK: keep the message rather than strand it
            # in claimed/ until a restart (the journal keeps it from going twice)
            self.queue.release(entry, delay=self.base_delay, error=say("outbox.record-failed"))
            raise
        return True

    def _record(self, entry: Entry, mid: str, accepted: list[str], refused: Refused,
                result: RunResult) -> None:
        now = self.clock()
        with self.store.transaction():
            self._index(entry, now)
            self.store.mark_sent(mid, accepted, at=now)
            self.store.mark_outgoing(mid, "partial" if refused else "sent",
                                     _refusal_text(refused) if refused else None, at=now)
        if refused:
            temporary = sorted(r for r, (c, _) in refused.items() if c < 500)
            permanent = sorted(r for r, (c, _) in refused.items() if c >= 500)
            if temporary:
                self.outbox.add_copy(entry, temporary, delay=backoff(1, self.base_delay, self.max_delay))
            if permanent:
                reason = say("outbox.recipients-refused", refusals=_refusal_text(
                    {r: refused[r] for r in permanent}))
                self.outbox.add_copy(entry, permanent, park_reason=reason)
                self._note_error(reason, now)
                result.parked += 1
        self.queue.done(entry)
        result.sent += 1

    def _defer(self, entry: Entry, error: str, result: RunResult) -> None:
        now = self.clock()
        self._note_error(error, now)
        if now - entry.since >= self.give_up_after:
            days = self.give_up_after / DAY
            self._park(entry, say("outbox.gave-up", days=days, error=error), result)
            return
        delay = backoff(entry.attempts + 1, self.base_delay, self.max_delay)
        self.queue.release(entry, delay=delay, error=error, now=now)
        result.deferred += 1

    def _park(self, entry: Entry, reason: str, result: RunResult) -> None:
        now = self.clock()
        self.queue.park(entry, reason)
        mid = entry.meta.get("message_id")
        if mid:
            with self.store.transaction():
                self._index(entry, now)
                self.store.mark_outgoing(mid, "parked", reason, at=now)
                self.store.audit("outbox-parked", mid, {"kind": entry.meta.get("kind"),
                                                        "attempts": entry.attempts})
        self._note_error(reason, now)
        result.parked += 1

    def _index(self, entry: Entry, now: float) -> None:
        m = entry.meta
        self.store.note_outgoing(m["message_id"], m.get("kind", "mail"), m.get("rcpts") or [],
                                 ref=m.get("ref"), at=now)

    def _note_error(self, error: str, at: float) -> None:
        self.store.set_value("outbox.last_error", {"at": at, "error": error})

    def close(self) -> None:
        self.journal.close()

    # -- for the operator
    def list_parked(self) -> list[Entry]:
        return self.outbox.parked()

    def retry(self, name: str | None = None) -> int:
        """Parked messages (one by entry name, or all) → due now, with a fresh retry cycle."""
        return self.queue.unpark(name, now=self.clock())

    def status(self) -> OutboxStatus:
        now = self.clock()
        waiting = self.queue.entries_in("new")
        due = sum(1 for e in waiting if e.not_before <= now)
        oldest = min((e.created for e in waiting), default=None)
        last = self.store.get_value("outbox.last_error") or {}
        counts = self.queue.counts()
        return OutboxStatus(pending=len(waiting), due=due, deferred=len(waiting) - due,
                            claimed=counts["claimed"], parked=counts["bad"],
                            oldest_pending_age=(now - oldest) if oldest is not None else None,
                            last_error=last.get("error"), last_error_at=last.get("at"),
                            last_sent_at=self.store.get_value("outbox.last_sent_at"))


def _refusal_text(refused: Refused) -> str:
    return "; ".join(f"{r} ({c} {m})" for r, (c, m) in sorted(refused.items()))


def open_sender(settings, outbox: Outbox, store: Store) -> Sender | None:
    """The sender for the settings' ``[smtp]`` (None when no url is set)."""
    from service.outbox.transport import open_transport
    from service.urls import endpoint

    cfg = settings.smtp
    ep = endpoint(cfg.url, allowed=("smtp", "smtps", "file"), local="file",
                  password_env=cfg.password_env, password_credential=cfg.password_credential)
    if ep is None:
        return None
    parsed, password = ep
    transport = open_transport(parsed, password=password, cafile=cfg.cafile or None)
    return Sender(outbox, transport, store, give_up_after=cfg.retry_days * DAY,
                  base_delay=cfg.retry_base_seconds)


def send_outbox_now(settings) -> RunResult | None:
    """Send what the outbox holds now, once (``vaxmail digest --send``); None without [smtp] url."""
    from service.state import open_store, store_options

    store = open_store(settings.state_dir, **store_options(settings))
    try:
        outbox = Outbox(settings.state_dir)
        sender = open_sender(settings, outbox, store)
        if sender is None:
            return None
        outbox.recover()
        try:
            return sender.run_once()
        finally:
            sender.close()
    finally:
        store.close()
