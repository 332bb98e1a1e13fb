"""Mailbox and outgoing-mail URLs from the configuration, and where their passwords come from.

    imap://USER:PASSWORD@HOST:PORT/FOLDER   (default port 143, folder INBOX)
    imaps://USER:PASSWORD@HOST:PORT/FOLDER  (default port 993)
    maildir:/path                            (a local Maildir; maildir:///path also accepted)
    smtp://[USER:PASSWORD@]HOST[:PORT]       (default port 25; 587 when given)
    smtps://[USER:PASSWORD@]HOST[:PORT]      (default port 465)
    file:/path                               (a folder that receives every outgoing .eml)

User, password and folder are percent-decoded. A password may instead come from a systemd
credential (`$CREDENTIALS_DIRECTORY/<name>`) or an environment variable: `resolve_password`.
Never log a URL as given; log `redacted(url)`.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from .wording import say

MAIL_SCHEMES = ("imap", "imaps", "maildir")
SEND_SCHEMES = ("smtp", "smtps", "file")
DEFAULT_PORTS = {"imap": 143, "imaps": 993, "smtp": 25, "smtps": 465}


class URLError(ValueError):
    """A configured URL cannot be used. `message` is Vietnamese, for the operator."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class MailURL:
    scheme: str
    host: str = ""
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    path: str = ""  # IMAP folder (decoded), or the filesystem path for maildir:/file:

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)

    def with_password(self, password: str | None) -> "MailURL":
        return replace(self, password=password)

    def __str__(self) -> str:  # never shows the password
        return redacted(self)


def is_loopback_host(host: str) -> bool:
    if not host:
        return False
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_url(url: str, *, allowed: tuple[str, ...] | None = None) -> MailURL:
    """Parse one of the URLs above; raise URLError (Vietnamese message) when unusable."""
    if not isinstance(url, str) or not url.strip():
        raise URLError("url-empty", say("url.empty"))
    text = url.strip()
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if not sep or scheme not in MAIL_SCHEMES + SEND_SCHEMES:
        raise URLError("url-scheme", say("url.scheme", url=_safe_prefix(text)))
    if allowed is not None and scheme not in allowed:
        wanted = ", ".join(s + (":" if s in ("maildir", "file") else "://") for s in allowed)
        raise URLError("url-scheme", say("url.scheme-here", wanted=wanted))

    if scheme in ("maildir", "file"):
        if rest.startswith("//"):
            parts = urlsplit(text)
            if parts.netloc not in ("", "localhost"):
                raise URLError("url-path", say("url.path-local", scheme=scheme))
            rest = parts.path
        path = unquote(rest)
        if not path.startswith("/"):
            raise URLError("url-path", say("url.path-absolute", scheme=scheme))
        return MailURL(scheme=scheme, path=os.path.normpath(path))

    parts = urlsplit(text)
    try:
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise URLError("url-port", say("url.port", url=_safe_prefix(text))) from exc
    if not host:
        raise URLError("url-host", say("url.host", url=_safe_prefix(text)))
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    folder = ""
    if scheme in ("imap", "imaps"):
        folder = unquote(parts.path.lstrip("/")) or "INBOX"
    elif parts.path not in ("", "/"):
        raise URLError("url-path", say("url.no-path", scheme=scheme, url=_safe_prefix(text)))
    return MailURL(scheme=scheme, host=host, port=port or DEFAULT_PORTS[scheme],
                   user=user or None, password=password, path=folder)


def resolve_password(url: MailURL | str, *, env_name: str | None = None,
                     credential_name: str | None = None) -> str | None:
    """The password to use: systemd credential, then environment variable, then the URL's own.

    A credential file's trailing newline is dropped (`systemd-creds` and `echo` add one).
    """
    if isinstance(url, str):
        url = parse_url(url)
    if credential_name:
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        if directory:
            cred = Path(directory) / credential_name
            try:
                return cred.read_text(encoding="utf-8").rstrip("\r\n")
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise URLError("credential-unreadable", say("url.credential", name=credential_name,
                                                            error=exc.strerror or type(exc).__name__)) from exc
    if env_name and os.environ.get(env_name):
        return os.environ[env_name]
    return url.password


def redacted(url: MailURL | str) -> str:
    """The URL with the password replaced by '***' (safe for logs and messages)."""
    if isinstance(url, str):
        try:
            url = parse_url(url)
        except URLError:
            return _safe_prefix(url)
    if url.scheme in ("maildir", "file"):
        return f"{url.scheme}:{url.path}"
    cred = ""
    if url.user is not None:
        cred = quote(url.user, safe="") + (":***" if url.password else "") + "@"
    host = f"[{url.host}]" if ":" in url.host else url.host
    folder = "/" + quote(url.path, safe="") if url.scheme in ("imap", "imaps") else ""
    return f"{url.scheme}://{cred}{host}:{url.port}{folder}"


def _safe_prefix(text: str) -> str:
    """Something recognisable from an unparseable URL without any credentials in it."""
    scheme, sep, rest = text.partition(":")
    if "@" in rest:
        rest = "//***@" + rest.rsplit("@", 1)[1]
    return (scheme + sep + rest)[:80]


def endpoint(url: str, *, allowed: tuple[str, ...], local: str, password_env: str | None,
             password_credential: str | None) -> tuple[MailURL, str | None] | None:
    """(parsed URL, password) of a configured ``[mailbox]`` or ``[smtp]`` url; None if unset.
    The ``local`` scheme (maildir, file) needs no password."""
    if not url:
        return None
    parsed = parse_url(url, allowed=allowed)
    password = None
    if parsed.scheme != local:
        password = resolve_password(parsed, env_name=password_env, credential_name=password_credential)
    return parsed, password
