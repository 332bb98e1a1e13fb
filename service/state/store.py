"""The service's durable memory: the interface every backend implements.

``Store`` is a typed ``Protocol``, grouped by concern (``IncomingLog``, ``ForwardingLog``,
``HeldItems``, ``OutboxIndex``, ``DigestStats`` …); a backend (``service/state/sqlite.py``
today; a PostgreSQL module later) implements all of it, and a caller that needs one concern
may ask for just that part. Callers only see this module's dataclasses and methods.

What is kept, and why
---------------------
- **incoming** — every message or dropped file seen, keyed by ``incoming_key()`` (Message-ID +
  SHA-256 of the content). ``claim_incoming`` says whether to process it; ``mark_incoming``
  records the outcome. A message fetched twice (crash before the IMAP flag) is processed once.
  The tracking code is reserved at claim time, so a re-run after a crash reuses it.
- **submissions** — one row per processed file (key: tracking code + file name; an item with
  several attachments shares its code): counts, error counts by code, status.
- **forwarded** — one row per person and form sent on: a keyed hash of the ID number
  (HMAC-SHA256; the key from ``state.keys``: a systemd credential, ``[state] key_file``, or ``<state>/id-hash.key``, 0600), never the number in clear, with
  the submission and recipient. District, unit and time are the batch's (below), and a
  per-day counter table keeps the digest from ever scanning this table.
- **batches** — (tracking code, recipient): district, unit, time, rows sent, rows confirmed
  by the recipient. ``confirm`` must name the recipient as ``record_forwarded`` did.
- **held** — items kept for the operator, with the preserved file's path.
- **replies** — replies per sender address per day (rate limit).
- **outgoing / sent** — the outbox index: each outgoing Message-ID, and every (Message-ID,
  recipient) the SMTP server accepted, so nothing is sent twice after a crash.
- **audit** — events without personal data. **digests** — which days' digests went out.
- **kv** — small health values (last IMAP round-trip, UIDVALIDITY, ...).

Everything one submission decides is committed in ONE transaction::

    with store.transaction():
        store.record_submission(...)
        store.record_forwarded(...)
        store.mark_incoming(key, "forwarded", code)

Nested ``transaction()`` blocks join the outer one; an exception rolls back all of it.

Days
----
Each row that the digest counts carries ``day`` — the calendar day (ISO ``YYYY-MM-DD``) in
the store's time zone (default Asia/Ho_Chi_Minh) of the moment it happened. Timestamps are
UNIX seconds (float).

Stats for the digest (all take an inclusive day range ``since``..``until``, ISO strings or
``date``; each is one or two indexed queries: measured 0.3–60 ms per day-sized query with
1,000,000 forwarded rows and 18,000 files, 200 ms for a 30-day ``unit_stats``)
--------------------------------------------------------------------------------------------
- ``unit_stats(since, until) -> list[UnitStats]`` — per day, district and unit: files,
  rows submitted per form, valid rows, rows with errors, people forwarded per form, files
  per status (forwarded/answered/partial/held).
- ``error_stats(since, until) -> dict[str, int]`` — error count per error code.
- ``forwarded_totals(until=None) -> list[ForwardedTotal]`` — cumulative people forwarded
  per district and form up to a day (progress since the start).
- ``recipient_stats(since, until) -> list[RecipientStats]`` — per recipient: batches, rows
  sent, rows confirmed, batches not yet confirmed, oldest unconfirmed send time.
- ``held_stats(since, until) -> dict[str, int]`` — held items per kind created in the range,
  plus ``"open"`` — all held items not yet released (any day).
- ``last_submission_by_unit(until=None) -> dict[str, float]`` — unit key → time of its last
  file on or before a day (who is late).
- ``confirmation_totals(until=None) -> list[ConfirmationTotal]`` — per district and unit:
  batches, rows sent and rows confirmed entered, for batches sent up to a day (the digest's
  "entered vs forwarded").
- ``stale_batches(sent_before, until=None) -> list[StaleBatches]`` — per recipient: batches
  with rows that nobody confirmed, sent before a moment (the digest's "unconfirmed after
  N days"), with the oldest one's code.
"""
from __future__ import annotations

