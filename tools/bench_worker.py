"""One in-process benchmark variant, run by tools/benchmark.py in a fresh interpreter.

.venv/bin/python tools/bench_worker.py VARIANT PARQUET AS_OF

Prints one JSON line: the customers (rows) produced. Variants: floor (bare DuckDB GROUP BY
customer_id count and sum), order_pass / product_pass / both_passes (the bare GROUP BY
(customer, order) and (customer, product) every build of this catalogue needs: the lower
bound), features (the feature build alone, kept on DuckDB and read in blocks exactly as
scripts/score.py reads it), pandas_rfm (core RFM with a plain pandas groupby).
"""

from __future__ import annotations

import json
import sys


def feature_blocks(path: str, as_of: str) -> int:
    """Every customer's features, built on DuckDB and fetched block by block, then dropped."""
    from custlens.engines import open_engine
    from custlens.features.blocks import features_on_engine
    from custlens.scoring.batch import DEFAULT_CHUNK

    with open_engine() as con, features_on_engine(path, as_of, con=con) as built:
        return sum(len(block) for block in built.blocks(DEFAULT_CHUNK))


def main(variant: str, path: str, as_of: str) -> None:
    """Run one variant."""
    import reference  # tools/reference.py, beside this script

    work = {
        "floor": lambda: len(reference.duckdb_floor(path)),
        "order_pass": lambda: len(reference.duckdb_order_pass(path)),
        "product_pass": lambda: len(reference.duckdb_product_pass(path)),
        "both_passes": lambda: len(reference.duckdb_both_passes(path)),
        "features": lambda: feature_blocks(path, as_of),
        "pandas_rfm": lambda: len(reference.pandas_rfm(path, as_of)),
    }[variant]
    print(json.dumps({"variant": variant, "rows": work()}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
