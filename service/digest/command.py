"""``vaxmail digest --config FILE [--date YYYY-MM-DD] [--out DIR] [--send]``.

- ``--out DIR`` writes ``digest.eml`` (the message as it would be sent), ``digest.html``
  (its HTML part, images pointing at the PNG files beside it), ``digest.txt``, the two
  PNG charts and the .xlsx.
- ``--send`` puts the digest in the durable outbox, records the day as sent (the scheduler
  will not send it again) and runs the sender once. A manual send gets its own Message-ID,
  so it goes out even when the scheduled digest for that day already did.
- Neither: prints the text part.
The date defaults to yesterday in the digest's time zone. Failures print one line, no
traceback: exit 2 for a settings problem, 1 for anything else.
"""
from __future__ import annotations

import logging
import sqlite3
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from ..config import ConfigError, load_settings
from ..mail.compose import serialize
from ..mail.render import Renderer
from ..outbox.spool import Outbox
from ..state import open_store, store_options
from ..wording import say
from .message import build_digest, digest_message_id, digest_tz, html_for_browser
from .schedule import queue_digest

log = logging.getLogger(__name__)


def _num(n: int) -> str:
    return f"{int(n):,}".replace(",", ".")


def _fail(message: str, code: int = 1) -> int:
    print(f"vaxmail digest: {message}", file=sys.stderr)
    return code


def write_out(out: Path, msg, files: dict[str, bytes]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        (out / name).write_bytes(data)
        written.append(out / name)
    (out / "digest.eml").write_bytes(serialize(msg))
    (out / "digest.html").write_text(html_for_browser(msg, files), encoding="utf-8")
    (out / "digest.txt").write_text(msg.get_body(preferencelist=("plain",)).get_content(), encoding="utf-8")
    return [out / "digest.eml", out / "digest.html", out / "digest.txt", *written]


def run(args) -> int:
    try:
        settings = load_settings(args.config)
        tz = digest_tz(settings)
        day: date = args.date or (datetime.now(tz).date() - timedelta(days=1))
        state = settings.state_dir
        if not state.is_dir():
            return _fail(say("digest.no-state", state=state), 2)
        store = open_store(state, **store_options(settings))
    except ConfigError as exc:
        return _fail(str(exc), 2)
    except (OSError, sqlite3.Error, ValueError) as exc:
        return _fail(say("digest.cannot-open", error=exc), 2)
    try:
        renderer = Renderer(settings.templates_path)
        started = time.monotonic()
        msg, figures, files = build_digest(settings, store, day, renderer)
        elapsed = time.monotonic() - started
        if args.out:
            paths = write_out(Path(args.out), msg, files)
            print(say("digest.written", day=day.strftime("%d/%m/%Y"), seconds=elapsed,
                      forwarded=_num(figures["day_total"]["forwarded"]), total=_num(figures["total"]["forwarded"]),
                      entered=_num(figures["entered"])))
            for p in paths:
                print(f"  {p}")
        if args.send:
            mid = digest_message_id(settings, day, "manual", str(time.time_ns()))
            mid = queue_digest(settings, store, Outbox(state), renderer, day, message_id=mid)
            print(say("digest.queued", day=day.strftime("%d/%m/%Y"), leaders=", ".join(settings.directory.leaders)))
            if not settings.smtp_url:
                print(say("digest.no-smtp"))
            else:
                store.close()
                _send_now(settings)
        if not args.out and not args.send:
            print(msg.get_body(preferencelist=("plain",)).get_content())
        return 0
    except ConfigError as exc:
        return _fail(str(exc), 2)
    except Exception as exc:  # noqa: BLE001 - one line for the operator, never a traceback
        log.debug("digest failed", exc_info=True)
        return _fail(say("digest.failed", error=f"{type(exc).__name__}: {exc}"))
    finally:
        store.close()


def _send_now(settings) -> None:
    """Run the service's sender once over the outbox (the digest just queued among others)."""
    from ..outbox.sender import send_outbox_now
    try:
        send_outbox_now(settings)
    except Exception as exc:  # noqa: BLE001
        print(say("digest.not-sent", error=f"{type(exc).__name__}: {exc}"))
        return
    print(say("digest.sender-ran"))
