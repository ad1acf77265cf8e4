import json
import pickle

import pandas as pd
import pytest
from model_tables import mixed_table, ra_table

from synthcare.errors import ConfigError, GenerationError, TrainingError
from synthcare.synthesizers import (
    MAX_SEED,
    MODELS,
    FittedSynthesizer,
    TrainingConfig,
    fit_synthesizer,
    neural_parameters,
)

FAST = {"ctgan": 2, "tvae": 2, "copulagan": 2}


def fit(model, table_and_schema=None, seed=0):
    table, schema = table_and_schema or ra_table()
    config = TrainingConfig(model=model, epochs=FAST.get(model), seed=seed)
    return fit_synthesizer(table, schema, config)


def test_models_names():
    assert MODELS[0] == "auto"
    for name in ("ctgan", "tvae", "gaussian_copula", "copulagan", "empirical_copula"):
        assert name in MODELS


def test_config_defaults():
    config = TrainingConfig()
    assert config.model == "auto"
    assert config.time_budget == 60.0


def test_config_hyperparameters_round_trip():
    config = TrainingConfig(model="ctgan", epochs=50, batch_size=20, pac=5, seed=3)
    hyperparameters = config.to_hyperparameters()
    assert all(isinstance(value, str) for value in hyperparameters.values())
    assert TrainingConfig.from_hyperparameters(hyperparameters) == config


def test_config_hyperparameters_leave_unset_out():
    assert "epochs" not in TrainingConfig().to_hyperparameters()


def test_config_unknown_hyperparameter():
    with pytest.raises(ConfigError, match="learning_rate"):
        TrainingConfig.from_hyperparameters({"learning_rate": "0.1"})


def test_config_bad_hyperparameter_value():
    with pytest.raises(ConfigError, match="epochs"):
        TrainingConfig.from_hyperparameters({"epochs": "many"})


def test_config_fractional_epochs():
    with pytest.raises(ConfigError, match="whole number"):
        TrainingConfig.from_hyperparameters({"epochs": "2.5"})


def test_config_unknown_model():
    with pytest.raises(ConfigError, match="unknown model"):
        TrainingConfig(model="gpt")


def test_config_odd_batch_size():
    with pytest.raises(ConfigError, match="even"):
        TrainingConfig(batch_size=21)


def test_config_batch_not_multiple_of_pac():
    with pytest.raises(ConfigError, match="multiple of pac"):
        TrainingConfig(batch_size=20, pac=3)


def test_config_seed_above_max():
    with pytest.raises(ConfigError, match="from 0 to"):
        TrainingConfig(seed=MAX_SEED + 1)


@pytest.mark.parametrize("model", ["gaussian_copula", "tvae"])
def test_max_seed_fits_and_samples(model):
    # Folds and splits add small offsets to the seed, which must not leave NumPy's range.
    fitted = fit(model, seed=MAX_SEED)
    assert len(fitted.sample(10, seed=MAX_SEED + 5)) == 10


def test_config_none_text_means_unset():
    config = TrainingConfig.from_hyperparameters({"epochs": "None", "model": "TVAE"})
    assert config.epochs is None
    assert config.model == "tvae"


@pytest.mark.parametrize("rows", [12, 60, 61, 442, 5000, 32561])
def test_neural_parameters_batch(rows):
    parameters = neural_parameters("ctgan", rows, TrainingConfig())
    assert parameters["batch_size"] % 2 == 0
    assert parameters["batch_size"] % parameters["pac"] == 0
    assert parameters["batch_size"] <= rows


