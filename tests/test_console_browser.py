"""The web console in a real browser: Debian's Chromium driven by Playwright.

The demo's pipeline runs into a temporary state; `vaxmail web` serves it. An operator logs in,
finds the demo's held unknown-facility item, adds the facility to the directory as the page
suggests, releases it and sees the forward in the outbox; then looks a tracking code up. A
leader's attempt to act is refused. With VAXMAIL_SCREENSHOTS=DIR each page is saved there as
a PNG (the copies in docs/console/ were made so).
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from service import cli
from service.defaults import config_dir
from service.state import open_store
from service.web import accounts

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
OPERATOR, LEADER = ("lan", "mat-khau-van-hanh"), ("hoa", "mat-khau-lanh-dao")

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def console(tmp_path):
    root = tmp_path / "demo"
    assert cli.main(["demo", "--dir", str(root)]) == 0
    cfg = root / "vaxmail.toml"
    shutil.copy(config_dir() / "directory.toml", root / "directory.toml")
    with open(cfg, "a", encoding="utf-8") as fh:
        fh.write('\n[data]\ndirectory = "directory.toml"\n')
    store = open_store(root / "state")
    try:
        accounts.add(store, OPERATOR[0], "operator", OPERATOR[1], by="test")
        accounts.add(store, LEADER[0], "leader", LEADER[1], by="test")
    finally:
        store.close()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "web", "--config", str(cfg),
                             "--listen", f"127.0.0.1:{port}"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/health", timeout=2).read()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.1)
    yield base, root
    proc.terminate()
    proc.wait(timeout=15)
    assert "Traceback" not in proc.stderr.read()


def test_operator_releases_the_demos_unknown_facility_and_a_leader_cannot_act(console):
    from playwright.sync_api import sync_playwright
    base, root = console
    shots = os.environ.get("VAXMAIL_SCREENSHOTS")
    n = [0]

    def shot(page, name: str, full: bool = False) -> None:
        if shots:
            n[0] += 1
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / f"{n[0]:02d}-{name}.png"), full_page=full)

    def log_in(page, who) -> None:
        page.goto(base + "/")
        assert page.url.endswith("/login")
        page.fill("#username", who[0])
        page.fill("#password", who[1])
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1200, "height": 860}, java_script_enabled=False,
                                      locale="vi-VN")
            page = ctx.new_page()
            page.goto(base + "/login")
            shot(page, "dang-nhap")
            log_in(page, OPERATOR)
            assert page.locator("h1").inner_text() == "Tổng quan"
            shot(page, "tong-quan", full=True)

            page.click("nav >> text=Đang giữ")
            card = page.locator("article.held", has_text="Nơi tiêm mũi 1 chưa có trong danh bạ")
            assert card.count() == 1
            assert "ubnd.khanhan.anphu@angiang.example" in card.inner_text()
            shot(page, "dang-giu", full=True)
            card.locator("h2 a").click()
            suggestion = page.locator("#suggestion").input_value()
            assert 'name = "Phòng khám tư Hòa Bình"' in suggestion
            code = page.locator("dt:has-text('Mã theo dõi') + dd").inner_text().strip()
            assert re.fullmatch(r"VX-[0-9A-Z]{6}", code)
            shot(page, "muc-dang-giu", full=True)

            # the operator adds the facility as suggested, with its address, then releases
            lines = suggestion.replace('email = ""', 'email = "pk.hoabinh@angiang.example"')
            with open(root / "directory.toml", "a", encoding="utf-8") as fh:
                fh.write("\n" + lines + "\n")
            page.click("text=Trả lại để xử lý lại")
            flash = page.locator(".flash").inner_text()
            assert "Đã hết lý do giữ" in flash and "pk.hoabinh@angiang.example" in flash
            shot(page, "da-tra-lai")

            page.click("nav >> text=Thư đi")
            waiting = page.locator("section", has_text="Chờ gửi").first.inner_text()
            assert "pk.hoabinh@angiang.example" in waiting and "Chuyển danh sách" in waiting
            shot(page, "thu-di", full=True)

            page.click("nav >> text=Tra cứu")
            page.fill("#code", code.lower())
            page.click("form:has(#code) button")
            story = page.locator("section.story").inner_text()
            assert f"Mã {code}" in story and "Phòng khám tư Hòa Bình" in story
            shot(page, "tra-cuu", full=True)

            with page.expect_response(lambda r: r.url.endswith("/trend.png")) as trend, \
                    page.expect_response(lambda r: r.url.endswith("/districts.png")) as districts:
                page.click("nav >> text=Tiến độ")
            for r in (trend.value, districts.value):  # both charts drawn by the browser's requests
                assert r.status == 200 and r.headers["content-type"] == "image/png"
            assert page.locator(".charts img").count() == 2
            shot(page, "tien-do", full=True)
            page.click("text=Đăng xuất")
            assert page.url.endswith("/login")

            # a leader reads but cannot act
            log_in(page, LEADER)
            page.goto(base + "/held")
            assert page.locator("text=Trả lại để xử lý lại").count() == 0
            html = page.content()
            token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
            held_id = re.search(r'href="/held/(\d+)"', html).group(1)
            shot(page, "lanh-dao-chi-xem")
            # the leader submits the operator's form anyway (the browser posts it, token and all)
            url = f"{base}/held/{held_id}/release"
            page.route(url, lambda route: route.continue_(
                method="POST", post_data=f"csrf_token={token}",
                headers={**route.request.headers, "content-type": "application/x-www-form-urlencoded"}))
            refused = page.goto(url)
            assert refused.status == 403 and "Không được phép" in page.content()
            shot(page, "lanh-dao-bi-tu-choi")
            assert "Trả lại để xử lý lại" not in page.content()
        finally:
            browser.close()
