"""The unit of work that both intakes (mailbox, shared folder) hand to the pipeline.

Neutral ground: the intakes produce ``Item``s, the pipeline consumes them, and neither knows
the other. Also the province's time zone, and where a folder item's results wait.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class FileIn:
    """One spreadsheet to check: a mail attachment or a dropped file."""
    name: str
    data: bytes


@dataclass
class Item:
    key: str  # stable identity of what arrived (queue key); re-runs use it to stay idempotent
    source: str  # "mail" | "folder"
    received_at: datetime
    files: list[FileIn] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason code)
    sender: str = ""  # bare address, lower case ("" for a dropped file)
    sender_name: str = ""
    subject: str = ""
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    body_text: str = ""
    automatic: str | None = None  # why this message must not be answered (RFC 3834 …)
    unit_key: str | None = None  # folder intake: the unit owning the subfolder
    folder_file: str | None = None  # folder intake: path of the dropped file (relative to the share)
    raw: bytes | None = None  # the message as received (kept when held)
    problems: list[str] = field(default_factory=list)
    # sender authentication ([trust] authserv_id): None = not checked (no [trust], dropped file,
    # released by the operator); else whether the receiving server authenticated the From
    authenticated: bool | None = None
    auth_why: str = ""  # "dmarc=pass", "no-results", "dkim=fail" … (never personal data)


# Names of the results a sender finds: the annotated copy (mailed, or beside a dropped file)
# and the receipt beside a dropped file. NFC; shown to people.
ANNOTATED_SUFFIX = " - kiểm tra.xlsx"
RECEIPT_SUFFIX = " - kết quả.txt"


def results_dir(state_dir: Path, code: str) -> Path:
    """Where a folder item's results (receipt, annotated workbook) wait to be put beside it."""
    return Path(state_dir) / "results" / code
