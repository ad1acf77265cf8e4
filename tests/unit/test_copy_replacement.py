"""The evaluate step replaces exact copies of real rows with fresh rows that are no copies."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from synthcare import steps
from synthcare.errors import GenerationError
from synthcare.privacy import exact_copies
from synthcare.synthesizers import TrainingConfig

# Four of the eight combinations of three independent two-level columns, five rows each: a
# model that learns the marginals draws a combination that is a real row half the time.
HALF_COPIED = [("a", "x", "p"), ("a", "y", "q"), ("b", "x", "q"), ("b", "y", "p")] * 5


def _run(tmp_path, rows, generated_rows):
    path = tmp_path / "table.csv"
    pd.DataFrame(rows, columns=["first", "second", "third"]).to_csv(path, index=False)
    prepared = steps.validate(path)
    model = steps.train(prepared, TrainingConfig(model="empirical_copula"))
    synthetic = steps.generate(model, rows=generated_rows)
    return prepared, synthetic, model


def test_copies_replaced_to_requested_rows(tmp_path):
    prepared, synthetic, model = _run(tmp_path, HALF_COPIED, 200)
    evaluation = steps.evaluate(prepared, synthetic, model, privacy_threshold=1.0)
    privacy = evaluation.results["privacy"]
    columns = prepared.schema.modelled()
    remaining = exact_copies(prepared.table[columns], evaluation.synthetic[columns], columns)
    assert privacy["exact_copies_removed"] > 50
    assert privacy["exact_copies_replaced"] == privacy["exact_copies_removed"]
    assert len(evaluation.synthetic) == 200
    assert not remaining.any()
    assert any("over-represent rare combinations" in n for n in evaluation.results["notes"])


def test_copy_replacement_is_reproducible(tmp_path):
    prepared, synthetic, model = _run(tmp_path, HALF_COPIED, 50)
    first = steps.evaluate(prepared, synthetic, model, privacy_threshold=1.0)
    second = steps.evaluate(prepared, synthetic, model, privacy_threshold=1.0)
    assert first.synthetic.equals(second.synthetic)


def test_copy_replacement_keeps_conditions(tmp_path):
    prepared, _, model = _run(tmp_path, HALF_COPIED, 10)
    synthetic = steps.generate(model, rows=100, conditions={"first": "a"})
    evaluation = steps.evaluate(
        prepared, synthetic, model, privacy_threshold=1.0, conditions={"first": "a"}
    )
    assert evaluation.results["privacy"]["exact_copies_replaced"] > 0
    assert set(evaluation.synthetic["first"]) == {"a"}
    assert len(evaluation.synthetic) == 100


def test_every_row_copied_fails_plainly(tmp_path):
    every_combination = list(itertools.product("ab", "xy", "pq")) * 3
    prepared, synthetic, model = _run(tmp_path, every_combination, 30)
    with pytest.raises(GenerationError, match="every synthetic row is an exact copy"):
        steps.evaluate(prepared, synthetic, model, privacy_threshold=1.0)
