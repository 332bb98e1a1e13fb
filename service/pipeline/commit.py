"""Make a Plan durable: outgoing mail into the outbox, then one state transaction.

Order matters for exactly-once: the outbox files are written first (idempotent: keyed by
Message-ID), preserved files next, and only then the transaction that marks the incoming
item finished. A crash anywhere before the commit re-runs the item and rewrites the same
files; a crash after it finds the item finished.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

from ..durable import make_private_dir, write_file_durably
from ..state.store import Submission
from ..item import Item, results_dir
from .plan import Plan

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _status(plan: Plan) -> str:
    if plan.outcome == "forwarded":
        return "partial" if any(f.errors or f.held_rows or f.conflict_rows or f.fatal
                                for f in plan.files) else "forwarded"
    return "held" if plan.outcome == "held" else "answered"


def preserve(state_dir: Path, plan: Plan) -> list[str | None]:
    """Write held items' blobs under <state>/held/ (0600); returns their paths."""
    paths: list[str | None] = []
    folder = make_private_dir(state_dir / "held")
    for n, h in enumerate(plan.held):
        if h.data is None:
            paths.append(None)
            continue
        suffix = Path(h.name).suffix if h.kind not in ("automatic", "reply", "unknown-sender", "unverified") else ".eml"
        target = folder / f"{plan.code}-{n}{_SAFE.sub('', suffix)[:8] or '.bin'}"
        write_file_durably(target, h.data)
        paths.append(str(target))
    return paths


ITEM_SUFFIX, RECORD_SUFFIX = ".item", ".item.json"


def preserve_item(state_dir: Path, code: str, item: Item) -> None:
    """Keep what arrived, whole, when anything of it is held: ``<state>/held/<code>.item``
    (the message as received, or the dropped file) and ``<code>.item.json`` (how to rebuild
    the Item). Releasing the hold processes exactly this again, under the same key."""
    if item.source == "mail":
        data = item.raw
    else:
        data = item.files[0].data if item.files else None
    if data is None:
        return
    folder = make_private_dir(state_dir / "held")
    record = {"source": item.source, "key": item.key, "received_at": item.received_at.timestamp(),
              "folder_file": item.folder_file, "unit_key": item.unit_key,
              "file_name": item.files[0].name if item.files else None}
    write_file_durably(folder / f"{code}{ITEM_SUFFIX}", data)
    write_file_durably(folder / f"{code}{RECORD_SUFFIX}",
                       json.dumps(record, ensure_ascii=False).encode("utf-8"))


def commit(plan: Plan, item: Item, store, outbox, state_dir: Path) -> None:
    if plan.results:
        folder = make_private_dir(results_dir(state_dir, plan.code))
        for n, (kind, data) in enumerate(plan.results):
            write_file_durably(folder / f"{n}-{kind}", data)
    for out in plan.outgoing:
        outbox.add(out.data, out.envelope_from, out.recipients, kind=out.kind, ref=plan.code,
                   message_id=out.message_id)
    held_paths = preserve(state_dir, plan)
    if plan.held:
        preserve_item(state_dir, plan.code, item)
    received = item.received_at.timestamp()
    now = time.time()
    status = _status(plan)
    sender = item.sender or (item.folder_file or "")
    with store.transaction():
        for out in plan.outgoing:
            store.note_outgoing(out.message_id, out.kind, out.recipients, ref=plan.code, at=now)
        for f in plan.files or [None]:
            store.record_submission(Submission(
                code=plan.code, incoming_key=item.key, source=item.source, sender=sender,
                status=status, received_at=received, unit_key=plan.unit_key,
                district_code=plan.district_code, file_name=f.name if f else None,
                form=f.form if f else None, rows=f.rows if f else 0,
                valid_rows=f.valid_rows if f else 0, error_count=f.errors if f else 0,
                error_counts=f.error_codes if f else {}, processed_at=now))
        by_batch: dict[tuple[str, str], list[str]] = {}
        people: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
        for fw in plan.forwarded:
            by_batch.setdefault((fw.form, fw.recipient_key), []).append(fw.id_number)
            if fw.person:
                people.setdefault((fw.form, fw.recipient_key), {})[fw.id_number] = fw.person
        for (form, recipient), ids in by_batch.items():
            store.record_forwarded(plan.code, form, recipient, ids, district_code=plan.district_code,
                                   unit_key=plan.unit_key, at=now, person_data=people.get((form, recipient)))
        for h, path in zip(plan.held, held_paths):
            if path is None and item.source == "folder":
                path = item.folder_file  # the file stays in the share: say where it is
            store.hold(h.kind, h.reason, path, key=item.key, sender=sender or None,
                       unit_key=plan.unit_key, district_code=plan.district_code, at=now)
        # processed again after a release: what no longer holds it is resolved
        store.settle_held(item.key, {h.kind for h in plan.held}, at=now)
        day = item.received_at.date()
        for addr in plan.replied_to:
            store.note_reply(addr, day)
        if plan.outcome == "forwarded" and plan.unit_key:  # [limits] forwards_per_unit_day
            store.note_reply(f"forwards:{plan.unit_key}", day)
        for code, recipient, count in plan.confirmations:
            store.confirm(code, recipient, count, at=now)
        for code, recipient, people in plan.entered:
            store.confirm_people(code, recipient, people, at=now)
        for event, detail in plan.audit:
            store.audit(event, plan.code, detail, at=now)
        store.audit("processed", plan.code, {"source": item.source, "outcome": plan.outcome,
                                             "files": len(plan.files), "outgoing": len(plan.outgoing)}, at=now)
        store.mark_incoming(item.key, plan.outcome, plan.code)
