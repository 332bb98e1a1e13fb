"""Round trip of the national forward writer on generated lists.

    python -m bench.roundtrip_national [--files 100] [--rows 40]

For each generated Mẫu 1 / Mẫu 2 list (bench.gen_forms: random shapes — .xlsx/.xls/.csv, title
blocks, merged headers, synonyms, shuffled columns, NFD, numeric IDs, date styles, bare birth
years, TCVN3/VNI text — and 5 % injected errors),
check it, write its valid rows in the national template (as forwards are written), check that
back, and compare the people (name, birth date, gender, ID, phone, district/ward codes, doses,
facility). Prints files, people written, people read back, errors on read-back, mismatches.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gen_forms import Style, generate  # noqa: E402
from service.directory import load_default  # noqa: E402
from service.forms import national  # noqa: E402
from service.forms.engine import check_file  # noqa: E402

KEYS = ("full_name", "dob", "gender", "id_number", "phone", "district_code", "ward_code",
        "dose1_date", "dose1_vaccine", "dose1_facility_key", "dose2_date", "dose2_vaccine")


def person(values: dict) -> tuple:
    return tuple(str(values.get(k)) if values.get(k) is not None else "" for k in KEYS)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100)
    ap.add_argument("--rows", type=int, default=40)
    args = ap.parse_args()
    directory = load_default()
    rnd = random.Random(10)
    written = read = errors = mismatched = files = 0
    codes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n in range(args.files):
            form = "mau1" if n % 2 else "mau2"
            flags = {f: rnd.random() < 0.4 for f in (
                "title", "merged_header", "number_row", "signature", "blank_rows", "synonyms",
                "shuffle", "extra_columns", "drop_optional", "upper_headers", "nfd", "numeric_ids",
                "birth_years")}
            fmt = rnd.choice(["xlsx", "xlsx", "xls", "csv"])
            style = Style(fmt=fmt, dates=rnd.choice(["date", "text", "dash", "dot", "serial", "mixed"]),
                          legacy=rnd.choice([None, None, None, "tcvn3", "vni"]) if fmt != "csv" else None,
                          **flags)
            src = tmp / f"src{n}.{fmt}"
            generate(src, form=form, rows=args.rows, seed=n, style=style, errors=0.05)
            r = check_file(src)
            if r.form is None:
                continue
            files += 1
            recs = list(r.valid_records())
            out = tmp / f"fw{n}.xlsx"
            national.write(recs, out, directory)
            back = check_file(out)
            written += len(recs)
            read += back.rows
            errors += len(back.errors)
            for e in back.errors:
                codes[e.code] = codes.get(e.code, 0) + 1
            mismatched += len(set(map(person, (x.values for x in recs)))
                              ^ set(map(person, (x.values for x in back.records))))
    print(f"files {files}, people written {written}, read back {read}, errors on read-back {errors} "
          f"{codes or ''}, people that differ {mismatched}")
    return 0 if errors == 0 and mismatched == 0 and read == written else 1


if __name__ == "__main__":
    sys.exit(main())
