"""Gaussian copula over empirical marginals, the synthesizer that suits small tables best.

Each column is mapped to normal scores through its own empirical distribution. A continuous
column is mapped through its ranks. A categorical column is mapped to the interval of the
standard normal that its share of rows occupies, with levels ordered by falling frequency, or in
their natural order for ordered levels. The correlation matrix of the normal scores is the whole
dependence model, optionally shrunk towards the identity.

Sampling draws correlated normals and maps them back. A continuous column goes through the
linear interpolation between its sorted real values, so a sample never leaves the real minimum
and maximum, plus a small jitter within the gap between neighbouring real values and, if asked,
Gaussian kernel noise of Silverman's bandwidth. A categorical column goes through its intervals.

With ``stratify``, an unconditional sample keeps the ranks of the normals within each continuous
or ordered column but places one uniform in each of the ``rows`` equal strata of (0, 1), as Latin
hypercube sampling does. The dependence between columns is the copula's, while each such
marginal of a sample of n rows follows the fitted marginal without the extra noise of n
independent draws. Unordered categorical columns are not stratified: that would give every level
of at least 1/n of the rows, however rare a diagnosis or site it is, a place in every sample.

Unlike a parametric Gaussian copula, nothing is assumed about the shape of a marginal, so the
marginals of a sample match the real ones up to sampling noise even on 60 rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from synthcare.transforms import ModelColumn

logger = logging.getLogger(__name__)

_EIGEN_FLOOR = 1e-6
_SCORE_DRAWS = 3


@dataclass
class _Marginal:
    name: str
    continuous: bool
    ordered: bool = False
    sorted_values: np.ndarray | None = None
    categories: list[str] | None = None
    cumulative: np.ndarray | None = None  # upper bound of each level's interval in (0, 1]


class EmpiricalCopula:
    """Gaussian copula whose marginals are the empirical distributions of the real columns.

    Args:
        jitter: width of the uniform jitter added to a continuous sample, as a share of the gap
            between the two real values it lies between. 0 turns the jitter off.
        stratify: place the uniforms of an unconditional sample in equal strata (see the
            module documentation).
        seed: seed for the random normal scores given to categorical levels while fitting.
    """

    def __init__(
        self,
        jitter: float = 0.5,
        shrinkage: float = 0.0,
        bandwidth: float = 0.0,
        level_smoothing: float = 0.0,
        stratify: bool = False,
        seed: int = 0,
    ) -> None:
        self.stratify = stratify
        self.jitter = jitter
        self.shrinkage = shrinkage
        self.bandwidth = bandwidth
        self.level_smoothing = level_smoothing
        self.seed = seed
        self.marginals: list[_Marginal] = []
        self.correlation: np.ndarray | None = None

    def fit(self, frame: pd.DataFrame, columns: list[ModelColumn]) -> EmpiricalCopula:
        """Fit the marginals and the correlation of normal scores.

        Args:
            frame: model table without missing values (see ``TableTransformer``).
            columns: the roles of the model table's columns.

        Returns:
            self
        """
        rng = np.random.default_rng(self.seed)
        self.marginals = [
            self._fit_marginal(frame[c.name], c, self.level_smoothing) for c in columns
        ]

        rows = len(frame)
        draws = []
        for _ in range(_SCORE_DRAWS):
            scores = np.column_stack(
                [self._scores(frame[m.name], m, rng) for m in self.marginals]
            ).reshape(rows, len(self.marginals))
            draws.append(_correlation(scores))
        correlation = np.mean(draws, axis=0)
        correlation = (1 - self.shrinkage) * correlation + self.shrinkage * np.eye(len(correlation))
        self.correlation = _nearest_correlation(correlation)
        return self

    @staticmethod
    def _fit_marginal(series: pd.Series, column: ModelColumn, smoothing: float) -> _Marginal:
        if column.role == "continuous":
            values = np.sort(series.to_numpy(dtype=float))
            return _Marginal(column.name, True, sorted_values=values)

        labels = series.astype(str)
        counts = labels.value_counts()
        categories = list(column.categories) or list(counts.index)
        categories += [c for c in counts.index if c not in categories]
        shares = np.array([counts.get(c, 0) for c in categories], dtype=float)
        shares = shares / shares.sum()
        if smoothing > 0 and column.role == "ordinal" and len(shares) > 2:
            # Spread part of each ordered level's share to its neighbours, as a kernel would.
            padded = np.pad(shares, 1, mode="edge")
            neighbours = (padded[:-2] + padded[2:]) / 2
            shares = (1 - smoothing) * shares + smoothing * neighbours
        cumulative = np.cumsum(shares / shares.sum())
        cumulative[-1] = 1.0
        return _Marginal(
            column.name,
            False,
            ordered=column.role == "ordinal",
            categories=categories,
            cumulative=cumulative,
        )

    @staticmethod
    def _scores(series: pd.Series, marginal: _Marginal, rng: np.random.Generator) -> np.ndarray:
        """Return normal scores of a column: rank-based, or random within a level's interval."""
        if marginal.continuous:
            ranks = stats.rankdata(series.to_numpy(dtype=float))
            return stats.norm.ppf(ranks / (len(series) + 1))

        index = {c: i for i, c in enumerate(marginal.categories)}
        codes = series.astype(str).map(index).to_numpy(dtype=int)
        upper = marginal.cumulative[codes]
        lower = np.where(codes > 0, marginal.cumulative[np.maximum(codes - 1, 0)], 0.0)
        uniform = lower + rng.uniform(size=len(codes)) * (upper - lower)
        return stats.norm.ppf(np.clip(uniform, 1e-9, 1 - 1e-9))

    # ------------------------------------------------------------------ sampling

    def sample(
        self, rows: int, seed: int = 0, conditions: dict[str, object] | None = None
    ) -> pd.DataFrame:
        """Draw ``rows`` model rows.

        Args:
            rows: number of rows.
            seed: seed of the draw; the same seed gives the same rows.
            conditions: fixed model-table values, ``{column: value}``. A continuous value is
                fixed exactly and the other columns follow their conditional distribution; a
                categorical level restricts its normal score to the level's interval.

        Returns:
            Model table with one column per fitted column.

        Raises:
            KeyError: if a condition names a column that was not fitted.
            ValueError: if a condition value is not a known level.
        """
        if self.correlation is None:
            raise RuntimeError("EmpiricalCopula.sample called before fit")
        rng = np.random.default_rng(seed)
        if conditions:
            scores = self._conditional_scores(rows, conditions, rng)
        else:
            cholesky = np.linalg.cholesky(self.correlation)
            scores = rng.standard_normal((rows, len(self.marginals))) @ cholesky.T

        uniform = stats.norm.cdf(scores)
        ordered = [i for i, m in enumerate(self.marginals) if m.continuous or m.ordered]
        if self.stratify and not conditions and rows > 1 and ordered:
            uniform[:, ordered] = _stratified(scores[:, ordered], rng)
        output = {}
        for i, marginal in enumerate(self.marginals):
            output[marginal.name] = self._inverse(uniform[:, i], marginal, rng)
        frame = pd.DataFrame(output)
        for name, value in (conditions or {}).items():
            frame[name] = value
        return frame

    def _inverse(self, uniform: np.ndarray, marginal: _Marginal, rng: np.random.Generator):
        if not marginal.continuous:
            codes = np.searchsorted(marginal.cumulative, uniform, side="left")
            codes = np.minimum(codes, len(marginal.categories) - 1)
            return np.asarray(marginal.categories, dtype=object)[codes]

        values = marginal.sorted_values
        count = values.size
        position = np.clip(uniform, 0.0, 1.0) * (count - 1)
        lower = np.floor(position).astype(int)
        upper = np.minimum(lower + 1, count - 1)
        fraction = position - lower
        gap = values[upper] - values[lower]
        sampled = values[lower] + fraction * gap
        if self.jitter > 0:
            sampled = sampled + (rng.uniform(size=uniform.size) - 0.5) * self.jitter * gap
        if self.bandwidth > 0:
            sampled = self._smooth(sampled, values, rng)
        return np.clip(sampled, values[0], values[-1])

    def _smooth(self, sampled: np.ndarray, values: np.ndarray, rng: np.random.Generator):
        """Add Gaussian kernel noise, keep the variance, and reflect at the real bounds."""
        sd = float(np.std(values))
        spread = min(sd, float(np.subtract(*np.percentile(values, [75, 25]))) / 1.34) or sd
        width = self.bandwidth * 0.9 * spread * values.size ** (-0.2)
        if width <= 0 or sd <= 0:
            return sampled
        centre = float(np.mean(values))
        noisy = sampled + rng.normal(0.0, width, size=sampled.size)
        noisy = centre + (noisy - centre) / np.sqrt(1 + (width / sd) ** 2)
        low, high = values[0], values[-1]
        noisy = np.where(noisy < low, 2 * low - noisy, noisy)
        return np.where(noisy > high, 2 * high - noisy, noisy)

    def _normal_score_of(self, marginal: _Marginal, value: float) -> float:
        values = marginal.sorted_values
        positions = np.linspace(0.0, 1.0, values.size)
        uniform = float(np.interp(value, values, positions))
        margin = 0.5 / values.size
        return float(stats.norm.ppf(np.clip(uniform, margin, 1 - margin)))

    def _interval_of(self, marginal: _Marginal, label: object) -> tuple[float, float]:
        label = str(label)
        if label not in marginal.categories:
            raise ValueError(f"{label!r} is not a level of column {marginal.name!r}")
        code = marginal.categories.index(label)
        lower = marginal.cumulative[code - 1] if code > 0 else 0.0
        upper = marginal.cumulative[code]
        return float(stats.norm.ppf(lower)), float(stats.norm.ppf(upper))

    def _conditional_scores(
        self, rows: int, conditions: dict[str, object], rng: np.random.Generator
    ) -> np.ndarray:
        """Draw normal scores given fixed values and level intervals.

        NOTE: several categorical conditions are drawn one after another, each from its
        truncated conditional given the ones before. This is exact for one categorical
        condition and an approximation of the joint truncation for more than one.
        """
        names = [m.name for m in self.marginals]
        width = len(names)
        scores = np.full((rows, width), np.nan)
        known: list[int] = []
        intervals: list[tuple[int, float, float]] = []
        for name, value in conditions.items():
            index = names.index(name)
            marginal = self.marginals[index]
            if marginal.continuous:
                scores[:, index] = self._normal_score_of(marginal, float(value))
                known.append(index)
            else:
                low, high = self._interval_of(marginal, value)
                intervals.append((index, low, high))

        for index, low, high in intervals:
            mean, variance = _conditional(self.correlation, known, [index], scores)
            sd = np.sqrt(max(float(variance[0, 0]), _EIGEN_FLOOR))
            centre = mean[:, 0]
            scores[:, index] = stats.truncnorm.rvs(
                (low - centre) / sd, (high - centre) / sd, loc=centre, scale=sd, random_state=rng
            )
            known.append(index)

        free = [i for i in range(width) if i not in known]
        if free:
            mean, covariance = _conditional(self.correlation, known, free, scores)
            factor = np.linalg.cholesky(_nearest_psd(covariance))
            scores[:, free] = mean + rng.standard_normal((rows, len(free))) @ factor.T
        return scores


