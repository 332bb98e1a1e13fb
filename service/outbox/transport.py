"""How outgoing messages leave: ``open_transport(url, ...)`` → a ``Transport``.

- ``smtp://[USER:PASS@]HOST[:PORT]`` — smtplib. STARTTLS whenever the server offers it; off
  loopback, a server that does not offer it is refused (``tls_decision``). Certificates are
  verified (optional ``cafile``); on a loopback address they are verified only when a
  ``cafile`` is given (a local relay's snakeoil certificate must not stop the mail). AUTH
  when the URL (or the ``password`` argument) carries credentials.
- ``smtps://...`` — TLS from the first byte, same verification rules.
- ``file:/path`` — each message becomes one ``<sha256(Message-ID)[:32]>.eml`` in the folder,
  written tmp + fsync + rename: sending the same message again rewrites the same file.

``Transport.send(data, envelope_from, rcpts)`` returns the recipients the server refused
while accepting others (``{rcpt: (code, text)}``, empty when all were accepted) and raises
``TransientError`` (try again later) or ``PermanentError`` (this message will never go as
it is). ``TransientError.connection`` is True when the server could not be used at all
(unreachable, TLS or login failure): the sender then stops its round instead of trying
every message against a dead server. Errors carry a Vietnamese ``message`` for the operator.
"""
from __future__ import annotations

import base64
import hashlib
import smtplib
import socket
import ssl
from abc import ABC, abstractmethod
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Sequence

from service.durable import write_file_durably
from service.urls import MailURL, is_loopback_host, parse_url, redacted
from service.wording import say

Refused = dict[str, tuple[int, str]]


def to_crlf(data: bytes) -> bytes:
    """SMTP lines end in CRLF; smtplib sends bytes as they are, so bare LFs become one long line."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class TransportError(Exception):
    def __init__(self, message: str, *, code: int | None = None,
                 refused: Refused | None = None, connection: bool = False):
        super().__init__(message)
        self.message = message
        self.code = code
        self.refused = refused or {}
        self.connection = connection


class TransientError(TransportError):
    """Try again later."""


class PermanentError(TransportError):
    """The server rejected this message for good (5xx)."""


class Transport(ABC):
    name = "transport"

    @abstractmethod
    def send(self, data: bytes, envelope_from: str, rcpts: Sequence[str]) -> Refused: ...

    def close(self) -> None:
        """Drop any open connection (the next send reconnects)."""


def message_id_of(data: bytes) -> str | None:
    mid = BytesHeaderParser().parsebytes(data).get("Message-ID")
    return str(mid).strip() if mid else None


def eml_name(data: bytes) -> str:
    """The file name of a message: a hash of its Message-ID (of its bytes when it has none)."""
    mid = message_id_of(data)
    seed = mid.encode("utf-8") if mid else data
    return hashlib.sha256(seed).hexdigest()[:32] + ".eml"


# ---------------------------------------------------------------------------- file:


class FileTransport(Transport):
    name = "file"

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def send(self, data: bytes, envelope_from: str, rcpts: Sequence[str]) -> Refused:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_file_durably(self.folder / eml_name(data), data)
        except OSError as exc:
            raise TransientError(say("smtp.file-unwritable", folder=self.folder,
                                     error=exc.strerror or type(exc).__name__), connection=True) from exc
        return {}


# ---------------------------------------------------------------------------- smtp:// smtps://


def tls_decision(host: str, offers_starttls: bool) -> str:
    """What to do on a plain smtp:// connection: "starttls", "plain" (loopback only) or "refuse"."""
    if offers_starttls:
        return "starttls"
    return "plain" if is_loopback_host(host) else "refuse"


def tls_context(host: str, cafile: str | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=cafile)
    if cafile is None and is_loopback_host(host):
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _text(resp: bytes | str) -> str:
    if isinstance(resp, bytes):
        resp = resp.decode("utf-8", "replace")
    return " ".join(str(resp).split())[:300]


