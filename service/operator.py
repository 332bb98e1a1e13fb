"""The operator's actions on the state, shared by the CLI and the web console.

``Desk(settings)`` opens the state (store, the "in" queue, the outbox) without touching the
mailbox or the SMTP server. Its actions are the only way either front end changes anything:

- ``release(id, by)`` — what releasing means depends on the kind of hold: ``RELEASE`` maps
  each kind to a ``Release`` rule (process the item again, put a parked entry back in the
  queue, or refuse with a reason). A kind missing from the table is processed again.
- ``discard(id, reason, by)`` — close a held item without processing it.
- ``retry(name, by)`` — put parked outgoing mail back in the sending queue.

Processing again ("rerun") reads the item exactly as it arrived (``<state>/held/<code>.item``,
kept by ``commit``) and runs it through the pipeline under its ORIGINAL key, with the
directory and routing as they are now. The key fixes the tracking code and every outgoing
Message-ID, so what went out the first time is not sent again (the sender skips recipients
that already accepted a Message-ID; the outbox and the state are idempotent on it) while
rows that can now be routed go out once. ``commit`` then closes the holds that no longer
apply; a hold that still applies stays open, with its new reason.

Every action is in the audit log with who did it. Messages are Vietnamese, from
``mail_templates/operator.toml``.
"""
from __future__ import annotations

import json
import shutil
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from .config import Settings
from .defaults import templates_dir
from .outbox.spool import Outbox
from .durable import make_private_dir
from .queue import Queue
from .state import open_store, store_options
from .state.store import Held, Store

MAX_NOTE = 300  # characters of a discard reason kept in the audit log


def wording(settings: Settings | None = None) -> dict:
    """operator.toml from the configured templates, else the shipped one."""
    for folder in ([settings.templates_path] if settings else []) + [templates_dir()]:
        path = Path(folder) / "operator.toml"
        if path.is_file():
            with open(path, "rb") as fh:
                return tomllib.load(fh)
    return {}


@dataclass
class Result:
    ok: bool
    lines: list[str] = field(default_factory=list)  # Vietnamese, for the operator
    code: str | None = None
    still_held: list[Held] = field(default_factory=list)
    new_outgoing: list[tuple[str, list[str]]] = field(default_factory=list)  # (kind, recipients)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class Release:
    """What releasing a hold of one kind does: ``action`` is "rerun", "unpark" or "refuse";
    "close" (the hold only needs closing: the intake does the rest). ``check`` (rerun, close)
    may refuse before anything runs; ``message`` names the refusal or the closing note."""
    action: str
    message: str | None = None
    check: Callable[["Desk", Held, object, object], str | None] | None = None


def _check_sender(desk: "Desk", held: Held, item, ctx) -> str | None:
    if item.source == "mail" and ctx.directory.unit_for_sender(item.sender) is None:
        return desk.say("release", "sender-unknown", id=held.id, sender=item.sender,
                        directory=desk.settings.directory_path)
    return None


def _check_folder(desk: "Desk", held: Held, item, ctx) -> str | None:
    if item.source == "folder" and item.unit_key is None:
        folder = (item.folder_file or "").split("/")[0]
        return desk.say("release", "folder-unknown", id=held.id, folder=folder,
                        directory=desk.settings.directory_path)
    return None


# kind → rule. Helpers adding a hold kind add its line here.
RELEASE: dict[str, Release] = {
    "unknown-sender": Release("rerun", check=_check_sender),
    # the file stays in place; once its folder is a unit's, the folder intake takes it itself
    "unknown-folder": Release("close", "folder-close", check=_check_folder),
    "unknown-facility": Release("rerun"),
    "no-route": Release("rerun"),
    "reply-cap": Release("rerun"),
    "unverified": Release("rerun"),  # the operator vouches for the sender (not verified again)
    "unit-flood": Release("rerun"),  # the unit's daily cap is lifted for this item
    "failed": Release("unpark"),
    "unit-flood": Release("rerun"),  # handlers.flood lets a released item through
    "sender-unclear": Release("refuse", "sender-unclear"),
    "automatic": Release("refuse", "automatic"),
    "reply": Release("refuse", "reply"),
}
DEFAULT_RELEASE = Release("rerun")


