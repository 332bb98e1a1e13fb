"""No reader exception escapes: damaged workbooks of every kind give exit 0, 1 or 2, one JSON
object and no traceback — never a crash of `vaxmail check --json`.

A seeded mutator (deterministic, bounded to a few seconds) damages the project's own files:
truncations, bit flips, swapped and dropped zip members, members replaced by garbage, and
BIFF records with wrong lengths or contents. One case is pinned: an Excel 5.0 file whose
rich-text record claims more formatting runs than it holds (as phonetic text does), which
makes xlrd raise ``struct.error``.
"""
from __future__ import annotations

import io
import json
import random
import struct
import zipfile
from pathlib import Path

import pytest

from bench.gen_forms import Style, generate
from bench.ods import write_ods
from service.cli import main
from tests import biff5

SEED = 9
MUTANTS_PER_KIND = 12


def _run(path: Path, capsys) -> tuple[int, dict, str]:
    code = main(["check", str(path), "--json", "--today", "2021-08-25"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def _ok(path: Path, capsys) -> dict:
    code, report, err = _run(path, capsys)
    assert code in (0, 1, 2), path.name
    assert "Traceback" not in err, err
    assert {"form", "rows", "valid_rows", "errors", "fixes", "warnings"} <= report.keys()
    if code == 2:
        assert report["form"] is None or report.get("fatal") is None
    return report


def test_a_biff5_rich_text_record_that_breaks_xlrd_is_a_corrupt_file_in_json(tmp_path, capsys):
    good = tmp_path / "good.xls"
    good.write_bytes(biff5.ole2(biff5.workbook_stream([biff5.label(0, 0, "Ho va ten"),
                                                       biff5.rstring(1, 0, "Nguyen Van An", 0)])))
    bad = tmp_path / "phonetic.xls"
    bad.write_bytes(biff5.ole2(biff5.workbook_stream([biff5.label(0, 0, "Ho va ten"),
                                                      biff5.rstring(1, 0, "Nguyen Van An", 3)])))
    code, report, err = _run(good, capsys)  # the builder makes files xlrd reads
    assert (code, report["fatal"]["code"]) == (2, "not-a-form")
    code, report, err = _run(bad, capsys)
    assert (code, report["fatal"]["code"]) == (2, "corrupt-file")
    assert "mở tệp bằng Excel" in report["fatal"]["message"]
    assert "Traceback" not in err and "Nguyen" not in err  # logged as the class name only


def _zip_mutants(data: bytes, rng: random.Random) -> list[bytes]:
    out = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [(i, zf.read(i)) for i in zf.infolist()]
    for k in range(MUTANTS_PER_KIND):
        parts = [(i.filename, d) for i, d in members]
        how = k % 4
        a, b = rng.sample(range(len(parts)), 2)
        if how == 0:  # swapped members
            parts[a], parts[b] = (parts[a][0], parts[b][1]), (parts[b][0], parts[a][1])
        elif how == 1:  # a member dropped
            del parts[a]
        elif how == 2:  # a member cut short
            name, d = parts[a]
            parts[a] = (name, d[: rng.randrange(max(1, len(d)))])
        else:  # a member replaced by garbage or by bytes flipped inside it
            name, d = parts[a]
            d = bytearray(d)
            for _ in range(rng.randint(1, 20)):
                if d:
                    d[rng.randrange(len(d))] = rng.randrange(256)
            parts[a] = (name, bytes(d))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, d in parts:
                zf.writestr(name, d)
        out.append(buf.getvalue())
    return out


def _byte_mutants(data: bytes, rng: random.Random) -> list[bytes]:
    out = []
    for k in range(MUTANTS_PER_KIND):
        if k % 2 == 0:  # truncation
            out.append(data[: rng.randrange(1, len(data))])
        else:  # bit flips
            d = bytearray(data)
            for _ in range(rng.randint(1, 40)):
                d[rng.randrange(len(d))] ^= 1 << rng.randrange(8)
            out.append(bytes(d))
    return out


def _biff_mutants(rng: random.Random) -> list[bytes]:
    """BIFF5 workbooks whose records lie: wrong lengths, cut strings, unknown records."""
    out = []
    for k in range(MUTANTS_PER_KIND):
        cells = [biff5.label(0, c, h) for c, h in enumerate(["STT", "Ho va ten", "Ngay sinh", "CMND"])]
        cells += [biff5.label(r, 1, f"Nguyen Van {r}") for r in range(1, 6)]
        victim = rng.randrange(len(cells))
        rec = bytearray(cells[victim])
        how = k % 4
        if how == 0:  # the record claims more bytes than it has
            struct.pack_into("<H", rec, 2, struct.unpack_from("<H", rec, 2)[0] + rng.randint(1, 300))
        elif how == 1:  # the string claims more characters than the record holds
            struct.pack_into("<H", rec, 10, 0xFFFF)
        elif how == 2:  # a record id nobody knows, with random content
            rec = bytearray(biff5.record(rng.randrange(0x0100, 0x1000),
                                         bytes(rng.randrange(256) for _ in range(rng.randint(0, 30)))))
        else:  # rich text with runs it does not carry
            rec = bytearray(biff5.rstring(1, 1, "An", rng.randint(1, 9)))
        cells[victim] = bytes(rec)
        out.append(biff5.ole2(biff5.workbook_stream(cells)))
    return out


@pytest.mark.slow
def test_damaged_workbooks_of_every_kind_give_json_and_exit_0_1_or_2(tmp_path, capsys):
    rng = random.Random(SEED)
    sources = {}
    for fmt in ("xlsx", "xls", "csv"):
        p = tmp_path / f"src.{fmt}"
        generate(p, "mau2", rows=12, seed=SEED, style=Style(fmt=fmt, title=True, merged_header=True),
                 errors=0.2)
        sources[fmt] = p.read_bytes()
    ods = tmp_path / "src.ods"
    write_ods(ods, [("DS", [["Họ và tên", "Ngày sinh", "Số CMND/CCCD", "Số điện thoại"],
                            ["Nguyễn Văn An", "05/09/1980", "089080123456", "0912345678"]], [])])
    sources["ods"] = ods.read_bytes()
    mutants: list[tuple[str, bytes]] = []
    for fmt in ("xlsx", "ods"):
        mutants += [(fmt, m) for m in _zip_mutants(sources[fmt], rng)]
    for fmt, data in sources.items():
        mutants += [(fmt, m) for m in _byte_mutants(data, rng)]
    mutants += [("xls", m) for m in _biff_mutants(rng)]
    outcomes = {0: 0, 1: 0, 2: 0}
    for n, (fmt, data) in enumerate(mutants):
        path = tmp_path / f"m{n}.{fmt}"
        path.write_bytes(data)
        report = _ok(path, capsys)
        outcomes[2 if report.get("fatal") or report["form"] is None else (1 if report["errors"] else 0)] += 1
    assert len(mutants) >= 80
    assert outcomes[2] > 0 and outcomes[1] + outcomes[0] > 0  # damage both read through and refused
