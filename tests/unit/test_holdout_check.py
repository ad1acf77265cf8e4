"""The train step's holdout check and its agreement with the auto search."""

from __future__ import annotations

from pathlib import Path

import pytest
from model_tables import mixed_table

from synthcare import steps
from synthcare.crossfit import CROSS_FIT_MAX_ROWS, FOLDS
from synthcare.synthesizers import MAX_SEED, NEURAL_MODELS, TrainingConfig

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def prepared():
    return steps.validate(DATA / "ra_like_60.csv")


def test_copula_check_measures_every_fold(prepared):
    model = steps.train(prepared, TrainingConfig(model="empirical_copula"))
    holdout = model.info["holdout"]
    assert holdout["dcr_folds"] == 2 * FOLDS
    assert len(holdout["dcr_holdout_shares"]) == 2 * FOLDS
    assert not holdout["dcr_reused_from_search"]
    assert 0.3 < holdout["dcr_holdout_share"] < 0.8
    assert 0.5 < holdout["ks_mean_complement"] <= 1


def test_gate_reuses_copula_search_share(prepared):
    auto = steps.train(prepared, TrainingConfig(model="auto", time_budget=5))
    assert auto.info["model"] not in NEURAL_MODELS
    holdout = auto.info["holdout"]
    search = auto.info["details"]["holdout"]
    assert holdout["dcr_reused_from_search"]
    assert holdout["dcr_holdout_shares"] == search["dcr_holdout_shares"]

    # The same model trained by name measures the same folds itself and gets the same shares.
    alone = steps.train(prepared, TrainingConfig(model=auto.info["model"]))
    assert alone.info["holdout"]["dcr_holdout_shares"] == holdout["dcr_holdout_shares"]


def test_large_table_measures_half_splits():
    table, schema = mixed_table(rows=CROSS_FIT_MAX_ROWS + 200)
    prepared = steps.Prepared(table, schema, source={}, profile={})
    model = steps.train(prepared, TrainingConfig(model="auto", time_budget=5))
    holdout = model.info["holdout"]
    assert holdout["dcr_method"] == "half split"
    assert holdout["dcr_folds"] == 0
    assert not holdout["dcr_reused_from_search"]
    assert len(holdout["dcr_holdout_shares"]) == holdout["repeats"] == 1
    assert model.info["details"]["selection"]["folds"] == 1


def test_max_seed_trains_with_holdout_check(prepared):
    # Folds and half splits seed their fits with offsets after the run's seed.
    model = steps.train(prepared, TrainingConfig(model="empirical_copula", seed=MAX_SEED))
    assert len(model.info["holdout"]["dcr_holdout_shares"]) == 2 * FOLDS
    synthetic = steps.generate(model)
    evaluation = steps.evaluate(prepared, synthetic, model, privacy_threshold=1.0)
    assert len(evaluation.synthetic) == 60
