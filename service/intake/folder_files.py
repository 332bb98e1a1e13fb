"""The shared folder's file rules: what is a drop, when is it complete, how results are named.

Pure functions over names, paths and ``os.stat`` results; no watching and no queueing here.
"""
from __future__ import annotations

import os
import stat as stat_mod
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..item import ANNOTATED_SUFFIX, RECEIPT_SUFFIX
from ..sniff import ZIP_END, ZIP_LOCAL, is_ole2
from ..textnorm import fold

EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".csv")

# The service's own output folders inside a unit folder (shown to people, NFC).
DONE_DIR = "Đã xử lý"
FIX_DIR = "Cần sửa"
OUTPUT_DIRS_FOLDED = frozenset({fold(DONE_DIR), fold(FIX_DIR)})

# Result files put beside a processed drop (NFC); their folded forms are never taken as drops.
_RESULT_TAILS_FOLDED = tuple(fold(s.rsplit(".", 1)[0]) for s in (RECEIPT_SUFFIX, ANNOTATED_SUFFIX))

# Folders that file servers and clients keep for themselves.
_SYSTEM_DIRS = frozenset({"$recycle.bin", "#recycle", "@eadir", "#snapshot", "~snapshot",
                          "system volume information", "lost+found", "recycler"})

# Temporary and partial names written by Office, LibreOffice, browsers, rsync, copy tools.
_TEMP_SUFFIXES = (".tmp", ".temp", ".crdownload", ".part", ".partial", ".download", ".filepart",
                  ".swp", ".bak", "~")

NAME_MAX = 255  # bytes, the usual file-name limit (ext4, XFS, NFS, CIFS)


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def is_output_dir(name: str) -> bool:
    return fold(name) in OUTPUT_DIRS_FOLDED


def is_ignored_dir(name: str) -> bool:
    """Hidden, system or the service's output folders: never walked."""
    return name.startswith((".", "~")) or name.lower() in _SYSTEM_DIRS or is_output_dir(name)


def is_result_name(name: str) -> bool:
    stem = fold(Path(name).stem)
    return any(stem.endswith(t) for t in _RESULT_TAILS_FOLDED)


def is_candidate_name(name: str) -> bool:
    """A file name that may be a drop: a spreadsheet extension, not hidden, temporary or ours."""
    n = nfc(name)
    low = n.lower()
    if not low.endswith(EXTENSIONS):
        return False
    if n.startswith((".", "~")):  # hidden, Excel's "~$" lock files, "~" temp copies
        return False
    if low.endswith(_TEMP_SUFFIXES) or low.endswith("#"):
        return False
    return not is_result_name(n)


def is_candidate_path(rel: Path) -> bool:
    """A path relative to the share: every folder on the way walkable, the name a drop."""
    parts = rel.parts
    if not parts:
        return False
    return all(not is_ignored_dir(p) for p in parts[:-1]) and is_candidate_name(parts[-1])


# ---------------------------------------------------------------------------- completeness


@dataclass(frozen=True)
class Signature:
    """What must stay unchanged while a file settles. ctime moves on every write even when a
    client (SMB "sticky" write time) keeps mtime fixed."""
    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int


def signature(path: Path) -> Signature | None:
    """The file's signature, or None when it is gone or not a regular file (a symbolic link
    is never followed: it has no signature and is never read)."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat_mod.S_ISREG(st.st_mode):
        return None
    return Signature(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def looks_complete(path: Path) -> bool:
    """A quick check that the file opens as what its name claims (raises PermissionError).

    xlsx/xlsm: a zip with its end-of-central-directory record (a truncated or preallocated
    copy lacks it); xls: an OLE2 compound file, or the HTML that some systems save as .xls;
    csv: text (no NUL bytes in the head and the tail).
    """
    ext = path.suffix.lower()
    with open(path, "rb") as fh:
        head = fh.read(8)
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            return False
        tail_len = min(size, 65_557)  # EOCD (22 bytes) + the longest zip comment
        fh.seek(size - tail_len)
        tail = fh.read(tail_len)
    if ext in (".xlsx", ".xlsm"):
        return head.startswith(ZIP_LOCAL) and ZIP_END in tail
    if ext == ".xls":
        if is_ole2(head):
            return True
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        return text.startswith((b"<", b"\xff\xfe", b"\xfe\xff")) and b"\x00\x00\x00" not in tail
    return b"\x00" not in head and b"\x00" not in tail[-4096:]


# ---------------------------------------------------------------------------- names


def fit_name(stem: str, suffix: str, limit: int = NAME_MAX) -> str:
    """``stem + suffix`` cut at a character boundary so it fits ``limit`` bytes (UTF-8)."""
    room = limit - len(suffix.encode("utf-8"))
    raw = stem.encode("utf-8")
    if len(raw) > room:
        stem = raw[:max(room, 1)].decode("utf-8", errors="ignore")
        while stem and unicodedata.combining(stem[-1]):
            stem = stem[:-1]  # no dangling diacritic (NFD names)
        stem = stem.rstrip(" .")
    return stem + suffix


def numbered(stem: str, suffix: str, n: int) -> str:
    """The ``n``-th name for a clash: "a.xlsx", "a (2).xlsx", "a (3).xlsx" …"""
    tail = suffix if n <= 1 else f" ({n}){suffix}"
    return fit_name(stem, tail)


def find_child(folder: Path, name: str) -> Path:
    """``folder/name``, reusing an existing child whose name is the same up to NFC/NFD."""
    target = folder / name
    if target.exists():
        return target
    want = nfc(name)
    try:
        with os.scandir(folder) as it:
            for de in it:
                if nfc(de.name) == want:
                    return folder / de.name
    except (FileNotFoundError, NotADirectoryError):
        pass
    return target
