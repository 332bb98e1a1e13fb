"""The operator's web console: a small server-rendered Flask application (no JavaScript).

Pages (all need a login; templates in ``mail_templates/web/``):

    /            Tổng quan   queues, mailbox, outbox, held, last digest, sender checks, disk use
    /held        Đang giữ    held items with their reason, sender or folder, files; release, discard
    /held/<id>   one held item: each file's check results and the directory lines to add
    /outbox      Thư đi      pending, deferred and parked outgoing mail with the last error; retry
    /search      Tra cứu     by tracking code, by unit or sender; by a person's ID number (POST)
    /progress    Tiến độ     the digest's figures, live, with its two charts

Safety: a signed, HttpOnly, SameSite=Strict session cookie (Secure behind TLS); a CSRF token
in every form, checked on every POST (403 without it); leaders read everything and change
nothing (403); ``Cache-Control: no-store`` and a CSP without inline script on every answer;
personal data never in a URL (the ID-number search is a POST; codes are not personal data)
and never in the audit log. Reads go through the store interface; changes go through
``service.operator.Desk`` and ``service.web.accounts`` — the same operations as the CLI.
"""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, abort, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from ..config import ConfigError, Settings, load_settings
from ..defaults import templates_dir
from ..operator import Desk, wording
from ..durable import create_exclusive, make_private_dir
from ..state import open_store, store_options
from ..state.store import Store, normalise_code
from . import accounts, views

SESSION_HOURS = 10  # a working day; then log in again
SECRET_NAME = "web-secret.key"
PUBLIC = {"login", "static", "health"}
# POST endpoints that change something: operators only
CHANGES = {"release", "discard", "retry"}

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes browsers send Origin: null
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _load_secret(settings: Settings) -> bytes:
    """The session-signing key: ``[web] secret_file``, else one made once in the state dir."""
    configured = settings.path("web", "secret_file") if settings.section("web").get("secret_file") else None
    if configured is not None:
        data = Path(configured).read_bytes().strip()
        if len(data) < 32:
            raise ValueError(f"{configured}: the console's secret must hold at least 32 bytes")
        return data
    path = make_private_dir(settings.state_dir) / SECRET_NAME
    secret = secrets.token_bytes(32)
    return secret if create_exclusive(path, secret) else path.read_bytes()


class _Sessions(SecureCookieSessionInterface):
    """Flask's signed cookie, Secure whenever the request came over TLS (via the proxy)."""

    def get_cookie_secure(self, app) -> bool:  # noqa: D401
        return request.is_secure


class Console:
    """What the views share: the config path, fresh settings, the store."""

    def __init__(self, config: str | Path):
        self.config = Path(config)
        self._settings: Settings | None = None
        self._stamp: tuple = ()
        self.config_error: str | None = None
        self.settings = self.current()
        self.store: Store = open_store(self.settings.state_dir, **store_options(self.settings))
        w = self.settings.section("web")
        self.max_failures = int(w.get("lockout_failures", 5))
        self.lock_minutes = float(w.get("lockout_minutes", 15))
        self.words = wording(self.settings)
        self._checker = None
        self._checker_for: Settings | None = None
        self._checker_lock = threading.Lock()

    def current(self) -> Settings:
        """The settings, reloaded when the config or the directory file changed (the operator
        edits the directory, then releases: the release must see the new lines)."""
        def mtime(p: Path | None) -> float:
            try:
                return p.stat().st_mtime_ns if p else 0
            except OSError:
                return 0
        base = self._settings
        stamp = (mtime(self.config), mtime(base.directory_path) if base else 0,
                 mtime(base.routing_path) if base else 0)
        if base is None or stamp != self._stamp:
            try:
                fresh = load_settings(self.config)
                fresh.directory  # noqa: B018 - read it now: a file saved half-edited shows here
                self.config_error = None
            except ConfigError as exc:
                if base is None:
                    raise
                # keep serving with the last good settings; say so, and refuse to release
                self.config_error = str(exc)
                fresh = base
            self._settings = fresh
            self._stamp = stamp if fresh is base else (
                mtime(self.config), mtime(fresh.directory_path), mtime(fresh.routing_path))
        return self._settings

    def checker(self):
        """The bounded worker process that checks files (as in the daemon), for the settings
        in force: a hostile file cannot take the console down with it."""
        from ..forms.worker import CheckPool, Limits
        settings = self.current()
        with self._checker_lock:
            if self._checker is None or self._checker_for is not settings:
                if self._checker is not None:
                    self._checker.close()
                work = make_private_dir(settings.state_dir / "work")
                self._checker = CheckPool(settings.directory, work, Limits.from_settings(settings))
                self._checker_for = settings
            return self._checker

    def close(self) -> None:
        with self._checker_lock:
            if self._checker is not None:
                self._checker.close()
                self._checker = None
        self.store.close()

    def desk(self, checks: bool = False) -> Desk:
        """The operator's desk; ``checks``: files it processes are checked in the worker."""
        return Desk(self.current(), store=self.store, checker=self.checker() if checks else None)

    def say(self, key: str, **values) -> str:
        template = self.words.get("web", {}).get(key, key)
        try:
            return template.format(**values)
        except (KeyError, IndexError):
            return template


