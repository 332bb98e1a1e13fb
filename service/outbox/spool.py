"""The durable outbox: every outgoing message is a .eml entry of a ``Queue`` before it is sent.

``Outbox(state_dir)`` keeps its queue in ``<state_dir>/outbox/``. An entry is named by a hash
of the message's Message-ID (plus, for a copy to some recipients only, of those
recipients), so writing the same message twice — a re-run after a crash — keeps one entry.
The pipeline writes here BEFORE it marks the incoming item done; the ``Sender`` drains it.
Each entry's sidecar meta holds: message_id, envelope_from, rcpts, kind, ref.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

from service.queue import Entry, Queue
from service.outbox.transport import message_id_of


class Outbox:
    def __init__(self, state_dir: Path, name: str = "outbox"):
        self.queue = Queue(Path(state_dir), name)

    @staticmethod
    def key_for(message_id: str, rcpts: Sequence[str] | None = None) -> str:
        seed = message_id if rcpts is None else message_id + "\x00" + "\x00".join(sorted(rcpts))
        return "m-" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:40]

    def add(self, data: bytes, envelope_from: str, rcpts: Sequence[str], *, kind: str = "mail",
            ref: str | None = None, message_id: str | None = None) -> str:
        """Queue one message durably; returns the entry name. Idempotent on the Message-ID."""
        mid = message_id or message_id_of(data)
        if not mid:
            raise ValueError("an outgoing message needs a Message-ID")
        if not rcpts:
            raise ValueError("an outgoing message needs at least one recipient")
        return self.queue.put(data, key=self.key_for(mid), meta=self._meta(mid, envelope_from, rcpts, kind, ref))

    def add_copy(self, entry: Entry, rcpts: Sequence[str], *, delay: float = 0.0,
                 park_reason: str | None = None) -> str:
        """The same message again for some of its recipients (after a partial refusal)."""
        m = entry.meta
        return self.queue.put(entry.data, key=self.key_for(m["message_id"], rcpts),
                              meta=self._meta(m["message_id"], m["envelope_from"], rcpts,
                                              m.get("kind", "mail"), m.get("ref")),
                              delay=delay, park_reason=park_reason)

    @staticmethod
    def _meta(mid: str, envelope_from: str, rcpts: Sequence[str], kind: str, ref: str | None) -> dict:
        return {"message_id": mid, "envelope_from": envelope_from, "rcpts": list(rcpts),
                "kind": kind, "ref": ref}

    def recover(self) -> int:
        return self.queue.recover()

    def pending(self) -> list[Entry]:
        return self.queue.entries_in("new") + self.queue.entries_in("claimed")

    def parked(self) -> list[Entry]:
        return self.queue.entries_in("bad")

    def __len__(self) -> int:
        return len(self.queue)
