"""Map raw columns onto the canonical ones and parse them, refusing what cannot be parsed.

Every problem is reported as one `DataError` that names the column, counts the bad values and
shows the first examples, so the user can fix the file or the config in one go.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from custlens.data.schema import CANONICAL, NUMERIC_COLUMNS, STRING_COLUMNS
from custlens.data.spec import ColumnMap, TimestampOptions
from custlens.errors import DataError

_EXAMPLES = 5
_TZ_SUFFIX = r"(?:Z|[+-]\d{2}:?\d{2})$"


def to_canonical(
    raw: pd.DataFrame,
    columns: ColumnMap,
    timestamps: TimestampOptions | None = None,
    amount_from_quantity_price: bool = False,
) -> pd.DataFrame:
    """Return the canonical transaction frame: renamed, parsed and in the canonical order."""
    mapping = _check_columns(raw, columns, amount_from_quantity_price)
    out = pd.DataFrame(index=raw.index)
    for name, source in mapping.items():
        if name == "timestamp":
            out[name] = parse_timestamps(raw[source], source, timestamps or TimestampOptions())
        elif name in NUMERIC_COLUMNS:
            out[name] = parse_numbers(raw[source], source)
        else:
            out[name] = to_text(raw[source])
    if amount_from_quantity_price:
        out["amount"] = (out["quantity"] * out["unit_price"]).round(10)
    _require_values(out, "amount", mapping.get("amount", "quantity * unit_price"))
    if "order_id" not in out:
        out["order_id"] = derive_order_ids(out["customer_id"], out["timestamp"])
    out = out[[c for c in CANONICAL if c in out.columns]].reset_index(drop=True)
    return canonical_schema(out.columns).validate(out)


def _check_columns(raw: pd.DataFrame, columns: ColumnMap, from_qp: bool) -> dict[str, str]:
    mapping = columns.present()
    required = {"customer_id", "timestamp"} | ({"quantity", "unit_price"} if from_qp else set())
    if not from_qp:
        required.add("amount")
    else:
        mapping.pop("amount", None)
    missing = [name for name in sorted(required) if mapping.get(name) not in raw.columns]
    if missing:
        found = ", ".join(map(repr, raw.columns[:30]))
        raise DataError(
            f"missing required column(s): "
            f"{'; '.join(f'{name} (looked for {mapping.get(name)!r})' for name in missing)}. "
            f"Columns found: {found}. "
            "Map them with data.columns.NAME=RAW_NAME"
        )
    # Optional columns are used when the source has them and silently skipped otherwise.
    return {name: source for name, source in mapping.items() if source in raw}


def to_text(values: pd.Series) -> pd.Series:
    """Strings with surrounding spaces removed; floats holding integers lose their '.0'."""
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if (whole == np.floor(whole)).all():
            values = values.astype("Int64")
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def parse_numbers(values: pd.Series, name: str) -> pd.Series:
    """Finite numbers as float64; anything else is an error that counts and shows examples."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        parsed = values.astype("float64")
    else:
        parsed = pd.to_numeric(values.astype("string").str.strip(), errors="coerce")
        parsed = parsed.astype("float64")
    bad = (parsed.isna() | np.isinf(parsed)) & values.notna()
    if bad.any():
        raise DataError(_bad_values(f"non-numeric values in column {name!r}", values, bad))
    return parsed


def parse_timestamps(values: pd.Series, name: str, options: TimestampOptions) -> pd.Series:
    """Naive datetime64[ns]; one time zone is converted to UTC, a mix of zones is refused."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        text = values.astype("string").str.strip()
        aware = text.str.contains(_TZ_SUFFIX, regex=True, na=False)
        if aware.any() and not aware[text.notna()].all():
            raise DataError(
                _bad_values(
                    f"column {name!r} mixes timestamps with and without a time zone", values, aware
                )
            )
        if aware.any():
            _check_single_offset(text[aware], name, options)
        try:
            parsed = pd.to_datetime(text, errors="coerce", format=options.format, utc=aware.any())
        except ValueError as exc:
            raise DataError(f"cannot parse column {name!r} as timestamps: {exc}") from None
        bad = parsed.isna() & text.notna()
        if bad.any():
            raise DataError(_bad_values(f"unparseable timestamps in column {name!r}", values, bad))
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    missing = parsed.isna()
    if missing.any():
        raise DataError(_bad_values(f"missing timestamps in column {name!r}", values, missing))
    return parsed.astype("datetime64[ns]")


def _check_single_offset(text: pd.Series, name: str, options: TimestampOptions) -> None:
    offsets = text.str.extract(f"({_TZ_SUFFIX})", expand=False).str.replace(":", "")
    offsets = offsets.replace({"Z": "+0000"})
    distinct = sorted(offsets.dropna().unique())
    if len(distinct) > 1 and not options.to_utc:
        raise DataError(
            f"column {name!r} mixes time zones ({', '.join(distinct[:5])}); "
            "set data.timestamps.to_utc=true to convert all of them to UTC"
        )


def derive_order_ids(customers: pd.Series, stamps: pd.Series) -> pd.Series:
    """One order per customer and timestamp, for logs that carry no order id."""
    return customers.astype("string") + "@" + stamps.dt.strftime("%Y-%m-%dT%H:%M:%S")


def _require_values(frame: pd.DataFrame, column: str, source: str) -> None:
    missing = frame[column].isna()
    if missing.any():
        raise DataError(
            _bad_values(f"missing values in column {source!r}", frame[column], missing)
        )


def _bad_values(what: str, values: pd.Series, bad: pd.Series) -> str:
    rows = np.flatnonzero(bad.to_numpy())
    shown = ", ".join(f"row {i + 1}: {values.iloc[i]!r}" for i in rows[:_EXAMPLES])
    return f"{what}: {len(rows):,} of {len(values):,} rows, first {shown}"


def canonical_schema(columns: pd.Index | list[str]) -> pa.DataFrameSchema:
    """The data contract of a canonical transaction frame, for the columns present."""
    checks = {
        "customer_id": pa.Column("string", nullable=True),
        "order_id": pa.Column("string", nullable=True),
        "timestamp": pa.Column("datetime64[ns]", nullable=False),
        "amount": pa.Column("float64", nullable=False),
    }
    checks |= {c: pa.Column("float64", nullable=True) for c in NUMERIC_COLUMNS if c != "amount"}
    checks |= {c: pa.Column("string", nullable=True) for c in STRING_COLUMNS if c not in checks}
    return pa.DataFrameSchema(
        {c: checks[c] for c in columns if c in checks}, strict=False, ordered=False
    )
