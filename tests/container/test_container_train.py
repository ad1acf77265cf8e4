"""The ``train`` entry point against the SageMaker training contract."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pandas as pd
import pytest
from ml_harness import (
    FAST_HYPERPARAMETERS,
    RA_TABLE,
    TRAIN,
    make_root,
    ml_environment,
    run_train,
)

from model_code.paths import MLPaths
from model_code.train import MAX_FAILURE_CHARS, read_hyperparameters, write_failure
from synthcare import samples, steps
from synthcare.errors import ConfigError


def test_train_writes_model_files(trained):
    assert trained.returncode == 0
    assert (trained.root / "model" / "model.pkl").is_file()
    assert (trained.root / "model" / "model.json").is_file()
    assert trained.failure is None


def test_train_logs_stages_to_stdout(trained):
    assert "stage=hyperparameters" in trained.stdout
    assert "stage=fit model=gaussian_copula" in trained.stdout
    assert "stage=save" in trained.stdout
    assert "training job finished" in trained.stdout


def test_train_model_records_hyperparameters(trained):
    document = json.loads((trained.root / "model" / "model.json").read_text())
    assert document["hyperparameters"]["model"] == "gaussian_copula"
    assert document["hyperparameters"]["seed"] == "7"
    assert document["info"]["real_rows"] == 60


def test_train_model_loads_and_generates(trained, ra_prepared):
    model = steps.TrainedModel.load(trained.root / "model")
    frame = steps.generate(model, rows=12, seed=1)
    assert len(frame) == 12
    assert list(frame.columns) == list(ra_prepared.table.columns)


def test_read_hyperparameters_missing_file_means_defaults(tmp_path):
    assert read_hyperparameters(tmp_path / "hyperparameters.json") == {}


def test_read_hyperparameters_drops_tuning_keys(tmp_path):
    path = tmp_path / "hyperparameters.json"
    path.write_text(json.dumps({"epochs": "5", "_tuning_objective_metric": "loss"}))
    assert read_hyperparameters(path) == {"epochs": "5"}


def test_train_ctgan_tiny_epochs(tmp_path):
    # CTGAN fits a Gaussian mixture per numerical column before its first epoch, so four columns
    # keep this test fast.
    table = pd.read_csv(RA_TABLE, usecols=["Age", "sex", "Hb", "CRP"])
    table.to_csv(tmp_path / "ra_four_columns.csv", index=False)
    prepared = steps.validate(tmp_path / "ra_four_columns.csv")
    hyperparameters = {"model": "ctgan", "epochs": "2", "batch_size": "20", "pac": "5", "seed": "1"}
    root = make_root(tmp_path / "ml", prepared, hyperparameters)
    run = run_train(root)
    assert run.returncode == 0, run.output
    document = json.loads((root / "model" / "model.json").read_text())
    assert document["info"]["model"] == "ctgan"
    assert document["hyperparameters"]["epochs"] == "2"
    assert "epoch=2/2 generator_loss=" in run.stdout
    assert "discriminator_loss=" in run.stdout


def test_train_packaged_sample_table(tmp_path):
    csv_path = samples.write_sample_csv("sample:arthritis", tmp_path)
    prepared = steps.validate(csv_path)
    root = make_root(tmp_path / "ml", prepared, FAST_HYPERPARAMETERS)
    run = run_train(root)
    assert run.returncode == 0, run.output
    document = json.loads((root / "model" / "model.json").read_text())
    assert document["info"]["real_rows"] == len(prepared.table)


@pytest.mark.parametrize(
    ("hyperparameters", "expected"),
    [
        ({"model": "gaussian_copula", "learning_rate": "0.1"}, "learning_rate"),
        ({"model": "gaussian_copula", "epochs": 3}, "not a string"),
        ('{"model": "ctgan",', "not valid JSON"),
    ],
    ids=["unknown-key", "number-value", "broken-json"],
)
def test_train_rejects_bad_hyperparameters(tmp_path, ra_prepared, hyperparameters, expected):
    root = make_root(tmp_path, ra_prepared, hyperparameters)
    run = run_train(root)
    assert run.returncode == 1
    assert run.failure is not None
    assert expected in run.failure
    assert run.failure.count("\n") == 1
    assert "Traceback" not in run.output
    assert not (root / "model" / "model.pkl").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [('["model", "ctgan"]', "not an object"), ("\udcff", "not valid JSON")],
    ids=["array", "not-utf8"],
)
def test_read_hyperparameters_rejects(tmp_path, text, expected):
    path = tmp_path / "hyperparameters.json"
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    with pytest.raises(ConfigError, match=expected):
        read_hyperparameters(path)


def test_write_failure_one_paragraph_within_limit(tmp_path):
    paths = MLPaths(tmp_path)
    write_failure(paths, "first line\nsecond line " + "x" * 5000)
    text = paths.failure.read_text()
    assert text.startswith("first line second line x")
    assert text.count("\n") == 1
    assert len(text) == MAX_FAILURE_CHARS + 1


def test_train_missing_channel(tmp_path):
    root = make_root(tmp_path, None, FAST_HYPERPARAMETERS)
    run = run_train(root)
    assert run.returncode == 1
    assert "training channel folder" in run.failure
    assert "Traceback" not in run.output


def test_train_channel_without_schema(tmp_path, ra_prepared):
    root = make_root(tmp_path, ra_prepared, FAST_HYPERPARAMETERS)
    (root / "input" / "data" / "training" / "schema.json").unlink()
    run = run_train(root)
    assert run.returncode == 1
    assert "schema.json" in run.failure
    assert "Traceback" not in run.output


def test_train_damaged_table(tmp_path, ra_prepared):
    root = make_root(tmp_path, ra_prepared, FAST_HYPERPARAMETERS)
    (root / "input" / "data" / "training" / "table.parquet").write_bytes(b"not parquet at all")
    run = run_train(root)
    assert run.returncode == 1
    assert run.failure is not None
    assert "validate step again" in run.failure
    assert "Traceback" not in run.output


def test_train_unexpected_error_exits_2(tmp_path, ra_prepared):
    # GIVEN a folder where the hyperparameters file should be, which no check anticipates
    root = make_root(tmp_path, ra_prepared, None)
    (root / "input" / "config" / "hyperparameters.json").mkdir()
    run = run_train(root)
    assert run.returncode == 2
    assert "unexpected IsADirectoryError" in run.failure
    assert "Traceback" in run.output


def test_train_sigterm_writes_failure(tmp_path, ra_prepared):
    # GIVEN a CTGAN fit long enough to be interrupted
    hyperparameters = {"model": "ctgan", "epochs": "3000", "batch_size": "20", "pac": "5"}
    root = make_root(tmp_path, ra_prepared, hyperparameters)
    log_path = tmp_path / "train.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [TRAIN], env=ml_environment(root), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        # WHEN SIGTERM arrives during the fit, as on StopTrainingJob
        deadline = time.monotonic() + 120
        while "stage=fit" not in log_path.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()
            time.sleep(0.2)
        time.sleep(1)
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    # THEN train exits with 128 + SIGTERM and explains the stop in the failure file
    assert returncode == 128 + signal.SIGTERM, log_path.read_text()
    failure = (root / "output" / "failure").read_text()
    assert "SIGTERM" in failure
