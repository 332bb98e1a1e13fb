"""The ``vaxmail`` command line. Each sub-command lives in its own small function.

The contracts (JSON of ``check``, exit statuses, settings, operator commands) are in
docs/contract.md.

check     check spreadsheets (exit 0 ok, 1 errors, 2 not a form)
export    write the valid, repaired rows in the canonical layout
template  write a blank Mẫu 1 / Mẫu 2 workbook, or the national import template (quocgia)
run       run the service (``--once``: process what is waiting, then exit)
status    health, queues, held items
purge     remove personal data older than [retention] days
held / release / discard / retry   the operator's tools
folders   create the shared-folder subfolders, one per unit
digest    build (and optionally send) the morning digest
demo      run the pipeline on the sample inbox (Maildir in, file outbox out)
web       the operator's web console; user: its accounts (add, passwd, disable, enable, list)
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path

from .wording import say


def _date(s: str) -> date:
    return date.fromisoformat(s)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vaxmail", description=say("cli.description"))
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="check spreadsheets")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--json", action="store_true", help="print the JSON report")
    c.add_argument("--annotate", metavar="OUT", help="write an annotated copy (a folder for several files)")
    c.add_argument("--today", type=_date, help=argparse.SUPPRESS)
    c.add_argument("--config", help="settings TOML (for a custom directory)")

    e = sub.add_parser("export", help="write valid rows in the canonical layout (or the national template)")
    e.add_argument("file")
    e.add_argument("--out", required=True)
    e.add_argument("--layout", choices=["auto", "canonical", "quocgia"], default="auto",
                   help="auto: the national template for a list in it, else the canonical layout")
    e.add_argument("--today", type=_date, help=argparse.SUPPRESS)
    e.add_argument("--config")

    t = sub.add_parser("template", help="write a blank form")
    t.add_argument("form", choices=["mau1", "mau2", "quocgia"],
                   help="mau1, mau2 (the project's forms) or quocgia (the national platform's import template)")
    t.add_argument("--out", required=True)
    t.add_argument("--config")

    r = sub.add_parser("run", help="run the service")
    r.add_argument("--config", required=True)
    r.add_argument("--once", action="store_true", help="process what is waiting, then exit")

    s = sub.add_parser("status", help="service health and queues")
    s.add_argument("--config", required=True)
    s.add_argument("--json", action="store_true")

    pg = sub.add_parser("purge", help="remove personal data older than [retention] days")
    pg.add_argument("--config", required=True)
    pg.add_argument("--dry-run", action="store_true", help="only count what would be removed")

    h = sub.add_parser("held", help="list items held for the operator")
    h.add_argument("--config", required=True)

    rl = sub.add_parser("release", help="release a held item (process it again)")
    rl.add_argument("--config", required=True)
    rl.add_argument("ids", nargs="+")

    ds = sub.add_parser("discard", help="close a held item without processing it")
    ds.add_argument("--config", required=True)
    ds.add_argument("--reason", required=True, help="why (kept in the audit log)")
    ds.add_argument("ids", nargs="+")

    rt = sub.add_parser("retry", help="retry parked outgoing messages now")
    rt.add_argument("--config", required=True)
    rt.add_argument("ids", nargs="*")

    f = sub.add_parser("folders", help="create one shared subfolder per unit")
    f.add_argument("--config", required=True)

    d = sub.add_parser("digest", help="build the morning digest")
    d.add_argument("--config", required=True)
    d.add_argument("--date", type=_date)
    d.add_argument("--out")
    d.add_argument("--send", action="store_true")
    w = sub.add_parser("web", help="serve the operator's web console (foreground)")
    w.add_argument("--config", required=True)
    w.add_argument("--listen", help="HOST:PORT (default: [web] listen, 127.0.0.1:8080)")

    u = sub.add_parser("user", help="console accounts (the password is read from standard input)")
    usub = u.add_subparsers(dest="user_command", required=True)
    ua = usub.add_parser("add", help="create an account")
    ua.add_argument("name")
    ua.add_argument("--role", required=True, choices=["operator", "leader"])
    ua.add_argument("--config", required=True)
    up = usub.add_parser("passwd", help="set a new password")
    up.add_argument("name")
    up.add_argument("--config", required=True)
    ud = usub.add_parser("disable", help="disable an account (its sessions end)")
    ud.add_argument("name")
    ud.add_argument("--config", required=True)
    ue = usub.add_parser("enable", help="enable a disabled account")
    ue.add_argument("name")
    ue.add_argument("--config", required=True)
    ul = usub.add_parser("list", help="list the accounts")
    ul.add_argument("--config", required=True)

    dm = sub.add_parser("demo", help="run the pipeline on the sample inbox (no server needed)")
    dm.add_argument("--dir", default="vaxmail-demo", help="working folder (default ./vaxmail-demo)")
    return p


def _directory(config: str | None):
    from .config import ConfigError, load_settings
    try:
        return load_settings(config).directory
    except ConfigError as exc:
        print(f"vaxmail: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_check(args) -> int:
    from .forms.engine import check_file
    from .forms.render import render_text

    from .config import ConfigError, load_settings
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"vaxmail: {exc}", file=sys.stderr)
        return 2
    directory = settings.directory
    limits = {"max_rows": settings.limit("max_rows"), "max_bytes": int(settings.limit("max_file_mb") * 1_000_000)}
    worst = 0
    many = len(args.files) > 1
    for name in args.files:
        try:
            report = check_file(name, directory=directory, today=args.today, **limits)
        except Exception as exc:  # `check --json` always prints JSON: a bug shows as exit 2
            from .forms.model import Report
            from .forms.read.guard import unreadable
            logging.getLogger("vaxmail.check").error("check failed: %s", type(exc).__name__)
            report = Report(path=name, form=None, checked_on=args.today)
            report.fatal = unreadable("corrupt-file")
        if args.json:
            line = json.dumps(report.as_json(), ensure_ascii=False, indent=None if many else 2)
            print(line)
        else:
            print(render_text(report))
        if args.annotate and report.fatal is None and report.form:
            out = Path(args.annotate)
            if many:
                out.mkdir(parents=True, exist_ok=True)
                out = out / (Path(name).stem + ".kiem-tra.xlsx")
            from .forms.annotate import annotate
            annotate(report, name, str(out), grid=report.grid)
        worst = max(worst, report.exit_code)
    return worst


def cmd_export(args) -> int:
    from .forms.engine import check_file
    from .forms.export import export

    report = check_file(args.file, directory=_directory(args.config), today=args.today)
    if report.fatal is not None or not report.form:
        msg = report.fatal.message if report.fatal else say("cli.not-a-form")
        print(msg, file=sys.stderr)
        return 2
    from .forms import national
    layout = args.layout
    if layout == "auto":  # a list in the national template stays in it (it may mix both forms)
        layout = "quocgia" if report.layout and national.is_national(report.layout.columns) else "canonical"
    if layout == "quocgia":
        national.write(list(report.valid_records()), args.out, _directory(args.config))
    else:
        export(report, args.out)
    print(say("cli.exported", valid=report.valid_rows, rows=report.rows, out=args.out))
    return 0 if not report.errors else 1


def cmd_template(args) -> int:
    from .forms.template import write_template

    write_template(args.form, args.out, _directory(args.config))
    print(say("cli.template-written", form=args.form, out=args.out))
    return 0


def _late(name: str):
    """Commands that come from the service package, imported only when used."""
    def run(args) -> int:
        from . import commands
        return getattr(commands, name)(args)
    return run


COMMANDS = {
    "check": cmd_check,
    "export": cmd_export,
    "template": cmd_template,
    "run": _late("run"),
    "status": _late("status"),
    "held": _late("held"),
    "purge": _late("purge"),
    "release": _late("release"),
    "discard": _late("discard"),
    "retry": _late("retry"),
    "folders": _late("folders"),
    "digest": _late("digest"),
    "demo": _late("demo"),
    "web": _late("web"),
    "user": _late("user"),
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
