"""Build the morning digest as one MIME message.

    multipart/mixed
    ├─ multipart/alternative
    │  ├─ text/plain            every key number, readable with images blocked
    │  └─ multipart/related
    │     ├─ text/html          tables with inline CSS, < 100 KB
    │     ├─ image/png          trend chart     (Content-ID, 2× resolution)
    │     └─ image/png          district chart  (Content-ID, 2× resolution)
    └─ application/vnd.openxmlformats-officedocument.spreadsheetml.sheet  the full tables

The Message-ID is stable per day (a re-run after a crash queues the same message, which the
outbox and the sender then send once); a manual send passes its own.
"""
from __future__ import annotations

from datetime import date, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from ..config import Settings
from ..mail.compose import XLSX, build, stable_message_id
from ..mail.render import Renderer
from ..state.store import Store
from . import charts, workbook
from .data import TOP_ERRORS, Figures, gather, load_labels

KIND = "digest"
TREND_PNG, DISTRICTS_PNG = "trend.png", "districts.png"
ROWS_SHOWN = 10  # recipients / stale lines in the mail; the workbook has all
SILENT_SHOWN = 12


def digest_tz(settings: Settings) -> ZoneInfo:
    return ZoneInfo(str(settings.section("digest").get("timezone", "Asia/Ho_Chi_Minh")))


def intake_address(settings: Settings) -> str:
    o = settings.directory.office("intake")
    return o.email if o and o.email else "vaxmail@localhost"


def digest_message_id(settings: Settings, day: date, *extra: str) -> str:
    domain = intake_address(settings).rsplit("@", 1)[-1]
    return stable_message_id(domain, KIND, day.isoformat(), *extra)


def gather_figures(settings: Settings, store: Store, day: date, *,
                   now: datetime | None = None) -> Figures:
    cfg = settings.section("digest")
    return gather(settings.directory, store, day, tz=digest_tz(settings),
                  labels=load_labels(settings.templates_path),
                  silent_days=int(cfg.get("silent_days", 3)),
                  unconfirmed_days=int(cfg.get("unconfirmed_days", 2)), now=now)


def build_digest(settings: Settings, store: Store, day: date, renderer: Renderer, *,
                 now: datetime | None = None, message_id: str | None = None,
                 ) -> tuple[EmailMessage, dict, dict[str, bytes]]:
    """(the message, the figures as a dict, {file name: bytes} of the two PNGs and the .xlsx)."""
    tz = digest_tz(settings)
    now = now or datetime.now(tz)
    f = gather_figures(settings, store, day, now=now)
    files = {TREND_PNG: charts.trend_png(f), DISTRICTS_PNG: charts.districts_png(f)}
    xlsx_name = workbook.filename(day)
    files[xlsx_name] = workbook.workbook_bytes(f)

    directory = settings.directory
    intake = intake_address(settings)
    domain = intake.rsplit("@", 1)[-1]
    cid_trend = f"trend-{day.isoformat()}@{domain}"
    cid_districts = f"districts-{day.isoformat()}@{domain}"
    rendered = renderer.render(
        KIND, f=f, cid_trend=cid_trend, cid_districts=cid_districts, xlsx_name=xlsx_name,
        rows_shown=ROWS_SHOWN, silent_shown=SILENT_SHOWN, errors_shown=TOP_ERRORS,
        intake=intake, support_phones=directory.support_phones,
        senders_verified=bool(str(settings.section("trust").get("authserv_id", "") or "").strip()))
    msg = build(
        rendered, sender=intake, sender_name=settings.section("smtp").get("from_name", ""),
        to=[("", a) for a in directory.leaders], message_id=message_id or digest_message_id(settings, day),
        auto="auto-generated", when=now,
        attachments=[(xlsx_name, files[xlsx_name], XLSX)],
        inline_images=[(cid_trend, files[TREND_PNG]), (cid_districts, files[DISTRICTS_PNG])],
        extra_headers={"X-Vaxmail-Digest": day.isoformat()})
    figures = f.as_dict()
    figures["html_bytes"] = len(rendered.html.encode("utf-8")) if rendered.html else 0
    return msg, figures, files


def html_for_browser(msg: EmailMessage, files: dict[str, bytes]) -> str:
    """The HTML part with its cid: images pointing at the PNG files beside it (for --out)."""
    html_part = msg.get_body(preferencelist=("html",))
    html = html_part.get_content()
    for part in msg.walk():
        cid = (part.get("Content-ID") or "").strip("<>")
        if cid and part.get_content_type() == "image/png":
            name = TREND_PNG if cid.startswith("trend-") else DISTRICTS_PNG
            html = html.replace(f"cid:{cid}", name)
    return html
