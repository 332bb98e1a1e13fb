"""What the operator (``vaxmail status``, the web console) is told about the service's
safeguards: whether senders are verified, how long personal data is kept and the oldest
item still kept. Pure reads; no personal data in what it returns."""
from __future__ import annotations

from typing import Any


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
