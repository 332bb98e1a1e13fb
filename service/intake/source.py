"""What every mail intake source offers the pipeline (IMAP mailbox, local Maildir)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol, runtime_checkable

DONE_FOLDER = "Đã xử lý"


@dataclass
class RawMessage:
    key: str  # stable per source: "imap:<uidvalidity>:<uid>" or "maildir:<unique name>"
    data: bytes  # the message exactly as stored


@runtime_checkable
class Source(Protocol):
    def pending(self) -> Iterator[RawMessage]:
        """Every message not yet marked done, oldest first. Never raises on server trouble."""

    def mark_done(self, key: str) -> None:
        """Move the message out of the way. Call ONLY after its work is durable."""

    def wait(self, timeout: float) -> bool:
        """Block until something may have arrived (True) or the timeout passed (False)."""

    def close(self) -> None:
        """Stop: afterwards pending() yields nothing and wait() returns False at once."""

    def health(self) -> dict:
        """State for the operator, e.g. {"connected": bool, "last_round_trip": ts}."""
