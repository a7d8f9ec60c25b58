"""Writing files that survive faults: staged beside their destination under a lock, committed
by one atomic rename (or an exclusive link that refuses an existing file), and stale staging
left by a killed run removed by the next.

A staging path is held by an exclusive `flock` on a lock file for as long as its writer lives:
the kernel drops the lock when the process dies, however it dies, so a later run tells a
killed run's leftovers (lock free) from a concurrent run's work in progress (lock held).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from custlens.errors import CustlensError

STAGING = ".custlens-staging-"  # prefix of every staging name: .custlens-staging-<target>-<id>


class Claim:
    """An exclusive, process-lifetime lock on a lock file (`flock`)."""

    def __init__(self, path: Path, blocking: bool = True) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(self._fd)
            raise

    def release(self) -> None:
        """Drop the lock (the lock file stays: unlinking it would race with new claimants)."""
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_held(lock: Path) -> bool:
    """Whether a live process holds `lock`."""
    try:
        Claim(lock, blocking=False).release()
    except BlockingIOError:
        return True
    except FileNotFoundError:
        return False
    return False


def remove(path: Path) -> None:
    """Delete a file or a folder, whichever it is (gone already: nothing to do)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def clean_stale(folder: Path, target: str | None = None) -> list[Path]:
    """Remove the staging left in `folder` by runs that died (for one target's name, or all):
    those whose lock no live process holds. Returns what was removed."""
    prefix = STAGING + (f"{target}-" if target else "")
    removed = []
    if not folder.is_dir():
        return removed
    for lock in folder.glob(f"{prefix}*.lock"):
        staged = lock.with_suffix("")
        if is_held(lock):
            continue
        remove(staged)
        lock.unlink(missing_ok=True)
        removed.append(staged)
    return removed


@contextlib.contextmanager
def staged(target: Path, folder: bool = False) -> Iterator[Path]:
    """A fresh staging path beside `target` (a file, or a folder with `folder`), held by its
    lock while the block runs and removed after it unless committed (moved) meanwhile; stale
    staging of the same target left by killed runs is removed first."""
    parent = target.parent
    clean_stale(parent, target.name)
    path = parent / f"{STAGING}{target.name}-{uuid.uuid4().hex[:12]}"
    lock = path.with_name(path.name + ".lock")
    with Claim(lock):
        if folder:
            path.mkdir()
        try:
            yield path
        finally:
            remove(path)
            lock.unlink(missing_ok=True)


def fsync_file(path: Path) -> None:
    """Flush a file's content to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(path: Path) -> None:
    """Flush a folder's entries (a rename into it) to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit_file(staging: Path, target: Path, overwrite: bool) -> None:
    """Put a finished staging file at `target` in one step: replacing an existing one with
    `overwrite`, else only if none exists, even when another run commits at the same moment
    (a hard link fails on an existing name, atomically)."""
    fsync_file(staging)
    if overwrite:
        os.replace(staging, target)
    else:
        try:
            os.link(staging, target)
        except FileExistsError:
            raise CustlensError(
                f"{target} exists (written meanwhile by another run?); nothing was written: "
                "pass overwrite=true to replace it"
            ) from None
        staging.unlink()
    fsync_folder(target.parent)


def commit_folder(staging: Path, target: Path, overwrite: bool) -> None:
    """Put a finished staging folder at `target`: renamed in if nothing is there (a rename
    onto an existing non-empty folder fails, so two runs cannot both land), or with
    `overwrite` in place of the old one, which is moved aside first and then deleted."""
    if target.exists() and not overwrite:
        raise CustlensError(f"{target} exists; nothing was written: pass overwrite=true")
    old = None
    if target.exists():
        old = target.with_name(f"{STAGING}{target.name}-old-{uuid.uuid4().hex[:12]}")
        os.replace(target, old)
    try:
        os.rename(staging, target)
    except OSError as exc:
        if old is not None:
            os.replace(old, target)
        raise CustlensError(f"{target} was written meanwhile by another run: {exc}") from None
    fsync_folder(target.parent)
    if old is not None:
        remove(old)