import hashlib
from abc import abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable, Mapping, Protocol, Sequence

SUBMISSION_STATUSES = ("forwarded", "answered", "held", "partial")

# Crockford base32 — no I, L, O, U: nothing to misread when a sender quotes a code by phone.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_PREFIX = "VX-"
CODE_LENGTH = 6


def incoming_key(message_id: str | None, content: bytes) -> str:
    """The identity of an incoming message or file: Message-ID + SHA-256 of the content.

    ``content`` is the attachment's bytes for a mailed file (or the raw message when there
    is none) and the file's bytes for a dropped file (``message_id`` None).
    """
    mid = (message_id or "").strip().strip("<>").strip()
    return f"{mid}|{hashlib.sha256(content).hexdigest()}"


def tracking_code_candidate(key: str, attempt: int = 0) -> str:
    """The ``attempt``-th candidate code for an incoming key (deterministic)."""
    seed = key if attempt == 0 else f"{key}#{attempt}"
    n = int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest()[:8], "big")
    chars = []
    for _ in range(CODE_LENGTH):
        n, r = divmod(n, 32)
        chars.append(CODE_ALPHABET[r])
    return CODE_PREFIX + "".join(chars)


def normalise_code(text: str) -> str:
    """A code as a person may type it ("vx 7k3q9d", "VX-7K3O9D") → canonical form."""
    t = "".join(ch for ch in text.upper() if ch.isalnum())
    if t.startswith("VX"):
        t = t[2:]
    t = t.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    return CODE_PREFIX + t


# ---------------------------------------------------------------------------- records


@dataclass
class Submission:
    code: str  # tracking code, from Store.tracking_code(incoming key)
    incoming_key: str
    source: str  # "mail" | "folder"
    sender: str  # e-mail address, or the folder name for dropped files
    status: str  # one of SUBMISSION_STATUSES
    received_at: float
    unit_key: str | None = None
    district_code: int | None = None
    file_name: str | None = None
    form: str | None = None  # "mau1" | "mau2" | None (not a form)
    rows: int = 0
    valid_rows: int = 0
    error_count: int = 0
    error_counts: dict[str, int] = field(default_factory=dict)  # error code → count
    processed_at: float | None = None
    day: str | None = None  # filled by the store from received_at when None


@dataclass
class Held:
    id: int
    kind: str  # "unknown-sender" | "unreadable" | "unknown-facility" | "unknown-place" | "not-a-form" | ...
    reason: str  # short Vietnamese text for the operator
    path: str | None  # the preserved raw message or file
    created_at: float
    released_at: float | None = None
    key: str | None = None  # incoming key it came from
    sender: str | None = None
    unit_key: str | None = None
    district_code: int | None = None
    day: str | None = None
    code: str | None = None  # the tracking code of the item it came from (None: not an item)


@dataclass
class User:
    """A console account. The password is kept only as an argon2 hash."""
    name: str
    role: str  # "operator" (acts) | "leader" (reads)
    password_hash: str
    disabled: bool = False
    failures: int = 0  # failed logins in a row
    locked_until: float | None = None
    generation: int = 0  # bumped by a password change or disable: older sessions end
    created_at: float = 0.0
    last_login: float | None = None


@dataclass
class Forwarding:
    """One person's forward (the ID number itself is never kept): which submission, to whom."""
    form: str
    code: str
    recipient: str
    sent_at: float | None = None


@dataclass
class EarlierPerson:
    """A person already forwarded on a form, as a later submission of them is compared."""
    submission: str  # tracking code of the forward
    unit_key: str | None  # the unit that sent it (None: unknown)
    differs: tuple[str, ...] = ()  # fields whose value differs: "full_name", "dob", "phone"


@dataclass
class Batch:
    code: str
    recipient: str
    rows_sent: int
    rows_confirmed: int
    sent_at: float
    confirmed_at: float | None


