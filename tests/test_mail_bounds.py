"""Mail parsed within bounds: an oversized folded Subject is cut before parsing (Postfix's
header_size_limit model) and the reply echoes a short Subject; raw UTF-8 or undecodable bytes
in From, several From addresses or headers are held unanswered; list mail is never answered."""
from __future__ import annotations

import resource
import subprocess
import sys
import json

from service.config import load_settings
from service.runner import Service
from tests.factory import mau1_xlsx, provincial_people, submission
from tests.outbox_reader import read_outbox
from tests.test_pipeline_samples import write_config

UNIT = "vanthu@syt.angiang.example"


def with_header(raw: bytes, name: bytes, value: bytes) -> bytes:
    head, sep, body = raw.partition(b"\n\n")
    lines = [ln for ln in head.split(b"\n") if not ln.lower().startswith(name.lower() + b":")]
    return b"\n".join(lines + [name + b": " + value]) + sep + body


def long_subject(n_lines: int) -> bytes:
    """A Subject folded over many lines, as flanker's long-header.eml (doubled and more)."""
    word = "Danh sách tiêm chủng đợt ".encode()
    return b"\n ".join([word * 4] * n_lines)


def run(tmp_path, messages: list[bytes]) -> list[dict]:
    cfg = write_config(tmp_path)
    for n, raw in enumerate(messages):
        (tmp_path / "Maildir" / "new" / f"{1629853200 + n}.{n}.test").write_bytes(raw)
    svc = Service(load_settings(cfg))
    try:
        svc.run_once()
        assert svc.inq.counts() == {"new": 0, "claimed": 0, "bad": 0}
        held = {h.kind for h in svc.store.list_held()}
    finally:
        svc.close()
    return read_outbox(tmp_path / "out"), held


_PARSE = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from tests.memprobe import peak_mb
from service.intake.mime import extract
raw = open(sys.argv[1], "rb").read()
t = time.perf_counter()
ex = extract(raw)
print(json.dumps({"subject": len(ex.subject), "problems": ex.problems, "from": ex.from_addr,
                  "seconds": round(time.perf_counter() - t, 2),
                  "peak_rss_mb": peak_mb()}))
"""


def test_a_400_kb_folded_subject_is_parsed_within_bounds(tmp_path):
    raw = with_header(submission(UNIT, mau1_xlsx("Sở Y tế", provincial_people(1, 2))), b"Subject",
                      long_subject(4_000))
    assert len(raw) > 400_000
    path = tmp_path / "long.eml"
    path.write_bytes(raw)
    root = str(__import__("pathlib").Path(__file__).resolve().parent.parent)
    out = json.loads(subprocess.run([sys.executable, "-c", _PARSE, str(path), root], capture_output=True,
                                    text=True, check=True).stdout)
    assert out["from"] == UNIT and "header-truncated" in out["problems"]
    assert out["subject"] <= 150 and out["peak_rss_mb"] < 120  # 1.4 GB before


def test_the_reply_to_a_long_subject_echoes_a_short_one(tmp_path):
    raw = with_header(submission(UNIT, mau1_xlsx("Sở Y tế", provincial_people(2, 2))), b"Subject",
                      long_subject(4_000))
    sent, _ = run(tmp_path, [raw])
    (reply,) = [m for m in sent if m["to"] == [UNIT]]
    assert reply["kind"] == "receipt" and len(reply["subject"]) < 250
    assert any(m["kind"] == "forward" for m in sent)


def test_unclear_senders_are_held_and_never_answered(tmp_path):
    xlsx = mau1_xlsx("Sở Y tế", provincial_people(3, 2))
    base = submission(UNIT, xlsx)
    two_addresses = with_header(base, b"From", f"{UNIT}, stranger@evil.example".encode())
    two_headers = with_header(base, b"From", UNIT.encode() + b"\nFrom: stranger@evil.example")
    raw_utf8 = with_header(base, b"From", "Văn thư <vănthư@syt.angiang.example>".encode())
    undecodable = with_header(base, b"From", b"\xff\xfe <v\xe0nthu@syt.angiang.example>")
    listmail = with_header(submission("vaccine-list-request@lists.example", xlsx), b"Subject", b"Digest 12")
    sent, held = run(tmp_path, [two_addresses, two_headers, raw_utf8, undecodable, listmail])
    assert sent == []
    assert held == {"sender-unclear", "automatic"}


def test_a_part_over_the_file_limit_is_emptied_before_parsing_and_named_as_too_large():
    import io
    import os
    import zipfile
    from email.message import EmailMessage
    from service.intake.mime import extract, slim
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("ds.xlsx", os.urandom(3_000_000))  # incompressible: the zip stays 3 MB
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = UNIT, "tiemchung@angiang.example", "nén"
    m.set_content("Danh sách nén.")
    m.add_attachment(buf.getvalue(), maintype="application", subtype="zip", filename="Danh sách.zip")
    m.add_attachment(mau1_xlsx("Sở Y tế", provincial_people(5, 2)), maintype="application",
                     subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename="DS.xlsx")
    raw = bytes(m)
    assert len(slim(raw, 1_000_000)) < 200_000  # the 4 MB of base64 never reach the parser
    ex = extract(raw, max_file_bytes=700_000)
    assert [(s.name, s.reason_code) for s in ex.skipped] == [("Danh sách.zip", "too-large")]
    assert [f.name for f in ex.files] == ["DS.xlsx"] and ex.body_text == "Danh sách nén."
