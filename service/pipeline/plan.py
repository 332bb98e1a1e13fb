"""What processing one item decided: pure data, written by ``commit`` in one go.

Handlers only add to a Plan; nothing touches the outbox or the state until ``commit``
writes the outgoing messages to the durable outbox and records the rest in one
transaction. A re-run after a crash builds the same Plan (same Message-IDs, same code).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outgoing:
    kind: str  # forward | receipt | error-report | notice-* | digest
    message_id: str
    data: bytes
    envelope_from: str
    recipients: list[str]


@dataclass
class FileResult:
    """One checked file of the item, as recorded for the digest."""
    name: str
    form: str | None
    rows: int = 0
    valid_rows: int = 0
    forwarded_rows: int = 0
    already_rows: int = 0
    held_rows: int = 0
    conflict_rows: int = 0  # people another unit forwarded with other data: held for the operator
    errors: int = 0
    error_codes: dict[str, int] = field(default_factory=dict)
    fatal: str | None = None  # Unreadable code


@dataclass
class Forwarded:
    id_number: str  # hashed by the store before it is written; never kept in clear
    form: str
    recipient_key: str
    person: dict[str, str] | None = None  # normalised name/dob/phone: kept as keyed hashes only


@dataclass
class Held:
    kind: str  # unknown-sender | unreadable | unknown-facility | no-route | reply-cap | automatic | reply
    reason: str  # short Vietnamese, for the operator
    name: str = ""
    data: bytes | None = None


@dataclass
class Plan:
    item_key: str
    code: str  # tracking code shown to people
    outcome: str = "answered"  # forwarded | answered | held | ignored
    outgoing: list[Outgoing] = field(default_factory=list)
    files: list[FileResult] = field(default_factory=list)
    forwarded: list[Forwarded] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    replied_to: list[str] = field(default_factory=list)  # addresses (rate limits)
    confirmations: list[tuple[str, str, int | None]] = field(default_factory=list)  # (code, recipient key, n)
    # the platform's import results: (code, recipient key, person keys entered); hashed by the store
    entered: list[tuple[str, str, list[str]]] = field(default_factory=list)
    results: list[tuple[str, bytes]] = field(default_factory=list)  # folder intake: files beside the drop
    audit: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    unit_key: str | None = None
    district_code: int | None = None
