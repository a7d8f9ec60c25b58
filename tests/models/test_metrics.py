"""Metrics against hand computations, scikit-learn, oracles and chance."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

from custlens.errors import CustlensError
from custlens.models.evaluation import metrics as m

# --- hand-computed examples -------------------------------------------------------------


def test_roc_auc_by_hand() -> None:
    # positives 0.35, 0.8 vs negatives 0.1, 0.4: pairs won 0.35>0.1, 0.8>0.1, 0.8>0.4 -> 3/4
    assert m.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)


def test_roc_auc_counts_ties_as_half() -> None:
    # positive 0.2 vs negatives (0.2 tie -> 0.5, 0.1 -> 1); positive 0.9 wins both: 3.5/4
    assert m.roc_auc([0, 1, 0, 1], [0.2, 0.2, 0.1, 0.9]) == pytest.approx(0.875)


def test_pr_auc_by_hand() -> None:
    # ranked 0.8(+) 0.4(-) 0.35(+) 0.1(-): recall steps of 0.5 at precision 1 and 2/3
    # AP = 0.5 * 1 + 0.5 * 2/3 = 0.8333
    assert m.pr_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(5 / 6)


def test_brier_and_log_loss_by_hand() -> None:
    # brier: (0.2^2 + 0.4^2) / 2 = 0.1; log loss: -(ln 0.8 + ln 0.6) / 2 = 0.366985
    assert m.brier([0, 1], [0.2, 0.6]) == pytest.approx(0.1)
    assert m.log_loss([1, 0], [0.8, 0.4]) == pytest.approx(0.366985, abs=1e-6)


def test_log_loss_clips_certain_mistakes() -> None:
    # p = 0 for a positive is clipped to 1e-15: -ln(1e-15) = 34.5388
    assert m.log_loss([1, 0], [0.0, 0.0]) == pytest.approx(34.5388 / 2, abs=1e-4)


def test_ece_and_reliability_table_by_hand() -> None:
    # 7 rows in 3 equal-count bins of sizes 3, 2, 2 (the first bin takes the extra row):
    # bin 1: p mean 0.2, y mean 1/3; bin 2: 0.45 vs 0.5; bin 3: 0.65 vs 1
    # ECE = 3/7 * 2/15 + 2/7 * 0.05 + 2/7 * 0.35 = 6/35
    y = [0, 0, 1, 0, 1, 1, 1]
    p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    table = m.reliability_table(y, p, bins=3)
    assert list(table.columns) == ["bin", "n", "mean_predicted", "observed_rate"]
    assert table["n"].tolist() == [3, 2, 2]
    np.testing.assert_allclose(table["mean_predicted"], [0.2, 0.45, 0.65])
    np.testing.assert_allclose(table["observed_rate"], [1 / 3, 0.5, 1.0])
    assert m.expected_calibration_error(y, p, bins=3) == pytest.approx(6 / 35)


def test_ece_two_bins_by_hand() -> None:
    # bins {0.1, 0.3} -> |0 - 0.2| and {0.6, 0.8} -> |1 - 0.7|: 0.5 * 0.2 + 0.5 * 0.3
    assert m.expected_calibration_error([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8], 2) == 0.25


def test_ece_splits_ties_by_row_order() -> None:
    # all p = 0.5: the stable sort keeps row order, so the bins are rows {0,1} and {2,3}
    assert m.expected_calibration_error([1, 0, 1, 0], [0.5] * 4, bins=2) == 0.0
    assert m.expected_calibration_error([1, 1, 0, 0], [0.5] * 4, bins=2) == 0.5


def test_ece_is_zero_when_every_bin_is_calibrated() -> None:
    # bin k holds 20 rows at p = k/10 with exactly 2k positives; rows shuffled
    p = np.repeat(np.arange(10) / 10, 20)
    y = np.concatenate([np.r_[np.ones(2 * k), np.zeros(20 - 2 * k)] for k in range(10)])
    order = np.random.default_rng(1).permutation(p.size)
    assert m.expected_calibration_error(y[order], p[order]) == pytest.approx(0.0, abs=1e-12)


def test_top_decile_lift_uses_ceil_n_over_10_rows() -> None:
    # n = 30 -> exactly ceil(30 / 10) = 3 rows; 6 positives, overall rate 0.2.
    # top 3 are positive: 1.0 / 0.2 = 5 (a 4th row, negative, would give 3.75)
    y = np.zeros(30)
    y[[0, 1, 2, 10, 11, 12]] = 1
    p = np.linspace(1, 0, 30)
    assert m.top_decile_lift(y, p) == pytest.approx(5.0)
    # n = 31 -> 4 rows: 3 positives of 4 = 0.75 over 6/31 = 3.875
    assert m.top_decile_lift(np.r_[y, 0], np.r_[p, -1]) == pytest.approx(3.875)


def test_top_decile_lift_breaks_ties_by_row_order() -> None:
    # n = 10 -> 1 row; all scores tied, so row 0 (negative) is taken: lift 0
    assert m.top_decile_lift([0, 1, 0, 0, 0, 0, 0, 0, 0, 0], [0.3] * 10) == 0.0


def test_normalized_gini_by_hand() -> None:
    # y = 1..4 (total 10). Perfect order 4,3,2,1: Lorenz .4,.7,.9,1 -> area .625 -> gini .25
    # order 4,2,3,1: Lorenz .4,.6,.9,1 -> area .6 -> gini .2 -> normalized .8
    # reversed 1,2,3,4: area .375 -> gini -.25 -> normalized -1
    y = [1, 2, 3, 4]
    assert m.normalized_gini(y, y) == pytest.approx(1.0)
    assert m.normalized_gini(y, [1, 3, 2, 4]) == pytest.approx(0.8)
    assert m.normalized_gini(y, [4, 3, 2, 1]) == pytest.approx(-1.0)


def test_normalized_gini_averages_ties() -> None:
    # v ties {3,4} at the top (sum 7) and {1,2} below: Lorenz (0,0) (.5,.7) (1,1)
    # area = .5 * .35 + .5 * .85 = .6 -> gini .2 -> normalized .8; constant v -> exactly 0
    assert m.normalized_gini([1, 2, 3, 4], [1, 1, 2, 2]) == pytest.approx(0.8)
    assert m.normalized_gini([1, 2, 3, 4], [7, 7, 7, 7]) == 0.0


def test_top_decile_capture_by_hand() -> None:
    # y = v = 1..20, total 210; top ceil(20/10) = 2 rows hold 20 + 19 = 39
    y = np.arange(1, 21)
    assert m.top_decile_capture(y, y) == pytest.approx(39 / 210)


def test_spearman_mae_by_hand() -> None:
    # rank differences 0, 1, -1, 0: 1 - 6 * 2 / (4 * 15) = 0.8; MAE (1 + 0 + 2) / 3 = 1
    assert m.spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert m.spearman([1, 2, 3], [5, 5, 5]) == 0.0
    assert m.mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)


@pytest.mark.parametrize("n", [50, 150_000])  # below and above the remembered sorts
def test_spearman_equals_scipy_with_ties_and_repeated_sorts_change_nothing(n: int) -> None:
    from scipy import stats

    rng = np.random.default_rng(n)
    y = rng.poisson(1.0, n).astype(float)  # many ties
    v = np.round(y + rng.normal(0, 1, n), 1)
    assert m.spearman(y, v) == pytest.approx(stats.spearmanr(y, v).statistic, abs=1e-12)
    first = (m.normalized_gini(y, v), m.top_decile_capture(y, v), m.roc_auc(y > 0, v))
    again = (m.normalized_gini(y, v), m.top_decile_capture(y, v), m.roc_auc(y > 0, v))
    assert first == again
    w = y + rng.normal(0, 1, n)  # no ties: the top decile does not depend on the rows' order
    capture = m.top_decile_capture(y, w)
    shuffled = rng.permutation(n)  # same values, another order: a remembered sort must not leak
    assert m.top_decile_capture(y[shuffled], w[shuffled]) == pytest.approx(capture)
    assert m.top_decile_capture(y, w[::-1].copy()) < capture


def test_decile_table_by_hand() -> None:
    # 23 rows -> sizes 3,3,3,2,...; decile 1 = the three highest predictions 23, 22, 21
    y = np.arange(1, 24, dtype=float)
    table = m.decile_table(y, y)
    assert list(table.columns) == [
        "decile",
        "n",
        "mean_predicted",
        "mean_actual",
        "sum_actual",
        "share_of_actual",
    ]
    assert table["decile"].tolist() == list(range(1, 11))
    assert table["n"].tolist() == [3, 3, 3] + [2] * 7
    assert table.loc[0, "mean_actual"] == pytest.approx(22.0)
    assert table.loc[0, "share_of_actual"] == pytest.approx(66 / 276)  # total 23 * 24 / 2
    assert table["share_of_actual"].sum() == pytest.approx(1.0)


def test_decile_mape_by_hand() -> None:
    # v = 2y: every decile is off by |2m - m| / m = 1
    y = np.arange(1, 21, dtype=float)
    assert m.decile_mape(y, 2 * y) == pytest.approx(1.0)


def test_decile_mape_skips_zero_actual_deciles() -> None:
    # deciles 1-9 predict 3 against actual 2 (error .5); decile 10 has actual 0: skipped
    y = np.r_[0.0, 0.0, np.full(18, 2.0)]
    v = np.r_[1.0, 1.0, np.full(18, 3.0)]
    assert m.decile_mape(y, v) == pytest.approx(0.5)


def test_metric_definitions_know_their_direction_and_kind() -> None:
    y, p = [0, 1, 0, 1], [0.2, 0.7, 0.4, 0.9]
    assert m.ECE(y, p) == m.expected_calibration_error(y, p)
    assert m.ECE.lower_is_better and m.ECE.probability and not m.ROC_AUC.probability
    assert m.ROC_AUC.better(0.8, 0.7) and not m.ROC_AUC.better(0.6, 0.7)
    assert m.BRIER.better(0.1, 0.2) and not m.BRIER.better(0.3, 0.2)
    value = m.GINI(np.arange(1, 21), np.arange(1, 21) * 1.5)
    assert isinstance(value, float) and value == pytest.approx(1.0)


def test_accepts_booleans_and_series() -> None:
    y = pd.Series([False, True, False, True], index=list("abcd"))
    p = pd.Series([0.1, 0.8, 0.3, 0.6], index=list("abcd"))
    assert m.roc_auc(y, p) == 1.0


# --- oracle and chance ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    value = rng.lognormal(mean=3.0, sigma=1.0, size=20_000)
    return rng.binomial(1, 0.3, size=value.size).astype(float), value


def test_oracle_ranks_perfectly(sample: tuple[np.ndarray, np.ndarray]) -> None:
    y, value = sample
    assert m.roc_auc(y, y) == 1.0
    assert m.pr_auc(y, y) == 1.0
    assert m.normalized_gini(value, value) == pytest.approx(1.0)
    true_top = np.sort(value)[::-1][:2_000].sum() / value.sum()
    assert m.top_decile_capture(value, value) == pytest.approx(true_top)


def test_shuffled_ranking_scores_near_chance(sample: tuple[np.ndarray, np.ndarray]) -> None:
    y, value = sample
    rng = np.random.default_rng(7)
    assert m.roc_auc(y, rng.permutation(y)) == pytest.approx(0.5, abs=0.02)
    assert m.normalized_gini(value, rng.permutation(value)) == pytest.approx(0.0, abs=0.03)
    assert m.top_decile_capture(value, rng.permutation(value)) == pytest.approx(0.1, abs=0.02)


# --- scikit-learn and identities ----------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.binomial(1, 0.25, size=2_000)
    p = np.round(np.clip(0.25 + 0.2 * (y - 0.25) + rng.normal(0, 0.15, y.size), 0, 1), 2)
    assert m.roc_auc(y, p) == pytest.approx(sk.roc_auc_score(y, p), abs=1e-12)
    assert m.pr_auc(y, p) == pytest.approx(sk.average_precision_score(y, p), abs=1e-12)
    assert m.brier(y, p) == pytest.approx(sk.brier_score_loss(y, p), abs=1e-12)
    clipped = np.clip(p, 1e-15, 1 - 1e-15)  # the same clip, so exact zeros/ones agree
    assert m.log_loss(y, p) == pytest.approx(sk.log_loss(y, clipped), rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(0, 5)), min_size=2, max_size=60).filter(
        lambda rows: len({r[0] for r in rows}) == 2
    )
)
def test_gini_equals_two_auc_minus_one_for_binary_y(rows: list[tuple[int, int]]) -> None:
    y, v = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    assert m.normalized_gini(y, v) == pytest.approx(2 * m.roc_auc(y, v) - 1, abs=1e-12)


def test_gini_equals_two_auc_minus_one_on_random_data() -> None:
    rng = np.random.default_rng(3)
    y = rng.binomial(1, 0.2, size=5_000)
    v = np.round(rng.normal(y * 0.5, 1.0), 1)  # rounded: many ties
    assert m.normalized_gini(y, v) == pytest.approx(2 * m.roc_auc(y, v) - 1, abs=1e-12)


def test_gini_is_invariant_to_monotone_transforms() -> None:
    rng = np.random.default_rng(4)
    y, v = rng.exponential(size=500), rng.normal(size=500)
    assert m.normalized_gini(y, np.exp(v)) == pytest.approx(m.normalized_gini(y, v))


# --- invalid input ----------------------------------------------------------------------

BINARY = [
    m.roc_auc,
    m.pr_auc,
    m.brier,
    m.log_loss,
    m.expected_calibration_error,
    m.top_decile_lift,
    m.reliability_table,
]
VALUE = [
    m.normalized_gini,
    m.top_decile_capture,
    m.spearman,
    m.mae,
    m.decile_table,
    m.decile_mape,
]
BAD_PAIRS = {
    "empty": ([], []),
    "length": ([0, 1, 1], [0.1, 0.2]),
    "nan": ([0, 1, 1], [0.1, math.nan, 0.3]),
    "inf": ([0, 1, 1], [0.1, math.inf, 0.3]),
    "2-D": ([[0, 1], [1, 0]], [[0.1, 0.2], [0.3, 0.4]]),
    "text": ([0, 1], ["a", "b"]),
    "index": (pd.Series([0, 1], index=[1, 2]), pd.Series([0.1, 0.9], index=[2, 1])),
}


@pytest.mark.parametrize("func", BINARY + VALUE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("case", BAD_PAIRS, ids=str)
def test_invalid_pairs_raise(func, case: str) -> None:
    with pytest.raises(CustlensError):
        func(*BAD_PAIRS[case])


@pytest.mark.parametrize(
    ("func", "y", "p", "message"),
    [
        (m.roc_auc, [0, 2, 1], [0.1, 0.2, 0.3], "0/1"),
        (m.roc_auc, [1, 1, 1], [0.1, 0.2, 0.3], "single class"),
        (m.pr_auc, [0, 0, 0], [0.1, 0.2, 0.3], "single class"),
        (m.brier, [0, 1], [0.5, 1.2], r"\[0, 1\]"),
        (m.log_loss, [0, 1], [-0.1, 0.5], r"\[0, 1\]"),
        (m.top_decile_lift, [0, 0], [0.1, 0.2], "no positives"),
        (m.normalized_gini, [0, 0, 0], [1, 2, 3], "positive total"),
        (m.normalized_gini, [2, 2, 2], [1, 2, 3], "every actual value is equal"),
        (m.top_decile_capture, [0, 0], [1, 2], "positive total"),
        (m.decile_mape, [0, 0, 0], [1, 2, 3], "zero actual"),
    ],
)
def test_invalid_values_raise_with_a_clear_message(func, y, p, message: str) -> None:
    with pytest.raises(CustlensError, match=message):
        func(y, p)


@pytest.mark.parametrize("bins", [0, -1, 2.5, True])
def test_invalid_bins_raise(bins) -> None:
    with pytest.raises(CustlensError, match="bins"):
        m.expected_calibration_error([0, 1], [0.2, 0.8], bins=bins)
