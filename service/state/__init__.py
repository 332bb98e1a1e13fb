"""The service's durable state. ``open_store(path)`` picks the backend.

``path`` is the state directory (the database is ``<path>/vaxmail.db``), or a database file
ending in .db/.sqlite/.sqlite3 (its directory becomes the state directory). A later
PostgreSQL backend will be chosen here by a ``postgresql://`` URL, as its own module.
"""
from __future__ import annotations

from pathlib import Path

from service.state.store import (  # noqa: F401  (re-exported)
    Batch, ConfirmationTotal, ForwardedTotal, Forwarding, Held, User, StaleBatches, OutgoingStatus, RecipientStats, Store, Submission, UnitStats,
    incoming_key, normalise_code,
)


def open_store(path: Path | str, **options) -> Store:
    text = str(path)
    if text.startswith(("postgres://", "postgresql://")):
        raise NotImplementedError("the PostgreSQL backend is not written yet")
    from service.state.sqlite import DB_NAME, SQLiteStore

    p = Path(path)
    db = p if p.suffix in (".db", ".sqlite", ".sqlite3") else p / DB_NAME
    return SQLiteStore(db, **options)
