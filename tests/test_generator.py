"""The benchmark generator writes readable workbooks whose ground truth points at the right cells."""
from __future__ import annotations

import csv
import json
import random
from datetime import date, datetime

import openpyxl
import phonenumbers
import pytest
import xlrd

from bench.corpus import build
from bench.gen_forms import (DOSE_GROUPS, DOSE_PARTS, HEADERS, Style, _header_synonyms, _phone_prefixes,
                             generate)
from service.directory import load_default
from service.forms.legacy import decode, legacy_kind
from service.textnorm import fold, tidy

TODAY = date(2026, 1, 15)


def _cell_text(ws, ref):
    c = ws[ref]
    v = c.value
    if isinstance(v, str):
        v = decode(v, legacy_kind(c.font.name if c.font else None))
    return v


def _cccd_consistent(idn: str, dob, gender: str) -> bool:
    year = dob if isinstance(dob, int) else dob.year
    g = int(idn[3])
    century = 1900 if g in (0, 1) else 2000
    female = g % 2 == 1
    return century + int(idn[4:6]) == year and female == (gender.lower() == "nữ")


def test_header_variants_are_known_synonyms():
    known = _header_synonyms()
    for key, variants in HEADERS.items():
        for h in variants:
            assert fold(h) in known, (key, h)
    for variants in list(DOSE_GROUPS.values()) + list(DOSE_PARTS.values()):
        for h in variants:
            assert fold(h) in known, h


def test_phone_pool_is_valid_for_phonenumbers():
    prefixes = [p for p, _ in _phone_prefixes()]
    assert len(prefixes) > 50
    assert not any(p.startswith("089") and p < "0896" for p in prefixes)
    rng = random.Random(1)
    for p in rng.sample(prefixes, 30):
        num = phonenumbers.parse(p + f"{rng.randrange(10**6):06d}", "VN")
        assert phonenumbers.is_valid_number(num)


def test_clean_rows_are_valid(tmp_path):
    path = tmp_path / "m2.xlsx"
    truth = generate(path, "mau2", rows=300, seed=5, style=Style(), today=TODAY)
    assert truth.errors == [] and truth.rows == 300 and truth.form == "mau2"
    d = load_default()
    ws = openpyxl.load_workbook(path).active
    col = truth.columns
    header = [c.value for c in ws[1]]
    assert header[0] == "STT" and "Họ và tên" in header
    for r in range(2, 302):
        v = {f: ws[f"{col[f]}{r}"].value for f in col}
        assert v["full_name"] and not any(ch.isdigit() for ch in v["full_name"])
        assert phonenumbers.is_valid_number(phonenumbers.parse(v["phone"], "VN"))
        idn = v["id_number"]
        if len(idn) == 12:
            assert _cccd_consistent(idn, v["dob"], v["gender"])
        dist = d.find_district(v["district"])
        assert dist is not None
        assert len(d.find_wards(v["ward"], dist)) == 1
        assert datetime(2021, 3, 8) <= v["dose1_date"] <= datetime(2021, 8, 20)
        assert d.find_facility(v["dose1_facility"], dist) is not None
        if v["dose2_date"]:
            assert (v["dose2_date"] - v["dose1_date"]).days >= 14
    ids = [ws[f"{col['id_number']}{r}"].value for r in range(2, 302)]
    assert len(set(ids)) == len(ids)


