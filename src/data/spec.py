"""Plain dataclasses describing a data source; Hydra validates configs against them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FileSpec:
    """One raw file of a data source.

    `before` keeps only rows whose raw timestamp is strictly earlier (to count an overlap between
    two files once); `rename` maps this file's column names onto the source's raw names.
    """

    path: str
    before: str | None = None
    rename: dict[str, str] = field(default_factory=dict)


@dataclass
class CsvOptions:
    """How CSV files are read; Parquet files ignore these."""

    delimiter: str = ","
    encoding: str = "utf-8"


@dataclass
class ColumnMap:
    """Raw column name of each canonical column; None when the source lacks it."""

    customer_id: str = "customer_id"
    timestamp: str = "timestamp"
    amount: str | None = "amount"
    order_id: str | None = "order_id"
    quantity: str | None = "quantity"
    unit_price: str | None = "unit_price"
    product_id: str | None = "product_id"
    category: str | None = "category"
    channel: str | None = "channel"
    country: str | None = "country"

    def present(self) -> dict[str, str]:
        """Canonical name -> raw name, for the columns this source maps."""
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass
class TimestampOptions:
    """How timestamps are parsed.

    `format` is a strptime format or "ISO8601". `to_utc` converts timestamps carrying different
    offsets to naive UTC; without it such a mix is an error, since it usually means two sources
    were concatenated without a common clock.
    """

    format: str = "ISO8601"
    to_utc: bool = False


@dataclass
class CleaningSpec:
    """Which cleaning rules run; every rule's effect is counted in the quality report."""

    drop_missing_customer: bool = True
    drop_duplicates: bool = True
    returns: str = "net"  # "net": keep as negative revenue; "drop": remove return lines
    cancellation_prefix: str | None = "C"
    adjustment_prefix: str | None = "A"
    drop_nonpositive_price: bool = True
    non_product_codes: list[str] = field(default_factory=list)
    non_product_patterns: list[str] = field(default_factory=list)
    extreme_quantity: float | None = 10_000.0


@dataclass
class CustomerTableSpec:
    """An optional customer table: one row per customer plus attributes."""

    path: str
    customer_id: str = "customer_id"
    attributes: list[str] | None = None  # None: every other column
    csv: CsvOptions = field(default_factory=CsvOptions)


@dataclass
class SyntheticSpec:
    """Parameters of the synthetic generator (custlens.data.synthetic)."""

    n_customers: int = 2_000
    start: str = "2021-01-01"
    end: str = "2023-12-31"
    seed: int = 0


@dataclass
class DataSpec:
    """A whole data source: raw files (or the generator), column mapping and cleaning rules."""

    name: str = "custom"
    path: str | None = None  # shorthand for a single file: files=[{path: ...}]
    files: list[FileSpec] = field(default_factory=list)
    csv: CsvOptions = field(default_factory=CsvOptions)
    columns: ColumnMap = field(default_factory=ColumnMap)
    amount_from_quantity_price: bool = False
    timestamps: TimestampOptions = field(default_factory=TimestampOptions)
    cleaning: CleaningSpec = field(default_factory=CleaningSpec)
    customers: CustomerTableSpec | None = None
    synthetic: SyntheticSpec | None = None
    # The files are a canonical, already-clean Parquet log that the engine reads where it lies
    # (never loaded into this process): for scoring logs larger than memory. No cleaning rule
    # runs; only scripts/score.py and scripts/build_features.py accept it.
    on_engine: bool = False

    def all_files(self) -> list[FileSpec]:
        """The files to read: `files`, or the single `path`."""
        if self.files:
            return list(self.files)
        return [FileSpec(self.path)] if self.path else []
