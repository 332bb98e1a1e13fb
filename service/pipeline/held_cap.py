"""The held folder's size cap (``[limits] held_max_mb``): past it, the oldest messages held
from unknown senders (the cheapest to lose: nobody in the directory sent them, and each got a
notice) are deleted, each with an audit entry, until the folder is back under the cap.
``status`` and the digest read the running total from the store value ``held_dropped``."""
from __future__ import annotations

import os
import time
from pathlib import Path

DROPPABLE = ("unknown-sender",)
VALUE_KEY = "held_dropped"
COUNTER = "held-dropped"


def _size(folder: Path) -> int:
    total = 0
    try:
        with os.scandir(folder) as it:
            for de in it:
                try:
                    total += de.stat().st_size
                except FileNotFoundError:
                    pass
    except FileNotFoundError:
        return 0
    return total


def enforce(state_dir: Path, store, cap_bytes: int) -> int:
    """Delete the oldest unknown-sender held messages while the folder is over ``cap_bytes``;
    returns how many holds were dropped."""
    folder = Path(state_dir) / "held"
    total = _size(folder)
    if total <= cap_bytes:
        return 0
    dropped = 0
    now = time.time()
    for h in sorted(store.list_held(), key=lambda h: (h.created_at, h.id)):
        if total <= cap_bytes:
            break
        if h.kind not in DROPPABLE or not h.path or Path(h.path).parent != folder:
            continue
        code = Path(h.path).name.split("-")[0]
        freed = 0
        for p in [Path(h.path), *folder.glob(f"{code}.item*")]:
            try:
                freed += p.stat().st_size
                p.unlink()
            except FileNotFoundError:
                pass
        total -= freed
        store.release(h.id, at=now)
        store.audit("held-dropped", code, {"kind": h.kind, "bytes": freed, "reason": "held_max_mb"}, at=now)
        store.note_reply(COUNTER, store.day_of(now))  # the digest's count of the day
        dropped += 1
    if dropped:
        seen = store.get_value(VALUE_KEY) or {}
        store.set_value(VALUE_KEY, {"count": int(seen.get("count", 0)) + dropped, "last_at": now})
    return dropped
