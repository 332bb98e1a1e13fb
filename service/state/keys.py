"""Where the ID-hash key (the HMAC key of every stored ID number) comes from.

A copy of the database is useless without the key, so the key is kept apart from it:
1. the systemd credential ``id-hash-key`` (``LoadCredential=``/``LoadCredentialEncrypted=``,
   read from ``$CREDENTIALS_DIRECTORY``), if the service was started with one;
2. else ``[state] key_file`` — a file outside the state directory, created 0600 on first use.
   An existing deployment's key (``<state>/id-hash.key``) is moved there the first time, and
   the state directory keeps a small pointer (``id-hash.key.location``, the path only) so that
   every command opening the store finds the same key;
3. else (the demo, tests) ``<state>/id-hash.key``, as before.
A key shorter than 32 bytes is refused. Rotating the key: see README ("ID-hash key").
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from ..durable import create_exclusive

CREDENTIAL = "id-hash-key"
LEGACY_NAME = "id-hash.key"
POINTER_NAME = "id-hash.key.location"
MIN_BYTES = 32

log = logging.getLogger("vaxmail.state")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        data = os.read(fd, 4096)
    finally:
        os.close(fd)
    if len(data) < MIN_BYTES:
        raise RuntimeError(f"{path} is damaged (shorter than {MIN_BYTES} bytes); restore it from backup")
    return data


def _create(path: Path, secret: bytes) -> bool:
    """Write a new key file 0600 (never over an existing one); False if it exists."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return create_exclusive(path, secret)


def _load_or_create(path: Path) -> bytes:
    if not path.exists():
        _create(path, os.urandom(32))
    return _read(path)


def resolve(state_dir: Path, key_file: Path | None = None) -> tuple[bytes, str]:
    """(key, where it came from: "credential" | "file" | "state-dir")."""
    state_dir = Path(state_dir)
    legacy = state_dir / LEGACY_NAME
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if cred_dir and (Path(cred_dir) / CREDENTIAL).is_file():
        secret = _read(Path(cred_dir) / CREDENTIAL)
        if legacy.exists():
            if _read(legacy) == secret:
                legacy.unlink()  # the credential holds it now: no copy beside the database
                log.info("state: the ID-hash key now comes from the credential; removed the copy in %s", state_dir)
            else:
                log.warning("state: the credential %s differs from %s; the credential is used "
                            "(earlier ID hashes no longer match)", CREDENTIAL, legacy)
        return secret, "credential"
    pointer = state_dir / POINTER_NAME
    if key_file is None and pointer.exists():
        key_file = Path(pointer.read_text(encoding="utf-8").strip())
    if key_file is not None:
        key_file = Path(key_file)
        if not key_file.exists() and legacy.exists():
            _create(key_file, _read(legacy))  # move an existing deployment's key out
            log.info("state: moved the ID-hash key out of %s to %s", state_dir, key_file)
        secret = _load_or_create(key_file)
        if not pointer.exists() or pointer.read_text(encoding="utf-8").strip() != str(key_file):
            tmp = state_dir / (POINTER_NAME + ".tmp")
            tmp.write_text(str(key_file) + "\n", encoding="utf-8")
            os.chmod(tmp, 0o600)
            os.replace(tmp, pointer)
        if legacy.exists() and _read(legacy) == secret:
            legacy.unlink()
            _fsync_dir(state_dir)
        return secret, "file"
    return _load_or_create(legacy), "state-dir"
