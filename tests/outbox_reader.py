"""Read what the service sent into a `file:` outbox: one dict per message."""
from __future__ import annotations

import os
import tempfile
from email import message_from_bytes
from email.policy import default as default_policy
from email.utils import getaddresses
from pathlib import Path


def addresses(value) -> list[str]:
    return sorted(a.lower() for _, a in getaddresses([str(value)]) if a) if value else []


def read_forward(xlsx: bytes) -> dict:
    """An attached forward read back by the form engine itself (the round trip): its rows,
    its errors and the people in it (name, birth date, ID) with the layout it was read in."""
    from service.forms.engine import check_file
    from service.forms.national import is_national

    fd, path = tempfile.mkstemp(suffix=".xlsx")
    with os.fdopen(fd, "wb") as fh:
        fh.write(xlsx)
    try:
        r = check_file(path)
    finally:
        os.unlink(path)
    return {"rows": r.rows, "errors": [e.as_json() for e in r.errors], "form": r.form,
            "national": r.layout is not None and is_national(r.layout.columns),
            "people": sorted((rec.values.get("full_name") or "", str(rec.values.get("dob")),
                              rec.values.get("id_number") or "") for rec in r.records)}


def rows_in(xlsx: bytes) -> int:
    """Data rows of an attached workbook, read back by the form engine itself."""
    return read_forward(xlsx)["rows"]


def workbook_problems(data: bytes) -> list[str]:
    """Macros, external links or formulas in any workbook a sent message carries (none allowed)."""
    from service.forms.xlsx_clean import findings

    m = message_from_bytes(data, policy=default_policy)
    out = []
    for part in m.iter_attachments():
        payload = part.get_payload(decode=True) or b""
        name = str(part.get_filename() or "")
        if payload[:2] == b"PK" or name.lower().endswith((".xlsx", ".xlsm")):
            if name.lower().endswith(".xlsm") or "macroEnabled" in part.get_content_type():
                out.append(f"{name}: macro-enabled name or type")
            out += [f"{name}: {f}" for f in findings(payload)]
    return out


def read_message(data: bytes, count_rows: bool = True) -> dict:
    problems = workbook_problems(data)
    assert not problems, problems  # nothing the service sends carries macros, links or formulas
    m = message_from_bytes(data, policy=default_policy)
    atts = []
    for part in m.iter_attachments():
        name = part.get_filename()
        if not name:
            continue
        payload = part.get_payload(decode=True)
        back = read_forward(payload) if count_rows and m["X-Vaxmail-Kind"] == "forward" else None
        atts.append({"name": name, "data": payload, "rows": back["rows"] if back else None,
                     "check": back})
    body = m.get_body(("plain",))
    return {
        "kind": str(m["X-Vaxmail-Kind"] or ""),
        "code": str(m["X-Vaxmail-Code"] or ""),
        "message_id": str(m["Message-ID"]),
        "to": addresses(m["To"]),
        "cc": addresses(m["Cc"]),
        "subject": str(m["Subject"]),
        "auto": str(m["Auto-Submitted"] or ""),
        "in_reply_to": str(m["In-Reply-To"] or ""),
        "attachments": atts,
        "text": body.get_content() if body is not None else "",
        "msg": m,
    }


def read_outbox(folder: Path, count_rows: bool = True) -> list[dict]:
    return [read_message(p.read_bytes(), count_rows) for p in sorted(Path(folder).glob("*.eml"))]
