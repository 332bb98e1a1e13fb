"""The form engine in its bounded worker, and the guards that look before a reader allocates.

Sparse sheets (a real list plus one stray value at XFD2000 / XFD20000 / XFD199999: a reader
would materialise rows × 16,384 cells) are answered without large memory; a worker that
sleeps past the time limit, allocates past the memory limit, aborts or is killed answers its
file as refused and the next file is checked as usual; hostile messages queued before honest
ones leave the honest ones forwarded and each hostile sender answered once."""
from __future__ import annotations

import io
import os
import signal
import threading
import time
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from service.config import load_settings
from service.directory import load_default
from service.forms.issues import UNSAFE_FILE
from service.forms.worker import CheckPool, Limits
from service.runner import Service
from tests.factory import mau1_xlsx, provincial_people, submission
from tests.outbox_reader import read_outbox
from tests.test_hostile import measure
from tests.test_pipeline_samples import write_config

pytestmark = pytest.mark.slow  # processes, servers or kills: run them all with plain pytest


def sparse_list(far_row: int, seed: int = 1) -> bytes:
    """A real Mẫu 1 list with one stray value far out at XFD<far_row>."""
    wb = openpyxl.load_workbook(io.BytesIO(mau1_xlsx("Sở Y tế", provincial_people(seed, 3))))
    wb.active.cell(row=far_row, column=16384, value="x")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("far_row", [2_000, 20_000, 199_999])
def test_a_sparse_sheet_is_refused_before_any_grid_is_built(tmp_path, far_row):
    path = tmp_path / "sparse.xlsx"
    path.write_bytes(sparse_list(far_row))
    assert path.stat().st_size < 10_000
    out = measure(path)
    assert out["code"] == "sheet-too-sparse", out
    assert f"XFD{far_row}" in out["message"] and "xóa các ô thừa" in out["message"]
    assert out["peak_rss_mb"] < 150  # the reader would need gigabytes


def test_a_stray_formatted_empty_cell_far_out_does_not_refuse_the_list(tmp_path):
    wb = openpyxl.load_workbook(io.BytesIO(mau1_xlsx("Sở Y tế", provincial_people(4, 3))))
    from openpyxl.styles import Font
    wb.active.cell(row=20_000, column=16384).font = Font(bold=True)  # formatted, no value
    path = tmp_path / "styled.xlsx"
    wb.save(path)
    out = measure(path)
    assert "code" not in out, out


@pytest.fixture()
def pool(tmp_path):
    p = CheckPool(load_default(), tmp_path, Limits(memory_mb=400, seconds=1))
    p.start()
    yield p
    p.close()


def honest(pool) -> None:
    report, _ = pool.check("DS.xlsx", mau1_xlsx("Sở Y tế", provincial_people(7, 3)), date(2021, 9, 1))
    assert report.fatal is None and report.form == "mau1" and report.rows == 3


@pytest.mark.parametrize("hook", ["sleep", "spin", "allocate", "abort", "raise"])
def test_a_worker_that_misbehaves_refuses_that_file_only(pool, hook):
    started = time.monotonic()
    report, annotated = pool.check("Danh sách.xlsx", mau1_xlsx("Sở Y tế", provincial_people(8, 3)),
                                   date(2021, 9, 1), hook=hook)
    assert report.fatal is not None and annotated is None
    assert report.fatal.message == UNSAFE_FILE.format(name="Danh sách.xlsx")
    assert time.monotonic() - started < 30
    honest(pool)  # a fresh worker takes the next file


def test_a_worker_killed_mid_file_refuses_that_file_only(pool):
    pid = pool._worker.proc.pid
    threading.Timer(0.5, os.kill, (pid, signal.SIGKILL)).start()
    report, _ = pool.check("DS.xlsx", b"x", date(2021, 9, 1), hook="sleep")
    assert report.fatal is not None and report.fatal.code == "unsafe-file"
    assert pool.deaths == 1
    honest(pool)


def test_hostile_files_queued_before_honest_mail_leave_the_honest_mail_forwarded(tmp_path):
    cfg = write_config(tmp_path)
    with open(cfg, "a", encoding="utf-8") as fh:
        fh.write("[limits]\nfile_memory_mb = 600\nfile_seconds = 20\n")
    box = tmp_path / "Maildir" / "new"
    hostile = {f"h{n}@syt.angiang.example": sparse_list(rows, seed=n)
               for n, rows in enumerate([2_000, 20_000, 199_999])}
    for n, (addr, data) in enumerate(hostile.items()):
        (box / f"{1629853200 + n}.{n}.test").write_bytes(submission(addr, data))
    (box / "1629853300.9.test").write_bytes(
        submission("ok@syt.angiang.example", mau1_xlsx("Sở Y tế", provincial_people(9, 3))))
    svc = Service(load_settings(cfg))
    try:
        result = svc.run_once()
        assert result["processed"] == 4
        assert svc.inq.counts() == {"new": 0, "claimed": 0, "bad": 0}
    finally:
        svc.close()
    sent = read_outbox(tmp_path / "out")
    assert [m["kind"] for m in sent if m["to"] == ["ok@syt.angiang.example"]] == ["receipt"]
    assert sum(m["kind"] == "forward" for m in sent) == 1
    for addr in hostile:
        (answer,) = [m for m in sent if m["to"] == [addr]]
        assert answer["kind"] == "error-report" and "cách rất xa vùng danh sách" in answer["text"]


def test_sparse_sheets_before_honest_mail_through_dovecot_and_run_once(tmp_path, dovecot, make_smtp_server):
    """`vaxmail run --once` against a real IMAP server and SMTP server: exit 0, the honest
    list forwarded and answered, each hostile sender answered once, the mailbox emptied."""
    import subprocess
    import sys
    from email import message_from_bytes
    from email.policy import default as default_policy

    from tests.test_e2e_mail import write_config as write_imap_config

    dovecot.add_user("intake")
    dovecot.create_folder("intake", "SPARSE")
    smtp = make_smtp_server()
    cfg = write_imap_config(tmp_path, dovecot.url("intake", folder="SPARSE"), smtp.url())
    hostile = [f"h{n}@syt.angiang.example" for n in range(3)]
    for n, rows in enumerate([2_000, 20_000, 199_999]):
        dovecot.append("intake", "SPARSE", submission(hostile[n], sparse_list(rows, seed=n)))
    dovecot.append("intake", "SPARSE", submission("ok@syt.angiang.example",
                                                  mau1_xlsx("Sở Y tế", provincial_people(12, 3))))
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-m", "service.cli", "run", "--config", str(cfg), "--once"],
                          cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    got = [message_from_bytes(m.data, policy=default_policy) for m in smtp.messages]
    to = lambda addr: [m["X-Vaxmail-Kind"] for m in got if m["To"] and addr in m["To"]]  # noqa: E731
    assert to("ok@syt.angiang.example") == ["receipt"]
    assert sum(m["X-Vaxmail-Kind"] == "forward" for m in got) == 1
    for addr in hostile:
        assert to(addr) == ["error-report"]
    assert dovecot.fetch_all("intake", "SPARSE") == []
