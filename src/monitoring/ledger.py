"""The score ledger: every scored table, kept, so that each can be judged once its horizon
closes.

A Parquet dataset partitioned by as_of and model version, one entry each:

    ledger/as_of=2011-09-10/model=custlens-sample%2F3/
        CURRENT            the live write's name (replaced in one step by a new write)
        .lock              held by the one writer of this entry at a time
        w-<id>/part-*.parquet, w-<id>/entry.json

The rows are the scored table plus each task's BG/NBD baseline score (refitted on the history
up to as_of, as the features computed it); `entry.json` holds what the monitor needs about the
run (windows, rows, whether it was backfilled) and the model's reference. Scoring the same
as_of with the same model again replaces the entry atomically: readers see the old or the new
one, never a mixture; other entries are never touched; a killed writer leaves its `w-<id>`
unreferenced, and the next write removes it. The monitor reads the rows by the engine, never
whole into memory.
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from custlens import storage
from custlens.errors import CustlensError, CustlensWarning
from custlens.models.tasks import TASKS

CURRENT = "CURRENT"
LOCK = ".lock"
META = "entry.json"
ROW_GROUP_ROWS = 131_072


@dataclass
class Entry:
    """What one ledger entry records about its run (`entry.json`), and where its rows are."""

    as_of: str
    model_version: str
    horizon_days: int
    repurchase_days: int
    rows: int = 0
    backfilled: bool = False  # scored later, by a model trained only on what came before
    trained_through: str = ""
    data: str = ""
    written_at: str = ""
    reference: dict[str, Any] = field(default_factory=dict)  # the model's (monitoring.reference)
    features: dict[str, Any] = field(default_factory=dict)  # the model's FeatureSpec
    levels: dict[str, Any] = field(default_factory=dict)  # the day's (custlens.models.levels)
    files: list[str] = field(default_factory=list)  # filled when read

    @property
    def day(self) -> pd.Timestamp:
        """The as_of as a timestamp."""
        return pd.Timestamp(self.as_of)

    def closes(self, days: int) -> pd.Timestamp:
        """The last day of a window of `days` after as_of."""
        return self.day + pd.Timedelta(days=days)


def baseline_column(task: str) -> str:
    """The ledger's column of a task's baseline score (BG/NBD refitted at the as_of)."""
    return f"{task}_baseline"


def ledger_rows(scores: pd.DataFrame, features: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """A block of the scored table as the ledger keeps it: with each task's baseline score,
    from the feature rows it was scored on."""
    baselines = {
        baseline_column(name): task.monitor_baseline(features, horizon_days)
        for name, task in TASKS.items()
        if task.score_column in scores
    }
    return scores.assign(**baselines)


def entry_for(scorer: Any, as_of: str, data: str = "", backfilled: bool = False) -> Entry:
    """The record of an entry a scorer writes when it scores `as_of`."""
    reference = getattr(scorer, "reference", None)
    return Entry(
        as_of=str(pd.Timestamp(as_of).date()),
        model_version=scorer.model_version,
        horizon_days=scorer.horizon_days,
        repurchase_days=scorer.feature_spec.repurchase_days,
        backfilled=backfilled,
        trained_through=scorer.trained_through,
        data=data,
        reference=reference.to_dict() if reference is not None else {},
        features=asdict(scorer.feature_spec),
    )


def record(
    root: Path,
    scorer: Any,
    as_of: str,
    scores: pd.DataFrame,
    features: pd.DataFrame,
    *,
    data: str = "",
    backfilled: bool = False,
    levels: Any = None,
) -> Entry:
    """One whole scored table as an entry (scored in memory, such as a backfilled one, at
    the day's `levels`)."""
    entry = entry_for(scorer, as_of, data, backfilled)
    entry.levels = asdict(levels) if levels is not None else {}
    with EntryWriter(root, entry) as writer:
        writer.write(ledger_rows(scores, features, scorer.horizon_days))
        return writer.commit()


class Recorder:
    """A block observer (custlens.scoring.blocks) that writes every scored block to an entry."""

    def __init__(self, writer: EntryWriter) -> None:
        self.writer = writer

    def begin(self, customers: int, buyers: int, levels: Any = None) -> None:
        """Keep the day's levels with the entry."""
        if levels is not None:
            self.writer.entry.levels = asdict(levels)

    def add(self, scores: pd.DataFrame, features: pd.DataFrame) -> None:
        """One block of scores and the feature rows they came from."""
        self.writer.write(ledger_rows(scores, features, self.writer.entry.horizon_days))


def _folder(root: Path, as_of: str, model_version: str) -> Path:
    return root / f"as_of={as_of}" / f"model={quote(model_version, safe='')}"


class EntryWriter:
    """Writes one entry, block by block, into a fresh `w-<id>` folder; `commit` makes it the
    entry's live write in one step. Holds the entry's lock from creation to commit or close,
    so that two runs writing the same entry take turns; a killed writer's folder is left
    unreferenced and removed by the next writer."""

    def __init__(self, root: Path, entry: Entry) -> None:
        self.entry = entry
        self.folder = _folder(Path(root), entry.as_of, entry.model_version)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._claim = storage.Claim(self.folder / LOCK)
        _remove_unreferenced(self.folder)
        self.write_id = f"w-{uuid.uuid4().hex[:12]}"
        self.path = self.folder / self.write_id
        self.path.mkdir()
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.Table] = []

    def write(self, rows: pd.DataFrame) -> None:
        """Append a block of rows (the same columns and dtypes as the first)."""
        schema = self._writer.schema if self._writer else None
        table = pa.Table.from_pandas(rows, schema=schema, preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path / "part-0000.parquet", table.schema)
        self._pending.append(table)
        self.entry.rows += len(rows)
        self._flush(final=False)

    def _flush(self, final: bool) -> None:
        pending = pa.concat_tables(self._pending) if self._pending else None
        if pending is None:
            return
        stop = len(pending) if final else len(pending) - len(pending) % ROW_GROUP_ROWS
        if stop:
            self._writer.write_table(pending.slice(0, stop), row_group_size=ROW_GROUP_ROWS)
        self._pending = [pending.slice(stop)] if stop < len(pending) else []

    def commit(self) -> Entry:
        """Finish the rows and the record, and make them the entry's live write."""
        if self._writer is not None:
            self._flush(final=True)
            self._writer.close()
            self._writer = None
        self.entry.written_at = pd.Timestamp.now(tz="UTC").isoformat()
        record = {k: v for k, v in asdict(self.entry).items() if k != "files"}
        (self.path / META).write_text(json.dumps(record), encoding="utf-8")
        for part in self.path.rglob("*"):
            if part.is_file():
                storage.fsync_file(part)
        storage.fsync_folder(self.path)
        pointer = self.folder / f"{CURRENT}.{self.write_id}"
        pointer.write_text(self.write_id, encoding="utf-8")
        storage.fsync_file(pointer)
        os.replace(pointer, self.folder / CURRENT)
        storage.fsync_folder(self.folder)
        _remove_unreferenced(self.folder)
        self.close()
        self.entry.files = sorted(str(p) for p in self.path.rglob("*.parquet"))
        return self.entry

    def close(self) -> None:
        """Give up: remove an uncommitted write, and release the entry."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._claim is not None:
            if _current(self.folder) != self.write_id:
                storage.remove(self.path)
            self._claim.release()
            self._claim = None

    def __enter__(self) -> EntryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _current(folder: Path) -> str | None:
    try:
        return (folder / CURRENT).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _remove_unreferenced(folder: Path) -> None:
    """Writes no pointer names (left by killed or failed writers): only the entry's lock
    holder calls this, so none of them is in progress."""
    live = _current(folder)
    for path in folder.iterdir():
        if path.name.startswith("w-") and path.name != live:
            storage.remove(path)
        elif path.name.startswith(f"{CURRENT}.") and path.name != CURRENT:
            path.unlink(missing_ok=True)


def clean(root: Path) -> None:
    """Remove what killed writers left in every entry no live writer holds."""
    for folder in Path(root).glob("as_of=*/model=*"):
        lock = folder / LOCK
        try:
            claim = storage.Claim(lock, blocking=False)
        except BlockingIOError:
            continue  # a writer is at work on it
        try:
            _remove_unreferenced(folder)
        finally:
            claim.release()


def entries(root: str | Path) -> list[Entry]:
    """Every readable entry, oldest as_of first. An entry whose files cannot be read (a
    truncated or damaged Parquet file, a missing record) is left out with one warning naming
    it: the rest of the ledger stays usable."""
    out = []
    for folder in sorted(Path(root).glob("as_of=*/model=*")):
        live = _current(folder)
        if live is None:
            continue  # never committed
        try:
            out.append(_read_entry(folder / live))
        except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
            warnings.warn(
                f"ledger entry {folder / live} cannot be read and is left out "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
                CustlensWarning,
                stacklevel=2,
            )
    return sorted(out, key=lambda e: (e.day, e.written_at))


def _read_entry(path: Path) -> Entry:
    record = json.loads((path / META).read_text(encoding="utf-8"))
    entry = Entry(**record)
    entry.files = sorted(str(p) for p in path.rglob("*.parquet"))  # Spark: in a subfolder
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in entry.files)  # footers: cheap
    if rows != entry.rows:
        raise ValueError(f"its files hold {rows:,} rows, its record {entry.rows:,}")
    return entry


def entry_folder(root: str | Path, as_of: str, model_version: str) -> Path:
    """Where one entry lives."""
    return _folder(Path(root), as_of, model_version)


def model_of(folder_name: str) -> str:
    """The model version a `model=...` folder name encodes."""
    return unquote(folder_name.removeprefix("model="))


def check_root(root: str | Path) -> Path:
    """The ledger's folder, created if needed; an unusable path is one clear error."""
    path = Path(root)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CustlensError(f"ledger.path {path} cannot be used: {exc}") from None
    return path
