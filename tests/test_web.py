"""The web console over HTTP: every page and action, logins and lock-out, roles, CSRF, headers.

The state is the demo's (the sample inbox run through the pipeline once), copied per test.
Most tests drive the Flask app through its WSGI test client; one runs the real server
(`vaxmail web`, waitress) and talks HTTP to it.
"""
from __future__ import annotations

import http.cookiejar
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from service import cli
from service.defaults import config_dir
from service.state import open_store
from service.web import accounts
from service.web.app import create_app

pytestmark = pytest.mark.slow  # processes, servers or kills: run them all with plain pytest

ROOT = Path(__file__).resolve().parent.parent
OPERATOR, LEADER = ("lan", "mat-khau-van-hanh"), ("hoa", "mat-khau-lanh-dao")
PAGES = ["/", "/held", "/outbox", "/search", "/search?code=VX-XXXXXX", "/progress"]
FACILITY = "Phòng khám tư Hòa Bình"


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "demo"
    assert cli.main(["demo", "--dir", str(root)]) == 0
    store = open_store(root / "state")
    try:
        accounts.add(store, *OPERATOR[:1], "operator", OPERATOR[1], by="test")
        accounts.add(store, *LEADER[:1], "leader", LEADER[1], by="test")
    finally:
        store.close()
    return root


@pytest.fixture
def demo(demo_template, tmp_path):
    """A private copy of the demo (config paths rewritten), with an editable directory."""
    root = tmp_path / "demo"
    shutil.copytree(demo_template, root)
    cfg = root / "vaxmail.toml"
    text = cfg.read_text(encoding="utf-8").replace(str(demo_template), str(root))
    shutil.copy(config_dir() / "directory.toml", root / "directory.toml")
    text += '\n[data]\ndirectory = "directory.toml"\n\n[web]\nlockout_failures = 3\nlockout_minutes = 15\n'
    cfg.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def app(demo):
    a = create_app(demo / "vaxmail.toml")
    a.testing = False  # errors as the real server answers them
    yield a
    a.extensions["vaxmail"].close()  # the file-check worker, the store


