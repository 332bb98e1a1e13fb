"""No personal data in any log line: a session-wide guard (registered in conftest.py).

Every log record emitted during the test session (INFO and up, any logger) and every ``*.log``
file the tests' daemons wrote under the session's temporary folder are scanned at the end for
ID numbers (9 or 12 digits) and Vietnamese mobile phones (0 + 9 digits, or +84/84 + 9 digits).
A hit fails the session with the offending lines.
"""
from __future__ import annotations

import logging
import re

import pytest

PERSONAL = re.compile(r"(?<![\w.:/-])(?:\d{9}|\d{12}|0\d{9}|(?:\+?84)\d{9})(?![\w.:/-])")
# test data that looks like numbers but is not personal data (ports, epoch seconds, sizes…)
_ALLOWED = re.compile(r"^(?:1[5-9]\d{8}|2\d{9})$")  # epoch seconds 2017–2033


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.hits: list[str] = []
        self.seen = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a badly formatted record is not our concern here
            return
        self.seen += 1
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        if _hit(text):
            self.hits.append(f"{record.name}: {text[:200]}")


def _hit(text: str) -> bool:
    return any(not _ALLOWED.match(m.group(0)) for m in PERSONAL.finditer(text))


@pytest.fixture(scope="session", autouse=True)
def no_personal_data_in_any_log(tmp_path_factory):
    rec = _Recorder()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(rec)
    root.setLevel(min(old_level or logging.WARNING, logging.INFO))
    try:
        yield rec
    finally:
        root.removeHandler(rec)
        root.setLevel(old_level)
    base = tmp_path_factory.getbasetemp()
    files = 0
    for path in base.rglob("*.log"):
        if not path.is_file():
            continue
        files += 1
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if _hit(line):
                rec.hits.append(f"{path.name}:{n}: {line[:200]}")
    assert not rec.hits, rec.hits[:20]
