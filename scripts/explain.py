"""Why one customer got their scores: a SHAP waterfall for churn, repurchase and CLV.

    .venv/bin/python scripts/explain.py customer_id=ID as_of=YYYY-MM-DD [data=...] \\
        [model_uri=URI] [output=reports/customer_ID.png]

Prints the customer's scores and writes OUTPUT_churn.png, OUTPUT_repurchase.png and
OUTPUT_clv.png, which are not logged to MLflow (the run records the request under a
pseudonym). The features (and the BG/NBD fit inside them) are built over every customer,
as for scoring, so the customer is explained exactly as they were scored.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig, OmegaConf

from custlens.cli import report_job, score_job
from custlens.cli.config import register, to_spec
from custlens.cli.errors import exit_on_user_error
from custlens.cli.runs import required_as_of, tracked
from custlens.data import DataSpec, load
from custlens.errors import CustlensError
from custlens.privacy import new_salt, pseudonym
from custlens.tracking import registry

register()


@hydra.main(config_path="../conf", config_name="explain", version_base=None)
@exit_on_user_error
def main(cfg: DictConfig) -> None:
    """Check the inputs and outputs first, then load, score and explain one customer."""
    if cfg.customer_id is None or str(cfg.customer_id).strip() == "":
        raise CustlensError("customer_id is required: customer_id=ID")
    customer = str(cfg.customer_id)
    as_of = required_as_of(cfg)
    outputs = report_job.customer_outputs(cfg.output, customer, cfg.overwrite)
    model_uri = cfg.model_uri or score_job.default_model(cfg.data.name)
    # The run records the request under a pseudonym: logged artifacts name no real customer.
    with tracked(OmegaConf.merge(cfg, {"customer_id": pseudonym(customer, new_salt())})):
        loaded = load(to_spec(cfg.data, DataSpec))
        scorer = registry.load_scorer(model_uri)
        scores = report_job.explain_customer(loaded, as_of, scorer, customer, outputs)
        print(scores.drop(columns=["as_of"]).T.to_string(header=False))


if __name__ == "__main__":
    main()
