"""The web console's pages and a release, timed on the demo's state (in-process WSGI client).

    python -m bench.bench_console [--repeat 20]

Prints the median and p95 of each page (the whole Flask request, templates included), of a
login (argon2id verification) and of releasing the demo's unknown-facility item after adding
the facility (the item processed again through the pipeline, the outbox written).
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from service import cli
from service.defaults import config_dir
from service.state import open_store
from service.web import accounts
from service.web.app import create_app

PAGES = ["/", "/held", "/held/1", "/outbox", "/search?code={code}", "/search?unit=xa-30340", "/progress",
         "/progress/trend.png"]


def _stats(xs: list[float]) -> str:
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]
    return f"{statistics.median(xs) * 1000:7.1f} / {p95 * 1000:7.1f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp()) / "demo"
    try:
        cli.main(["demo", "--dir", str(root)])
        shutil.copy(config_dir() / "directory.toml", root / "directory.toml")
        with open(root / "vaxmail.toml", "a", encoding="utf-8") as fh:
            fh.write('\n[data]\ndirectory = "directory.toml"\n')
        store = open_store(root / "state")
        accounts.add(store, "lan", "operator", "mat-khau-van-hanh", by="bench")
        code = store.list_held()[0].code
        store.close()
        app = create_app(root / "vaxmail.toml")
        c = app.test_client()
        logins = []
        for _ in range(max(3, args.repeat // 4)):
            c = app.test_client()
            t = time.perf_counter()
            r = c.post("/login", data={"username": "lan", "password": "mat-khau-van-hanh"})
            logins.append(time.perf_counter() - t)
            assert r.status_code == 302
        print(f"{'page':28} {'median ms / p95 ms':>20}")
        print(f"{'POST /login':28} {_stats(logins)}")
        for page in PAGES:
            url = page.format(code=code)
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                r = c.get(url)
                times.append(time.perf_counter() - t)
                assert r.status_code == 200, url
            print(f"{url:28} {_stats(times)}")
        with open(root / "directory.toml", "a", encoding="utf-8") as fh:
            fh.write('\n[[facility]]\nname = "Phòng khám tư Hòa Bình"\ndistrict = 886\n'
                     'email = "pk.hoabinh@angiang.example"\n')
        tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/held/1").get_data(as_text=True)).group(1)
        t = time.perf_counter()
        r = c.post("/held/1/release", data={"csrf_token": tok})
        print(f"{'POST /held/1/release':28} {(time.perf_counter() - t) * 1000:7.1f} (once)")
        assert r.status_code == 303
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
