"""Cross-fitting: fit a model on all folds but one and measure it on the fold it never saw.

The model search and the privacy gate both need to know how a model behaves on rows it was not
fitted on. Both use the fold plan and the fold fits of this module, so for a given seed they see
the same folds and, for the copula models, the same synthetic rows. The search's DCR share of
the winning copula is then the share the gate decides on, instead of a second noisy estimate
that can disagree with the first on a 60-row table.

Tables of up to :data:`CROSS_FIT_MAX_ROWS` rows are split into :data:`FOLDS` disjoint folds, so
every row is held out exactly once and each fit is fitted on 80 % of the rows, close to the
final fit on all of them. Tables of up to :data:`REPEATED_CROSS_FIT_MAX_ROWS` rows repeat the folds
with a second shuffle, because a 12-row fold of a 60-row table gives DCR shares that vary by
about 0.1 from fold to fold. Larger tables use the first fold of one shuffle of at most
:data:`MAX_SEARCH_ROWS` rows: one 80/20 split.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

FOLDS = 5
CROSS_FIT_MAX_ROWS = 1_000
REPEATED_CROSS_FIT_MAX_ROWS = 200
MAX_SEARCH_ROWS = 5_000


@dataclass(frozen=True)
class Fold:
    """One fit of a fold plan: the rows it is fitted on and the rows it is scored on."""

    number: int
    train: np.ndarray
    holdout: np.ndarray

    @property
    def seed_offset(self) -> int:
        """Offset of this fold's seed from the run's seed, so folds draw different rows."""
        return self.number + 1


def rounds_for(rows: int, neural: bool) -> int:
    """Return how many shuffles of the folds a table of ``rows`` rows gets.

    A neural fit takes seconds to minutes where a copula fit takes milliseconds, so neural
    models get one shuffle whatever the size.
    """
    if rows <= REPEATED_CROSS_FIT_MAX_ROWS and not neural:
        return 2
    return 1


def fold_plan(rows: int, seed: int, rounds: int = 1) -> list[Fold]:
    """Return the folds for a table of ``rows`` rows.

    Args:
        rows: number of rows of the table.
        seed: seed of the shuffles; the same seed gives the same plan.
        rounds: shuffles of the folds, used only up to :data:`CROSS_FIT_MAX_ROWS` rows.

    Returns:
        ``FOLDS * rounds`` folds for a table of up to :data:`CROSS_FIT_MAX_ROWS` rows, otherwise
        one 80/20 split of at most :data:`MAX_SEARCH_ROWS` rows.
    """
    rng = np.random.default_rng(seed)
    if rows > CROSS_FIT_MAX_ROWS:
        order = rng.permutation(rows)[:MAX_SEARCH_ROWS]
        cut = len(order) - len(order) // FOLDS
        return [Fold(0, np.sort(order[:cut]), np.sort(order[cut:]))]

    folds = []
    for _ in range(rounds):
        parts = np.array_split(rng.permutation(rows), FOLDS)
        for index, holdout in enumerate(parts):
            train = np.concatenate([part for number, part in enumerate(parts) if number != index])
            folds.append(Fold(len(folds), np.sort(train), np.sort(holdout)))
    return folds


@dataclass
class FoldFit:
    """The real parts of one fold and the synthetic rows of the model fitted on its training part.

    ``synthetic`` has as many rows as the training part and the typed columns of the real table.
    """

    fold: Fold
    train: pd.DataFrame
    holdout: pd.DataFrame
    synthetic: pd.DataFrame
    seed: int
    fit_seconds: float


def fit_fold(table: pd.DataFrame, schema, config, fold: Fold, parameters=None) -> FoldFit:
    """Fit ``config.model`` on a fold's training rows and sample as many synthetic rows.

    Args:
        table: typed table with the modelled columns.
        schema: its schema.
        config: ``TrainingConfig`` naming a single model (not ``auto``).
        fold: the fold.
        parameters: explicit model parameters (the search's scaled neural epochs), or None.
    """
    from synthcare.schema import restore_dtypes
    from synthcare.synthesizers import derived_seed, fit_model

    seed = derived_seed(config.seed, fold.seed_offset)
    train = table.iloc[fold.train].reset_index(drop=True)
    holdout = table.iloc[fold.holdout].reset_index(drop=True)
    parameters = part_parameters(config.model, len(table), parameters)
    started = time.perf_counter()
    fitted = fit_model(train, schema, replace(config, seed=seed), config.model, parameters)
    seconds = time.perf_counter() - started
    synthetic = restore_dtypes(fitted.sample(len(train), seed=seed), schema)
    return FoldFit(fold, train, holdout, synthetic, seed, seconds)


def part_parameters(model: str, table_rows: int, parameters: dict | None) -> dict | None:
    """Return the parameters of a fit on part of a table of ``table_rows`` rows.

    The empirical copula's regularisation depends on the row count, so a fit on part of the
    table gets the whole table's count and measures the model that is published.
    """
    from synthcare.synthesizers import EMPIRICAL_COPULA, SIZED_FOR_ROWS

    if model == EMPIRICAL_COPULA and parameters is None:
        return {SIZED_FOR_ROWS: table_rows}
    return parameters


def dcr_share(fit: FoldFit, schema) -> float:
    """Return the DCR holdout share of one fold fit."""
    from synthcare.privacy import dcr

    return float(dcr(fit.train, fit.holdout, fit.synthetic, schema, seed=fit.seed)["holdout_share"])
