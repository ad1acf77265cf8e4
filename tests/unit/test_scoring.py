from collections import Counter

import numpy as np
import pandas as pd
import pytest

from synthcare.scoring import FoldEvidence, fold_evidence, pooled_scores, score_gap

KINDS = {"x": "numerical", "group": "categorical"}
METRICS = {"x": "ks", "group": "tv"}


def frame(values, groups):
    return pd.DataFrame({"x": values, "group": pd.Series(groups, dtype="string")})


def test_pit_places_values_within_sample():
    synthetic = frame([1.0, 2.0, 3.0, 4.0], ["a"] * 4)
    holdout = frame([0.0, 2.0, 5.0], ["a"] * 3)
    evidence = fold_evidence(holdout, synthetic, KINDS, METRICS)
    # 0 lies below every value, 2 ties with one of four (counted half), 5 lies above all.
    assert evidence.pit["x"].tolist() == [0.0, 0.375, 1.0]


def test_pooled_ks_rewards_matching_distribution():
    rng = np.random.default_rng(0)
    good, shifted = [], []
    for _ in range(5):
        synthetic = frame(rng.normal(size=200), ["a"] * 200)
        holdout = frame(rng.normal(size=12), ["a"] * 12)
        moved = frame(rng.normal(size=12) + 1.5, ["a"] * 12)
        good.append(fold_evidence(holdout, synthetic, KINDS, METRICS))
        shifted.append(fold_evidence(moved, synthetic, KINDS, METRICS))
    assert pooled_scores(good)["ks_mean_complement"] > 0.75
    assert pooled_scores(shifted)["ks_mean_complement"] < 0.5


def test_pooled_tv_compares_counts_with_prediction():
    synthetic = frame(range(4), ["a", "a", "a", "b"])
    holdout = frame(range(4), ["a", "b", "b", "b"])
    evidence = fold_evidence(holdout, synthetic, KINDS, METRICS)
    assert evidence.observed["group"] == Counter({"a": 1, "b": 3})
    assert evidence.expected["group"] == Counter({"a": 3.0, "b": 1.0})
    assert pooled_scores([evidence])["tv_mean_complement"] == pytest.approx(0.5)


def test_empty_synthetic_column_scores_zero_pit():
    synthetic = frame([np.nan] * 3, ["a"] * 3)
    holdout = frame([1.0, 2.0], ["a"] * 2)
    evidence = fold_evidence(holdout, synthetic, KINDS, METRICS)
    assert evidence.pit["x"].tolist() == [0.0, 0.0]


def test_empty_synthetic_categorical_column_scores_zero():
    good = fold_evidence(frame([1.0], ["a"]), frame([1.0], ["a"]), KINDS, METRICS)
    empty = fold_evidence(frame([1.0], ["a"]), frame([1.0], [None]), KINDS, METRICS)
    assert pooled_scores([good])["tv_mean_complement"] == pytest.approx(1.0)
    assert pooled_scores([good, empty])["tv_mean_complement"] == pytest.approx(0.5)


def test_score_gap_of_identical_evidence_is_zero():
    folds = [FoldEvidence(correlation=value) for value in (0.7, 0.8, 0.75)]
    assert score_gap(folds, folds) == (0.0, 0.0)


def test_score_gap_jackknife_matches_paired_standard_error():
    # With a correlation part only the pooled score is a mean, whose jackknife error is the
    # usual standard error of the mean of the paired differences.
    best = [FoldEvidence(correlation=value) for value in (0.80, 0.70, 0.76, 0.82)]
    other = [FoldEvidence(correlation=value) for value in (0.70, 0.80, 0.75, 0.79)]
    gap, error = score_gap(best, other)
    differences = np.array([0.10, -0.10, 0.01, 0.03])
    assert gap == pytest.approx(differences.mean())
    assert error == pytest.approx(differences.std(ddof=1) / 2)


def test_score_gap_of_one_fold_has_no_error():
    gap, error = score_gap([FoldEvidence(correlation=0.8)], [FoldEvidence(correlation=0.7)])
    assert gap == pytest.approx(0.1)
    assert error == float("inf")


def test_pooled_scores_need_a_fold():
    with pytest.raises(ValueError, match="at least one fold"):
        pooled_scores([])
