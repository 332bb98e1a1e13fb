"""Only authenticated senders are believed ([trust] authserv_id, RFC 8601).

A message whose From the receiving server did not authenticate (DMARC pass, or an aligned
DKIM or SPF pass; see service/intake/authres.py) is held for the operator before anything
else reads it: nothing is forwarded, no confirmation it carries is counted, and the From
address gets at most one short fixed-text notice a day (no personal data, no subject echoed).
Without [trust] (the demo) items arrive with ``authenticated = None`` and pass unchanged.
"""
from __future__ import annotations

from ..context import Context, Stop, Work
from ..plan import Held
from ..notices import send_notice


def handle(w: Work, ctx: Context) -> None:
    item = w.item
    if item.source != "mail" or item.authenticated is not False:
        return
    w.plan.outcome = "held"
    w.plan.held.append(Held("unverified", ctx.renderer.reason("unverified", why=item.auth_why),
                            "", item.raw))
    w.plan.audit.append(("unverified-sender", {"why": item.auth_why}))
    send_notice(w, ctx, "notice-unverified", cap="unknown_sender_notices_per_day",
                counter="unverified")  # counted apart from the unit's own receipts
    raise Stop