def login(app, who=OPERATOR):
    c = app.test_client()
    page = c.get("/login")
    assert page.status_code == 200
    r = c.post("/login", data={"username": who[0], "password": who[1], "csrf_token": token(page)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/"), r.get_data(as_text=True)
    return c


def token(resp) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', resp.get_data(as_text=True))
    assert m, "the form carries a CSRF token"
    return m.group(1)


def held_of(demo, kind):
    store = open_store(demo / "state")
    try:
        return [h for h in store.list_held() if h.kind == kind]
    finally:
        store.close()


def test_every_page_needs_a_login_and_every_post_without_one_is_refused(app):
    c = app.test_client()
    for page in PAGES + ["/held/1", "/progress/trend.png"]:
        r = c.get(page)
        assert r.status_code == 302 and r.headers["Location"].endswith("/login"), page
    for action in ["/held/1/release", "/held/1/discard", "/outbox/retry", "/search/person", "/logout"]:
        assert c.post(action, data={"reason": "x"}).status_code == 403, action
    form = c.get("/login").get_data(as_text=True)
    assert 'name="username"' in form and 'name="password"' in form and 'type="password"' in form


def test_pages_render_in_vietnamese_with_safe_headers(app, demo):
    c = login(app)
    expect = {"/": "Tổng quan", "/held": "Đang giữ cho cán bộ", "/outbox": "Thư đi",
              "/search": "Theo mã theo dõi", "/progress": "Tiến độ"}
    for page in PAGES:
        r = c.get(page)
        body = r.get_data(as_text=True)
        assert r.status_code == 200, page
        assert r.headers["Cache-Control"] == "no-store"
        csp = r.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
        assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
        assert "<script" not in body
        title = body.split("<title>", 1)[1].split("</title>", 1)[0]
        assert "<" not in title and title.endswith("· Tiếp nhận danh sách tiêm chủng"), (page, title[:80])
        if page in expect:
            assert expect[page] in body, page
    png = c.get("/progress/districts.png")
    assert png.status_code == 200 and png.data[:4] == b"\x89PNG"
    assert c.get("/progress/nope.png").status_code == 404
    home = c.get("/").get_data(as_text=True)
    assert "Hàng đợi nhận" in home and "Dung lượng" in home and "Xác thực người gửi" in home


def test_held_lists_each_item_with_sender_or_folder_reason_and_files(app, demo):
    c = login(app)
    body = c.get("/held").get_data(as_text=True)
    assert "ubnd.khanhan.anphu@angiang.example" in body  # the unknown facility's sender
    assert "nguyenvana1980@gmail.example" in body  # the unknown sender
    assert "Nơi tiêm mũi 1 chưa có trong danh bạ" in body and "Người gửi không có trong danh bạ" in body
    assert "Trả lại để xử lý lại" in body and "Bỏ qua" in body
    (h,) = held_of(demo, "unknown-facility")
    detail = c.get(f"/held/{h.id}").get_data(as_text=True)
    assert FACILITY in detail and "district = 886" in detail and "[[facility]]" in detail
    assert "không tìm thấy cơ sở tiêm" in detail  # the row's check result, as the sender read it
    (u,) = held_of(demo, "unknown-sender")
    assert 'emails = [&#34;nguyenvana1980@gmail.example&#34;]' in c.get(f"/held/{u.id}").get_data(as_text=True)
    assert c.get("/held/9999").status_code == 404


def test_release_after_adding_the_facility_puts_the_forward_in_the_outbox(app, demo):
    c = login(app)
    (h,) = held_of(demo, "unknown-facility")
    page = c.get(f"/held/{h.id}")
    r = c.post(f"/held/{h.id}/release", data={"csrf_token": token(page)})
    assert r.status_code == 303
    still = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "Vẫn còn giữ" in still  # nothing changed yet: still held, said plainly
    with open(demo / "directory.toml", "a", encoding="utf-8") as fh:
        fh.write(f'\n[[facility]]\nname = "{FACILITY}"\ndistrict = 886\nemail = "pk.hoabinh@angiang.example"\n')
    r = c.post(f"/held/{h.id}/release", data={"csrf_token": token(page)})
    done = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "Đã hết lý do giữ" in done and "pk.hoabinh@angiang.example" in done
    out = c.get("/outbox").get_data(as_text=True)
    waiting = out[out.index("Chờ gửi"):out.index("Gần đây")]
    assert "pk.hoabinh@angiang.example" in waiting and "Chuyển danh sách" in waiting
    assert "ttyt.anphu@angiang.example" not in waiting  # sent the first time: not queued again
    assert held_of(demo, "unknown-facility") == []
    home = c.get("/").get_data(as_text=True)
    assert "web:lan" in home and "trả lại mục đang giữ" in home  # who did what, on the overview
    store = open_store(demo / "state")
    try:
        ev = [e for e in store.audit_events(h.code) if e["event"] == "held-released"]
        assert {e["detail"]["by"] for e in ev} == {"web:lan"}
    finally:
        store.close()


def test_discard_needs_a_reason_and_is_audited(app, demo):
    c = login(app)
    (h, _) = held_of(demo, "automatic")
    tok = token(c.get(f"/held/{h.id}"))
    r = c.post(f"/held/{h.id}/discard", data={"csrf_token": tok, "reason": " "})
    assert "Cần ghi lý do" in c.get(r.headers["Location"]).get_data(as_text=True)
    r = c.post(f"/held/{h.id}/discard", data={"csrf_token": tok, "reason": "Thư báo vắng mặt"})
    assert "đã bỏ qua" in c.get(r.headers["Location"]).get_data(as_text=True)
    assert h.id not in [x.id for x in held_of(demo, "automatic")]


def test_a_post_without_the_forms_token_is_refused_and_changes_nothing(app, demo):
    c = login(app)
    (h,) = held_of(demo, "unknown-sender")
    assert c.post(f"/held/{h.id}/discard", data={"reason": "x"}).status_code == 403
    assert c.post(f"/held/{h.id}/discard", data={"reason": "x", "csrf_token": "forged"}).status_code == 403
    assert c.post("/outbox/retry", data={}).status_code == 403
    assert c.post("/search/person", data={"id_number": "089190000001"}).status_code == 403
    assert [x.id for x in held_of(demo, "unknown-sender")] == [h.id]
    # a token from another session is no good either
    other = login(app)
    assert c.post(f"/held/{h.id}/discard",
                  data={"reason": "x", "csrf_token": token(other.get("/held"))}).status_code == 403


def test_a_leader_sees_everything_and_changes_nothing(app, demo):
    c = login(app, LEADER)
    for page in PAGES:
        assert c.get(page).status_code == 200, page
    body = c.get("/held").get_data(as_text=True)
    assert "nguyenvana1980@gmail.example" in body and "Trả lại để xử lý lại" not in body
    (h,) = held_of(demo, "unknown-sender")
    tok = token(c.get("/search"))
    assert c.post(f"/held/{h.id}/release", data={"csrf_token": tok}).status_code == 403
    assert c.post(f"/held/{h.id}/discard", data={"csrf_token": tok, "reason": "x"}).status_code == 403
    assert c.post("/outbox/retry", data={"csrf_token": tok}).status_code == 403
    assert c.post("/search/person", data={"csrf_token": tok, "id_number": "1"}).status_code == 200  # reading
    assert [x.id for x in held_of(demo, "unknown-sender")] == [h.id]


def test_search_by_code_unit_and_person_without_the_number_in_any_url(app, demo):
    store = open_store(demo / "state")
    try:
        (h,) = [x for x in store.list_held() if x.kind == "unknown-facility"]
        code = h.code
        (sub,) = store.submissions(code)
        store.record_forwarded(code, "mau2", "ttyt-886", ["089190000777"], unit_key=sub.unit_key)
    finally:
        store.close()
    c = login(app)
    story = c.get("/search", query_string={"code": code.lower().replace("-", " ")}).get_data(as_text=True)
    assert f"Mã {code}" in story and "Đã chuyển cho ai" in story and "Thư đã gửi đi" in story
    assert "Báo cần sửa" in story  # the error report went back to the unit
    hist = c.get("/search", query_string={"unit": sub.unit_key}).get_data(as_text=True)
    assert code in hist and "UBND" in hist
    hist = c.get("/search", query_string={"sender": "ubnd.khanhan.anphu@angiang.example"}).get_data(as_text=True)
    assert code in hist
    r = c.post("/search/person", data={"csrf_token": token(c.get("/search")), "id_number": "089 190 000 777"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and code in body and "089190000777" not in body
    assert "089 190 000 777" not in body
    r = c.post("/search/person", data={"csrf_token": token(c.get("/search")), "id_number": "089190000778"})
    assert "chưa được chuyển" in r.get_data(as_text=True)
    assert c.get("/search/person").status_code == 405  # never by GET (a number would sit in the URL)


def test_retry_puts_parked_outgoing_mail_back(app, demo):
    from service.outbox.spool import Outbox
    ob = Outbox(demo / "state")
    name = ob.queue.put(b"Message-ID: <p@x>\r\n\r\nx", key="parked-1",
                        meta={"message_id": "<p@x>", "rcpts": ["cdc@angiang.example"], "kind": "forward",
                              "ref": "VX-AAAAAA", "envelope_from": "x@angiang.example"},
                        park_reason="Máy chủ từ chối người nhận")
    c = login(app)
    page = c.get("/outbox")
    assert "Máy chủ từ chối người nhận" in page.get_data(as_text=True)
    r = c.post("/outbox/retry", data={"csrf_token": token(page), "entry": name})
    assert r.status_code == 303
    assert "Đã đưa 1 thư" in c.get("/outbox").get_data(as_text=True)
    assert ob.queue.counts()["bad"] == 0


def test_login_failures_lock_the_account_and_sessions_follow_the_account(app, demo):
    c = app.test_client()
    for _ in range(3):
        r = c.post("/login", data={"username": "lan", "password": "sai-mat-khau"})
        assert r.status_code == 401
    assert "Sai tên đăng nhập" in r.get_data(as_text=True) or "tạm khoá" in r.get_data(as_text=True)
    r = c.post("/login", data={"username": "lan", "password": OPERATOR[1]})
    assert r.status_code == 401 and "tạm khoá" in r.get_data(as_text=True)
    db = sqlite3.connect(demo / "state" / "state.db")
    db.execute("UPDATE users SET locked_until = 1 WHERE name = 'lan'")  # the lock ran out
    db.commit()
    db.close()
    s = login(app)
    assert s.get("/held").status_code == 200
    cookie = s.get_cookie("vaxmail_session")
    assert cookie.http_only and cookie.same_site == "Strict"
    # a new password ends the session
    store = open_store(demo / "state")
    try:
        accounts.set_password(store, "lan", "mat-khau-moi-hon", by="test")
        events = [e["event"] for e in store.audit_events("user:lan")]
    finally:
        store.close()
    assert s.get("/held").status_code == 302
    assert events.count("login-failed") == 3 and "login-refused" in events and "login" in events
    # logging out is a POST with the token
    s = login(app, ("lan", "mat-khau-moi-hon"))
    assert s.post("/logout", data={"csrf_token": token(s.get("/"))}).status_code == 302
    assert s.get("/").status_code == 302
    # a login posted from another site is refused
    assert app.test_client().post("/login", data={"username": "lan", "password": "mat-khau-moi-hon"},
                                  headers={"Origin": "https://evil.example"}).status_code == 403


def test_user_command_reads_the_password_from_stdin_and_disables(demo, monkeypatch, capsys):
    import io
    import types
    cfg = str(demo / "vaxmail.toml")

    def run(*args, stdin=""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            rc = cli.main(["user", *args, "--config", cfg])
        except SystemExit as exc:  # argparse refusing a value
            rc = exc.code
        out = capsys.readouterr()
        return types.SimpleNamespace(returncode=rc, stdout=out.out, stderr=out.err)
    assert run("add", "minh", "--role", "operator", stdin="mot-mat-khau-dai\n").returncode == 0
    dup = run("add", "minh", "--role", "leader", stdin="mot-mat-khau-dai\n")
    assert dup.returncode == 1 and "đã có" in dup.stderr
    short = run("add", "khoa", "--role", "operator", stdin="ngan\n")
    assert short.returncode == 1 and "ít nhất" in short.stderr
    assert run("add", "khoa", "--role", "boss", stdin="mot-mat-khau-dai\n").returncode == 2
    assert run("passwd", "minh", stdin="mat-khau-thu-hai\n").returncode == 0
    assert run("disable", "minh").returncode == 0
    listing = run("list").stdout
    assert "minh\toperator\tkhoá" in listing
    app = create_app(cfg)
    r = app.test_client().post("/login", data={"username": "minh", "password": "mat-khau-thu-hai"})
    assert r.status_code == 401
    assert run("enable", "minh").returncode == 0
    login(app, ("minh", "mat-khau-thu-hai"))
    app.extensions["vaxmail"].close()
    store = open_store(demo / "state")
    try:
        (u,) = [x for x in store.users() if x.name == "minh"]
        assert u.password_hash.startswith("$argon2id$") and "mat-khau" not in u.password_hash
    finally:
        store.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_real_server_serves_the_console_over_http(demo):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "web", "--config", str(demo / "vaxmail.toml"),
                             "--listen", f"127.0.0.1:{port}"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        deadline = time.monotonic() + 20
        while True:
            try:
                page = opener.open(base + "/login", timeout=5).read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
                time.sleep(0.1)
        tok = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"username": OPERATOR[0], "password": OPERATOR[1], "csrf_token": tok}).encode()
        resp = opener.open(base + "/login", data=data, timeout=10)
        assert resp.status == 200 and "Tổng quan" in resp.read().decode()
        held = opener.open(base + "/held", timeout=10)
        assert held.headers["Cache-Control"] == "no-store"
        assert "nguyenvana1980@gmail.example" in held.read().decode()
        with pytest.raises(urllib.error.HTTPError) as err:
            opener.open(base + "/held/1/release", data=b"", timeout=10)
        assert err.value.code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert "Traceback" not in proc.stderr.read()


@pytest.mark.parametrize("command", [["web"], ["user", "list"], ["release", "1"], ["discard", "1", "--reason", "x"]])
def test_console_commands_refuse_a_bad_settings_file_with_exit_2(tmp_path, command, capsys):
    cfg = tmp_path / "v.toml"
    cfg.write_text(f'[state]\npath = "{tmp_path / "st"}"\n[web]\nlockout_failures = "nhiều"\n', encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        cli.main([*command, "--config", str(cfg)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "[web]" in err and "lockout_failures" in err and not (tmp_path / "st").exists()


def test_a_half_edited_directory_is_reported_and_blocks_release_until_fixed(app, demo):
    c = login(app)
    (h,) = held_of(demo, "unknown-facility")
    tok = token(c.get(f"/held/{h.id}"))
    good = (demo / "directory.toml").read_text(encoding="utf-8")
    (demo / "directory.toml").write_text(good + '\n[[facility]\nname = "Phòng khám', encoding="utf-8")
    page = c.get("/held").get_data(as_text=True)
    assert "danh bạ hiện có lỗi" in page and "Mục 1" in page  # still served from the last good one
    r = c.post(f"/held/{h.id}/release", data={"csrf_token": tok})
    assert "chưa trả lại được" in c.get(r.headers["Location"]).get_data(as_text=True)
    assert [x.id for x in held_of(demo, "unknown-facility")] == [h.id]
    (demo / "directory.toml").write_text(
        good + '\n[[facility]]\nname = "Phòng khám tư Hòa Bình"\ndistrict = 886\nemail = "pk@angiang.example"\n',
        encoding="utf-8")
    r = c.post(f"/held/{h.id}/release", data={"csrf_token": tok})
    assert "Đã hết lý do giữ" in c.get(r.headers["Location"]).get_data(as_text=True)
