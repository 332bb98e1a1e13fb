"""What each console page shows, gathered from the store, the queues and the directory.

Plain data for the templates (``mail_templates/web/``); no wording here beyond labels that
already live in ``mail_templates`` (held kinds, error codes).
"""
from __future__ import annotations

import os
import threading
import time
from collections import Counter
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..digest.data import load_labels
from ..pipeline.context import VN

if TYPE_CHECKING:
    from .app import Console

MAX_ERRORS_SHOWN = 200
_FIGURES_LOCK = threading.RLock()
SPOOLS = ("queue", "outbox", "held", "crash", "results", "work")


# ---------------------------------------------------------------------------- filters


def when(ts) -> str:
    if not ts:
        return "—"
    if isinstance(ts, datetime):
        return ts.astimezone(VN).strftime("%H:%M %d/%m/%Y")
    return datetime.fromtimestamp(float(ts), VN).strftime("%H:%M %d/%m/%Y")


def num(n) -> str:
    if n is None:
        return "—"
    return f"{int(n):,}".replace(",", ".")


def pct(v) -> str:
    return "—" if v is None else f"{v:.0f}%"


def size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def _labels(console: "Console") -> dict[str, dict[str, str]]:
    return load_labels(console.current().templates_path)


def _du(path: Path) -> tuple[int, int]:
    """(bytes, files) under a folder."""
    total = files = 0
    for root, _dirs, names in os.walk(path):
        for n in names:
            try:
                total += os.lstat(os.path.join(root, n)).st_size
                files += 1
            except OSError:
                pass
    return total, files


# ---------------------------------------------------------------------------- Tổng quan


def overview(console: "Console") -> dict[str, Any]:
    from ..security import status as security_status
    settings = console.current()
    store = console.store
    with console.desk() as desk:
        inq = desk.inq.counts()
        outq = desk.outbox.queue
        waiting = outq.entries_in("new")
        now = time.time()
        out = {"pending": len(waiting), "deferred": sum(1 for e in waiting if e.not_before > now),
               "claimed": outq.counts()["claimed"], "parked": outq.counts()["bad"],
               "last_sent_at": store.get_value("outbox.last_sent_at"),
               "last_error": (store.get_value("outbox.last_error") or {})}
    held = store.list_held()
    kinds = Counter(h.kind for h in held)
    labels = _labels(console)["held"]
    state = settings.state_dir
    disk = [(name, *_du(state / name)) for name in SPOOLS if (state / name).exists()]
    try:
        sec = security_status(settings)
    except Exception:  # noqa: BLE001 - a summary that cannot be read must not hide the page
        sec = {}
    actions = [e for e in store.audit_events(limit=200) if e["detail"].get("by")][:15]
    return {
        "actions": actions,
        "inq": inq, "out": out, "held_total": len(held),
        "held_kinds": [(labels.get(k, k), n, k) for k, n in kinds.most_common()],
        "mailbox": store.get_value("mailbox") or {},
        "last_digest": store.get_value("last_digest") or {},
        "security": sec, "unverified": kinds.get("unverified", 0),
        "disk": disk, "disk_total": sum(d[1] for d in disk),
        "state_dir": str(state),
    }


# ---------------------------------------------------------------------------- Đang giữ


def _held_row(console: "Console", h, labels) -> dict[str, Any]:
    directory = console.current().directory
    unit = directory.unit(h.unit_key) if h.unit_key else None
    files = console.store.submissions(h.code) if h.code else []
    from ..operator import DEFAULT_RELEASE, RELEASE
    return {
        "h": h, "label": labels["held"].get(h.kind, h.kind), "unit": unit,
        "releasable": RELEASE.get(h.kind, DEFAULT_RELEASE).action != "refuse",
        "files": [{"name": s.file_name, "form": s.form, "rows": s.rows, "valid": s.valid_rows,
                   "errors": s.error_count,
                   "codes": [(labels["errors"].get(c, c), n) for c, n in
                             sorted(s.error_counts.items(), key=lambda kv: -kv[1])]}
                  for s in files if s.file_name],
    }


