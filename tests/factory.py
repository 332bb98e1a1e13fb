"""Build realistic workbooks and messages in tests (reuses the sample inbox's builders)."""
from __future__ import annotations

import importlib.util
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("vaxmail_inbox_build", ROOT / "inbox_samples" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

People = build.People
mau1_xlsx = build.mau1_xlsx
mau2_xlsx = build.mau2_xlsx
XLSX = build.XLSX
INTAKE = build.INTAKE


def submission(sender: str, xlsx: bytes, *, subject: str = "Danh sách đăng ký tiêm", name: str = "DS.xlsx",
               message_id: str | None = None, to: str = INTAKE) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = format_datetime(datetime.now(timezone.utc))
    m["Message-ID"] = message_id or make_msgid(domain=sender.split("@")[-1])
    m.set_content("Kính gửi, đơn vị gửi danh sách đính kèm.")
    m.add_attachment(xlsx, maintype=XLSX[0], subtype=XLSX[1], filename=name)
    return bytes(m)


def provincial_people(seed: int, n: int) -> list[dict]:
    p = People(seed)
    return [p.person("Thành phố Long Xuyên", "Phường Mỹ Bình") for _ in range(n)]
