"""The worker's side of ``worker.CheckPool``: runs in the child process only (it imports the
readers). One task at a time: (name, data, today, hook) in, (Report, annotated, peak MB) out.
When the daemon is gone (its end of the pipe closed) the worker exits after the file in hand;
under systemd the unit's control group is killed with the daemon anyway.
"""
from __future__ import annotations

import os
import resource
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from .annotate import annotate
from .engine import check_file
from .xlsx_clean import clean
from .worker import Limits, apply_limits, cpu_deadline, suffix_for, wants_annotation


def check_bytes(name: str, data: bytes, today: date | None, directory, workdir: Path,
                limits: Limits) -> tuple:
    """(Report without its grid, annotated copy or None) for one file given as bytes."""
    fd, src = tempfile.mkstemp(suffix=suffix_for(name), dir=workdir)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        report = check_file(src, directory=directory, today=today, max_rows=limits.max_rows,
                            max_bytes=limits.max_bytes)
        report.path = name
        annotated = None
        if wants_annotation(report):
            fd2, out = tempfile.mkstemp(suffix=".xlsx", dir=workdir)
            os.close(fd2)
            try:
                annotate(report, src, out, grid=report.grid)
                # what goes back out: no macros, links, formulas (see xlsx_clean)
                annotated = clean(Path(out).read_bytes())
            except MemoryError:
                raise
            except Exception:  # noqa: BLE001 - the report stands without its annotated copy
                annotated = None
            finally:
                os.unlink(out)
    finally:
        os.unlink(src)
    report.drop_grids()  # the grids stay here: only the report travels back
    return report, annotated


def _misbehave(hook: str) -> None:
    """Test hooks: what a hostile file could make a reader do."""
    if hook == "sleep":
        time.sleep(3600)
    elif hook == "spin":
        while True:
            pass
    elif hook == "allocate":
        hog = []
        while True:
            hog.append(bytearray(64 << 20))
            hog[-1][::4096] = b"x" * len(hog[-1][::4096])
    elif hook == "abort":
        os.abort()
    elif hook == "raise":
        raise RuntimeError("test hook")


def serve(conn) -> None:
    try:
        directory, workdir, limits = conn.recv()
    except (EOFError, OSError):
        return
    apply_limits(limits)
    work = Path(workdir)
    try:
        conn.send("ready")  # imports done: the daemon claims no item before this
    except (OSError, EOFError):
        return
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        name, data, today, hook, max_rows = task
        cpu_deadline(limits.seconds)
        if hook:
            _misbehave(hook)
        try:
            report, annotated = check_bytes(name, data, today, directory, work,
                                            replace(limits, max_rows=max_rows) if max_rows else limits)
        except MemoryError:
            return  # over the address-space limit: the parent answers the file as refused
        except Exception as exc:  # noqa: BLE001 - a bug on one file refuses that file only
            try:
                conn.send(("error", type(exc).__name__, 0))
            except (OSError, EOFError):
                return
            continue
        del data, task
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        try:
            conn.send((report, annotated, peak))
        except (OSError, EOFError):
            return  # the daemon is gone (killed or stopped): nobody waits for this answer


if __name__ == "__main__":
    import sys
    from multiprocessing.connection import Connection
    try:
        serve(Connection(int(sys.argv[1])))
    except Exception:  # noqa: BLE001 - never a traceback in the daemon's log
        sys.exit(70)
