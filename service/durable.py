"""Files that survive a crash: write to a temporary file, fsync, rename, fsync the folder.

Used by the durable queues, the outbox, the pipeline's commit and the folder intake. Folders
that hold personal data are private (0700); files are written 0600.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make sure it is 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != 0o700:
        os.chmod(path, 0o700)
    return path


def write_file_durably(target: Path, data: bytes, tmp_dir: Path | None = None, *,
                       replace: bool = True, mtime: float | None = None) -> bool:
    """Write ``data`` to ``target`` atomically: tmp file (0600) + fsync + rename + dir fsync.

    ``replace=False`` refuses to clobber an existing target (uses link(2)) and returns
    False if it existed. ``tmp_dir`` must be on the same file system (default: the
    target's directory).
    """
    tmp_dir = tmp_dir or target.parent
    tmp = tmp_dir / f".{target.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        if mtime is not None:
            os.utime(tmp, (mtime, mtime))
        if replace:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)
            except FileExistsError:
                return False
            finally:
                os.unlink(tmp)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(target.parent)
    return True


def create_exclusive(path: Path, data: bytes) -> bool:
    """Write a new private file (0600) that must not exist yet, durably, never through a
    symlink; False (nothing written) when it exists. For secrets and keys."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        return False
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(path.parent)
    return True
