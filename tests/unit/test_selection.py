import json
import time

import pytest
from model_tables import mixed_table, ra_table

from synthcare import crossfit, selection
from synthcare.scoring import FoldEvidence
from synthcare.synthesizers import MIN_EPOCHS, TrainingConfig, fit_synthesizer


def two_folds(rows, seed, rounds=1):
    return crossfit.fold_plan(rows, seed, 1)[:2]


@pytest.fixture(scope="module")
def auto_fit():
    table, schema = ra_table()
    return fit_synthesizer(table, schema, TrainingConfig(model="auto", time_budget=5))


def test_auto_names_winner(auto_fit):
    assert auto_fit.info["selected_model"] == auto_fit.model_name
    assert auto_fit.info["requested_model"] == "auto"


def test_auto_refits_winner_on_all_rows(auto_fit):
    assert auto_fit.info["rows"] == 60


def test_auto_scores_copula_candidates(auto_fit):
    scored = {c["model"]: c for c in auto_fit.info["candidates"]}
    for model in ("empirical_copula", "gaussian_copula"):
        assert scored[model]["status"] in ("passed", "rejected")
        assert 0 < scored[model]["ks_mean_complement"] <= 1
        assert 0 <= scored[model]["dcr_holdout_share"] <= 1
        assert len(scored[model]["dcr_holdout_shares"]) == 2 * crossfit.FOLDS
        assert selection.EVIDENCE not in scored[model]


def test_auto_skips_neural_on_short_budget(auto_fit):
    scored = {c["model"]: c for c in auto_fit.info["candidates"]}
    assert scored["ctgan"]["status"] == "skipped"
    assert "budget" in scored["ctgan"]["budget"]


def test_auto_reports_winner_holdout(auto_fit):
    winner = next(c for c in auto_fit.info["candidates"] if c["model"] == auto_fit.model_name)
    holdout = auto_fit.info["holdout"]
    assert holdout["ks_mean_complement"] == winner["ks_mean_complement"]
    assert holdout["dcr_holdout_share"] == winner["dcr_holdout_share"]


def test_auto_info_is_json(auto_fit):
    json.dumps(auto_fit.info)


def test_auto_winner_close_to_best(auto_fit):
    scored = [c for c in auto_fit.info["candidates"] if "score" in c]
    best = max(scored, key=lambda c: c["score"])
    winner = next(c for c in scored if c["model"] == auto_fit.model_name)
    if winner is not best:
        # The comparison is over the shared folds, whose gap info records.
        assert winner["shared_folds"] >= 1
        assert winner["gap_to_best"] <= selection.CLOSE_SCORE_MARGIN
        assert winner["gap_to_best"] <= winner.get("standard_error", float("inf"))


def candidate(model, score, folds, status="passed"):
    # Evidence with a correlation similarity only: the pooled score is the mean over folds.
    assert score == pytest.approx(sum(folds) / len(folds))
    evidence = [FoldEvidence(correlation=value) for value in folds]
    return {"model": model, "score": score, selection.EVIDENCE: evidence, "status": status}


def test_choose_prefers_earlier_candidate_within_noise():
    first = candidate("a", 0.76, [0.70, 0.80, 0.75, 0.79])
    second = candidate("b", 0.77, [0.80, 0.70, 0.76, 0.82])
    assert selection.choose([first, second]) == (first, False)
    assert first["standard_error"] > 0.01


def test_choose_takes_later_candidate_that_wins_every_fold():
    first = candidate("a", 0.70, [0.70, 0.71, 0.69, 0.70])
    second = candidate("b", 0.80, [0.80, 0.79, 0.81, 0.80])
    assert selection.choose([first, second]) == (second, False)


def test_choose_compares_over_shared_folds():
    # The copula has ten folds and wins each of the five it shares with the neural model,
    # although its mean over all ten is lower.
    copula = candidate("a", 0.75, [0.80] * 5 + [0.70] * 5)
    neural = candidate("b", 0.79, [0.79] * 5)
    assert selection.choose([copula, neural]) == (copula, False)


def test_choose_one_fold_uses_margin():
    close = candidate("a", 0.79, [0.79])
    far = candidate("b", 0.75, [0.75])
    best = candidate("c", 0.80, [0.80, 0.80])
    assert selection.choose([close, best]) == (close, False)
    assert selection.choose([far, best]) == (best, False)


def test_choose_prefers_private_close_candidate():
    first = candidate("a", 0.77, [0.70, 0.80, 0.75, 0.83], status="rejected")
    second = candidate("b", 0.76, [0.80, 0.70, 0.76, 0.78])
    assert selection.choose([first, second]) == (second, False)


def test_choose_ignores_private_candidate_far_below():
    # A model that learned little lies far from every real row: its privacy does not make up
    # for its score, so the best is fitted and the privacy gate decides.
    good = candidate("a", 0.77, [0.76, 0.78, 0.77, 0.77], status="rejected")
    noise = candidate("b", 0.50, [0.50, 0.52, 0.48, 0.50])
    assert selection.choose([good, noise]) == (good, True)


