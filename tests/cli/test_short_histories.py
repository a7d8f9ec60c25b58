"""Logs of a few months train and are judged out of time with no settings; shorter ones get one
clear message; unexpected failures end with one line and a logged traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from custlens import training
from custlens.cli.errors import exit_on_user_error
from custlens.config import compose_config, to_spec, training_spec
from custlens.data import DataSpec, load
from custlens.models.estimators.training import HELD_OUT, OUT_OF_TIME
from tests.helpers import run_script

ENDS = {6: "2021-06-30", 7: "2021-07-31", 9: "2021-09-30", 12: "2021-12-31"}


def train(months: int, horizon: int) -> training.Trained:
    """The default training on a synthetic log of `months` months (smoke-sized), by the
    library."""
    cfg = compose_config(
        "train",
        [
            "data=synthetic",
            "data.synthetic.n_customers=1500",
            "data.synthetic.start=2021-01-01",
            f"data.synthetic.end={ENDS[months]}",
            f"horizon_days={horizon}",
            "tracking=disabled",
            "models.churn.n_estimators=40",
            "models.repurchase.n_estimators=40",
            "models.clv.n_estimators=40",
        ],
    )
    return training.train(load(to_spec(cfg.data, DataSpec)), training_spec(cfg))


@pytest.mark.parametrize(
    ("months", "horizon", "design"),
    # Out of time needs two labelled horizons before the test cutoff; else held-out customers.
    [(6, 30, HELD_OUT), (9, 30, OUT_OF_TIME), (9, 90, HELD_OUT), (12, 30, OUT_OF_TIME),
     (12, 90, HELD_OUT)],
)  # fmt: skip
def test_short_logs_train_score_and_are_judged(months: int, horizon: int, design: str) -> None:
    result = train(months, horizon)
    assert result.evaluation is not None and result.scorer is not None
    assert {"churn", "repurchase", "clv"} <= set(result.evaluation.leaderboard["task"])
    assert result.scorer.backtest.design == design
    scores = result.scorer.score_features(result.today)
    assert len(scores) == len(result.today) and scores["churn_probability"].between(0, 1).all()


def test_a_log_long_enough_to_train_but_not_to_judge_is_exported_unjudged(
    tmp_path: Path,
) -> None:
    result = train(7, 90)
    assert result.evaluation is None and result.scorer is not None
    assert result.scorer.backtest is None
    done = run_script(
        "train",
        "data=synthetic",
        "data.synthetic.n_customers=1500",
        "data.synthetic.start=2021-01-01",
        f"data.synthetic.end={ENDS[7]}",
        "horizon_days=90",
        "tracking=disabled",
        "models.churn.n_estimators=20",
        "models.repurchase.n_estimators=20",
        "models.clv.n_estimators=20",
        f"hydra.run.dir={tmp_path}",
    )
    assert done.returncode == 0, done.stderr
    assert "Not judged: the history covers" in done.stdout


def test_a_log_too_short_to_train_gets_one_message(tmp_path: Path) -> None:
    done = run_script(
        "train",
        "data=synthetic",
        "data.synthetic.n_customers=300",
        "data.synthetic.start=2021-01-01",
        "data.synthetic.end=2021-06-30",
        "horizon_days=90",
        "tracking=disabled",
        f"hydra.run.dir={tmp_path}",
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()[-1:]
    assert re.match(r"custlens: error: the history covers 179 days .* needs at least 180", line)
    assert "judging the model out of time 270" in line


def test_an_unexpected_error_is_one_line_and_a_logged_traceback(capsys) -> None:
    def broken() -> None:
        raise ZeroDivisionError("division by zero in a bug")

    with pytest.raises(SystemExit) as stop:
        exit_on_user_error(broken)()
    assert stop.value.code == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    log = Path(re.search(r"traceback in (\S+)\)$", line).group(1))
    assert line.startswith("custlens: unexpected error: ZeroDivisionError: division by zero")
    assert "Traceback" in log.read_text() and "in broken" in log.read_text()
    log.unlink()
