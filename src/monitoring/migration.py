"""Segment migration between consecutive ledger entries: how many customers, and how much of
the later entry's predicted value, moved from each segment to each other."""

from __future__ import annotations

import ibis
import pandas as pd

from custlens.monitoring.ledger import Entry

NEW, GONE = "(new)", "(gone)"


def latest_per_day(entries: list[Entry]) -> list[Entry]:
    """One entry per as_of, the last written (entries come oldest first)."""
    by_day: dict[str, Entry] = {}
    for entry in entries:
        by_day[entry.as_of] = entry
    return [by_day[d] for d in sorted(by_day)]


def migration(entries: list[Entry], con: ibis.BaseBackend) -> pd.DataFrame:
    """From each entry to the next (by as_of): customers and predicted value by (from
    segment, to segment); customers new in the later entry come from "(new)", those missing
    from it go to "(gone)"."""
    parts = []
    chain = latest_per_day(entries)
    for before, after in zip(chain, chain[1:], strict=False):
        a = con.read_parquet(before.files).select("customer_id", old="segment_name")
        b = con.read_parquet(after.files).select("customer_id", new="segment_name", value="clv")
        joined = a.outer_join(b, a.customer_id == b.customer_id)
        moved = joined.select(
            from_segment=joined.old.fill_null(NEW),
            to_segment=joined.new.fill_null(GONE),
            value=joined.value.fill_null(0.0),
        )
        table = (
            moved.group_by(["from_segment", "to_segment"])
            .aggregate(customers=moved.count(), predicted_value=moved.value.sum())
            .to_pandas()
        )
        table.insert(0, "to_as_of", after.as_of)
        table.insert(0, "from_as_of", before.as_of)
        parts.append(table)
    columns = ["from_as_of", "to_as_of", "from_segment", "to_segment", "customers",
               "predicted_value"]  # fmt: skip
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(columns[:4], ignore_index=True)[columns]
