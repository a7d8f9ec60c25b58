"""Thread settings: every core for users, CUSTLENS_THREADS for tests and CI, applied to every
library that computes in parallel."""

from __future__ import annotations

import os

import numba
import pytest

from custlens import runtime
from custlens.engines.local import connect
from custlens.errors import CustlensError


def test_thread_count_default_environment_and_setting(monkeypatch) -> None:
    monkeypatch.delenv(runtime.ENV, raising=False)
    assert runtime.thread_count() == runtime.cores() == len(os.sched_getaffinity(0))
    monkeypatch.setenv(runtime.ENV, "3")
    assert runtime.thread_count() == 3
    assert runtime.thread_count(5) == 5  # a setting wins over the environment
    for bad in ("0", "two"):
        monkeypatch.setenv(runtime.ENV, bad)
        with pytest.raises(CustlensError, match=runtime.ENV):
            runtime.thread_count()
    with pytest.raises(CustlensError, match="threads"):
        runtime.thread_count(0)


def test_the_tests_run_on_one_thread() -> None:
    assert os.environ[runtime.ENV] == "1"
    assert runtime.thread_count() == 1


def test_duckdb_and_the_scorer_take_the_thread_count(trained) -> None:
    con = connect(threads=2)
    assert con.raw_sql("SELECT current_setting('threads')").fetchone()[0] == 2
    assert connect().raw_sql("SELECT current_setting('threads')").fetchone()[0] == 1
    scorer = trained.scorer
    scorer.use_threads(2)
    assert scorer.models["churn"].model_.model_.n_jobs == 2
    assert numba.get_num_threads() == min(2, numba.config.NUMBA_NUM_THREADS)
    scorer.use_threads()
    assert scorer.models["clv"].model_.model_.n_jobs == 1 and numba.get_num_threads() == 1


def test_training_settings_take_the_thread_count(monkeypatch) -> None:
    from custlens.config import compose_config, training_spec

    def threads(overrides: list[str]) -> set[int]:
        spec = training_spec(compose_config("train", overrides))
        return {s.n_jobs for s in spec.model_settings().values()}

    assert compose_config("train", ["debug=smoke"]).threads is None  # users: every core
    assert threads(["debug=smoke"]) == {1}
    monkeypatch.setenv(runtime.ENV, "2")
    assert threads(["debug=smoke"]) == {2}
    assert threads(["threads=3"]) == {3}