def _stratified(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return uniforms with the ranks of ``scores`` and one value in each 1/rows stratum."""
    rows = scores.shape[0]
    ranks = np.argsort(np.argsort(scores, axis=0), axis=0)
    return (ranks + rng.uniform(size=scores.shape)) / rows


def _conditional(
    correlation: np.ndarray, known: list[int], target: list[int], scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return per-row conditional means and the conditional covariance of ``target``."""
    rows = scores.shape[0]
    block = correlation[np.ix_(target, target)]
    if not known:
        return np.zeros((rows, len(target))), block
    cross = correlation[np.ix_(target, known)]
    inverse = np.linalg.pinv(correlation[np.ix_(known, known)])
    weights = cross @ inverse
    mean = scores[:, known] @ weights.T
    covariance = block - weights @ cross.T
    return mean, covariance


def _correlation(scores: np.ndarray) -> np.ndarray:
    width = scores.shape[1]
    if scores.shape[0] < 2 or width == 0:
        return np.eye(width)
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = np.corrcoef(scores, rowvar=False)
    matrix = np.atleast_2d(np.nan_to_num(matrix, nan=0.0))
    np.fill_diagonal(matrix, 1.0)
    return matrix


def _nearest_psd(matrix: np.ndarray) -> np.ndarray:
    symmetric = (matrix + matrix.T) / 2
    eigenvalues, eigenvectors = np.linalg.eigh(symmetric)
    eigenvalues = np.maximum(eigenvalues, _EIGEN_FLOOR)
    return (eigenvectors * eigenvalues) @ eigenvectors.T


def _nearest_correlation(matrix: np.ndarray) -> np.ndarray:
    """Clip negative eigenvalues and rescale to a unit diagonal, so Cholesky succeeds."""
    fixed = _nearest_psd(matrix)
    scale = np.sqrt(np.diag(fixed))
    fixed = fixed / np.outer(scale, scale)
    np.fill_diagonal(fixed, 1.0)
    return fixed
