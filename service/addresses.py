"""Which e-mail addresses the service believes and writes to.

Only plain addresses: a dot-atom local part of letters, digits and ``. _ + - '`` and a
host name of at least two labels. Everything that routes mail somewhere else or hides the
real mailbox is refused: ``%`` and ``!`` (source routing through the domain's server),
quoted local parts (``"x@y"@unit``), route syntax (``@a,@b:x@y``), IP literals, spaces.
"""
from __future__ import annotations

import re

_LOCAL = re.compile(r"[a-z0-9_+'-]+(?:\.[a-z0-9_+'-]+)*")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# bidi embeddings/overrides/isolates and other format/control characters never echoed
BIDI_AND_CONTROLS = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
                               "\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")


def is_plain(address: str | None) -> bool:
    address = (address or "").strip().lower()
    if address.count("@") != 1 or len(address) > 254:
        return False
    local, domain = address.split("@")
    if not local or len(local) > 64 or not _LOCAL.fullmatch(local):
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(_LABEL.fullmatch(x) for x in labels) and not labels[-1].isdigit()


def clean_echo(text: str | None) -> str:
    """Text safe to repeat to people: no bidi overrides or control characters."""
    return BIDI_AND_CONTROLS.sub("", text or "")
