import numpy as np
import pandas as pd
import pytest
from model_tables import make_schema, mixed_table

from synthcare.privacy import PrivacyGate, dcr, exact_copies


def test_exact_copies_marks_copied_rows():
    table, schema = mixed_table()
    synthetic = table.iloc[[3, 7]].reset_index(drop=True)
    synthetic.loc[1, "age"] = synthetic.loc[1, "age"] + 1
    mask = exact_copies(table, synthetic, schema.modelled())
    assert mask.tolist() == [True, False]


def test_exact_copies_compares_numbers_by_value():
    real = pd.DataFrame({"a": pd.array([1, 2], dtype="Int64"), "b": ["x", "y"]})
    synthetic = pd.DataFrame({"a": [1.0, 2.5], "b": ["x", "y"]})
    assert exact_copies(real, synthetic, ["a", "b"]).tolist() == [True, False]


def test_exact_copies_matches_missing_values():
    real = pd.DataFrame({"a": [1.0, np.nan]})
    synthetic = pd.DataFrame({"a": [np.nan]})
    assert exact_copies(real, synthetic, ["a"]).tolist() == [True]


def test_exact_copies_keeps_index():
    real = pd.DataFrame({"a": [1.0]})
    synthetic = pd.DataFrame({"a": [1.0, 2.0]}, index=[10, 11])
    assert exact_copies(real, synthetic, ["a"]).index.tolist() == [10, 11]


def test_dcr_copies_of_training_rows():
    table, schema = mixed_table(rows=120)
    train, holdout = table.iloc[:60], table.iloc[60:]
    result = dcr(train, holdout, train.copy(), schema)
    assert result["holdout_share"] > 0.95
    assert result["synthetic_to_train_median"] == 0.0


def test_dcr_independent_rows_near_half():
    table, schema = mixed_table(rows=3000, seed=4)
    shares = []
    for seed in range(6):
        order = np.random.default_rng(seed).permutation(len(table))
        train = table.iloc[order[:200]]
        holdout = table.iloc[order[200:400]]
        synthetic = table.iloc[order[400:600]]
        shares.append(dcr(train, holdout, synthetic, schema, seed=seed)["holdout_share"])
    assert 0.42 < np.mean(shares) < 0.58


def test_dcr_balances_part_sizes():
    table, schema = mixed_table(rows=300)
    result = dcr(table.iloc[:200], table.iloc[200:250], table.iloc[250:], schema)
    assert result["rows"]["train"] == 50
    assert result["rows"]["holdout"] == 50


def test_dcr_gower_distance_value():
    schema = make_schema({"x": ("numerical", "float64"), "c": ("categorical", "string")})
    train = pd.DataFrame({"x": [0.0, 10.0], "c": ["a", "b"]})
    holdout = pd.DataFrame({"x": [5.0, 10.0], "c": ["b", "b"]})
    synthetic = pd.DataFrame({"x": [1.0], "c": ["a"]})
    result = dcr(train, holdout, synthetic, schema)
    # Range 10: to train row 0 the distance is (0.1 + 0) / 2, to holdout row 0 (0.4 + 1) / 2.
    assert result["synthetic_to_train_median"] == pytest.approx(0.05)
    assert result["synthetic_to_holdout_median"] == pytest.approx(0.7)
    assert result["holdout_share"] == 1.0


def test_dcr_missing_values_distance():
    schema = make_schema({"x": ("numerical", "float64")})
    train = pd.DataFrame({"x": [np.nan, 1.0]})
    holdout = pd.DataFrame({"x": [2.0, 3.0]})
    synthetic = pd.DataFrame({"x": [np.nan]})
    result = dcr(train, holdout, synthetic, schema)
    assert result["synthetic_to_train_median"] == 0.0
    assert result["synthetic_to_holdout_median"] == 1.0


def test_dcr_rejects_empty_parts():
    table, schema = mixed_table()
    with pytest.raises(ValueError, match="non-empty"):
        dcr(table, table.iloc[:0], table, schema)


def test_gate_passes_at_threshold():
    assert PrivacyGate(threshold=0.6).check(0.6)


def test_gate_fails_above_threshold():
    assert not PrivacyGate(threshold=0.6).check(0.61)


def test_gate_fails_unknown_share():
    assert not PrivacyGate().check(None)


def test_gate_default_threshold():
    assert PrivacyGate().threshold == 0.6


def test_gate_rejects_bad_threshold():
    with pytest.raises(ValueError, match="between 0 and 1"):
        PrivacyGate(threshold=1.5)