def test_choose_caps_closeness_at_margin():
    # Folds of a few rows give a standard error above 0.05: a model 0.04 below the best on
    # average is not close however noisy the folds are.
    good = candidate("a", 0.70, [0.60, 0.80, 0.62, 0.78], status="rejected")
    weaker = candidate("b", 0.66, [0.70, 0.66, 0.72, 0.56])
    assert selection.choose([good, weaker]) == (good, True)
    assert weaker["standard_error"] > 0.04


def test_criterion_names_one_split_rule():
    assert "one split" in selection._criterion(1, 0.6)
    assert "standard error" in selection._criterion(5, 0.6)


def test_auto_privacy_fallback(monkeypatch):
    monkeypatch.setattr(selection, "PRIVACY_THRESHOLD", 0.0)
    monkeypatch.setattr(selection, "fold_plan", two_folds)
    table, schema = mixed_table(rows=60)
    fitted = fit_synthesizer(table, schema, TrainingConfig(time_budget=2))
    scored = [c for c in fitted.info["candidates"] if "dcr_holdout_share" in c]
    assert fitted.info["selection"]["privacy_fallback"]
    assert all(c["status"] == "rejected" for c in scored)
    winner = next(c for c in scored if c["model"] == fitted.model_name)
    assert winner.get("gap_to_best", 0.0) <= selection.CLOSE_SCORE_MARGIN


def test_auto_includes_neural_with_explicit_epochs(monkeypatch):
    monkeypatch.setattr(selection, "fold_plan", two_folds)
    table, schema = mixed_table(rows=60)
    config = TrainingConfig(epochs=2, time_budget=600)
    fitted = fit_synthesizer(table, schema, config)
    statuses = {c["model"]: c["status"] for c in fitted.info["candidates"]}
    assert statuses["tvae"] in ("passed", "rejected")
    assert statuses["ctgan"] in ("passed", "rejected")


def test_budget_parameters_scale_epochs():
    search, final, note = selection._budget_parameters(
        "ctgan", TrainingConfig(), 10_000, 20_000, 15, 1, remaining=150
    )
    full = selection.neural_parameters("ctgan", 20_000, TrainingConfig())
    assert final["epochs"] < full["epochs"]
    assert final["epochs"] >= MIN_EPOCHS
    assert "scaled" in note


def test_budget_parameters_keep_epochs_when_budget_allows():
    search, final, note = selection._budget_parameters(
        "tvae", TrainingConfig(), 42, 60, 15, 3, remaining=1e6
    )
    assert final == selection.neural_parameters("tvae", 60, TrainingConfig())


def test_budget_parameters_skip():
    search, final, note = selection._budget_parameters(
        "ctgan", TrainingConfig(), 42, 60, 15, 3, remaining=1
    )
    assert search is None
    assert note.startswith("skipped")


def test_estimate_grows_with_epochs():
    short = selection.estimate_neural_seconds("ctgan", 60, 15, {"batch_size": 20, "epochs": 10})
    long = selection.estimate_neural_seconds("ctgan", 60, 15, {"batch_size": 20, "epochs": 100})
    assert long > short


def test_neural_candidate_stops_at_deadline():
    table, schema = mixed_table(rows=60)
    kinds = {name: str(schema[name].kind) for name in schema.modelled()}
    folds = crossfit.fold_plan(len(table), seed=0)[:3]
    config = TrainingConfig(model="tvae", epochs=2)
    with pytest.raises(selection._OverBudget, match="after 1 of 3 folds"):
        selection._score_candidate(
            table,
            schema,
            kinds,
            config,
            {"batch_size": 10, "epochs": 2},
            folds,
            deadline=0.0,
        )


def test_final_epochs_fit_remaining_budget():
    winner = {
        "parameters": {"batch_size": 20, "epochs": 100},
        "fit_seconds": 50.0,
        "train_rows": 48,
    }
    final = {"batch_size": 20, "epochs": 100}
    scaled = selection._fit_remaining_budget(
        winner, final, 60, TrainingConfig(time_budget=10), started=time.perf_counter()
    )
    assert MIN_EPOCHS <= scaled["epochs"] < 100


def test_auto_reports_each_candidate_fold(monkeypatch):
    table, schema = ra_table()
    calls = []
    progress = lambda stage, done, total, message="": calls.append((stage, done, total, message))  # noqa: E731
    fit_synthesizer(table, schema, TrainingConfig(model="auto", time_budget=5), progress=progress)
    search = [call for call in calls if call[0] == "model search"]
    folds = 2 * crossfit.FOLDS
    total = 2 * folds + 2 * crossfit.FOLDS
    assert all(call[2] == total for call in search)
    messages = [call[3] for call in search]
    for model in ("empirical_copula", "gaussian_copula"):
        for fold in range(1, folds + 1):
            assert f"{model} fold {fold}/{folds}" in messages
    done = [call[1] for call in search]
    assert done == sorted(done)
    assert done[-1] == total
