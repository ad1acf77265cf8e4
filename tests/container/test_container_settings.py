"""Server settings from SageMaker's environment variables, and train's progress log."""

from __future__ import annotations

import logging

import pytest

from model_code.settings import ServeSettings
from model_code.train import ProgressLog
from synthcare.errors import ConfigError


def test_settings_defaults():
    settings = ServeSettings.from_environ({})
    assert settings.bind == "0.0.0.0:8080"
    assert settings.workers == 1
    assert settings.timeout == 60
    assert settings.max_payload_bytes == 6 * 1024 * 1024
    assert settings.batch is False


def test_settings_batch_raises_default_timeout():
    settings = ServeSettings.from_environ({"SAGEMAKER_BATCH": "true"})
    assert settings.batch is True
    assert settings.timeout == 600


def test_settings_explicit_timeout_wins_in_batch():
    environ = {"SAGEMAKER_BATCH": "true", "MODEL_SERVER_TIMEOUT": "90"}
    assert ServeSettings.from_environ(environ).timeout == 90


def test_settings_sagemaker_workers_before_model_server_workers():
    environ = {"SAGEMAKER_GUNICORN_WORKERS": "3", "MODEL_SERVER_WORKERS": "2"}
    assert ServeSettings.from_environ(environ).workers == 3
    assert ServeSettings.from_environ({"MODEL_SERVER_WORKERS": "2"}).workers == 2


def test_settings_port_and_ipv6_host():
    environ = {"SAGEMAKER_BIND_TO_PORT": "9000", "SYNTHCARE_SERVE_HOST": "::1"}
    assert ServeSettings.from_environ(environ).bind == "[::1]:9000"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SAGEMAKER_BIND_TO_PORT", "http"),
        ("SAGEMAKER_BIND_TO_PORT", "70000"),
        ("MODEL_SERVER_WORKERS", "0"),
        ("MODEL_SERVER_TIMEOUT", "1.5"),
        ("SAGEMAKER_MAX_PAYLOAD_IN_MB", "-1"),
        ("SYNTHCARE_MAX_ROWS", "lots"),
        ("SAGEMAKER_BATCH", "maybe"),
    ],
)
def test_settings_reject_bad_value(name, value):
    with pytest.raises(ConfigError, match=name):
        ServeSettings.from_environ({name: value})


def test_progress_log_throttles_long_stage(caplog):
    progress = ProgressLog(interval=3600)
    with caplog.at_level(logging.INFO, logger="model_code.train"):
        for epoch in range(1001):
            progress("epochs", epoch, 1000, f"loss {epoch}")
    lines = [record.getMessage() for record in caplog.records]
    assert 20 <= len(lines) <= 25
    assert lines[0] == "epochs 0/1000 loss 0"
    assert lines[-1] == "epochs 1000/1000 loss 1000"


def test_progress_log_new_stage_always_logged(caplog):
    progress = ProgressLog(interval=3600)
    with caplog.at_level(logging.INFO, logger="model_code.train"):
        progress("holdout check", 1, 3)
        progress("holdout check", 1, 3)
        progress("train", 1, 3)
    assert [record.getMessage() for record in caplog.records] == [
        "holdout check 1/3",
        "train 1/3",
    ]
