"""An IMAP mailbox as the intake source (`imap://` or `imaps://`), built on imap-tools.

- pending(): UID SEARCH of every message in the folder not yet done (UNDELETED, without our
  done keyword), oldest UID first, raw bytes fetched with BODY.PEEK[] (exact, never marks \\Seen).
  Keys are "imap:<UIDVALIDITY>:<UID>"; a UIDVALIDITY change gives new keys (the pipeline dedupes
  by Message-ID + content) and is reported in health().
- mark_done(): UID MOVE into "Đã xử lý" (created when missing); when that is impossible the
  message gets \\Seen + the keyword $VaxmailDone instead, which pending() also skips.
- wait(): IDLE in short cycles (≤ idle_cycle s, ≤ 29 min), True on any server news.
- Trouble: any socket/IMAP error closes the connection; a dead established connection is
  retried at once, otherwise reconnects back off 1, 2, 4 … 60 s. pending()/wait()/mark_done()
  never raise for server trouble; errors are logged without message contents or addresses.
- Transport: imaps:// = TLS with certificate verification (`cafile` for a private CA);
  imap:// = STARTTLS (required) unless the host is loopback, where plain IMAP is allowed.
"""
from __future__ import annotations

import logging
import re
import select
import ssl
import threading
import time
from typing import Callable, Iterator

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.utils import encode_folder

from service.intake.source import DONE_FOLDER, RawMessage
from service.retry import backoff
from service.urls import MailURL, parse_url, redacted

log = logging.getLogger("vaxmail.intake.imap")

DONE_KEYWORD = "$VaxmailDone"
MAX_IDLE = 29 * 60
MAX_BACKOFF = 60.0
_FAILED = object()


TRUNCATED_HEADER = "X-Vaxmail-Truncated"  # added to a message fetched as headers only (too large)
MAX_MESSAGE_BYTES = 60_000_000


class ImapStop(Exception):
    """The server said BYE or closed the connection."""


def _error_text(exc: BaseException) -> str:
    text = str(exc).replace("\r", " ").replace("\n", " ")
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


