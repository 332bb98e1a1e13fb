"""Build tiny Excel 5.0 (BIFF5) workbooks byte by byte, for reader tests.

No library writes BIFF5 any more, and the public files that break readers cannot be
committed, so the test builds the case itself: an OLE2 compound file holding one "Book"
stream with the workbook globals and one worksheet of text cells (LABEL or RSTRING records).
"""
from __future__ import annotations

import struct

ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
SECTOR = 512


def record(rid: int, data: bytes) -> bytes:
    return struct.pack("<HH", rid, len(data)) + data


def _bof(kind: int) -> bytes:
    return record(0x0809, struct.pack("<HHHH", 0x0500, kind, 0x0DBB, 0x07CC))


def rstring(row: int, col: int, text: str, runs: int, run_bytes: bytes = b"") -> bytes:
    """A rich-text cell: the text, then ``runs`` formatting runs of 2 bytes each — written
    as ``run_bytes`` (a record claiming more runs than it carries is what phonetic text in
    some writers' BIFF5 output looks like to a reader)."""
    raw = text.encode("cp1252")
    return record(0x00D6, struct.pack("<HHHH", row, col, 0x0F, len(raw)) + raw + bytes([runs]) + run_bytes)


def label(row: int, col: int, text: str) -> bytes:
    raw = text.encode("cp1252")
    return record(0x0204, struct.pack("<HHHH", row, col, 0x0F, len(raw)) + raw)


def workbook_stream(cells: list[bytes], sheet: str = "Sheet1") -> bytes:
    name = sheet.encode("cp1252")
    globals_ = [_bof(0x0005), record(0x0042, struct.pack("<H", 1252))]
    bound_len = 4 + 4 + 2 + 1 + len(name)  # record header + pos + flags + name
    head = b"".join(globals_)
    eof = record(0x000A, b"")
    sheet_pos = len(head) + bound_len + len(eof)
    bound = record(0x0085, struct.pack("<IBB", sheet_pos, 0, 0) + bytes([len(name)]) + name)
    book = head + bound + eof
    assert len(book) == sheet_pos
    book += _bof(0x0010) + b"".join(cells) + eof
    return book


def ole2(stream: bytes, name: str = "Book") -> bytes:
    """A version-3 compound file with one stream (padded past the 4096-byte mini-stream
    cutoff so it lives in regular sectors): sector 0 FAT, 1 directory, 2… the stream."""
    data = stream + b"\x00" * max(0, 4096 - len(stream))
    n = -(-len(data) // SECTOR)
    data = data.ljust(n * SECTOR, b"\x00")
    fat = [FATSECT, ENDOFCHAIN] + [3 + k for k in range(n - 1)] + [ENDOFCHAIN]
    assert len(fat) <= 128
    fat += [FREESECT] * (128 - len(fat))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
              + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6) + b"\x00" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
              + struct.pack("<I", 0) + struct.pack("<I", FREESECT) * 108)
    assert len(header) == SECTOR

    def entry(ename: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = ename.encode("utf-16-le") + b"\x00\x00"
        return (raw.ljust(64, b"\x00") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", NOSTREAM, NOSTREAM, child) + b"\x00" * 16 + b"\x00" * 4
                + b"\x00" * 16 + struct.pack("<III", start, size, 0))

    directory = (entry("Root Entry", 5, 1, ENDOFCHAIN, 0) + entry(name, 2, NOSTREAM, 2, max(len(stream), 4096))
                 + b"\x00" * 128 * 2)
    return header + struct.pack("<128I", *fat) + directory + data