class Desk:
    def __init__(self, settings: Settings, store: Store | None = None, checker=None):
        self.settings = settings
        self.checker = checker  # forms.worker.CheckPool to check files in (None: this process)
        self.state_dir = make_private_dir(settings.state_dir)
        self._own_store = store is None
        self.store = store if store is not None else open_store(self.state_dir, **store_options(settings))
        self.inq = Queue(self.state_dir / "queue", "in")
        self.outbox = Outbox(self.state_dir)
        self._words = wording(settings)

    def close(self) -> None:
        if self._own_store:
            self.store.close()

    def __enter__(self) -> "Desk":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def say(self, section: str, key: str, **values) -> str:
        template = self._words.get(section, {}).get(key, key)
        try:
            return template.format(**values)
        except (KeyError, IndexError):
            return template

    # ------------------------------------------------------------------ held items
    def release(self, held_id: int, by: str) -> Result:
        held = self.store.held_item(held_id)
        if held is None or held.released_at is not None:
            return Result(False, [self.say("release", "not-found", id=held_id)])
        rule = RELEASE.get(held.kind, DEFAULT_RELEASE)
        if rule.action == "refuse":
            return self._refused(held, by, self.say("release", rule.message or "", id=held.id))
        if rule.action == "unpark":
            return self._unpark(held, by)
        if rule.action == "close":
            return self._close(held, rule, by)
        return self._rerun(held, rule, by)

    def _close(self, held: Held, rule: Release, by: str) -> Result:
        item = self.held_source(held)
        if item is None:
            return self._refused(held, by, self.say("release", "no-source", id=held.id))
        why = rule.check(self, held, item, None) if rule.check else None
        if why:
            return self._refused(held, by, why)
        with self.store.transaction():
            self.store.release(held.id)
            self.store.audit("held-released", held.code, {"held": held.id, "kind": held.kind,
                                                          "by": by, "action": "close"})
        return Result(True, [self.say("release", rule.message or "", id=held.id)], code=held.code)

    def _refused(self, held: Held, by: str, message: str) -> Result:
        self.store.audit("held-release-refused", held.code, {"held": held.id, "kind": held.kind, "by": by})
        return Result(False, [message], code=held.code)

    def _unpark(self, held: Held, by: str) -> Result:
        # back in the queue under a fresh key (runner.mail_item / FolderIntake.item read
        # "released"), so the sender's earlier failure notice does not stand for its answer
        if not held.key or not self.inq.unpark(held.key, meta_update={"released": str(held.id)}):
            return self._refused(held, by, self.say("release", "not-parked", id=held.id))
        with self.store.transaction():
            self.store.release(held.id)
            self.store.audit("held-released", held.code or held.key,
                             {"held": held.id, "kind": held.kind, "by": by, "action": "unpark"})
        return Result(True, [self.say("release", "unparked", id=held.id)], code=held.code)

    def held_source(self, held: Held):
        """The Item as it arrived, rebuilt from what ``commit`` kept; None if it is gone."""
        from .pipeline.commit import ITEM_SUFFIX, RECORD_SUFFIX
        code = held.code
        if not code:
            return None
        folder = self.state_dir / "held"
        try:
            record = json.loads((folder / f"{code}{RECORD_SUFFIX}").read_text(encoding="utf-8"))
            data = (folder / f"{code}{ITEM_SUFFIX}").read_bytes()
        except (OSError, ValueError):
            return None
        if record.get("key") != held.key:
            return None
        return self._item(record, data, vouched=held.kind == "unverified")

    def _item(self, record: dict, data: bytes, vouched: bool = False):
        from .intake.mail_item import mail_item
        from .item import VN, FileIn, Item
        if record["source"] == "mail":
            intake = self.settings.directory.office("intake")
            item = mail_item(data, {"taken_at": record["received_at"], "vouched": vouched},
                             own_address=intake.email if intake and intake.email else "vaxmail@localhost",
                             max_files=self.settings.limits.max_attachments,
                             max_file_bytes=self.settings.bytes_limit("max_file_mb"),
                             authserv_id=self.settings.trust.authserv_id)
            item.key = record["key"]
            return item
        rel = record.get("folder_file") or ""
        parts = rel.split("/")
        unit = self.settings.directory.unit_for_folder(parts[0]) if len(parts) > 1 else None
        return Item(key=record["key"], source="folder",
                    received_at=datetime.fromtimestamp(float(record["received_at"]), VN),
                    files=[FileIn(record.get("file_name") or Path(rel).name, data)],
                    unit_key=unit.key if unit else None, folder_file=rel)

    def _rerun(self, held: Held, rule: Release, by: str) -> Result:
        from .pipeline import Context, process
        from .item import results_dir
        from .pipeline.commit import commit
        item = self.held_source(held)
        if item is None:
            return self._refused(held, by, self.say("release", "no-source", id=held.id))
        ctx = Context.from_settings(self.settings, self.store)
        ctx.released = frozenset({held.kind})
        if self.checker is not None:
            ctx.checker = self.checker
        if rule.check is not None:
            why = rule.check(self, held, item, ctx)
            if why:
                return self._refused(held, by, why)
        plan = process(item, ctx)
        # a message every recipient already accepted stays out of the outbox (the sender
        # would skip it anyway; the operator must not see it "waiting" as if it went again)
        plan.outgoing = [o for o in plan.outgoing
                         if not set(o.recipients) <= self.store.sent_rcpts(o.message_id)]
        new = [o for o in plan.outgoing if self.store.outgoing(o.message_id) is None]
        commit(plan, item, self.store, self.outbox, self.state_dir)
        if item.source == "folder":
            # the first run's results were put beside the file; nothing places a second set
            shutil.rmtree(results_dir(self.state_dir, plan.code), ignore_errors=True)
        still = [h for h in self.store.list_held() if h.key == held.key]
        self.store.audit("held-released", plan.code,
                         {"held": held.id, "kind": held.kind, "by": by, "action": "rerun",
                          "outcome": plan.outcome, "new_outgoing": len(new), "still_held": len(still)})
        closed = all(h.id != held.id for h in still)
        res = Result(closed, [self.say("release", "done", id=held.id, code=plan.code)], code=plan.code,
                     still_held=still, new_outgoing=[(o.kind, o.recipients) for o in new])
        if new:
            what = "; ".join(f"{self._kind_word(o.kind)} → {', '.join(o.recipients)}" for o in new)
            res.lines.append(self.say("release", "sent-new", what=what))
        else:
            res.lines.append(self.say("release", "nothing-new"))
        if still:
            res.lines += [self.say("release", "still-held", reason=h.reason) for h in still]
        else:
            res.lines.append(self.say("release", "resolved"))
        return res

    def _kind_word(self, kind: str) -> str:
        words = self._words.get("outgoing", {})
        if kind.startswith("notice"):
            kind = "notice"
        return words.get(kind) or words.get("other", kind)

    def discard(self, held_id: int, reason: str, by: str) -> Result:
        reason = " ".join((reason or "").split())[:MAX_NOTE]
        if not reason:
            return Result(False, [self.say("discard", "no-reason")])
        held = self.store.held_item(held_id)
        if held is None or held.released_at is not None:
            return Result(False, [self.say("release", "not-found", id=held_id)])
        with self.store.transaction():
            if not self.store.release(held.id):
                return Result(False, [self.say("release", "not-found", id=held_id)])
            self.store.audit("held-discarded", held.code or held.key,
                             {"held": held.id, "kind": held.kind, "by": by, "reason": reason})
        return Result(True, [self.say("discard", "done", id=held.id, code=held.code or "", reason=reason)],
                      code=held.code)

    # ------------------------------------------------------------------ outgoing mail
    def retry(self, name: str | None, by: str) -> int:
        """Parked outgoing messages (one by entry name, or all) → due now."""
        n = self.outbox.queue.unpark(name, now=time.time())
        if n:
            self.store.audit("outbox-retry", None, {"by": by, "entries": n, "one": name is not None})
        return n