MAX_HELD_SHOWN = 300


def held_list(console: "Console") -> dict[str, Any]:
    labels = _labels(console)
    held = console.store.list_held()
    newest = list(reversed(held))[:MAX_HELD_SHOWN]
    return {"items": [_held_row(console, h, labels) for h in newest], "total": len(held)}


def held_detail(console: "Console", held_id: int) -> dict[str, Any] | None:
    store = console.store
    h = store.held_item(held_id)
    if h is None:
        return None
    labels = _labels(console)
    row = _held_row(console, h, labels)
    settings = console.current()
    with console.desk() as desk:
        item = desk.held_source(h)
    checks = []
    facilities: list[str] = []
    if item is not None:
        checker = console.checker()
        for f in item.files:
            report, _annotated = checker.check(f.name, f.data, item.received_at.date())
            for e in report.errors:
                if e.code == "facility-unknown" and e.value and str(e.value) not in facilities:
                    facilities.append(str(e.value))
            checks.append({"name": f.name, "form": report.form, "rows": report.rows,
                           "valid": report.valid_rows, "fatal": report.fatal.message if report.fatal else None,
                           "errors": report.errors[:MAX_ERRORS_SHOWN], "error_count": len(report.errors),
                           "warnings": len(report.warnings), "fixes": len(report.fixes)})
    events = store.audit_events(h.code, limit=50) if h.code else []
    return {**row, "item": item, "checks": checks,
            "suggestion": suggestion(h, item, facilities, console.words),
            "directory_path": str(settings.directory_path),
            "events": [e for e in events if e["event"].startswith("held-")]}