class ImapSource:
    def __init__(self, url: MailURL | str, *, folder: str | None = None,
                 done_folder: str = DONE_FOLDER, idle_cycle: float = 240, timeout: float = 30,
                 cafile: str | None = None, password: str | None = None,
                 starttls: bool | None = None, max_message_bytes: int = MAX_MESSAGE_BYTES):
        self.url = url if isinstance(url, MailURL) else parse_url(url, allowed=("imap", "imaps"))
        self.max_message_bytes = max_message_bytes
        if password is not None:
            self.url = self.url.with_password(password)
        self.folder = folder or self.url.path or "INBOX"
        self.done_folder = done_folder
        self.idle_cycle = max(1.0, min(float(idle_cycle), MAX_IDLE))
        self.timeout = timeout
        self.cafile = cafile
        # None: STARTTLS off loopback, plain on loopback. True: always STARTTLS.
        self.starttls = starttls
        self._mb = None
        self._stop = threading.Event()
        self._lock = threading.RLock()
        self._busy = 0
        self._failures = 0  # connection attempts failed in a row
        self._next_attempt = 0.0  # monotonic
        self._done_folder_ok = False
        self._uidvalidity: int | None = None
        self._last_uid = 0
        self._stats = {
            "connected": False, "last_round_trip": None, "last_error": None, "last_error_at": None,
            "reconnects": 0, "uidvalidity": None, "uidvalidity_changes": 0,
            "uidvalidity_changed_at": None, "mark_done_fallbacks": 0, "stale_keys": 0,
        }
        self._connected_once = False

    # ------------------------------------------------------------------ connection
    def _ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.cafile)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    def _open(self):
        url = self.url
        if url.scheme == "imaps":
            mb = MailBox(url.host, url.port, timeout=self.timeout, ssl_context=self._ssl_context())
        elif url.is_loopback and not self.starttls:
            mb = MailBoxUnencrypted(url.host, url.port, timeout=self.timeout)
        else:
            mb = MailBoxStartTls(url.host, url.port, timeout=self.timeout,
                                 ssl_context=self._ssl_context())
        try:
            user, password = url.user or "", url.password or ""
            if user.isascii() and password.isascii():
                mb.login(user, password, initial_folder=None)
            else:
                mb.login_utf8(user, password, initial_folder=None)
            # imaplib keeps the pre-login capability list; ask again (MOVE, UIDPLUS, IDLE).
            typ, data = mb.client.capability()
            if typ == "OK" and data and data[-1]:
                mb.client.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())
            mb.folder.set(self.folder)
            validity = mb.client.untagged_responses.get("UIDVALIDITY", [None])[-1]
            if validity is None:
                validity = mb.folder.status(self.folder, ["UIDVALIDITY"])["UIDVALIDITY"]
            self._note_uidvalidity(int(validity))
        except BaseException:
            self._shutdown(mb)
            raise
        return mb

    def _note_uidvalidity(self, validity: int) -> None:
        if self._uidvalidity is not None and validity != self._uidvalidity:
            log.warning("UIDVALIDITY of %s changed (%s -> %s): messages get new keys",
                        self.folder, self._uidvalidity, validity)
            self._stats["uidvalidity_changes"] += 1
            self._stats["uidvalidity_changed_at"] = time.time()
            self._last_uid = 0
        self._uidvalidity = validity
        self._stats["uidvalidity"] = validity

    @staticmethod
    def _shutdown(mb) -> None:
        try:
            mb.client.shutdown()
        except Exception:  # noqa: BLE001 - already broken
            pass

    def _drop(self, exc: BaseException | None = None) -> None:
        if exc is not None:
            self._stats["last_error"] = _error_text(exc)
            self._stats["last_error_at"] = time.time()
        if self._mb is not None:
            self._shutdown(self._mb)
        self._mb = None
        self._done_folder_ok = False
        self._stats["connected"] = False

    def _schedule_retry(self) -> None:
        self._failures += 1
        delay = backoff(self._failures, 1.0, MAX_BACKOFF)
        self._next_attempt = time.monotonic() + delay
        log.info("IMAP %s: next connection attempt in %.0f s", redacted(self.url), delay)

    def _ensure(self) -> tuple[object | None, bool]:
        """The live connection and whether it was made just now; (None, False) while backing off."""
        if self._mb is not None:
            return self._mb, False
        if self._stop.is_set() or time.monotonic() < self._next_attempt:
            return None, False
        try:
            self._mb = self._open()
        except Exception as exc:  # noqa: BLE001 - every failure means "try later"
            self._drop(exc)
            log.error("IMAP %s: cannot connect: %s", redacted(self.url), _error_text(exc))
            self._schedule_retry()
            return None, False
        if self._connected_once:
            self._stats["reconnects"] += 1
            log.info("IMAP %s: reconnected", redacted(self.url))
        self._connected_once = True
        self._stats["connected"] = True
        return self._mb, True

    def _call(self, op: Callable, *, retry: bool = True):
        """op(mailbox) with error handling; one immediate retry when an old connection was dead."""
        for _ in range(2 if retry else 1):
            mb, fresh = self._ensure()
            if mb is None:
                return _FAILED
            try:
                result = op(mb)
            except Exception as exc:  # noqa: BLE001 - socket, imaplib and imap-tools errors alike
                log.error("IMAP %s: %s", redacted(self.url), _error_text(exc))
                self._drop(exc)
                if fresh:
                    self._schedule_retry()
                    return _FAILED
                continue
            self._failures = 0
            self._stats["last_round_trip"] = time.time()
            return result
        return _FAILED

    def _enter(self) -> None:
        with self._lock:
            self._busy += 1

    def _leave(self) -> None:
        with self._lock:
            self._busy -= 1
            if self._busy == 0 and self._stop.is_set():
                self._logout()

    # ------------------------------------------------------------------ IMAP operations
    @staticmethod
    def _check(result: tuple, what: str) -> list:
        typ, data = result
        if typ != "OK":
            raise RuntimeError(f"{what} failed: {typ}")
        return data

    def _search(self, mb, first_uid: int = 1) -> list[int]:
        criteria = f"UID {first_uid}:* UNDELETED UNKEYWORD {DONE_KEYWORD}"
        data = self._check(mb.client.uid("SEARCH", criteria), "UID SEARCH")
        uids = sorted(int(u) for u in (data[0] or b"").split()) if data else []
        return [u for u in uids if u >= first_uid]

    def _size(self, mb, uid: int) -> int | None:
        data = self._check(mb.client.uid("FETCH", str(uid), "(RFC822.SIZE)"), "UID FETCH SIZE")
        for item in data:
            raw = item[0] if isinstance(item, tuple) else item
            m = re.search(rb"RFC822\.SIZE (\d+)", raw or b"")
            if m:
                return int(m.group(1))
        return None

    def _fetch(self, mb, uid: int) -> bytes | None:
        size = self._size(mb, uid)
        if size is not None and size > self.max_message_bytes:
            # Too big to take in whole: the headers, marked, are enough to answer the sender.
            part = "(BODY.PEEK[HEADER])"
            marker = f"{TRUNCATED_HEADER}: {size}\r\n".encode()
        else:
            part, marker = "(BODY.PEEK[])", b""
        data = self._check(mb.client.uid("FETCH", str(uid), part), "UID FETCH")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return marker + item[1]
        return None  # expunged meanwhile

    def _ensure_done_folder(self, mb) -> bool:
        if self._done_folder_ok:
            return True
        typ, data = mb.client.list('""', encode_folder(self.done_folder))
        if typ == "OK" and any(d for d in data if d):
            self._done_folder_ok = True
            return True
        typ, data = mb.client._simple_command("CREATE", encode_folder(self.done_folder))
        if typ != "OK":
            log.warning("IMAP: cannot create the done folder (%s)", typ)
            return False
        mb.client._simple_command("SUBSCRIBE", encode_folder(self.done_folder))
        self._done_folder_ok = True
        return True

    def _move_done(self, mb, uid: int) -> None:
        client = mb.client
        moved = False
        if self._ensure_done_folder(mb):
            target = encode_folder(self.done_folder)
            if "MOVE" in client.capabilities:
                moved = client.uid("MOVE", str(uid), target)[0] == "OK"
            elif client.uid("COPY", str(uid), target)[0] == "OK":
                self._check(client.uid("STORE", str(uid), "+FLAGS", r"(\Deleted)"), "STORE")
                if "UIDPLUS" in client.capabilities:
                    self._check(client.uid("EXPUNGE", str(uid)), "UID EXPUNGE")
                else:
                    self._check(client.expunge(), "EXPUNGE")
                moved = True
        if not moved:
            self._stats["mark_done_fallbacks"] += 1
            log.warning("IMAP: moving to the done folder failed; flagging UID %s instead", uid)
            typ, _ = client.uid("STORE", str(uid), "+FLAGS", rf"(\Seen {DONE_KEYWORD})")
            if typ != "OK":
                self._check(client.uid("STORE", str(uid), "+FLAGS", r"(\Seen)"), "STORE \\Seen")

    def _idle(self, mb, seconds: float) -> bool:
        client = mb.client
        if "IDLE" not in client.capabilities:
            # No IDLE: poll with NOOP once per second.
            end = time.monotonic() + seconds
            while not self._stop.is_set() and time.monotonic() < end:
                self._check(client.noop(), "NOOP")
                if client.untagged_responses.pop("EXISTS", None):
                    return True
                self._stop.wait(min(1.0, max(0.0, end - time.monotonic())))
            return False
        client.untagged_responses.clear()
        mb.idle.start()
        news = False
        end = time.monotonic() + seconds
        while not news and not self._stop.is_set():
            remaining = end - time.monotonic()
            if remaining <= 0:
                break
            if not self._readable(client, min(1.0, remaining)):
                continue
            line = client._get_line()  # raises abort on EOF
            if line.startswith(b"* BYE"):
                raise ImapStop("server said BYE")
            if line.startswith(b"* ") and not line.startswith(b"* OK"):
                news = True
        _, responses = mb.idle.stop()
        news = news or any(isinstance(r, bytes) and r.startswith(b"* ") and not r.startswith(b"* OK")
                           for r in responses)
        return news

    @staticmethod
    def _readable(client, timeout: float) -> bool:
        sock = client.sock
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        # Bytes already buffered by imaplib's file object?
        old = sock.gettimeout()
        sock.settimeout(0)
        try:
            if client.file.peek(1):
                return True
        except OSError:
            pass
        finally:
            sock.settimeout(old)
        ready, _, _ = select.select([sock], [], [], timeout)
        return bool(ready)

    # ------------------------------------------------------------------ Source
    def pending(self) -> Iterator[RawMessage]:
        self._enter()
        try:
            if self._stop.is_set():
                return
            uids = self._call(lambda mb: self._search(mb))
            if uids is _FAILED:
                return
            validity = self._uidvalidity
            for uid in uids:
                if self._stop.is_set():
                    return
                data = self._call(lambda mb, uid=uid: self._fetch(mb, uid))
                if data is _FAILED or self._uidvalidity != validity:
                    return  # the next pending() starts over
                if data is None:
                    continue
                self._last_uid = max(self._last_uid, uid)
                self._leave()
                try:
                    yield RawMessage(key=f"imap:{validity}:{uid}", data=data)
                finally:
                    self._enter()
        finally:
            self._leave()

    def purge_done(self, before: float, *, dry_run: bool = False) -> int:
        """Retention: delete the done folder's messages that arrived before ``before`` (epoch
        seconds, by IMAP internal date, day precision); returns how many (would be) deleted.
        Uses its own short connection: the intake's connection may be idling."""
        other = ImapSource(self.url, folder=self.done_folder, done_folder=self.done_folder,
                           timeout=self.timeout, cafile=self.cafile, starttls=self.starttls)
        mb = other._open()
        try:
            t = time.gmtime(before)  # IMAP dates name the month in English, whatever the locale
            day = f"{t.tm_mday}-{'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split()[t.tm_mon - 1]}-{t.tm_year}"
            data = self._check(mb.client.uid("SEARCH", f"BEFORE {day}"), "UID SEARCH BEFORE")
            uids = [u.decode() for u in (data[0] or b"").split()] if data else []
            if dry_run or not uids:
                return len(uids)
            for i in range(0, len(uids), 500):
                chunk = ",".join(uids[i:i + 500])
                self._check(mb.client.uid("STORE", chunk, "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
                if "UIDPLUS" in mb.client.capabilities:
                    self._check(mb.client.uid("EXPUNGE", chunk), "UID EXPUNGE")
                else:
                    self._check(mb.client.expunge(), "EXPUNGE")
            return len(uids)
        finally:
            self._shutdown(mb)

    def mark_done(self, key: str) -> None:
        try:
            scheme, validity, uid = key.split(":")
            if scheme != "imap":
                raise ValueError
            validity_n, uid_n = int(validity), int(uid)
        except ValueError:
            raise ValueError(f"not an IMAP key: {key!r}") from None
        self._enter()
        try:
            if self._mb is None and self._uidvalidity is None:
                self._ensure()
            if validity_n != self._uidvalidity:
                self._stats["stale_keys"] += 1
                log.warning("IMAP: key %s belongs to an older UIDVALIDITY; left in place", key)
                return
            self._call(lambda mb: self._move_done(mb, uid_n))
        finally:
            self._leave()

    def wait(self, timeout: float) -> bool:
        self._enter()
        try:
            deadline = time.monotonic() + max(0.0, timeout)
            while not self._stop.is_set():
                mb, _ = self._ensure()
                now = time.monotonic()
                if mb is None:
                    until = min(deadline, max(self._next_attempt, now + 0.05))
                    if until <= now or self._stop.wait(until - now):
                        return False
                    continue
                news = self._call(lambda mb: bool(self._search(mb, self._last_uid + 1)))
                if news is _FAILED:
                    continue
                if news:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                got = self._call(lambda mb: self._idle(mb, min(remaining, self.idle_cycle)),
                                 retry=False)
                if got is True:
                    return True
            return False
        finally:
            self._leave()

    def _logout(self) -> None:
        mb = self._mb
        if mb is None:
            return
        try:
            mb.client.sock.settimeout(2)
            mb.client.logout()
        except Exception:  # noqa: BLE001
            pass
        self._drop()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            if self._busy == 0:
                self._logout()

    def health(self) -> dict:
        stats = dict(self._stats)
        stats.update(kind="imap", url=redacted(self.url), folder=self.folder,
                     connected=self._mb is not None,
                     retry_in=max(0.0, round(self._next_attempt - time.monotonic(), 1)))
        return stats
