import numpy as np
import pandas as pd
import pytest
from model_tables import make_schema, mixed_table, ra_table
from scipy.stats import ks_2samp

from synthcare.evaluation import (
    compare_column,
    correlation_similarity,
    evaluate_fidelity,
    metric_of,
    real_baseline,
)
from synthcare.transforms import column_kinds


def shifted(table):
    other = table.copy()
    other["Hb"] = other["Hb"] + 1.0
    return other


def test_metric_of_kinds():
    table, _ = ra_table()
    assert metric_of(table["Hb"], "numerical") == "ks"
    assert metric_of(pd.Series(range(10)), "numerical") == "tv"
    assert metric_of(pd.Series(range(11)), "numerical") == "ks"
    assert metric_of(table["sex"], "categorical") == "tv"
    assert metric_of(pd.Series(pd.to_datetime(["2020-01-01"])), "datetime") == "ks"


def test_ks_statistic_equals_scipy():
    table, schema = ra_table()
    synthetic = shifted(table)
    synthetic.loc[:5, "Hb"] = np.nan
    result = evaluate_fidelity(table, synthetic, schema)
    column = next(c for c in result["columns"] if c["column"] == "Hb")
    expected = ks_2samp(table["Hb"].dropna(), synthetic["Hb"].dropna())
    assert column["statistic"] == pytest.approx(expected.statistic)
    assert column["p_value"] == pytest.approx(expected.pvalue)
    assert column["score"] == pytest.approx(1 - expected.statistic)


def test_identical_tables_score_one():
    table, schema = ra_table()
    result = evaluate_fidelity(table, table.copy(), schema)
    assert result["ks_mean_complement"] == pytest.approx(1.0)
    assert result["tv_mean_complement"] == pytest.approx(1.0)
    assert result["correlation_similarity"] == pytest.approx(1.0)


def test_shift_lowers_ks_mean():
    table, schema = ra_table()
    result = evaluate_fidelity(table, shifted(table), schema)
    assert result["ks_mean_complement"] < 1.0


def test_tv_distance_value():
    real = pd.Series(["a", "a", "b", "b"], name="x")
    synthetic = pd.Series(["a", "a", "a", "b"], name="x")
    result = compare_column(real, synthetic, "categorical", "tv")
    assert result["statistic"] == pytest.approx(0.25)
    assert result["p_value"] is None


def test_tv_matches_integer_and_float_labels():
    real = pd.Series([1, 2, 2], dtype="Int64", name="x")
    synthetic = pd.Series([1.0, 2.0, 2.0], name="x")
    assert compare_column(real, synthetic, "numerical", "tv")["statistic"] == 0.0


def test_missing_rates_reported():
    table, schema = mixed_table()
    synthetic = table.copy()
    synthetic["weight"] = np.nan
    result = evaluate_fidelity(table, synthetic, schema)
    column = next(c for c in result["columns"] if c["column"] == "weight")
    assert column["synthetic_missing_rate"] == 1.0
    assert column["real_missing_rate"] == pytest.approx(table["weight"].isna().mean())
    assert column["statistic"] == 1.0


def test_datetime_compared_with_ks():
    table, schema = mixed_table()
    result = evaluate_fidelity(table, table.copy(), schema)
    column = next(c for c in result["columns"] if c["column"] == "visit")
    assert column["metric"] == "ks"
    assert column["statistic"] == 0.0


def test_correlation_similarity_detects_flip():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    real = pd.DataFrame({"a": x, "b": x + rng.normal(scale=0.1, size=200)})
    flipped = pd.DataFrame({"a": x, "b": -real["b"]})
    kinds = {"a": "numerical", "b": "numerical"}
    assert correlation_similarity(real, flipped, kinds) < 0


def test_baseline_below_one_on_small_table():
    table, schema = ra_table()
    baseline = real_baseline(table, column_kinds(schema), seed=0, splits=20)
    assert baseline["splits"] == 20
    assert 0.6 < baseline["ks_mean_complement"] < 0.95
    assert set(baseline["columns"]) == set(column_kinds(schema))


def test_baseline_is_seeded():
    table, schema = ra_table()
    kinds = column_kinds(schema)
    assert real_baseline(table, kinds, seed=1) == real_baseline(table, kinds, seed=1)


def test_evaluate_rejects_missing_column():
    table, schema = ra_table()
    with pytest.raises(ValueError, match="Hb"):
        evaluate_fidelity(table, table.drop(columns=["Hb"]), schema)


def test_evaluate_skips_constant_columns():
    table, schema = ra_table()
    result = evaluate_fidelity(table, table.copy(), schema)
    assert "MH" not in [c["column"] for c in result["columns"]]


def test_boolean_with_missing_in_correlation():
    frame = pd.DataFrame(
        {
            "flag": pd.array([True, False, None, True], dtype="boolean"),
            "x": [1.0, 2.0, 3.0, 4.0],
        }
    )
    schema = make_schema({"flag": ("boolean", "boolean"), "x": ("numerical", "float64")})
    result = evaluate_fidelity(frame, frame.copy(), schema)
    assert result["correlation_similarity"] == pytest.approx(1.0)


def test_ks_exact_fallback_warning_silenced(monkeypatch):
    import warnings

    from scipy.stats import _stats_py

    def failing_exact(n1, n2, g, d, alternative):
        return False, d, np.nan

    # Force the exact p-value to fail as it does on some sample sizes, so SciPy warns and
    # switches to the asymptotic p-value.
    monkeypatch.setattr(_stats_py, "_attempt_exact_2kssamp", failing_exact)
    real = pd.Series(np.linspace(0, 1, 40), name="x")
    synthetic = pd.Series(np.linspace(0.1, 1.1, 37), name="x")
    with pytest.warns(RuntimeWarning, match="Exact calculation unsuccessful"):
        expected = ks_2samp(real, synthetic)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = compare_column(real, synthetic, "numerical", "ks")
    assert result["statistic"] == expected.statistic
    assert result["p_value"] == expected.pvalue