@dataclass
class UnitStats:
    day: str
    district_code: int | None
    unit_key: str | None
    files: int = 0
    rows_mau1: int = 0  # data rows submitted on Mẫu 1 files
    rows_mau2: int = 0
    valid_rows: int = 0
    error_rows: int = 0  # rows - valid rows
    forwarded_mau1: int = 0  # people forwarded (after de-duplication)
    forwarded_mau2: int = 0
    files_forwarded: int = 0
    files_answered: int = 0
    files_partial: int = 0
    files_held: int = 0


@dataclass
class ForwardedTotal:
    district_code: int | None
    form: str
    people: int


@dataclass
class RecipientStats:
    recipient: str
    batches: int
    rows_sent: int
    rows_confirmed: int
    unconfirmed_batches: int
    oldest_unconfirmed: float | None


@dataclass
class ConfirmationTotal:
    district_code: int | None
    unit_key: str | None
    batches: int
    rows_sent: int
    rows_confirmed: int
    batches_confirmed: int


@dataclass
class StaleBatches:
    recipient: str
    batches: int
    rows_sent: int
    oldest_sent: float
    oldest_code: str


@dataclass
class OutgoingStatus:
    message_id: str
    kind: str
    ref: str | None
    status: str  # "queued" | "sent" | "partial" | "parked"
    rcpts: list[str]
    queued_at: float
    updated_at: float
    last_error: str | None = None


DayLike = str | date


# ---------------------------------------------------------------------------- interface


class Transactions(Protocol):
    """One atomic unit of work at a time; the keyed hash of ID numbers."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """One atomic unit of work; nested calls join the outer transaction."""

    @abstractmethod
    def close(self) -> None: ...

    # -- identities
    @abstractmethod
    def id_hash(self, id_number: str) -> str:
        """Keyed hash (hex HMAC-SHA256) of a citizen ID number; the only form stored."""


class IncomingLog(Protocol):
    """What arrived: seen once, finished once, under a stable tracking code."""

    @abstractmethod
    def claim_incoming(self, key: str) -> bool:
        """True if the item must be processed (never seen, or seen but not finished)."""

    @abstractmethod
    def mark_incoming(self, key: str, outcome: str, submission: str | None = None) -> None:
        """The item is finished with ``outcome`` (e.g. "forwarded", "held", "ignored")."""

    @abstractmethod
    def incoming_outcome(self, key: str) -> str | None:
        """The recorded outcome, or None when unseen or unfinished."""

    @abstractmethod
    def tracking_code(self, key: str) -> str:
        """The tracking code for an incoming key: reserved on first call, stable afterwards."""


class SubmissionLog(Protocol):
    """One row per processed file."""

    @abstractmethod
    def record_submission(self, sub: Submission) -> None:
        """Insert or replace one file's row (idempotent on code + file name: an item with
        several attachments has one row per file, all under the item's tracking code)."""

    @abstractmethod
    def submission(self, code: str, file_name: str | None = None) -> Submission | None:
        """One file's row (the first by file name when ``file_name`` is None)."""

    @abstractmethod
    def submissions(self, code: str) -> list[Submission]:
        """Every file's row under a tracking code."""


