"""Cross-fitted holdout scores that pool the held-out rows of every fold.

A fold of a 60-row table contains 12 rows, and a KS statistic between 12 real rows and a synthetic
sample is mostly noise. Pooling the held-out rows of all folds into one sample would compare
each row with synthetic rows of models that were fitted on it. Instead each held-out value is
placed within the synthetic sample of its own fold's model, which never saw it, by its
probability integral transform (PIT): the share of that sample at or below the value, ties
counted half. If the models reproduce the real distribution, the pooled PIT values of all folds
are uniform on (0, 1). The KS distance of the pooled values from the uniform distribution
therefore measures a continuous column on every held-out row at once. A categorical column
compares the pooled held-out level counts with the counts each fold's model predicts for its
own rows (TV distance). The correlation part stays the mean of the per-fold correlation
similarities.

Candidates are compared over the folds both have, and the noise of the difference of their
pooled scores is the jackknife standard error: the pooled difference recomputed with each fold
left out in turn.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from synthcare.evaluation import column_labels, column_numbers, correlation_similarity

NO_SYNTHETIC_VALUE = "\x00no synthetic value"


@dataclass
class FoldEvidence:
    """The contribution of one fold to the pooled scores.

    Attributes:
        pit: PIT values of the held-out rows, per KS-scored column.
        observed: held-out level counts, per TV-scored column.
        expected: level counts the fold's model predicts for the same rows, per TV column.
        correlation: the fold's correlation similarity, or None when it has none.
    """

    pit: dict[str, np.ndarray] = field(default_factory=dict)
    observed: dict[str, Counter] = field(default_factory=dict)
    expected: dict[str, Counter] = field(default_factory=dict)
    correlation: float | None = None


def fold_evidence(
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    kinds: dict[str, str],
    metrics: dict[str, str],
) -> FoldEvidence:
    """Place a fold's held-out rows within the synthetic sample of the model that never saw them.

    Args:
        holdout: the fold's typed held-out rows.
        synthetic: typed rows sampled from the model fitted on the other folds.
        kinds: ``{column: kind}`` of the scored columns.
        metrics: ``{column: "ks"|"tv"}``, chosen once from the whole table so every fold scores
            a column the same way.
    """
    evidence = FoldEvidence()
    for name, kind in kinds.items():
        if metrics[name] == "ks":
            real = column_numbers(holdout[name], kind)
            sample = np.sort(column_numbers(synthetic[name], kind))
            if not sample.size:
                # No synthetic value at all: every held-out value lies outside the sample.
                evidence.pit[name] = np.zeros(real.size)
                continue
            below = np.searchsorted(sample, real, side="left")
            at_or_below = np.searchsorted(sample, real, side="right")
            evidence.pit[name] = (below + at_or_below) / (2.0 * sample.size)
        else:
            real_labels = column_labels(holdout[name], kind)
            shares = column_labels(synthetic[name], kind).value_counts(normalize=True)
            evidence.observed[name] = Counter(real_labels.tolist())
            if shares.empty:
                # No synthetic value at all: predict a level no real row has, so the fold
                # counts as fully wrong instead of dropping out of the pooled prediction.
                shares = pd.Series({NO_SYNTHETIC_VALUE: 1.0})
            evidence.expected[name] = Counter(
                {label: share * len(real_labels) for label, share in shares.items()}
            )
    evidence.correlation = correlation_similarity(holdout, synthetic, kinds, "pearson")
    return evidence


def pooled_scores(folds: list[FoldEvidence]) -> dict[str, float | None]:
    """Return the pooled KS and TV complements, the correlation similarity and the score.

    The score is the mean of two parts, as the model search defines it: the column score (the
    complements of every column weighted alike) and the correlation similarity.
    """
    if not folds:
        raise ValueError("pooled scores need at least one fold")
    ks_scores = []
    for name in folds[0].pit:
        values = np.concatenate([fold.pit[name] for fold in folds])
        if values.size:
            ks_scores.append(1.0 - float(stats.kstest(values, "uniform").statistic))
    tv_scores = []
    for name in folds[0].observed:
        observed = sum((fold.observed[name] for fold in folds), Counter())
        expected = sum((fold.expected[name] for fold in folds), Counter())
        total_observed = sum(observed.values())
        total_expected = sum(expected.values())
        if not total_observed:
            continue
        if not total_expected:
            tv_scores.append(0.0)
            continue
        labels = set(observed) | set(expected)
        distance = 0.5 * sum(
            abs(observed[label] / total_observed - expected[label] / total_expected)
            for label in labels
        )
        tv_scores.append(1.0 - distance)
    correlations = [fold.correlation for fold in folds if fold.correlation is not None]

    column_scores = ks_scores + tv_scores
    parts = [float(np.mean(column_scores))] if column_scores else []
    correlation = float(np.mean(correlations)) if correlations else None
    if correlation is not None:
        parts.append(correlation)
    return {
        "ks_mean_complement": float(np.mean(ks_scores)) if ks_scores else None,
        "tv_mean_complement": float(np.mean(tv_scores)) if tv_scores else None,
        "correlation_similarity": correlation,
        "score": float(np.mean(parts)) if parts else 0.0,
    }


def score_gap(best: list[FoldEvidence], other: list[FoldEvidence]) -> tuple[float, float]:
    """Return how far ``other`` scores below ``best`` and the jackknife standard error.

    Both are compared over the folds both have, in order. With fewer than two shared folds the
    standard error is infinite, because nothing measures the noise.
    """
    shared = min(len(best), len(other))
    if shared == 0:
        return float("inf"), float("inf")
    gap = pooled_scores(best[:shared])["score"] - pooled_scores(other[:shared])["score"]
    if shared < 2:
        return gap, float("inf")
    left_out = []
    for fold in range(shared):
        kept = [number for number in range(shared) if number != fold]
        left_out.append(
            pooled_scores([best[number] for number in kept])["score"]
            - pooled_scores([other[number] for number in kept])["score"]
        )
    spread = np.asarray(left_out) - np.mean(left_out)
    error = float(np.sqrt((shared - 1) / shared * np.sum(spread**2)))
    return gap, error
