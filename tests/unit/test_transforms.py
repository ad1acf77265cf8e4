import numpy as np
import pandas as pd
import pytest
from model_tables import make_schema, mixed_table, ra_table

from synthcare.transforms import (
    MISSING_LABEL,
    TableTransformer,
    count_decimals,
    find_sentinels,
)


def test_find_sentinels_negative_code():
    values = np.array([-1.0, -1.0, 3.2, 4.5, 7.1, 8.0, 12.5])
    assert find_sentinels(values) == [-1.0]


def test_find_sentinels_nines_code():
    values = np.array([1.2, 3.4, 999.0, 2.2, 5.0, 999.0])
    assert find_sentinels(values) == [999.0]


def test_find_sentinels_ignores_real_negatives():
    values = np.linspace(-5, 5, 40)
    assert find_sentinels(values) == []


def test_find_sentinels_ignores_large_real_values():
    values = np.array([120.0, 340.0, 999.0, 870.0, 560.0])
    assert find_sentinels(values) == []


def test_count_decimals():
    assert count_decimals(np.array([1.0, 2.0])) == 0
    assert count_decimals(np.array([1.25, 2.5])) == 2


def test_plans_ra_table():
    table, schema = ra_table()
    transformer = TableTransformer().fit(table, schema)
    assert transformer.plan("RF").point_masses == [-1.0]
    assert transformer.plan("Anticcp").point_masses == [-1.0]
    assert transformer.plan("YKL40").log
    assert transformer.plan("Ast").encoding == "labels"
    assert transformer.plan("Ast").ordered
    assert transformer.plan("Hb").encoding == "continuous"
    assert "MH" not in transformer.columns


def test_plans_zero_inflation_and_sentinel():
    table, schema = mixed_table(rows=200)
    transformer = TableTransformer().fit(table, schema)
    assert transformer.plan("gain").point_masses == [0.0]
    assert transformer.plan("lab").point_masses == [999.0]
    assert transformer.plan("grade").encoding == "labels"
    assert transformer.plan("weight").has_missing


def test_model_table_has_no_missing_values():
    table, schema = mixed_table()
    model_table = TableTransformer().fit(table, schema).transform(table)
    assert not model_table.isna().any().any()


def test_model_table_continuous_part_excludes_point_masses():
    table, schema = mixed_table(rows=200)
    transformer = TableTransformer().fit(table, schema)
    model_table = transformer.transform(table)
    plan = transformer.plan("lab")
    assert model_table[plan.value_column].max() <= plan.maximum
    assert set(model_table[plan.state_column]) == {"value", "=999"}


def test_round_trip_restores_table():
    table, schema = mixed_table()
    transformer = TableTransformer().fit(table, schema)
    restored = transformer.inverse_transform(transformer.transform(table))
    for column in table.columns:
        pd.testing.assert_series_equal(
            restored[column], table[column], check_names=False, check_dtype=False
        )


def test_round_trip_ra_table():
    table, schema = ra_table()
    transformer = TableTransformer().fit(table, schema)
    restored = transformer.inverse_transform(transformer.transform(table))
    for column in transformer.columns:
        assert restored[column].astype("float64").tolist() == pytest.approx(
            table[column].astype("float64").tolist()
        )


def test_inverse_keeps_integers_and_range():
    table, schema = ra_table()
    transformer = TableTransformer().fit(table, schema)
    model_table = transformer.transform(table)
    model_table["Plat"] = np.linspace(-1e4, 1e4, len(model_table))
    restored = transformer.inverse_transform(model_table)
    assert str(restored["Plat"].dtype) == "Int64"
    assert restored["Plat"].min() == table["Plat"].min()
    assert restored["Plat"].max() == table["Plat"].max()


def test_inverse_restores_missing_state():
    table, schema = mixed_table()
    transformer = TableTransformer().fit(table, schema)
    model_table = transformer.transform(table)
    state = transformer.plan("weight").state_column
    model_table[state] = MISSING_LABEL
    assert transformer.inverse_transform(model_table)["weight"].isna().all()


def test_transform_leaves_input_unchanged():
    table, schema = mixed_table()
    before = table.copy()
    TableTransformer().fit(table, schema).transform(table)
    pd.testing.assert_frame_equal(table, before)


def test_encode_value_rejects_out_of_range():
    table, schema = ra_table()
    transformer = TableTransformer().fit(table, schema)
    with pytest.raises(ValueError, match="outside the range"):
        transformer.encode_value("Hb", 99.0)


def test_encode_value_accepts_text_codes():
    table, schema = ra_table()
    transformer = TableTransformer().fit(table, schema)
    assert transformer.encode_value("sex", "1") == {"sex": "1"}


def test_encode_value_rejects_unknown_level():
    table, schema = mixed_table()
    transformer = TableTransformer().fit(table, schema)
    with pytest.raises(ValueError, match="not a value"):
        transformer.encode_value("site", "west")


def test_single_value_continuous_part_falls_back_to_labels():
    frame = pd.DataFrame({"x": [-1.0, -1.0, 5.0, 5.0, 5.0, 5.0]})
    schema = make_schema({"x": ("numerical", "float64")})
    transformer = TableTransformer().fit(frame, schema)
    assert transformer.plan("x").encoding == "labels"


def test_few_distinct_float_values_become_levels():
    values = [11.0, 11.2, 11.3, 12.8, 13.1] * 8
    table = pd.DataFrame({"Hb": pd.Series(values, dtype="float64")})
    schema = make_schema({"Hb": ("numerical", "float64")})
    plan = TableTransformer().fit(table, schema).plan("Hb")
    assert plan.encoding == "labels"
    assert plan.ordered


@pytest.mark.parametrize("model", ["gaussian_copula", "empirical_copula", "tvae"])
def test_few_distinct_values_sampled_from_real_values(model):
    from pathlib import Path

    from synthcare.evaluation import evaluate_fidelity
    from synthcare.reading import read_table
    from synthcare.schema import infer_schema
    from synthcare.synthesizers import TrainingConfig, fit_synthesizer

    path = Path(__file__).parents[1] / "data" / "cases" / "boolean_variants.csv"
    table, schema = infer_schema(read_table(path))
    config = TrainingConfig(model=model, epochs=2, seed=0)
    synthetic = fit_synthesizer(table, schema, config).sample(len(table), seed=1)
    real_values = set(table["Hb"].dropna().astype(float))
    assert set(synthetic["Hb"].dropna().astype(float)) <= real_values
    tv = next(
        c for c in evaluate_fidelity(table, synthetic, schema)["columns"] if c["column"] == "Hb"
    )
    assert tv["metric"] == "tv"