class ForwardingLog(Protocol):
    """Who was sent on to whom, and what the receivers confirmed."""

    # ``ids`` below may be ID numbers in clear or ``id_hash()`` values (64 hex digits): the
    # store hashes clear numbers itself before they touch the database, and answers in the
    # caller's own values, so a handler can pass the numbers it holds in memory.

    @abstractmethod
    def already_forwarded(self, id_hashes: Iterable[str], form: str,
                          exclude_submission: str | None = None) -> dict[str, str]:
        """value → code of the submission that forwarded it, for the people already forwarded
        on ``form`` by another submission than ``exclude_submission``. Keys are the values
        as given (hashes or numbers)."""

    @abstractmethod
    def record_forwarded(self, submission: str, form: str, recipient: str,
                         id_hashes: Sequence[str], *, district_code: int | None = None,
                         unit_key: str | None = None, at: float | None = None,
                         person_data: Mapping[str, Mapping[str, str]] | None = None) -> int:
        """Record the people forwarded to ``recipient`` (one batch); returns rows recorded.
        Also creates or grows the confirmation batch (submission, recipient).
        ``person_data`` (person value → {"full_name", "dob", "phone"} as normalised text) is
        kept as keyed per-field hashes only, for ``earlier_people``."""

    @abstractmethod
    def earlier_people(self, people: Mapping[str, Mapping[str, str]], form: str,
                       exclude_submission: str | None = None) -> dict[str, EarlierPerson]:
        """For the people (value → normalised fields) already forwarded on ``form`` by another
        submission: who forwarded them (code, unit) and which fields differ from theirs."""

    # -- confirmation batches
    @abstractmethod
    def confirm(self, code: str, recipient: str, count: int | None = None,
                at: float | None = None) -> Batch | None:
        """The recipient confirmed ``count`` rows entered (None: all rows sent)."""

    @abstractmethod
    def confirm_people(self, code: str, recipient: str, people: Sequence[str],
                       at: float | None = None) -> Batch | None:
        """The platform's import result: these people (ID numbers, person keys or their
        hashes) of the batch were entered. Idempotent per person, and cumulative across result
        files (a recipient may import a batch's Mẫu 1 and Mẫu 2 rows separately): the batch's
        confirmed rows become the number of distinct people entered, at most the rows sent."""

    @abstractmethod
    def batches(self, code: str) -> list[Batch]: ...


class HeldItems(Protocol):
    """Items kept for the operator."""

    @abstractmethod
    def hold(self, kind: str, reason: str, path: str | None, *, key: str | None = None,
             sender: str | None = None, unit_key: str | None = None,
             district_code: int | None = None, at: float | None = None) -> int:
        """Keep an item for the operator; returns its id. Idempotent on (key, kind)."""

    @abstractmethod
    def list_held(self, include_released: bool = False) -> list[Held]: ...

    @abstractmethod
    def expire_held(self, before: float, *, dry_run: bool = False, at: float | None = None) -> int:
        """Retention: held items created before ``before`` forget their file path and sender
        address and are closed (released_at set); returns how many changed (or would)."""

    @abstractmethod
    def held_item(self, held_id: int) -> Held | None: ...

    @abstractmethod
    def release(self, held_id: int, at: float | None = None) -> bool:
        """Mark a held item released; False if unknown or already released."""

    @abstractmethod
    def settle_held(self, key: str, still: Iterable[str], at: float | None = None) -> list[int]:
        """An item was processed again (after a release): its open holds whose kind is not in
        ``still`` are resolved (released); returns their ids. A hold that recurs stays open,
        and ``hold()`` reopens one that had been released."""


class Lookups(Protocol):
    """What the operator looks up (console, CLI)."""

    @abstractmethod
    def code_for_key(self, key: str) -> str | None:
        """The tracking code of an incoming key, if one was reserved (never reserves)."""

    @abstractmethod
    def outgoing_for(self, ref: str) -> list[OutgoingStatus]:
        """Every outgoing message queued for a tracking code (``ref``), oldest first."""

    @abstractmethod
    def recent_outgoing(self, limit: int = 50) -> list[OutgoingStatus]: ...

    @abstractmethod
    def unit_submissions(self, unit_key: str, limit: int = 200) -> list[Submission]:
        """One unit's files, newest first."""

    @abstractmethod
    def sender_submissions(self, sender: str, limit: int = 200) -> list[Submission]:
        """The files from one sender address (or shared-folder path), newest first."""

    @abstractmethod
    def forwardings(self, id_number: str) -> list[Forwarding]:
        """Where one person (ID number in clear or its ``id_hash``) was forwarded."""