def test_neural_parameters_small_table_updates():
    parameters = neural_parameters("ctgan", 60, TrainingConfig())
    updates = parameters["epochs"] * (60 // parameters["batch_size"])
    assert updates >= 2000


def test_neural_parameters_explicit_batch_too_large():
    with pytest.raises(ConfigError, match="larger than the table"):
        neural_parameters("ctgan", 60, TrainingConfig(batch_size=100, pac=10))


def test_neural_parameters_explicit_values_win():
    parameters = neural_parameters("tvae", 60, TrainingConfig(epochs=7, batch_size=10))
    assert parameters == {"batch_size": 10, "epochs": 7}


@pytest.mark.parametrize("model", ["empirical_copula", "gaussian_copula", "ctgan", "tvae"])
def test_sample_same_seed_same_rows(model):
    fitted = fit(model)
    first = fitted.sample(30, seed=5)
    second = fitted.sample(30, seed=5)
    pd.testing.assert_frame_equal(first, second)


@pytest.mark.parametrize("model", ["empirical_copula", "ctgan"])
def test_fit_same_seed_same_model(model):
    first = fit(model, seed=2).sample(20, seed=1)
    second = fit(model, seed=2).sample(20, seed=1)
    pd.testing.assert_frame_equal(first, second)


def test_sample_other_seed_other_rows():
    fitted = fit("empirical_copula")
    assert not fitted.sample(30, seed=1).equals(fitted.sample(30, seed=2))


def test_copulagan_fits_and_samples():
    sampled = fit("copulagan").sample(15, seed=0)
    assert len(sampled) == 15


@pytest.mark.parametrize("model", ["empirical_copula", "gaussian_copula", "tvae"])
def test_sample_keeps_dtypes_and_ranges(model):
    table, schema = mixed_table()
    sampled = fit(model, (table, schema)).sample(200, seed=0)
    assert list(sampled.columns) == schema.modelled()
    assert str(sampled["age"].dtype) == "Int64"
    assert str(sampled["grade"].dtype) == "Int64"
    assert str(sampled["site"].dtype) == "string"
    assert str(sampled["smoker"].dtype) == "boolean"
    assert str(sampled["visit"].dtype) == "datetime64[ns]"
    assert sampled["age"].min() >= table["age"].min()
    assert sampled["age"].max() <= table["age"].max()
    continuous_lab = sampled["lab"][sampled["lab"] != 999.0]
    assert continuous_lab.max() <= table["lab"][table["lab"] != 999.0].max()


def test_sample_keeps_sentinel_point_mass():
    table, schema = ra_table()
    sampled = fit("empirical_copula", (table, schema)).sample(600, seed=0)
    real_share = (table["RF"] == -1).mean()
    synthetic_share = (sampled["RF"] == -1).mean()
    assert abs(real_share - synthetic_share) < 0.05
    assert sampled["RF"][sampled["RF"] != -1].min() > 0


def test_sample_keeps_missing_rate():
    table, schema = mixed_table(rows=300)
    sampled = fit("empirical_copula", (table, schema)).sample(3000, seed=0)
    assert abs(sampled["weight"].isna().mean() - table["weight"].isna().mean()) < 0.03
    assert abs(sampled["site"].isna().mean() - table["site"].isna().mean()) < 0.03


def test_fitted_synthesizer_pickles():
    fitted = fit("empirical_copula")
    restored = pickle.loads(pickle.dumps(fitted))
    assert isinstance(restored, FittedSynthesizer)
    pd.testing.assert_frame_equal(restored.sample(10, seed=4), fitted.sample(10, seed=4))


def test_ctgan_pickles():
    fitted = fit("ctgan")
    restored = pickle.loads(pickle.dumps(fitted))
    pd.testing.assert_frame_equal(restored.sample(10, seed=4), fitted.sample(10, seed=4))


def test_info_is_json():
    fitted = fit("ctgan")
    document = json.loads(json.dumps(fitted.info))
    assert document["model"] == "ctgan"
    assert document["parameters"]["epochs"] == 2


@pytest.mark.parametrize("model", ["empirical_copula", "gaussian_copula"])
def test_conditions_fix_values(model):
    sampled = fit(model).sample(20, seed=0, conditions={"sex": "1", "Hb": 12.0})
    assert (sampled["sex"] == 1).all()
    assert (sampled["Hb"] == 12.0).all()


def test_conditions_categorical_ctgan():
    sampled = fit("ctgan").sample(10, seed=0, conditions={"sex": 1})
    assert (sampled["sex"] == 1).all()


def test_conditions_unknown_column():
    with pytest.raises(GenerationError, match="not a modelled column"):
        fit("empirical_copula").sample(5, seed=0, conditions={"height": 1})


def test_conditions_out_of_range():
    with pytest.raises(GenerationError, match="outside the range"):
        fit("empirical_copula").sample(5, seed=0, conditions={"Hb": 99})


def test_sample_bad_row_count():
    with pytest.raises(GenerationError, match="at least 1"):
        fit("empirical_copula").sample(0, seed=0)


def test_fit_leaves_table_unchanged():
    table, schema = mixed_table()
    before = table.copy()
    fit("empirical_copula", (table, schema))
    pd.testing.assert_frame_equal(table, before)


def test_fit_without_modelled_columns():
    from model_tables import make_schema

    table = pd.DataFrame({"id": ["a", "b", "c"]})
    schema = make_schema({"id": ("identifier", "string")})
    with pytest.raises(TrainingError, match="no column to model"):
        fit_synthesizer(table, schema, TrainingConfig(model="empirical_copula"))


def test_stratified_copula_sample_spreads_over_strata():
    from synthcare.copula import EmpiricalCopula
    from synthcare.transforms import ModelColumn

    frame = pd.DataFrame({"x": range(100), "y": [v % 7 for v in range(100)]})
    columns = [ModelColumn("x", "continuous"), ModelColumn("y", "continuous")]
    plain = EmpiricalCopula(jitter=0, stratify=False).fit(frame, columns).sample(50, seed=1)
    stratified = EmpiricalCopula(jitter=0, stratify=True).fit(frame, columns).sample(50, seed=1)
    # One value of x in each 1/50 stratum of its range: 50 of 50 strata filled.
    strata = (stratified["x"] / 99 * 50).astype(int).clip(upper=49)
    assert strata.nunique() == 50
    assert (plain["x"] / 99 * 50).astype(int).clip(upper=49).nunique() < 50
