"""One entry point from a data source description to clean canonical transactions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from custlens.data.clean import clean_transactions, non_product_customers
from custlens.data.on_engine import parquet_log
from custlens.data.quality import QualityReport
from custlens.data.read import read_files, read_table
from custlens.data.spec import CleaningSpec, ColumnMap, CustomerTableSpec, DataSpec
from custlens.data.validate import to_canonical, to_text
from custlens.errors import DataError


@dataclass(frozen=True)
class LoadedData:
    """Clean transactions (in memory, or the path of a log the engine reads where it lies),
    the optional customer table, the quality report and, when the non-product rule is on, each
    customer's first non-product line (`customer_id`, `first`)."""

    transactions: pd.DataFrame | str
    customers: pd.DataFrame | None
    report: QualityReport
    non_product: pd.DataFrame | None = None

    def customers_as_of(self, as_of: str | date) -> pd.DataFrame | None:
        """The customer table, plus a row (no attributes) for each customer with a non-product
        line on or before `as_of`: the customers scored beside those with a kept purchase."""
        if self.non_product is None:
            return self.customers
        end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
        ids = self.non_product.loc[self.non_product["first"] < end, ["customer_id"]]
        if ids.empty:
            return self.customers
        if self.customers is None:
            return ids.reset_index(drop=True)
        extra = ids.loc[~ids["customer_id"].isin(self.customers["customer_id"])]
        return pd.concat([self.customers, extra], ignore_index=True)


def load(spec: DataSpec) -> LoadedData:
    """Read, validate and clean a data source described by `spec`, into memory."""
    if spec.on_engine:
        raise DataError(
            f"data source {spec.name!r} has on_engine=true, which only scripts/score.py and "
            "scripts/build_features.py accept: training, reports and explanations read the log "
            "into memory (drop data.on_engine, or use those two commands)"
        )
    canonical = load_canonical(spec)
    transactions, report = clean_transactions(canonical, spec.cleaning, source=spec.name)
    customers = load_customers(spec.customers) if spec.customers else None
    return LoadedData(
        transactions, customers, report, non_product_customers(canonical, spec.cleaning)
    )


def from_frame(
    transactions: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    cleaning: CleaningSpec | None = None,
) -> LoadedData:
    """`load` for a DataFrame with the canonical columns (the Python API): validated, cleaned
    by `cleaning` (default rules), with the customer table's ids as text."""
    if not isinstance(transactions, pd.DataFrame):
        raise DataError(
            f"transactions must be a pandas DataFrame, not {type(transactions).__name__}"
        )
    spec = cleaning or CleaningSpec()
    canonical = to_canonical(transactions, ColumnMap())
    clean, report = clean_transactions(canonical, spec, source="DataFrame")
    table = None
    if customers is not None:
        if "customer_id" not in customers:
            raise DataError("the customer table needs a customer_id column")
        table = customers.assign(customer_id=to_text(customers["customer_id"]))
    return LoadedData(clean, table, report, non_product_customers(canonical, spec))


def load_for_scoring(spec: DataSpec) -> LoadedData:
    """`load`, or for an `on_engine` source the checked path of its Parquet log."""
    if not spec.on_engine:
        return load(spec)
    path, report = parquet_log(spec)
    customers = load_customers(spec.customers) if spec.customers else None
    return LoadedData(path, customers, report)


def load_canonical(spec: DataSpec) -> pd.DataFrame:
    """Raw files (or the generator) mapped onto canonical columns, before cleaning."""
    if spec.synthetic is not None:
        from custlens.data.synthetic import generate_transactions

        s = spec.synthetic
        raw, _truth = generate_transactions(s.n_customers, s.start, s.end, seed=s.seed)
    else:
        raw = read_files(spec.all_files(), spec.csv, timestamp_column=spec.columns.timestamp)
    return to_canonical(raw, spec.columns, spec.timestamps, spec.amount_from_quantity_price)


def load_customers(spec: CustomerTableSpec) -> pd.DataFrame:
    """The customer table: `customer_id` (string, unique) first, then the chosen attributes."""
    table = read_table(spec.path, spec.csv)
    if spec.customer_id not in table.columns:
        raise DataError(
            f"customer table {spec.path} has no column {spec.customer_id!r}; "
            f"columns found: {', '.join(map(repr, table.columns))}"
        )
    attributes = spec.attributes
    if attributes is None:
        attributes = [c for c in table.columns if c != spec.customer_id]
    absent = [a for a in attributes if a not in table.columns]
    if absent:
        raise DataError(f"customer table {spec.path} lacks attribute column(s) {absent}")
    out = table[[spec.customer_id, *attributes]].rename(columns={spec.customer_id: "customer_id"})
    out["customer_id"] = to_text(out["customer_id"])
    if out["customer_id"].isna().any():
        raise DataError(f"customer table {spec.path} has rows without a customer id")
    repeated = out["customer_id"][out["customer_id"].duplicated()]
    if len(repeated):
        raise DataError(
            f"customer table {spec.path} repeats {len(repeated):,} customer id(s), "
            f"first {list(repeated[:5])}"
        )
    return out.reset_index(drop=True)