def create_app(config: str | Path) -> Flask:
    console = Console(config)
    settings = console.settings
    folder = settings.templates_path / "web"
    if not (folder / "base.html").is_file():
        folder = templates_dir() / "web"
    app = Flask(__name__, template_folder=str(folder), static_folder=str(folder / "static"),
                static_url_path="/static")
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    app.secret_key = _load_secret(settings)
    app.session_interface = _Sessions()
    app.config.update(SESSION_COOKIE_NAME="vaxmail_session", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Strict", MAX_CONTENT_LENGTH=64 * 1024,
                      TEMPLATES_AUTO_RELOAD=False)
    app.extensions["vaxmail"] = console
    app.jinja_env.filters["when"] = views.when
    app.jinja_env.filters["num"] = views.num
    app.jinja_env.filters["pct"] = views.pct
    app.jinja_env.filters["size"] = views.size
    app.jinja_env.globals["say"] = console.say

    @app.before_request
    def gate():
        g.console = console
        g.user = None
        name = session.get("u")
        if name:
            user = console.store.user(name)
            fresh = time.time() - float(session.get("t", 0)) < SESSION_HOURS * 3600
            if user and not user.disabled and user.generation == session.get("g") and fresh:
                g.user = user
            else:
                session.clear()
        if request.method == "POST":
            _check_csrf(request.endpoint)
        if request.endpoint in PUBLIC:
            return None
        if g.user is None:
            if request.method == "POST":
                abort(403)
            return redirect(url_for("login"))
        if request.endpoint in CHANGES and g.user.role != "operator":
            console.store.audit("refused", None, {"by": g.user.name, "what": request.endpoint})
            abort(403)
        return None

    @app.after_request
    def headers(resp):
        for k, v in SECURITY_HEADERS.items():
            resp.headers[k] = v
        return resp

    @app.context_processor
    def common() -> dict[str, Any]:
        console.current()
        return {"user": g.get("user"), "csrf_token": csrf_token, "now": datetime.now(views.VN),
                "config_error": console.config_error if g.get("user") else None}

    @app.errorhandler(403)
    def forbidden(_e):
        return render_template("error.html", status=403), 403

    @app.errorhandler(404)
    def missing(_e):
        return render_template("error.html", status=404), 404

    @app.errorhandler(413)
    def too_large(_e):
        return render_template("error.html", status=413), 413

    @app.errorhandler(500)
    def broken(_e):
        return render_template("error.html", status=500), 500

    # ------------------------------------------------------------------ login
    @app.get("/health")
    def health():
        return {"ok": True}

    @app.route("/login", methods=["GET", "POST"])
    def login():
        error = None
        if request.method == "POST":
            name = request.form.get("username", "").strip()
            password = request.form.get("password", "")
            result = accounts.login(console.store, name, password, max_failures=console.max_failures,
                                    lock_minutes=console.lock_minutes)
            if result.user is not None:
                session.clear()
                session.update(u=result.user.name, g=result.user.generation, t=time.time(),
                               csrf=secrets.token_urlsafe(32))
                return redirect(url_for("overview"))
            if result.locked_until:
                error = console.say("locked", until=views.when(result.locked_until))
            else:
                error = console.say("bad-login")
        return render_template("login.html", error=error), (401 if error else 200)

    @app.post("/logout")
    def logout():
        console.store.audit("logout", f"user:{g.user.name}", {})
        session.clear()
        return redirect(url_for("login"))

    # ------------------------------------------------------------------ pages
    @app.get("/")
    def overview():
        return render_template("overview.html", **views.overview(console))

    @app.get("/held")
    def held():
        return render_template("held.html", **views.held_list(console), flash=_flash())

    @app.get("/held/<int:held_id>")
    def held_detail(held_id: int):
        data = views.held_detail(console, held_id)
        if data is None:
            abort(404)
        return render_template("held_detail.html", **data, flash=_flash())

    @app.post("/held/<int:held_id>/release")
    def release(held_id: int):
        console.current()
        if console.config_error:  # never process with a directory the operator is mid-way editing
            session["flash"] = {"ok": False, "lines": [console.say("config-error"), console.config_error]}
            return redirect(url_for("held_detail", held_id=held_id), code=303)
        with console.desk(checks=True) as desk:
            result = desk.release(held_id, by=f"web:{g.user.name}")
        _flash(result)
        return redirect(url_for("held_detail", held_id=held_id), code=303)

    @app.post("/held/<int:held_id>/discard")
    def discard(held_id: int):
        with console.desk() as desk:
            result = desk.discard(held_id, request.form.get("reason", ""), by=f"web:{g.user.name}")
        _flash(result)
        return redirect(url_for("held_detail", held_id=held_id), code=303)

    @app.get("/outbox")
    def outbox():
        return render_template("outbox.html", **views.outbox(console), flash=_flash())

    @app.post("/outbox/retry")
    def retry():
        name = request.form.get("entry") or None
        with console.desk() as desk:
            n = desk.retry(name, by=f"web:{g.user.name}")
        session["flash"] = {"ok": bool(n), "lines": [console.say("retried", n=n)]}
        return redirect(url_for("outbox"), code=303)

    @app.get("/search")
    def search():
        code = request.args.get("code", "").strip()
        unit = request.args.get("unit", "").strip()
        sender = request.args.get("sender", "").strip()
        data = views.search_page(console)
        if code:
            data["story"] = views.code_story(console, normalise_code(code))
        elif unit or sender:
            data["history"] = views.unit_history(console, unit, sender)
        return render_template("search.html", **data, code=code, unit=unit, sender=sender)

    @app.post("/search/person")
    def search_person():
        number = request.form.get("id_number", "")
        data = views.search_page(console)
        data["person"] = views.person(console, number)
        console.store.audit("search-person", None, {"by": g.user.name, "found": len(data["person"]["rows"])})
        return render_template("search.html", **data, code="", unit="", sender="")

    @app.get("/progress")
    def progress():
        return render_template("progress.html", **views.progress(console))

    @app.get("/progress/<name>.png")
    def chart(name: str):
        png = views.chart(console, name)
        if png is None:
            abort(404)
        return png, 200, {"Content-Type": "image/png"}

    return app


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _check_csrf(endpoint: str | None) -> None:
    """Every POST carries the form's token (403 otherwise). The login form is the one POST
    made before there is a session to hold a token: it is checked when present, and a
    cross-site login attempt (another Origin) is refused."""
    sent = request.form.get("csrf_token", "")
    if endpoint == "login":
        origin = request.headers.get("Origin")
        if origin and origin != request.host_url.rstrip("/"):
            abort(403)
        if not sent:
            return
    expected = session.get("csrf", "")
    if not sent or not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(403)


def _flash(result=None):
    """One message carried over a redirect (POST → 303 → GET), read once."""
    if result is not None:
        session["flash"] = {"ok": result.ok, "lines": list(result.lines)}
        return None
    return session.pop("flash", None)


def serve(config: str | Path, listen: str | None = None) -> None:  # pragma: no cover - CLI
    from waitress import serve as waitress_serve
    app = create_app(config)
    console: Console = app.extensions["vaxmail"]
    listen = listen or str(console.settings.section("web").get("listen", "127.0.0.1:8080"))
    host, _, port = listen.rpartition(":")
    try:
        waitress_serve(app, host=host.strip("[]") or "127.0.0.1", port=int(port), threads=4, ident="vaxmail")
    finally:
        console.close()

