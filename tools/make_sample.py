"""Rebuild the bundled sample from the full Online Retail data in shared/data.

    .venv/bin/python tools/make_sample.py [fraction=0.25] [seed=20091201]

Keeps the complete raw history of a seeded random share of the customers, and the same share
of the invoices without a customer id, with every raw column and all their mess.
"""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from custlens.cli.errors import exit_on_user_error
from custlens.config import register, to_spec
from custlens.data import DataSpec
from custlens.data.read import read_files
from custlens.data.sample import sample_log

register()


@hydra.main(config_path="../conf", config_name="make_sample", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Write the sample as zstd Parquet."""
    spec = to_spec(cfg.data, DataSpec)
    raw = read_files(spec.all_files(), spec.csv, timestamp_column=spec.columns.timestamp)
    sample = sample_log(
        raw, spec.columns.customer_id, spec.columns.order_id, cfg.fraction, cfg.seed
    )
    out = Path(cfg.output)
    sample.to_parquet(out, index=False, compression="zstd", compression_level=19)
    customers = sample[spec.columns.customer_id].nunique()
    print(
        f"wrote {out}: {len(sample):,} lines, {customers:,} customers, "
        f"{out.stat().st_size / 1e6:.2f} MB"
    )


if __name__ == "__main__":
    main()
