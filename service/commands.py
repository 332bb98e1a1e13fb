"""The service's commands (run, status, held, release, retry, folders, digest)."""
from __future__ import annotations

import json
import logging
import os
import signal
import sys

from .config import ConfigError, load_settings
from .wording import say


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


def _settings(args):
    try:
        return load_settings(args.config)
    except ConfigError as exc:
        print(f"vaxmail: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _service(args):
    from .runner import Service
    settings = _settings(args)
    try:
        return Service(settings)
    except ConfigError as exc:
        print(f"vaxmail: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except Exception as exc:  # noqa: BLE001 - a bad URL or an unwritable state dir
        message = getattr(exc, "message", None) or str(exc)
        print(f"vaxmail: cannot start: {message}", file=sys.stderr)
        raise SystemExit(2) from None


def run(args) -> int:
    _setup_logging()
    os.umask(0o077)  # state, spools and logs: the service user only
    svc = _service(args)
    from .security import start_warnings
    for warning in start_warnings(svc.settings, svc.store):
        logging.getLogger("vaxmail").warning("%s", warning)
    try:
        if args.once:
            result = svc.run_once()
            print(f"vaxmail: {result['taken']} received, {result['processed']} processed, "
                  f"{len(svc.outbox)} waiting in the outbox")
            return 0
        from .runner import sd_notify

        def on_term(signum, frame):
            svc.request_stop()

        signal.signal(signal.SIGTERM, on_term)
        signal.signal(signal.SIGINT, on_term)
        svc.run_forever(notify=sd_notify)
        if svc.unfinished:
            logging.getLogger("vaxmail").warning(
                "stopping with work in hand; it is recovered and redone at the next start")
            logging.shutdown()
            abandon = getattr(svc.ctx.checker, "abandon", None)
            if abandon is not None:
                abandon()  # its file is redone at the next start, like the item
            os._exit(0)  # no close(): a thread is mid-item; the durable state makes this safe
        return 0
    finally:
        svc.close()


def _when(ts) -> str:
    if not ts:
        return say("time.never")
    from datetime import datetime
    from .item import VN
    return datetime.fromtimestamp(float(ts), VN).strftime("%H:%M:%S %d/%m/%Y")


def status(args) -> int:
    from .security import status as security_status
    with _service(args) as svc:
        out = svc.sender.status().__dict__ if svc.sender else None
        st = {
            "incoming_queue": svc.inq.counts(),
            "outbox": out if out is not None else svc.outbox.queue.counts(),
            "held_open": len(svc.store.list_held()),
            "held_dropped": svc.store.get_value("held_dropped"),
            "mailbox": svc.store.get_value("mailbox"),
            "last_digest": svc.store.get_value("last_digest"),
            "runners": svc.store.get_value("runners"),
            "security": security_status(svc.settings),
        }
        if args.json:
            print(json.dumps(st, ensure_ascii=False, indent=2, default=str))
            return 0
        q = st["incoming_queue"]
        print(say("status.incoming", new=q.get("new", 0), claimed=q.get("claimed", 0), bad=q.get("bad", 0)))
        if out is not None:
            print(say("status.outbox", pending=out["pending"], deferred=out["deferred"], parked=out["parked"],
                      last_sent=_when(out["last_sent_at"])))
            if out["last_error"]:
                print(say("status.outbox-error", when=_when(out["last_error_at"]), error=out["last_error"]))
        else:
            print(say("status.outbox-none"))
        print(say("status.held", count=st["held_open"]))
        if st["held_dropped"]:
            d = st["held_dropped"]
            print(say("status.held-dropped", count=d["count"], when=_when(d["last_at"])))
        mb = st["mailbox"] or {}
        if mb:
            print(say("status.mailbox", when=_when(mb.get("last_round_trip")),
                      state=say("status.mailbox-connected" if mb.get("connected") else "status.mailbox-disconnected"),
                      error=say("status.mailbox-error", error=mb["last_error"]) if mb.get("last_error") else ""))
        else:
            print(say("status.mailbox-never"))
        dg = st["last_digest"] or {}
        print(say("status.digest", day=dg["day"]) if dg.get("day") else say("status.digest-never"))
        sec = st["security"]
        if sec["senders_verified"]:
            print(say("status.verified", authserv_id=sec["authserv_id"]))
        else:
            print(say("status.not-verified"))
        if "retention_days" in sec:
            print(say("status.retention", days=sec["retention_days"], when=_when(sec.get("oldest_kept")),
                      due=sec.get("due_for_purge", 0)))
        return 0


def purge(args) -> int:
    """Remove (or with --dry-run count) personal data older than [retention] days."""
    from .retention import purge as run_purge, retention_days
    with _service(args) as svc:  # the mailbox too: its done folder is purged (IMAP: own connection)
        settings = svc.settings
        res = run_purge(settings, svc.store, dry_run=args.dry_run, mailbox=svc.mail)
    places = ", ".join(f"{say('retention-places.' + k)}: {v}" for k, v in sorted(res.removed.items()))
    print(say("retention.would-remove" if args.dry_run else "retention.removed", total=res.total,
              days=retention_days(settings), places=f" ({places})" if places else "", held=res.held_expired))
    oldest = res.kept_oldest if not args.dry_run else res.oldest_any
    print(say("retention.oldest", when=_when(oldest)) if oldest else say("retention.none-kept"))
    return 0


def held(args) -> int:
    with _service(args) as svc:
        items = svc.store.list_held()
        for h in items:
            print(f"{h.id}\t{h.kind}\t{h.day or ''}\t{h.reason}\t{h.path or ''}")
        if not items:
            print(say("operator.no-held"))
        return 0


def _actor() -> str:
    import getpass
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in a bare container
        return "cli"


def release(args) -> int:
    """Process held items again (what that means depends on the kind: service/operator.py)."""
    from .operator import Desk
    rc = 0
    with Desk(_settings(args)) as desk:
        for hid in args.ids:
            if not str(hid).isdigit():
                print(desk.say("release", "not-found", id=hid), file=sys.stderr)
                rc = 1
                continue
            result = desk.release(int(hid), by=_actor())
            print(result.text, file=sys.stdout if result.ok else sys.stderr)
            if not result.ok:
                rc = 1
    return rc


def discard(args) -> int:
    """Close held items without processing them, with a reason for the audit log."""
    from .operator import Desk
    rc = 0
    with Desk(_settings(args)) as desk:
        for hid in args.ids:
            result = desk.discard(int(hid) if str(hid).isdigit() else -1, args.reason, by=_actor())
            print(result.text, file=sys.stdout if result.ok else sys.stderr)
            if not result.ok:
                rc = 1
    return rc


def web(args) -> int:
    """The web console in the foreground (systemd runs it; a reverse proxy terminates TLS)."""
    _setup_logging()
    os.umask(0o077)
    settings = _settings(args)
    from .web.app import serve
    listen = args.listen or str(settings.section("web").get("listen", "127.0.0.1:8080"))
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        print(f"vaxmail: --listen must be HOST:PORT, not {listen!r}", file=sys.stderr)
        return 2
    logging.getLogger("vaxmail").info("web console on http://%s/", listen)
    serve(args.config, listen)
    return 0


def _read_password() -> str:
    """The password from standard input: one line (a pipe), or asked twice on a terminal."""
    if sys.stdin.isatty():
        import getpass
        first = getpass.getpass(say("users.password"))
        if getpass.getpass(say("users.password-again")) != first:
            raise ValueError(say("users.password-mismatch"))
        return first
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def user(args) -> int:
    from .state import open_store, store_options
    from .web import accounts
    settings = _settings(args)
    store = open_store(settings.state_dir, **store_options(settings))
    try:
        cmd = args.user_command
        if cmd == "list":
            for u in store.users():
                state = say("users.disabled" if u.disabled else "users.active")
                print(say("users.line", name=u.name, role=u.role, state=state, when=_when(u.last_login)))
            return 0
        if cmd in ("add", "passwd"):
            password = _read_password()
            if cmd == "add":
                accounts.add(store, args.name, args.role, password, by=_actor())
                print(say("users.added", name=args.name, role=args.role))
            else:
                accounts.set_password(store, args.name, password, by=_actor())
                print(say("users.password-set", name=args.name))
        elif cmd == "disable":
            accounts.set_disabled(store, args.name, True, by=_actor())
            print(say("users.disabled-now", name=args.name))
        elif cmd == "enable":
            accounts.set_disabled(store, args.name, False, by=_actor())
            print(say("users.enabled-now", name=args.name))
        return 0
    except ValueError as exc:  # AccountError, mismatched passwords
        print(f"vaxmail: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()


def retry(args) -> int:
    with _service(args) as svc:
        if svc.sender is None:
            print("vaxmail: no [smtp] url configured", file=sys.stderr)
            return 2
        from .operator import Desk
        desk = Desk(svc.settings, store=svc.store)  # the console's operation: audited
        n = sum(desk.retry(name, by=_actor()) for name in args.ids or [None])
        print(say("operator.retried", count=n))
        svc.send()
        return 0


def folders(args) -> int:
    from .intake.folder import create_unit_folders
    settings = _settings(args)
    if settings.folder_path is None:
        print("vaxmail: no [folder] path configured", file=sys.stderr)
        return 2
    from .state import open_store, store_options
    store = open_store(settings.state_dir, **store_options(settings))
    try:  # the exact names are kept: the intake knows a unit's folder by them only
        made = create_unit_folders(settings.folder_path, settings.directory, store)
    finally:
        store.close()
    for folder, name in made:
        print(f"{folder}\t{name}")
    return 0


def digest(args) -> int:
    from .digest.command import run as run_digest
    return run_digest(args)


def demo(args) -> int:
    """Run the whole pipeline on the sample inbox: Maildir in, file outbox out; print who got what."""
    import shutil
    import time
    from email import message_from_bytes
    from email.policy import default as default_policy
    from pathlib import Path

    from .config import load_settings
    from .defaults import samples_dir
    from .runner import Service

    root = Path(args.dir).resolve()
    if root.exists():
        if not (root / ".vaxmail-demo").exists():
            print(f"vaxmail: {root} exists and is not a demo folder; choose another --dir", file=sys.stderr)
            return 2
        shutil.rmtree(root)
    samples = samples_dir()
    maildir = root / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (root / ".vaxmail-demo").write_text("created by vaxmail demo\n")
    for n, eml in enumerate(sorted(samples.glob("*.eml"))):
        (maildir / "new" / f"{1629853200 + n}.{n}.demo:{eml.stem}").write_bytes(eml.read_bytes())
    share = root / "share"
    if (samples / "folder").is_dir():
        shutil.copytree(samples / "folder", share)
    else:
        share.mkdir()
    config = root / "vaxmail.toml"
    config.write_text(
        f'[mailbox]\nurl = "maildir:{maildir}"\n\n[smtp]\nurl = "file:{root / "outbox"}"\n\n'
        f'[folder]\npath = "{share}"\nsettle_seconds = 0\n\n[state]\npath = "{root / "state"}"\n',
        encoding="utf-8")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    svc = Service(load_settings(config))
    started = time.monotonic()
    try:
        result = svc.run_once()
        held = svc.store.list_held()
    finally:
        svc.close()
    elapsed = time.monotonic() - started
    print(say("demo.processed", count=result["processed"], seconds=elapsed))
    print(say("demo.sent", folder=root / "outbox"))
    for eml in sorted((root / "outbox").glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        m = message_from_bytes(eml.read_bytes(), policy=default_policy)
        atts = [part.get_filename() for part in m.iter_attachments() if part.get_filename()]
        print(f"- {m['Subject']}")
        print(say("demo.to", to=m["To"]))
        if m["Cc"]:
            print(say("demo.cc", cc=m["Cc"]))
        if atts:
            print(say("demo.attachments", names=", ".join(atts)))
    print(say("demo.held", count=len(held)))
    for h in held:
        print(f"- [{h.kind}] {h.reason}")
    results = sorted(p.relative_to(share) for p in share.rglob("*") if p.is_file())
    print(say("demo.share"))
    for p in results:
        print(f"- {p}")
    print(say("demo.again", config=config))
    return 0
