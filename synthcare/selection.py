"""The ``auto`` model: pick the synthesizer that scores best on rows it has not seen.

Each candidate is fitted on a random 80 % training split and scored against the unseen 20 %.
The score is the mean of two parts: the column score (KS complement of each continuous column,
TV complement of each other column, every column weighted alike) and the Pearson correlation
similarity. Weighting columns alike keeps a single categorical column from deciding the choice
on a table of many continuous columns.

A candidate whose mean DCR holdout share is above the privacy gate's threshold is rejected
however well it scores. When every candidate is rejected, the best-scoring one is fitted and
``info["selection"]["privacy_fallback"]`` is true.

Tables of up to 2,000 rows repeat the split five times and average the scores, because one
small holdout is noisy: on the 60-row RA-like table the DCR share of one candidate varied by up
to 0.2 between three splits. The 80 % share keeps each fit close to the size of the final fit,
which sees every row: the DCR share of a model fitted on half of a 60-row table overstates the
memorisation of the same model fitted on all 60 rows. The winner is then refitted on every row.

``time_budget`` bounds the whole search and the final fit. The neural candidates (TVAE, CTGAN)
get their epochs scaled down when their estimated fitting time does not fit the remaining
budget, and are skipped when even :data:`~synthcare.synthesizers.MIN_EPOCHS` epochs do not fit.
CopulaGAN is not a candidate because it trains the same network as CTGAN after a per-column
transform, so it costs as much. It stays available by name.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from synthcare.errors import TrainingError
from synthcare.evaluation import fidelity_scores
from synthcare.privacy import PrivacyGate, dcr
from synthcare.synthesizers import (
    CTGAN,
    EMPIRICAL_COPULA,
    GAUSSIAN_COPULA,
    MIN_EPOCHS,
    NEURAL_MODELS,
    TVAE,
    FittedSynthesizer,
    TrainingConfig,
    fit_model,
    neural_parameters,
)
from synthcare.transforms import column_kinds

logger = logging.getLogger(__name__)

CANDIDATES = (EMPIRICAL_COPULA, GAUSSIAN_COPULA, TVAE, CTGAN)
TRAIN_SHARE = 0.8
REPEATED_SPLITS = 5
REPEAT_MAX_ROWS = 2000
SEARCH_MAX_ROWS = 5000
PRIVACY_THRESHOLD = 0.6

# Estimated seconds per generator update: a fixed part plus a part per batch row and model
# column. Measured with one torch thread on a shared, loaded 2-core machine: CTGAN took about
# 30 ms and TVAE about 11 ms per update at batch 20 on the 17-column RA-like table. These are
# estimates for planning the budget, not bounds.
_UPDATE_SECONDS = {CTGAN: (0.025, 2.0e-6), TVAE: (0.009, 1.0e-6)}
_NEURAL_OVERHEAD_SECONDS = 3.0
# Fits on the shared benchmark machine took up to 2.5 times the estimate, so plans use twice it.
# A candidate that still runs late is stopped between splits (see ``_OverBudget``).
_ESTIMATE_SAFETY = 2.0


class _OverBudget(Exception):
    """A candidate's next split would end after the search deadline."""


