"""The service's durable state. ``open_store(state_dir)`` is the one way to open it.

The database is ``<state_dir>/state.db`` (beside it the ID-hash key and the queues). A state
directory from before the name was settled may hold ``vaxmail.db`` instead: it is renamed
(with its WAL files) on first open, so existing deployments keep their state. A later
PostgreSQL backend will be chosen here by a ``postgresql://`` URL, as its own module.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from service.state.store import (  # noqa: F401  (re-exported)
    Batch, ConfirmationTotal, ForwardedTotal, Forwarding, Held, User, StaleBatches, OutgoingStatus, RecipientStats, Store, Submission, UnitStats,
    incoming_key, normalise_code,
)

DB_NAME = "state.db"
OLD_DB_NAMES = ("vaxmail.db",)  # earlier names of the same database

log = logging.getLogger(__name__)


def _adopt_old_name(state_dir: Path) -> None:
    db = state_dir / DB_NAME
    if db.exists():
        for old in OLD_DB_NAMES:
            if (state_dir / old).exists():
                log.warning("state: both %s and %s exist in %s; using %s", DB_NAME, old, state_dir, DB_NAME)
        return
    for old in OLD_DB_NAMES:
        if (state_dir / old).exists():
            for suffix in ("-wal", "-shm", ""):  # the main file last: its presence marks the move done
                src = state_dir / (old + suffix)
                if src.exists():
                    os.replace(src, state_dir / (DB_NAME + suffix))
            log.info("state: renamed %s to %s in %s", old, DB_NAME, state_dir)
            return


def store_options(settings) -> dict:
    """The options every opener passes along from the settings (the ID-hash key's file)."""
    key_file = settings.path("state", "key_file") if settings is not None else None
    return {"key_file": key_file} if key_file else {}


def open_store(state_dir: Path | str, **options) -> Store:
    """The store kept in ``state_dir`` (created if missing).

    ``key_file``: where the ID-hash key lives ([state] key_file; see ``state.keys``)."""
    text = str(state_dir)
    if text.startswith(("postgres://", "postgresql://")):
        raise NotImplementedError("the PostgreSQL backend is not written yet")
    from service.state.sqlite import SQLiteStore

    p = Path(state_dir)
    if p.suffix in (".db", ".sqlite", ".sqlite3"):
        raise ValueError(f"open_store takes the state directory, not a database file: {p}")
    if p.is_dir():
        _adopt_old_name(p)
    return SQLiteStore(p / DB_NAME, **options)
