import numpy as np
import pytest
from model_tables import ra_table

from synthcare import crossfit
from synthcare.synthesizers import SIZED_FOR_ROWS, TrainingConfig, fit_model


def test_folds_hold_out_every_row_once_per_round():
    folds = crossfit.fold_plan(60, seed=3, rounds=2)
    assert len(folds) == 2 * crossfit.FOLDS
    for start in (0, crossfit.FOLDS):
        held = np.concatenate([f.holdout for f in folds[start : start + crossfit.FOLDS]])
        assert sorted(held) == list(range(60))
    for fold in folds:
        assert not set(fold.train) & set(fold.holdout)
        assert len(fold.train) + len(fold.holdout) == 60


def test_fold_plan_is_seeded_and_rounds_extend_it():
    one = crossfit.fold_plan(60, seed=3, rounds=1)
    two = crossfit.fold_plan(60, seed=3, rounds=2)
    assert all(np.array_equal(a.holdout, b.holdout) for a, b in zip(one, two, strict=False))
    other = crossfit.fold_plan(60, seed=4, rounds=1)
    assert not np.array_equal(one[0].holdout, other[0].holdout)


def test_large_table_gets_one_split_of_bounded_size():
    folds = crossfit.fold_plan(50_000, seed=0, rounds=2)
    assert len(folds) == 1
    assert len(folds[0].train) + len(folds[0].holdout) == crossfit.MAX_SEARCH_ROWS
    assert len(folds[0].holdout) == crossfit.MAX_SEARCH_ROWS // crossfit.FOLDS


@pytest.mark.parametrize(
    ("rows", "neural", "rounds"), [(60, False, 2), (60, True, 1), (201, False, 1)]
)
def test_rounds(rows, neural, rounds):
    assert crossfit.rounds_for(rows, neural) == rounds


def test_fold_fit_samples_unseen_rows_deterministically():
    table, schema = ra_table()
    table = table[schema.modelled()]
    fold = crossfit.fold_plan(len(table), seed=0)[0]
    config = TrainingConfig(model="empirical_copula")
    first = crossfit.fit_fold(table, schema, config, fold)
    again = crossfit.fit_fold(table, schema, config, fold)
    assert len(first.synthetic) == len(fold.train)
    assert list(first.synthetic.columns) == list(table.columns)
    assert first.synthetic.equals(again.synthetic)
    share = crossfit.dcr_share(first, schema)
    assert 0 <= share <= 1
    assert share == crossfit.dcr_share(again, schema)


def test_part_fit_regularised_like_whole_table():
    table, schema = ra_table()
    table = table[schema.modelled()]
    config = TrainingConfig(model="empirical_copula")
    part = table.iloc[:48]
    parameters = crossfit.part_parameters("empirical_copula", len(table), None)
    assert parameters == {SIZED_FOR_ROWS: len(table)}
    whole_fit = fit_model(table, schema, config, "empirical_copula")
    part_fit = fit_model(part, schema, config, "empirical_copula", parameters)
    plain_part_fit = fit_model(part, schema, config, "empirical_copula")
    assert part_fit.info["parameters"] == whole_fit.info["parameters"]
    assert plain_part_fit.info["parameters"] != whole_fit.info["parameters"]


def test_part_parameters_leave_neural_models_alone():
    assert crossfit.part_parameters("ctgan", 60, None) is None
    assert crossfit.part_parameters("ctgan", 60, {"epochs": 3}) == {"epochs": 3}