def estimate_neural_seconds(model: str, rows: int, columns: int, parameters: dict) -> float:
    """Estimate the fitting time of a neural model, in seconds."""
    fixed, per_cell = _UPDATE_SECONDS.get(model, _UPDATE_SECONDS[CTGAN])
    batch = parameters["batch_size"]
    updates = parameters["epochs"] * max(rows // batch, 1)
    seconds = _NEURAL_OVERHEAD_SECONDS + updates * (fixed + per_cell * batch * max(columns, 1))
    return _ESTIMATE_SAFETY * seconds


def _splits(rows: int, repeats: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    search_rows = min(rows, SEARCH_MAX_ROWS)
    train_rows = max(2, int(round(TRAIN_SHARE * search_rows)))
    splits = []
    for _ in range(repeats):
        order = rng.permutation(rows)[:search_rows]
        splits.append((order[:train_rows], order[train_rows:]))
    return splits


def _score(scores: dict) -> float:
    """Return the mean of the column score (every column weighted alike) and the correlation."""
    column_scores = [c["score"] for c in scores["columns"] if c["score"] is not None]
    parts = [float(np.mean(column_scores))] if column_scores else []
    if scores["correlation_similarity"] is not None:
        parts.append(scores["correlation_similarity"])
    return float(np.mean(parts)) if parts else 0.0


def _budget_parameters(
    model: str,
    config: TrainingConfig,
    search_rows: int,
    all_rows: int,
    columns: int,
    repeats: int,
    remaining: float,
) -> tuple[dict | None, dict | None, str]:
    """Return search and final parameters that fit ``remaining`` seconds, or None and why."""
    search = neural_parameters(model, search_rows, config)
    final = neural_parameters(model, all_rows, config)
    cost = repeats * estimate_neural_seconds(model, search_rows, columns, search)
    cost += estimate_neural_seconds(model, all_rows, columns, final)
    if cost <= remaining:
        return search, final, f"estimated {cost:.0f} s"
    factor = remaining / cost
    search_epochs = int(search["epochs"] * factor)
    final_epochs = int(final["epochs"] * factor)
    if min(search_epochs, final_epochs) < MIN_EPOCHS or config.epochs is not None:
        return (
            None,
            None,
            (f"skipped: estimated {cost:.0f} s exceeds the remaining budget of {remaining:.0f} s"),
        )
    search["epochs"] = search_epochs
    final["epochs"] = final_epochs
    return search, final, f"epochs scaled by {factor:.2f} to fit the remaining budget"


def select_and_fit(
    table: pd.DataFrame, schema, config: TrainingConfig, progress=None
) -> FittedSynthesizer:
    """Search the candidates on holdout splits, then refit the winner on every row.

    Args:
        table: typed table.
        schema: its schema.
        config: ``seed``, ``time_budget`` and explicit neural options are used.
        progress: optional ``progress(stage, done, total, message)`` callable.

    Returns:
        The winner fitted on all rows. Its ``info`` names the winner, lists every candidate's
        holdout scores, and gives the winner's holdout KS mean complement and DCR share.

    Raises:
        TrainingError: if no candidate could be fitted.
    """
    started = time.perf_counter()
    kinds = column_kinds(schema)
    rows = len(table)
    repeats = REPEATED_SPLITS if rows <= REPEAT_MAX_ROWS else 1
    splits = _splits(rows, repeats, config.seed)
    search_rows = len(splits[0][0])
    gate = PrivacyGate(PRIVACY_THRESHOLD)
    columns = len(kinds)

    candidates: list[dict] = []
    final_parameters: dict[str, dict | None] = {}
    total = len(CANDIDATES) * len(splits)
    for number, model in enumerate(CANDIDATES):
        elapsed = time.perf_counter() - started
        entry: dict = {"model": model}
        candidates.append(entry)
        report = _split_reporter(progress, model, number * len(splits), len(splits), total)

        search_parameters = None
        if model in NEURAL_MODELS:
            search_parameters, final, note = _budget_parameters(
                model,
                config,
                search_rows,
                rows,
                columns,
                repeats,
                config.time_budget - elapsed,
            )
            entry["budget"] = note
            if search_parameters is None:
                entry["status"] = "skipped"
                if progress is not None:
                    message = f"{model} skipped: no time left in the budget"
                    progress("model search", (number + 1) * len(splits), total, message)
                continue
            final_parameters[model] = final
            entry["parameters"] = search_parameters

        try:
            entry.update(
                _score_candidate(
                    table,
                    schema,
                    kinds,
                    config,
                    model,
                    search_parameters,
                    splits,
                    deadline=started + config.time_budget,
                    report=report,
                )
            )
        except _OverBudget as error:
            logger.info("auto: candidate %s stopped: %s", model, error)
            entry["status"] = "skipped"
            entry["reason"] = str(error)
            continue
        except Exception as error:  # noqa: BLE001 - SDV and torch raise many unrelated types
            logger.warning("auto: candidate %s failed: %s", model, error)
            entry["status"] = "failed"
            entry["reason"] = str(error)[:300]
            continue
        entry["status"] = "passed" if gate.check(entry["dcr_holdout_share"]) else "rejected"
        if entry["status"] == "rejected":
            entry["reason"] = (
                f"DCR holdout share {entry['dcr_holdout_share']:.3f} is above {gate.threshold}"
            )

    scored = [c for c in candidates if c["status"] in ("passed", "rejected")]
    if not scored:
        reasons = "; ".join(f"{c['model']}: {c.get('reason', c.get('budget'))}" for c in candidates)
        raise TrainingError(f"auto could not fit any candidate model ({reasons})")
    passed = [c for c in scored if c["status"] == "passed"]
    if passed:
        winner = max(passed, key=lambda c: c["score"])
    else:
        # NOTE: the model with the lowest share is often the one that learned least (a CTGAN
        # that still emits noise lies far from every real row), so it is not a safe fallback.
        # The best-scoring model is fitted instead and the privacy gate decides on publishing.
        winner = max(scored, key=lambda c: c["score"])
        logger.warning(
            "auto: every candidate failed the privacy check; fitting the best-scoring %s",
            winner["model"],
        )
    search_seconds = time.perf_counter() - started

    if progress is not None:
        progress("model search", total, total, f"winner {winner['model']}")
    final = final_parameters.get(winner["model"])
    if final is not None:
        final = _fit_remaining_budget(winner, final, rows, config, started)
    fitted = fit_model(
        table,
        schema,
        replace(config, model=winner["model"]),
        winner["model"],
        parameters=final,
        progress=progress,
    )
    fitted.info.update(
        {
            "requested_model": "auto",
            "selected_model": winner["model"],
            "selection": {
                "criterion": "mean of the column score and the correlation similarity on the "
                "holdout split, among candidates with a DCR holdout share of at most "
                f"{gate.threshold}",
                "privacy_fallback": not passed,
                "splits": repeats,
                "train_rows": search_rows,
                "holdout_rows": len(splits[0][1]),
                "search_seconds": round(search_seconds, 3),
                "time_budget": config.time_budget,
            },
            "candidates": candidates,
            "holdout": {
                "ks_mean_complement": winner["ks_mean_complement"],
                "tv_mean_complement": winner["tv_mean_complement"],
                "correlation_similarity": winner["correlation_similarity"],
                "dcr_holdout_share": winner["dcr_holdout_share"],
            },
            "total_seconds": round(time.perf_counter() - started, 3),
        }
    )
    return fitted


def _fit_remaining_budget(
    winner: dict, final: dict, rows: int, config: TrainingConfig, started: float
) -> dict:
    """Scale a neural winner's final epochs to the budget left, from its measured search speed."""
    search = winner["parameters"]
    search_rows = max(2, int(round(TRAIN_SHARE * min(rows, SEARCH_MAX_ROWS))))
    search_updates = search["epochs"] * max(search_rows // search["batch_size"], 1)
    seconds_per_update = winner["fit_seconds"] / max(search_updates, 1)
    seconds_per_update *= final["batch_size"] / search["batch_size"]
    final_updates = final["epochs"] * max(rows // final["batch_size"], 1)
    remaining = config.time_budget - (time.perf_counter() - started)
    cost = seconds_per_update * final_updates
    if config.epochs is None and cost > remaining > 0:
        scaled = dict(final)
        scaled["epochs"] = max(MIN_EPOCHS, int(final["epochs"] * remaining / cost))
        return scaled
    return final


def _split_reporter(progress, model: str, done_before: int, splits: int, total: int):
    """Return ``report(split)`` that tells ``progress`` which split of ``model`` starts."""

    def report(split: int) -> None:
        if progress is not None:
            message = f"{model} split {split + 1}/{splits}"
            progress("model search", done_before + split, total, message)

    return report


def _score_candidate(
    table: pd.DataFrame,
    schema,
    kinds: dict[str, str],
    config: TrainingConfig,
    model: str,
    parameters: dict | None,
    splits: list[tuple[np.ndarray, np.ndarray]],
    deadline: float | None = None,
    report=None,
) -> dict:
    """Fit ``model`` on each training split and score it on the matching holdout split.

    ``report(split)``, if given, is called with the 0-based number of each split as it starts.

    Raises:
        _OverBudget: if a neural model's next split would end after ``deadline``
            (a ``time.perf_counter`` value), judged by the duration of the split before.
    """
    totals: dict[str, list[float]] = {
        "ks_mean_complement": [],
        "tv_mean_complement": [],
        "correlation_similarity": [],
        "score": [],
        "dcr_holdout_share": [],
        "fit_seconds": [],
    }
    previous_start = time.perf_counter()
    for repeat, (train_index, holdout_index) in enumerate(splits):
        split_started = time.perf_counter()
        if repeat and deadline is not None and model in NEURAL_MODELS:
            last_split = split_started - previous_start
            if split_started + last_split > deadline:
                raise _OverBudget(
                    f"stopped after {repeat} of {len(splits)} splits because the next one "
                    "would end after the time budget"
                )
        previous_start = split_started
        if report is not None:
            report(repeat)
        train = table.iloc[train_index].reset_index(drop=True)
        holdout = table.iloc[holdout_index].reset_index(drop=True)
        split_config = replace(config, model=model, seed=config.seed + repeat)
        begun = time.perf_counter()
        fitted = fit_model(train, schema, split_config, model, parameters=parameters)
        totals["fit_seconds"].append(time.perf_counter() - begun)
        synthetic = fitted.sample(len(train), seed=config.seed + repeat)
        scores = fidelity_scores(holdout, synthetic, kinds)
        for key in ("ks_mean_complement", "tv_mean_complement", "correlation_similarity"):
            if scores[key] is not None:
                totals[key].append(scores[key])
        totals["score"].append(_score(scores))
        share = dcr(train, holdout, synthetic, schema, seed=config.seed + repeat)["holdout_share"]
        totals["dcr_holdout_share"].append(share)

    result = {key: (round(float(np.mean(v)), 4) if v else None) for key, v in totals.items()}
    result["dcr_holdout_shares"] = [round(s, 4) for s in totals["dcr_holdout_share"]]
    return result
