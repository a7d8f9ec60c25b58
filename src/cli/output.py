"""Writing results: atomically, never over an existing file unless asked."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from custlens.errors import CustlensError

SUFFIXES = (".parquet", ".csv")


def check_output(
    path: str | Path | None, overwrite: bool, suffixes: tuple[str, ...] = SUFFIXES
) -> Path:
    """Refuse a missing path, an unknown suffix or an existing file (before any work is done)."""
    allowed = " or ".join(suffixes)
    if not path:
        raise CustlensError(f"no output file given: set output=FILE ({allowed})")
    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise CustlensError(f"output must end in {allowed}, not {out.name!r}")
    if out.exists() and not overwrite:
        raise CustlensError(f"{out} exists; pass overwrite=true to replace it")
    if not out.parent.exists():
        raise CustlensError(f"the output folder {out.parent} does not exist")
    return out


def _atomically(path: Path, write: Callable[[str], None]) -> None:
    """Write to a temporary file beside `path`, then rename it: readers never see half a file."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_atomically(frame: pd.DataFrame, path: Path) -> None:
    """A table as Parquet or CSV (by suffix), atomically."""
    if path.suffix.lower() == ".parquet":
        _atomically(path, lambda name: frame.to_parquet(name, index=False))
    else:
        _atomically(path, lambda name: frame.to_csv(name, index=False))


def write_text_atomically(text: str, path: Path) -> None:
    """A text file (an HTML report), atomically."""
    _atomically(path, lambda name: Path(name).write_text(text, encoding="utf-8"))


def save_figure_atomically(figure: object, path: Path) -> None:
    """A matplotlib figure, in the format its suffix names, atomically."""
    fmt = path.suffix.lstrip(".").lower()
    _atomically(path, lambda name: figure.savefig(name, format=fmt))


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