class Accounts(Protocol):
    """The console's accounts and their login failures."""

    @abstractmethod
    def add_user(self, name: str, role: str, password_hash: str, at: float | None = None) -> bool:
        """Create an account; False if the name is taken."""

    @abstractmethod
    def update_user(self, name: str, *, password_hash: str | None = None, role: str | None = None,
                    disabled: bool | None = None) -> bool:
        """Change an account; a new password or disabling ends its sessions. False if unknown."""

    @abstractmethod
    def user(self, name: str) -> User | None: ...

    @abstractmethod
    def users(self) -> list[User]: ...

    @abstractmethod
    def note_login(self, name: str, ok: bool, *, max_failures: int, lock_seconds: float,
                   at: float | None = None) -> User | None:
        """Count a login attempt: a success clears the failures, the ``max_failures``-th
        failure in a row locks the account for ``lock_seconds``. Returns the account."""


class ReplyCounts(Protocol):
    """Replies sent per address (or counter) per day: the caps."""

    @abstractmethod
    def count_replies(self, addr: str, day: DayLike) -> int: ...

    @abstractmethod
    def note_reply(self, addr: str, day: DayLike) -> int:
        """Count one more reply; returns the new count."""


class OutboxIndex(Protocol):
    """Every outgoing message by Message-ID: who accepted it, its status."""

    @abstractmethod
    def note_outgoing(self, message_id: str, kind: str, rcpts: Sequence[str],
                      ref: str | None = None, at: float | None = None) -> None:
        """An outgoing message was queued (idempotent)."""

    @abstractmethod
    def sent_rcpts(self, message_id: str) -> set[str]:
        """Recipients the SMTP server already accepted this Message-ID for."""

    @abstractmethod
    def mark_sent(self, message_id: str, rcpts: Sequence[str], at: float | None = None) -> None: ...

    @abstractmethod
    def mark_outgoing(self, message_id: str, status: str, error: str | None = None,
                      at: float | None = None) -> None:
        """Set the outgoing status ("queued" | "sent" | "partial" | "parked")."""

    @abstractmethod
    def outgoing(self, message_id: str) -> OutgoingStatus | None: ...


class Records(Protocol):
    """The audit trail, digests sent, small named values (health, marks)."""

    @abstractmethod
    def audit(self, event: str, subject: str | None = None, detail: dict[str, Any] | None = None,
              at: float | None = None) -> None:
        """Append an audit event. ``detail`` must hold no personal data."""

    @abstractmethod
    def audit_events(self, subject: str | None = None, limit: int = 100) -> list[dict[str, Any]]: ...

    @abstractmethod
    def digest_sent(self, day: DayLike) -> bool: ...

    @abstractmethod
    def mark_digest_sent(self, day: DayLike, message_id: str, at: float | None = None) -> None: ...

    @abstractmethod
    def get_value(self, key: str, default: Any = None) -> Any: ...

    @abstractmethod
    def set_value(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable health value."""


class DigestStats(Protocol):
    """The figures of the leaders' digest (read only)."""

    @abstractmethod
    def unit_stats(self, since: DayLike, until: DayLike) -> list[UnitStats]: ...

    @abstractmethod
    def error_stats(self, since: DayLike, until: DayLike) -> dict[str, int]: ...

    @abstractmethod
    def forwarded_totals(self, until: DayLike | None = None) -> list[ForwardedTotal]: ...

    @abstractmethod
    def recipient_stats(self, since: DayLike, until: DayLike) -> list[RecipientStats]: ...

    @abstractmethod
    def held_stats(self, since: DayLike, until: DayLike) -> dict[str, int]: ...

    @abstractmethod
    def last_submission_by_unit(self, until: DayLike | None = None) -> dict[str, float]: ...

    @abstractmethod
    def confirmation_totals(self, until: DayLike | None = None) -> list[ConfirmationTotal]: ...

    @abstractmethod
    def stale_batches(self, sent_before: float, until: DayLike | None = None) -> list[StaleBatches]: ...


class Store(Transactions, IncomingLog, SubmissionLog, ForwardingLog, HeldItems, Lookups, Accounts,
            ReplyCounts, OutboxIndex, Records, DigestStats, Protocol):
    """The whole of the durable state, as the pipeline, the outbox sender, the digest and the
    console use it; grouped by concern above. All methods are safe to call from several
    threads. ``SQLiteStore`` implements it."""
