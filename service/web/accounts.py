"""Console accounts: argon2id password hashes in the state store, roles, lock-out.

Used by ``vaxmail user add|passwd|disable|list`` and by the console's login. A password is
never stored, logged or shown; the store keeps only the argon2 hash (with its salt and cost).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..state.store import Store, User
from ..wording import say

ROLES = ("operator", "leader")
MIN_PASSWORD = 10
_hasher = PasswordHasher()  # argon2id with the library's current recommended cost
_DUMMY = _hasher.hash("vaxmail: no such account")  # same work for unknown names


class AccountError(ValueError):
    """An account operation that cannot be done; the message is Vietnamese, for the operator."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(say("users.too-short", n=MIN_PASSWORD))
    return _hasher.hash(password)


def add(store: Store, name: str, role: str, password: str, by: str) -> None:
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise AccountError(say("users.bad-name"))
    if role not in ROLES:
        raise AccountError(say("users.bad-role"))
    if not store.add_user(name, role, hash_password(password)):
        raise AccountError(say("users.exists", name=name))
    store.audit("user-added", f"user:{name}", {"by": by, "role": role})


def set_password(store: Store, name: str, password: str, by: str) -> None:
    if not store.update_user(name, password_hash=hash_password(password)):
        raise AccountError(say("users.unknown", name=name))
    store.audit("user-password", f"user:{name}", {"by": by})


def set_disabled(store: Store, name: str, disabled: bool, by: str) -> None:
    if not store.update_user(name, disabled=disabled):
        raise AccountError(say("users.unknown", name=name))
    store.audit("user-disabled" if disabled else "user-enabled", f"user:{name}", {"by": by})


@dataclass
class Login:
    user: User | None  # set when the login succeeded
    locked_until: float | None = None  # set when the account is locked


def login(store: Store, name: str, password: str, *, max_failures: int, lock_minutes: float,
          now: float | None = None) -> Login:
    """Check a login; counts failures, locks after ``max_failures``; audits every attempt."""
    now = time.time() if now is None else now
    user = store.user(name) if name else None
    if user is None or user.disabled:
        try:
            _hasher.verify(_DUMMY, password or "x")
        except VerificationError:
            pass
        store.audit("login-failed", f"user:{name[:64]}" if name else None, {"why": "unknown-or-disabled"})
        return Login(None)
    if user.locked_until and user.locked_until > now:
        store.audit("login-refused", f"user:{name}", {"why": "locked"})
        return Login(None, user.locked_until)
    try:
        ok = _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError, VerificationError):
        ok = False
    after = store.note_login(name, ok, max_failures=max_failures, lock_seconds=lock_minutes * 60, at=now)
    if not ok:
        locked = after.locked_until if after and after.locked_until and after.locked_until > now else None
        store.audit("login-failed", f"user:{name}", {"why": "password", "locked": bool(locked)})
        return Login(None, locked)
    if _hasher.check_needs_rehash(user.password_hash):
        store.update_user(name, password_hash=_hasher.hash(password))
        after = store.user(name)
    store.audit("login", f"user:{name}", {"role": user.role})
    return Login(after)
