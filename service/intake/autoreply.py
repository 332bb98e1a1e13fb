"""Should this message get an answer? RFC 3834 and the usual autoresponder conventions.

`classify(msg, own_addresses)` returns None when a reply is allowed, else the reason code:

    auto-submitted          Auto-Submitted other than "no" (RFC 3834), X-Autoreply/X-Autorespond
    null-return-path        Return-Path: <> (a bounce or other automatic message)
    precedence              Precedence: bulk, list or junk
    auto-response-suppress  X-Auto-Response-Suppress: All, AutoReply, DR, OOF, RN or NRN
    mailing-list            List-Id or List-Unsubscribe present
    loop                    X-Loop, or our own loop header
    system-sender           mailer-daemon, postmaster, noreply, no-reply … as the sender
    report                  multipart/report (DSN, MDN) or a bare delivery/disposition report
    own-address             sent from one of our own addresses
"""
from __future__ import annotations

import email.utils
from email.message import Message

SYSTEM_LOCAL_PARTS = {
    "mailer-daemon", "postmaster", "noreply", "no-reply", "no_reply", "donotreply",
    "do-not-reply", "do_not_reply", "bounce", "bounces",
}
SUPPRESS_TOKENS = {"all", "autoreply", "dr", "oof", "rn", "nrn"}
REPORT_TYPES = {"multipart/report", "message/delivery-status", "message/disposition-notification"}


LIST_SUFFIXES = ("-request", "-owner", "-bounces", "-admin")


def _get(msg: Message, name: str) -> str | None:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a broken header still counts as present
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                return str(raw)
        return None
    return None if value is None else str(value)


def _addresses(msg: Message, *names: str) -> list[str]:
    found = []
    for name in names:
        try:
            values = msg.get_all(name) or []
        except Exception:  # noqa: BLE001
            values = [_get(msg, name) or ""]
        for _, addr in email.utils.getaddresses([str(v) for v in values]):
            if addr:
                found.append(addr.strip().lower())
    return found


def classify(msg: Message, own_addresses: set[str] | frozenset[str] = frozenset(),
             loop_header: str = "X-Vaxmail-Loop") -> str | None:
    auto = _get(msg, "Auto-Submitted")
    if auto is not None and auto.split(";")[0].strip().lower() not in ("no", ""):
        return "auto-submitted"
    if _get(msg, "X-Autoreply") is not None or _get(msg, "X-Autorespond") is not None:
        return "auto-submitted"

    return_path = _get(msg, "Return-Path")
    if return_path is not None and return_path.strip().strip("<>").strip() == "":
        return "null-return-path"

    precedence = (_get(msg, "Precedence") or "").strip().lower()
    if precedence in ("bulk", "list", "junk"):
        return "precedence"

    suppress = _get(msg, "X-Auto-Response-Suppress")
    if suppress:
        tokens = {t.strip().lower() for t in suppress.replace(";", ",").split(",")}
        if tokens & SUPPRESS_TOKENS:
            return "auto-response-suppress"

    if _get(msg, "List-Id") is not None or _get(msg, "List-Unsubscribe") is not None:
        return "mailing-list"

    if _get(msg, "X-Loop") is not None or _get(msg, loop_header) is not None:
        return "loop"

    try:
        ctype = msg.get_content_type().lower()
    except Exception:  # noqa: BLE001
        ctype = ""
    if ctype in REPORT_TYPES:
        return "report"

    senders = _addresses(msg, "From", "Sender")
    return_addrs = [a for _, a in email.utils.getaddresses([return_path])] if return_path else []
    for addr in senders + [a.lower() for a in return_addrs if a]:
        local = addr.split("@", 1)[0]
        if local in SYSTEM_LOCAL_PARTS or local.split("+", 1)[0] in SYSTEM_LOCAL_PARTS:
            return "system-sender"
        if local.endswith(LIST_SUFFIXES) or local.startswith("owner-"):
            return "mailing-list"  # a list's -request/-owner address (RFC 2142 style)

    own = {a.strip().lower() for a in own_addresses}
    if own and any(addr in own for addr in senders):
        return "own-address"
    return None
