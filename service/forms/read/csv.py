"""Delimited text (.csv, .txt) → one ``Sheet`` of strings.

Encodings tried in order: a BOM (UTF-8, UTF-16), UTF-16 without BOM, strict UTF-8, and
finally Windows-1258 (Vietnamese), whose combining tone marks are composed to NFC. The
delimiter (comma, semicolon or tab) is sniffed from the first lines.
"""
from __future__ import annotations

import codecs
import csv as _csv
import io
import os
import unicodedata

from ..model import Sheet, Workbook
from .guard import _looks_utf16, unreadable

DELIMITERS = ",;\t"


def decode_bytes(data: bytes) -> str:
    """Bytes of a text file → NFC text, by BOM, UTF-16 shape, UTF-8, else Windows-1258."""
    if data.startswith(codecs.BOM_UTF8):
        text = data[3:].decode("utf-8", errors="replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    elif _looks_utf16(data[:8192]):
        text = data.decode("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be", errors="replace")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1258", errors="replace")
    return unicodedata.normalize("NFC", text)


def sniff_delimiter(sample: str) -> str:
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    try:
        return _csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except _csv.Error:
        pass
    # fall back: the delimiter seen most often, consistently, outside quotes
    best, best_score = ",", 0
    for d in DELIMITERS:
        counts = [ln.count(d) for ln in lines]
        score = sum(1 for c in counts if c) * (min((c for c in counts if c), default=0) or 0)
        if score > best_score:
            best, best_score = d, score
    return best


def read(path: str, max_rows: int) -> Workbook:
    with open(path, "rb") as fh:
        data = fh.read()
    text = decode_bytes(data)
    del data
    delimiter = sniff_delimiter(text[:65536])
    rows = []
    try:
        for record in _csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if len(rows) >= max_rows:
                raise unreadable("too-many-rows", sheet=_name(path), limit=max_rows)
            rows.append([v if v != "" else None for v in record])
    except _csv.Error:
        raise unreadable("corrupt-file") from None
    return Workbook(path=path, kind="csv", sheets=[Sheet(name=_name(path), rows=rows)])


def _name(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0] or "CSV"
