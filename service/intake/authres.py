"""Is the From of a message authenticated? Read from the receiving server's
Authentication-Results headers (RFC 8601).

Only the province's own receiving server is believed: the topmost Authentication-Results
header bearing ``authserv_id`` and the ones directly under it with the same id (one per milter:
SPF, DKIM, DMARC). Everything further down, or with another id, may have been written by the
sender and is ignored. Within the believed headers the first result of each method wins, so a
``dmarc=pass`` planted under the server's ``dmarc=fail`` changes nothing.

Authenticated means: ``dmarc=pass`` (for the From domain), or ``dkim=pass`` whose ``header.d``
is aligned with the From domain, or ``spf=pass`` whose ``smtp.mailfrom`` domain is aligned.
Aligned = the same domain, or one a subdomain of the other (relaxed alignment without a
public-suffix list; a bare one-label domain never aligns).

Pure functions over the header text; ``verify(raw_headers, from_addr, authserv_id)`` never
raises on bad input.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import compat32

HEADER = "authentication-results"
_KEYWORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass
class Result:
    method: str  # "dmarc", "dkim", "spf", …
    result: str  # "pass", "fail", "none", …
    props: dict[str, str] = field(default_factory=dict)  # "header.d" → "example.org"


@dataclass
class AuthResults:
    authserv_id: str
    results: list[Result] = field(default_factory=list)


@dataclass
class Verdict:
    ok: bool
    why: str  # short, for the operator and the audit log: "dmarc=pass", "no-results", "dkim=fail" …


# --------------------------------------------------------------------------- lexing

def _strip_comments(text: str) -> str:
    """Remove RFC 5322 comments (nested, with quoted-pairs) outside quoted strings."""
    out: list[str] = []
    depth = 0
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and (quoted or depth) and i + 1 < len(text):
            if not depth:
                out.append(text[i:i + 2])
            i += 2
            continue
        if quoted:
            out.append(ch)
            if ch == '"':
                quoted = False
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth:
            pass
        else:
            if ch == '"':
                quoted = True
            out.append(ch)
        i += 1
    return " ".join("".join(out).split())


def _split_semicolons(text: str) -> list[str]:
    parts, buf, quoted = [], [], False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and quoted and i + 1 < len(text):
            buf.append(text[i:i + 2])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            parts.append("".join(buf).strip())
            buf = []
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf).strip())
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


_PROP = re.compile(r'([A-Za-z0-9_-]+)\s*\.\s*([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;"]+)')
_METHOD = re.compile(r'^([A-Za-z0-9][A-Za-z0-9_-]*)(?:\s*/\s*\d+)?\s*=\s*([A-Za-z0-9_-]+)')
_REASON = re.compile(r'\breason\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;"]+)', re.IGNORECASE)


def parse(value: str) -> AuthResults | None:
    """One Authentication-Results header value; None when it has no authserv-id."""
    text = _strip_comments(value.replace("\r", " ").replace("\n", " "))
    parts = _split_semicolons(text)
    head = parts[0].split()
    if not head:
        return None
    authserv = _unquote(head[0]).lower()
    if not authserv or not _KEYWORD.fullmatch(authserv.replace("@", "").replace(":", "")):
        return None
    out = AuthResults(authserv)
    for resinfo in parts[1:]:
        m = _METHOD.match(resinfo)
        if not m:
            continue  # "none" (no-result) or garbage
        res = Result(m.group(1).lower(), m.group(2).lower())
        rest = _REASON.sub(" ", resinfo[m.end():])
        for pm in _PROP.finditer(rest):
            key = f"{pm.group(1).lower()}.{pm.group(2).lower()}"
            res.props.setdefault(key, _unquote(pm.group(3)))
        out.results.append(res)
    return out


# --------------------------------------------------------------------------- verdict

def believed(header_values: list[tuple[str, str]], authserv_id: str) -> list[AuthResults]:
    """From (name, value) headers in message order, the A-R headers of our own server.

    The topmost A-R bearing ``authserv_id`` and the directly following A-R headers (no other
    header in between) bearing it too; nothing else.
    """
    want = authserv_id.strip().lower()
    found: list[AuthResults] = []
    started = False
    for name, value in header_values:
        is_ar = name.strip().lower() == HEADER
        if started and not is_ar:
            break
        if not is_ar:
            continue
        parsed = parse(value)
        if parsed is None or parsed.authserv_id != want:
            continue  # another server's (or garbage): never believed, but keeps the run going
        started = True
        found.append(parsed)
    return found


def _domain(value: str) -> str:
    value = _unquote(value or "").strip().strip("<>").lower().rstrip(".")
    if "@" in value:
        value = value.rsplit("@", 1)[1]
    return value


def aligned(a: str, b: str) -> bool:
    """Relaxed alignment of two domains: equal, or one is a subdomain of the other."""
    a, b = _domain(a), _domain(b)
    if not a or not b or "." not in a or "." not in b:
        return False
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def decide(found: list[AuthResults], from_addr: str) -> Verdict:
    if not found:
        return Verdict(False, "no-results")
    from_domain = _domain(from_addr)
    if not from_domain or "." not in from_domain:
        return Verdict(False, "no-from")
    first: dict[str, Result] = {}
    dkims: list[Result] = []
    for ar in found:
        for r in ar.results:
            first.setdefault(r.method, r)
            if r.method == "dkim":
                dkims.append(r)
    dmarc = first.get("dmarc")
    if dmarc is not None:
        if dmarc.result == "pass":
            hf = dmarc.props.get("header.from")
            if hf is None or _domain(hf) == from_domain:
                return Verdict(True, "dmarc=pass")
        elif dmarc.result in ("fail", "quarantine", "reject"):
            # the server evaluated DMARC for this From and it failed: nothing else counts
            return Verdict(False, f"dmarc={dmarc.result}")
    # every dkim result of the believed headers: a message may carry several signatures
    for r in dkims:
        d = r.props.get("header.d") or r.props.get("header.i", "")
        if r.result == "pass" and aligned(d, from_domain):
            return Verdict(True, "dkim=pass")
    spf = first.get("spf")
    if spf is not None and spf.result == "pass" and aligned(spf.props.get("smtp.mailfrom", ""), from_domain):
        return Verdict(True, "spf=pass")
    seen = ",".join(f"{m}={r.result}" for m, r in first.items()) or "none"
    return Verdict(False, seen[:80])


def verify(raw: bytes, from_addr: str, authserv_id: str) -> Verdict:
    """The verdict for a whole raw message (only its top-level header block is read)."""
    end = re.search(rb"\r?\n\r?\n", raw)
    head = raw[:end.start() + 2] if end else raw  # the header block only: the body is never read
    try:
        msg = BytesParser(policy=compat32).parsebytes(head, headersonly=True)
        headers = [(k, str(v)) for k, v in msg.raw_items()]
    except Exception:  # noqa: BLE001 - an unreadable header block is simply unauthenticated
        return Verdict(False, "malformed")
    return decide(believed(headers, authserv_id), from_addr)
