"""Fidelity of a synthetic table: KS and TV complements per column, correlations, baseline.

The headline number is the mean KS complement (1 - D of the two-sample Kolmogorov-Smirnov
statistic, as SDMetrics' KSComplement defines it) over the continuous columns: numerical columns
with more than 10 distinct real values, and datetimes compared as numbers. Categorical, boolean
and low-cardinality numerical columns get the total variation (TV) complement instead, because
the KS statistic of a few-level column measures step positions more than frequencies.

Scores on small tables are noisy: two independent 60-row samples of one distribution score
about 0.85. :func:`real_baseline` therefore scores half of the real table against the other half
over random splits, and the report shows that baseline beside the synthetic score.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from synthcare.transforms import FEW_DISTINCT_VALUES, _format_number, column_kinds

logger = logging.getLogger(__name__)

KS_MIN_DISTINCT = FEW_DISTINCT_VALUES  # a numerical column needs more distinct values for KS
BASELINE_SPLITS = 20


def metric_of(real: pd.Series, kind: str) -> str:
    """Return ``ks`` or ``tv``: the metric that compares a column of this kind and cardinality."""
    if kind == "datetime":
        return "ks"
    if kind == "numerical" and real.dropna().nunique() > KS_MIN_DISTINCT:
        return "ks"
    return "tv"


def column_numbers(series: pd.Series, kind: str) -> np.ndarray:
    """Return the non-missing values of a column as floats (datetimes as nanoseconds)."""
    present = series.dropna()
    if kind == "datetime":
        return pd.to_datetime(present).astype("int64").to_numpy(dtype=float)
    return pd.to_numeric(present, errors="coerce").dropna().to_numpy(dtype=float)


def column_labels(series: pd.Series, kind: str) -> pd.Series:
    """Return the non-missing values as comparable text (1 and 1.0 give the same label)."""
    present = series.dropna()
    if kind == "numerical":
        numbers = pd.to_numeric(present, errors="coerce").dropna()
        return numbers.map(lambda value: _format_number(float(value)))
    if kind == "boolean":
        return present.map(lambda value: "True" if bool(value) else "False")
    return present.astype(str)


def compare_column(real: pd.Series, synthetic: pd.Series, kind: str, metric: str) -> dict:
    """Compare one column: KS statistic and p-value, or TV distance, plus missing rates."""
    result: dict = {
        "column": real.name,
        "kind": kind,
        "metric": metric,
        "statistic": None,
        "p_value": None,
        "score": None,
        "real_missing_rate": _rate(real.isna()),
        "synthetic_missing_rate": _rate(synthetic.isna()),
    }
    if metric == "ks":
        real_values = column_numbers(real, kind)
        synthetic_values = column_numbers(synthetic, kind)
        if real_values.size and synthetic_values.size:
            with warnings.catch_warnings():
                # SciPy warns when the exact p-value fails and it falls back to the asymptotic
                # one; the statistic is the same either way and the p-value is SciPy's own.
                warnings.filterwarnings(
                    "ignore",
                    message="ks_2samp: Exact calculation unsuccessful",
                    category=RuntimeWarning,
                )
                test = stats.ks_2samp(real_values, synthetic_values)
            result["statistic"] = float(test.statistic)
            result["p_value"] = float(test.pvalue)
        elif real_values.size or synthetic_values.size:
            result["statistic"] = 1.0
            result["p_value"] = 0.0
    else:
        real_share = column_labels(real, kind).value_counts(normalize=True)
        synthetic_share = column_labels(synthetic, kind).value_counts(normalize=True)
        if len(real_share) or len(synthetic_share):
            both = real_share.index.union(synthetic_share.index)
            difference = real_share.reindex(both, fill_value=0) - synthetic_share.reindex(
                both, fill_value=0
            )
            distance = 0.5 * float(np.abs(difference).sum())
            result["statistic"] = distance if len(real_share) and len(synthetic_share) else 1.0
    if result["statistic"] is not None:
        result["score"] = 1.0 - result["statistic"]
    return result


def _rate(mask: pd.Series) -> float:
    return float(mask.mean()) if len(mask) else 0.0


def _correlation_frame(frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    columns = {}
    for name, kind in kinds.items():
        if kind == "numerical":
            columns[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        elif kind == "datetime":
            stamps = pd.to_datetime(frame[name])
            numbers = stamps.astype("int64").astype("float64")
            columns[name] = numbers.where(stamps.notna())
        elif kind == "boolean":
            columns[name] = frame[name].astype("float64")
    return pd.DataFrame(columns)


def correlation_similarity(
    real: pd.DataFrame, synthetic: pd.DataFrame, kinds: dict[str, str], method: str = "pearson"
) -> float | None:
    """Return 1 - the mean absolute difference of pairwise correlations, or None if no pair.

    Numerical, datetime and boolean columns take part. A pair whose real correlation is
    undefined (a constant column) is skipped; an undefined synthetic correlation counts as 0.
    The value can fall below 0 when correlations flip sign.
    """
    real_numbers = _correlation_frame(real, kinds)
    if real_numbers.shape[1] < 2:
        return None
    synthetic_numbers = _correlation_frame(synthetic, kinds)
    real_matrix = real_numbers.corr(method=method).to_numpy()
    synthetic_matrix = synthetic_numbers.corr(method=method).to_numpy()
    upper = np.triu_indices_from(real_matrix, k=1)
    real_pairs = real_matrix[upper]
    synthetic_pairs = np.nan_to_num(synthetic_matrix[upper], nan=0.0)
    defined = ~np.isnan(real_pairs)
    if not defined.any():
        return None
    return float(1.0 - np.mean(np.abs(real_pairs[defined] - synthetic_pairs[defined])))


def fidelity_scores(
    real: pd.DataFrame, synthetic: pd.DataFrame, kinds: dict[str, str], metrics: dict | None = None
) -> dict:
    """Score a synthetic table against a real one, without the real-vs-real baseline.

    Args:
        real: typed real rows.
        synthetic: typed synthetic rows with the same columns.
        kinds: ``{column: kind}`` of the columns to compare.
        metrics: ``{column: "ks"|"tv"}``; chosen from ``real`` when not given.

    Returns:
        Per-column results and the summary means (None where no column qualifies).
    """
    metrics = metrics or {name: metric_of(real[name], kind) for name, kind in kinds.items()}
    columns = [
        compare_column(real[name], synthetic[name], kind, metrics[name])
        for name, kind in kinds.items()
    ]
    ks_scores = [c["score"] for c in columns if c["metric"] == "ks" and c["score"] is not None]
    tv_scores = [c["score"] for c in columns if c["metric"] == "tv" and c["score"] is not None]
    missing_gaps = [abs(c["real_missing_rate"] - c["synthetic_missing_rate"]) for c in columns]
    return {
        "columns": columns,
        "ks_mean_complement": _mean(ks_scores),
        "tv_mean_complement": _mean(tv_scores),
        "correlation_similarity": correlation_similarity(real, synthetic, kinds, "pearson"),
        "spearman_similarity": correlation_similarity(real, synthetic, kinds, "spearman"),
        "missing_rate_mean_difference": _mean(missing_gaps),
    }


def _mean(values: list) -> float | None:
    return float(np.mean(values)) if values else None


def real_baseline(
    real: pd.DataFrame, kinds: dict[str, str], seed: int = 0, splits: int = BASELINE_SPLITS
) -> dict:
    """Score random halves of the real table against each other: the best a sample can expect.

    Args:
        real: typed real rows.
        kinds: ``{column: kind}`` of the columns to compare.
        seed: seed of the random splits.
        splits: number of half splits averaged.

    Returns:
        Mean summary scores over the splits and the mean score per column, or None values when
        the table has fewer than 4 rows.
    """
    keys = ("ks_mean_complement", "tv_mean_complement", "correlation_similarity")
    if len(real) < 4:
        return {"splits": 0, **dict.fromkeys(keys), "columns": {}}

    metrics = {name: metric_of(real[name], kind) for name, kind in kinds.items()}
    rng = np.random.default_rng(seed)
    totals: dict[str, list[float]] = {key: [] for key in keys}
    per_column: dict[str, list[float]] = {name: [] for name in kinds}
    for _ in range(splits):
        order = rng.permutation(len(real))
        half = len(real) // 2
        first = real.iloc[order[:half]]
        second = real.iloc[order[half : 2 * half]]
        scores = fidelity_scores(first, second, kinds, metrics)
        for key in keys:
            if scores[key] is not None:
                totals[key].append(scores[key])
        for column in scores["columns"]:
            if column["score"] is not None:
                per_column[column["column"]].append(column["score"])
    return {
        "splits": splits,
        "rows_per_half": len(real) // 2,
        **{key: _mean(values) for key, values in totals.items()},
        "columns": {name: _mean(values) for name, values in per_column.items()},
    }


def evaluate_fidelity(real: pd.DataFrame, synthetic: pd.DataFrame, schema, seed: int = 0) -> dict:
    """Compare a synthetic table with the real one, column by column and as a whole.

    Args:
        real: typed real table.
        synthetic: typed synthetic table with the modelled columns.
        schema: the real table's schema; its modelled columns are compared.
        seed: seed of the real-vs-real baseline splits.

    Returns:
        ``columns`` with one entry per modelled column. An entry has ``column``, ``kind``,
        ``metric`` (``ks`` or ``tv``), ``statistic`` (KS D or TV distance), ``p_value`` (KS
        only), ``score`` (1 - statistic), ``real_missing_rate`` and ``synthetic_missing_rate``.
        Then the summaries: ``ks_mean_complement``, ``tv_mean_complement``,
        ``correlation_similarity`` (Pearson), ``spearman_similarity``,
        ``missing_rate_mean_difference``, ``rows`` and ``baseline`` (the same summaries for real
        halves, see :func:`real_baseline`).
    """
    kinds = {name: kind for name, kind in column_kinds(schema).items() if name in real.columns}
    missing = [name for name in kinds if name not in synthetic.columns]
    if missing:
        raise ValueError(f"synthetic table lacks modelled columns: {', '.join(missing)}")
    result = fidelity_scores(real, synthetic, kinds)
    result["rows"] = {"real": len(real), "synthetic": len(synthetic)}
    result["baseline"] = real_baseline(real, kinds, seed=seed)
    return result
