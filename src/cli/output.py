"""Writing result tables: atomically, never over an existing file unless asked."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pandas as pd

from custlens.errors import CustlensError

SUFFIXES = (".parquet", ".csv")


def check_output(path: str | Path | None, overwrite: bool) -> Path:
    """Refuse a missing path, an unknown suffix or an existing file (before any work is done)."""
    if not path:
        raise CustlensError("no output file given: set output=FILE.parquet or output=FILE.csv")
    out = Path(path)
    if out.suffix.lower() not in SUFFIXES:
        raise CustlensError(f"output must end in .parquet or .csv, not {out.name!r}")
    if out.exists() and not overwrite:
        raise CustlensError(f"{out} exists; pass overwrite=true to replace it")
    if not out.parent.exists():
        raise CustlensError(f"the output folder {out.parent} does not exist")
    return out


def write_atomically(frame: pd.DataFrame, path: Path) -> None:
    """Write to a temporary file beside `path`, then rename it: readers never see half a file."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        if path.suffix.lower() == ".parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_csv(temporary, index=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def replace_folder(written: Path, path: Path) -> None:
    """Move a finished folder to `path` by rename, replacing (then deleting) an older one."""
    old = None
    if path.exists():
        old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex}")
        os.replace(path, old)
    os.replace(written, path)
    if old is not None:
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink()


def staging_folder(path: Path) -> Path:
    """A fresh name beside `path` for output that is renamed into place once complete."""
    return path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")