def test_truth_rows_point_at_the_bad_values(tmp_path):
    path = tmp_path / "m2.xlsx"
    style = Style(title=True, merged_header=True, number_row=True, signature=True, blank_rows=True,
                  synonyms=True, shuffle=True, extra_columns=True)
    truth = generate(path, "mau2", rows=400, seed=11, style=style, errors=0.2, today=TODAY)
    ws = openpyxl.load_workbook(path).active
    assert truth.header_rows == [8, 9]
    assert ws.cell(8, 1).value in HEADERS["stt"] or ws.cell(8, 1).value
    kinds = {e["kind"] for e in truth.errors}
    assert {"phone_letters", "cccd_sex_mismatch", "duplicate_id"} <= kinds or len(kinds) > 12
    people_rows = set()
    for e in truth.errors:
        v = _cell_text(ws, f"{truth.columns[e['field']]}{e['row']}")
        people_rows.add(e["row"])
        k = e["kind"]
        if k == "phone_letters":
            assert any(ch.isalpha() for ch in str(v))
        elif k == "phone_short":
            assert len(str(v)) < 9
        elif k == "cccd_length":
            assert len(str(v)) in (10, 11, 13)
        elif k == "id_scientific":
            assert "E+" in str(v)
        elif k == "name_with_digits":
            assert any(ch.isdigit() for ch in v)
        elif k == "missing_required":
            assert v is None
        elif k == "unknown_district":
            assert load_default().find_district(v) is None
        elif k == "cccd_sex_mismatch":
            gender = _cell_text(ws, f"{truth.columns['gender']}{e['row']}")
            dob = ws[f"{truth.columns['dob']}{e['row']}"].value
            assert not _cccd_consistent(str(v), dob, gender)
        elif k == "dose_before_start":
            assert v < datetime(2021, 3, 8)
        elif k in ("duplicate_id", "duplicate_id_first"):
            same = [x for x in truth.errors if x["kind"].startswith("duplicate")
                    and _cell_text(ws, f"{truth.columns['id_number']}{x['row']}") == v]
            assert len(same) >= 2
    # row 10 is the column-number row; every data row holds a person (blank and signature rows do not count)
    stt = truth.columns["stt"]
    filled = [r for r in range(11, ws.max_row + 1) if isinstance(ws[f"{stt}{r}"].value, int)]
    assert len(filled) == truth.rows == 400
    assert people_rows <= set(filled)


def test_repairs_truth(tmp_path):
    path = tmp_path / "m1.xlsx"
    truth = generate(path, "mau1", rows=200, seed=3, style=Style(), errors=0.0, repairs=0.3, today=TODAY)
    ws = openpyxl.load_workbook(path).active
    assert len(truth.fixes) == 60
    for f in truth.fixes:
        raw = ws[f"{truth.columns[f['field']]}{f['row']}"].value
        digits = "".join(ch for ch in str(int(raw) if isinstance(raw, float) else raw) if ch.isdigit())
        if f["kind"] == "phone_11_digits":
            assert len(digits) == 11 and digits.startswith("01")
        elif f["kind"] == "phone_country_code":
            assert digits.startswith("84") and digits[2:] == f["to"][1:]
        else:
            assert digits.lstrip("0") == f["to"].lstrip("0")
        assert phonenumbers.is_valid_number(phonenumbers.parse(f["to"], "VN")) if f["field"] == "phone" else True


def test_tcvn3_round_trip(tmp_path):
    path = tmp_path / "legacy.xlsx"
    truth = generate(path, "mau1", rows=60, seed=2, style=Style(legacy="tcvn3", upper_headers=True), today=TODAY)
    ws = openpyxl.load_workbook(path).active
    fonts = {c.font.name for c in ws[1]}
    assert ".VnTimeH" in fonts
    assert fold(_cell_text(ws, "B1")) in _header_synonyms()
    legacy_fixes = [f for f in truth.fixes if f["kind"] == "legacy"]
    assert legacy_fixes
    for f in legacy_fixes:
        c = ws[f"{truth.columns[f['field']]}{f['row']}"]
        assert legacy_kind(c.font.name) in ("tcvn3", "tcvn3h")
        assert c.value != f["to"]  # really encoded
        assert tidy(decode(c.value, legacy_kind(c.font.name))) == f["to"]


def test_xls_csv_and_corpus(tmp_path):
    t = generate(tmp_path / "a.xls", "mau1", rows=40, seed=1, style=Style(fmt="xls", title=True, merged_header=True), today=TODAY)
    sh = xlrd.open_workbook(tmp_path / "a.xls").sheet_by_index(0)
    assert sh.nrows == 7 + 2 + 40 and t.header_rows == [8, 9]
    t = generate(tmp_path / "b.csv", "mau2", rows=30, seed=1, style=Style(fmt="csv", csv_encoding="cp1258"), today=TODAY)
    with open(tmp_path / "b.csv", encoding="cp1258", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 31 and tidy(rows[0][1]) == "Họ và tên"
    out = tmp_path / "corpus"
    truths = build(out, n=14, seed=3)
    listed = json.loads((out / "truth.json").read_text(encoding="utf-8"))["files"]
    assert len(listed) == len(truths) == 14
    assert any(x["form"] is None and not x["unreadable"] for x in listed)
    assert any(x["unreadable"] for x in listed)
    for x in listed:
        assert (out / x["file"]).exists()
    with pytest.raises(Exception):
        openpyxl.load_workbook(out / next(x["file"] for x in listed if x["unreadable"]))