def _toml_str(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def suggestion(h, item, facilities: list[str], words: dict) -> str | None:
    """The directory lines the operator would add so a release can go through."""
    t = words.get("suggest", {})
    if h.kind == "unknown-facility" and facilities and "facility" in t:
        district = t.get("district", "").format(code=h.district_code) if h.district_code else ""
        return "\n".join(t["facility"].format(name=_toml_str(name), district=district) for name in facilities)
    if h.kind == "unknown-sender" and item is not None and item.sender and "unit-sender" in t:
        return t["unit-sender"].format(email=_toml_str(item.sender))
    if h.kind == "unknown-folder" and "unit-folder" in t:
        rel = (item.folder_file if item is not None else h.sender) or ""
        top = rel.split("/")[0]
        if top:
            return t["unit-folder"].format(folder=_toml_str(top))
    return None


# ---------------------------------------------------------------------------- Thư đi


def outbox(console: "Console") -> dict[str, Any]:
    now = time.time()
    with console.desk() as desk:
        q = desk.outbox.queue
        waiting = q.entries_in("new") + q.entries_in("claimed")
        parked = q.entries_in("bad")

    def row(e) -> dict[str, Any]:
        m = e.meta
        return {"name": e.name, "kind": m.get("kind", ""), "rcpts": m.get("rcpts") or [],
                "code": m.get("ref"), "created": e.created, "next": e.not_before,
                "deferred": e.state == "new" and e.not_before > now, "attempts": e.attempts,
                "error": e.reason or e.last_error}
    return {"waiting": [row(e) for e in waiting], "parked": [row(e) for e in parked],
            "recent": console.store.recent_outgoing(30),
            "last_error": console.store.get_value("outbox.last_error") or {},
            "last_sent_at": console.store.get_value("outbox.last_sent_at")}


# ---------------------------------------------------------------------------- Tra cứu


def search_page(console: "Console") -> dict[str, Any]:
    directory = console.current().directory
    units = sorted(directory.units, key=lambda u: (u.level != "tinh", u.name))
    return {"units": units, "story": None, "history": None, "person": None}


def code_story(console: "Console", code: str) -> dict[str, Any]:
    store = console.store
    labels = _labels(console)
    directory = console.current().directory
    subs = store.submissions(code)
    recipients = _recipient_names(directory)
    held = [h for h in store.list_held(include_released=True) if h.code == code]
    first = subs[0] if subs else None
    return {
        "code": code, "found": bool(subs or held),
        "first": first, "unit": directory.unit(first.unit_key) if first and first.unit_key else None,
        "files": [{"s": s, "codes": [(labels["errors"].get(c, c), n) for c, n in
                                     sorted(s.error_counts.items(), key=lambda kv: -kv[1])]} for s in subs],
        "batches": [{"b": b, "name": recipients.get(b.recipient, b.recipient)} for b in store.batches(code)],
        "outgoing": store.outgoing_for(code),
        "held": [{"h": h, "label": labels["held"].get(h.kind, h.kind)} for h in held],
        "events": store.audit_events(code, limit=100),
    }


def _recipient_names(directory) -> dict[str, str]:
    names = {f.key: f.name for f in directory.facilities}
    names.update({k: o.name for k, o in directory.offices.items()})
    for d in directory.districts:
        names[d.health_centre.key] = d.health_centre.name
        names[d.culture_office.key] = d.culture_office.name
    return names


def unit_history(console: "Console", unit: str, sender: str) -> dict[str, Any]:
    directory = console.current().directory
    store = console.store
    u = directory.unit(unit) if unit else None
    if u is None and sender:
        u = directory.unit_for_sender(sender.lower())
    subs = store.unit_submissions(u.key) if u is not None else []
    if not subs and sender:
        subs = store.sender_submissions(sender)
    return {"unit": u, "sender": sender, "subs": subs,
            "days": len({s.day for s in subs}), "rows": sum(s.rows for s in subs),
            "valid": sum(s.valid_rows for s in subs)}


def person(console: "Console", number: str) -> dict[str, Any]:
    """Where one person went; the number is hashed by the store and never echoed back."""
    clean = "".join(str(number).split()).upper()
    if not clean or len(clean) > 20 or not clean.isalnum():
        return {"asked": bool(clean), "valid": False, "rows": []}
    store = console.store
    directory = console.current().directory
    names = _recipient_names(directory)
    rows = []
    for f in store.forwardings(clean):
        sub = store.submission(f.code)
        rows.append({"f": f, "to": names.get(f.recipient, f.recipient), "sub": sub,
                     "unit": directory.unit(sub.unit_key) if sub and sub.unit_key else None})
    return {"asked": True, "valid": True, "rows": rows}


# ---------------------------------------------------------------------------- Tiến độ


def _today(console: "Console"):
    from ..digest.message import digest_tz
    return datetime.now(digest_tz(console.current())).date()


def _figures(console: "Console"):
    with _FIGURES_LOCK:
        return _cached_figures(console, _today(console), int(time.time() // 60))


@lru_cache(maxsize=4)  # callers hold _FIGURES_LOCK
def _cached_figures(console: "Console", day, minute: int):
    """The digest's figures for today, computed at most once a minute."""
    from ..digest.message import gather_figures
    return gather_figures(console.current(), console.store, day)


def progress(console: "Console") -> dict[str, Any]:
    f = _figures(console)
    return {"f": f, "held_labels": _labels(console)["held"]}


_CHART_LOCK = threading.Lock()  # matplotlib draws one figure at a time
_charts: dict[tuple, bytes] = {}


def chart(console: "Console", name: str) -> bytes | None:
    """One of the digest's two charts for today, drawn at most once a minute."""
    from ..digest import charts
    makers = {"trend": charts.trend_png, "districts": charts.districts_png}
    if name not in makers:
        return None
    key = (id(console), name, _today(console), int(time.time() // 60))
    with _CHART_LOCK:
        if key not in _charts:
            if len(_charts) > 8:
                _charts.clear()
            _charts[key] = makers[name](_figures(console))
        return _charts[key]

