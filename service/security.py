"""What the operator (``vaxmail status``, the web console) is told about the service's
safeguards: whether senders are verified, how long personal data is kept and the oldest
item still kept. Pure reads; no personal data in what it returns."""
from __future__ import annotations

import os
import stat
from typing import Any
from urllib.parse import urlsplit


def senders_verified(settings) -> bool:
    """True when [trust] authserv_id is set: only authenticated senders are believed."""
    return bool(str(settings.section("trust").get("authserv_id", "") or "").strip())


def status(settings) -> dict[str, Any]:
    """{"senders_verified", "authserv_id"} (+ retention figures when available)."""
    out: dict[str, Any] = {
        "senders_verified": senders_verified(settings),
        "authserv_id": str(settings.section("trust").get("authserv_id", "") or ""),
    }
    try:
        from .retention import summary
    except ImportError:
        return out
    out.update(summary(settings))
    return out


def _has_password(url: str) -> bool:
    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return False


def start_warnings(settings, store=None) -> list[str]:
    """What the operator is warned about when the daemon starts (Vietnamese, from messages.toml;
    never a password or a path's content)."""
    from .wording import say
    out: list[str] = []
    src = getattr(settings, "source", "") or ""
    if src and any(_has_password(u) for u in (settings.mailbox.url, settings.smtp.url)):
        try:
            mode = os.stat(src).st_mode
        except OSError:
            mode = 0
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            out.append(say("security.password-readable", file=src, mode=oct(mode & 0o777)[2:]))
    if not senders_verified(settings):
        out.append(say("security.senders-unverified"))
    if store is not None and getattr(store, "key_source", "") == "state-dir":
        out.append(say("security.key-in-state"))
    return out