class SMTPTransport(Transport):
    name = "smtp"

    def __init__(self, url: MailURL, *, password: str | None = None, cafile: str | None = None,
                 timeout: float = 30.0, local_hostname: str | None = None):
        self.url = url
        self.password = password if password is not None else url.password
        self.cafile = cafile
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._smtp: smtplib.SMTP | None = None

    @property
    def where(self) -> str:
        return redacted(self.url)

    def _connect(self) -> smtplib.SMTP:
        host, port = self.url.host, self.url.port
        ctx = tls_context(host, self.cafile)
        if self.url.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=self.timeout, context=ctx,
                                                  local_hostname=self.local_hostname)
        else:
            smtp = smtplib.SMTP(host, port, timeout=self.timeout, local_hostname=self.local_hostname)
        try:
            smtp.ehlo()
            if self.url.scheme == "smtp":
                decision = tls_decision(host, smtp.has_extn("starttls"))
                if decision == "refuse":
                    raise TransientError(say("smtp.no-starttls", server=self.where), connection=True)
                if decision == "starttls":
                    smtp.starttls(context=ctx)
                    smtp.ehlo()
            if self.url.user:
                _login(smtp, self.url.user, self.password or "")
        except BaseException:
            try:
                smtp.close()
            except Exception:
                pass
            raise
        return smtp

    def _session(self) -> smtplib.SMTP:
        if self._smtp is not None:
            try:
                if self._smtp.noop()[0] == 250:
                    return self._smtp
            except (smtplib.SMTPException, OSError):
                pass
            self.close()
        try:
            self._smtp = self._connect()
        except TransientError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise TransientError(say("smtp.login-refused", server=self.where, code=exc.smtp_code,
                                     text=_text(exc.smtp_error)), code=exc.smtp_code, connection=True) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise TransientError(say("smtp.no-auth", server=self.where, text=_text(str(exc))),
                                 connection=True) from exc
        except ssl.SSLError as exc:
            raise TransientError(say("smtp.tls", server=self.where, text=_text(str(exc))),
                                 connection=True) from exc
        except smtplib.SMTPResponseException as exc:
            raise TransientError(say("smtp.connect-error", server=self.where, code=exc.smtp_code,
                                     text=_text(exc.smtp_error)), code=exc.smtp_code, connection=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc) or type(exc).__name__)
            raise TransientError(say("smtp.unreachable", server=self.where, text=_text(reason)),
                                 connection=True) from exc
        return self._smtp

    def send(self, data: bytes, envelope_from: str, rcpts: Sequence[str]) -> Refused:
        smtp = self._session()
        try:
            refused = smtp.sendmail(envelope_from, list(rcpts), to_crlf(data))
        except smtplib.SMTPRecipientsRefused as exc:
            bad = {r: (int(c), _text(m)) for r, (c, m) in exc.recipients.items()}
            if all(c >= 500 for c, _ in bad.values()):
                raise PermanentError(say("smtp.all-refused", server=self.where, refusals=_describe(bad)),
                                     code=max(c for c, _ in bad.values()), refused=bad) from exc
            if all(c < 500 for c, _ in bad.values()):
                raise TransientError(say("smtp.not-yet", server=self.where, refusals=_describe(bad)),
                                     refused=bad) from exc
            return bad  # mixed: the sender splits temporary and permanent refusals
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            which = "smtp.sender-refused" if isinstance(exc, smtplib.SMTPSenderRefused) else "smtp.data-refused"
            msg = say(which, server=self.where, code=exc.smtp_code, text=_text(exc.smtp_error))
            if exc.smtp_code >= 500:
                raise PermanentError(msg, code=exc.smtp_code) from exc
            raise TransientError(msg, code=exc.smtp_code) from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            msg = say("smtp.error", server=self.where, code=exc.smtp_code, text=_text(exc.smtp_error))
            if exc.smtp_code >= 500:
                raise PermanentError(msg, code=exc.smtp_code) from exc
            raise TransientError(msg, code=exc.smtp_code, connection=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc) or type(exc).__name__)
            raise TransientError(say("smtp.lost", server=self.where, text=_text(reason)),
                                 connection=True) from exc
        return {r: (int(c), _text(m)) for r, (c, m) in refused.items()}

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError, socket.timeout):
            try:
                smtp.close()
            except Exception:
                pass


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH; smtplib only encodes ASCII, so non-ASCII credentials go as UTF-8 AUTH PLAIN (RFC 4616)."""
    if user.isascii() and password.isascii():
        smtp.login(user, password)
        return
    if not smtp.has_extn("auth") or "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPNotSupportedError("the server offers no AUTH PLAIN for a non-ASCII password")
    token = base64.b64encode(b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")).decode()
    code, resp = smtp.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, resp)


def _describe(refused: Refused) -> str:
    return "; ".join(f"{r}: {c} {m}" for r, (c, m) in sorted(refused.items())) + "."


# ---------------------------------------------------------------------------- factory


def open_transport(url: str | MailURL, *, password: str | None = None, cafile: str | None = None,
                   timeout: float = 30.0, local_hostname: str | None = None) -> Transport:
    """A transport for a ``[smtp] url``. ``password`` overrides the URL's (env/credential);
    ``cafile`` adds trusted CA certificates (tests, private CAs)."""
    parsed = url if isinstance(url, MailURL) else parse_url(url, allowed=("smtp", "smtps", "file"))
    if parsed.scheme == "file":
        return FileTransport(Path(parsed.path))
    return SMTPTransport(parsed, password=password, cafile=cafile, timeout=timeout,
                         local_hostname=local_hostname)
