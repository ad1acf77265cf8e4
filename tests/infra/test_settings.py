"""Settings from CDK context: defaults, parsing, validation and the synth-time error."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cdk.settings import MAX_SEED, MODELS, Settings, SettingsError

from .synthesis import MODEL_DATA_URL, REPO_ROOT, cdk_json_context


def test_cdk_json_lists_every_setting_with_its_default():
    context = cdk_json_context()
    defaults = Settings()

    for name, value in vars(defaults).items():
        assert name in context, f"cdk.json has no default for {name}"
        assert context[name] == value, f"cdk.json default of {name} differs from Settings"


def test_cdk_json_defaults_are_valid():
    settings = Settings.from_mapping(cdk_json_context())

    assert settings == Settings()


def test_settings_parse_command_line_strings():
    settings = Settings.from_mapping(
        {
            "seed": "42",
            "epochs": "300",
            "endpoint": "true",
            "endpoint_model_data_url": MODEL_DATA_URL,
            "remove_data_on_delete": "False",
            "notification_email": " team@example.org ",
        }
    )

    assert settings.seed == 42
    assert settings.epochs == 300
    assert settings.endpoint is True
    assert settings.remove_data_on_delete is False
    assert settings.notification_email == "team@example.org"


def test_settings_accept_seed_range_bounds():
    assert Settings.from_mapping({"seed": 0}).seed == 0
    assert Settings.from_mapping({"seed": MAX_SEED}).seed == 2**32 - 1


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"seed": -1}, "seed=-1"),
        ({"seed": 2**32}, "seed=4294967296"),
        ({"seed": "abc"}, "seed='abc': expected an integer"),
        ({"seed": True}, "seed=True: expected an integer"),
        ({"epochs": -5}, "epochs=-5"),
        ({"rows": -1}, "rows=-1"),
        ({"model": "gan"}, "model='gan'"),
        ({"training_instance_type": "m5.large"}, "training_instance_type='m5.large'"),
        ({"raw_retention_days": 0}, "raw_retention_days=0"),
        ({"artifact_retention_days": 0}, "artifact_retention_days=0"),
        ({"log_retention_days": 100}, "log_retention_days=100"),
        ({"notification_email": "nobody"}, "notification_email='nobody'"),
        ({"endpoint": "yes"}, "endpoint='yes': expected true or false"),
        ({"endpoint": True}, "Missing context value endpoint_model_data_url"),
        ({"endpoint_model_data_url": "https://x/model.tar.gz"}, "endpoint_model_data_url="),
        ({"endpoint_memory_mb": 1000}, "endpoint_memory_mb=1000"),
        ({"endpoint_max_concurrency": 0}, "endpoint_max_concurrency=0"),
        ({"poll_interval_seconds": 0}, "poll_interval_seconds=0"),
        ({"remove_data_on_delete": 1}, "remove_data_on_delete=1"),
    ],
)
def test_settings_reject_invalid_value(context, expected):
    with pytest.raises(SettingsError) as caught:
        Settings.from_mapping(context)

    assert expected in str(caught.value)


def test_settings_models_match_synthcare():
    from synthcare.synthesizers import MODELS as SYNTHCARE_MODELS

    assert MODELS == SYNTHCARE_MODELS


def test_hyperparameters_parse_as_training_config():
    from synthcare.synthesizers import TrainingConfig

    settings = Settings.from_mapping({"model": "ctgan", "epochs": 50, "seed": MAX_SEED})
    config = TrainingConfig.from_hyperparameters(settings.hyperparameters())

    assert config.model == "ctgan"
    assert config.epochs == 50
    assert config.seed == MAX_SEED


def test_hyperparameters_leave_default_epochs_out():
    assert "epochs" not in Settings().hyperparameters()


def test_log_retention_maps_to_cdk_enum():
    assert Settings(log_retention_days=365).log_retention().name == "ONE_YEAR"
    assert Settings(log_retention_days=1).log_retention().name == "ONE_DAY"
    assert Settings(log_retention_days=3653).log_retention().name == "TEN_YEARS"


def test_app_reports_invalid_context_in_one_line(tmp_path):
    environment = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({"seed": "-3"}),
        "CDK_OUTDIR": str(tmp_path),
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }

    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert "synthcare: Invalid context value seed=-3" in result.stderr
    assert "Traceback" not in result.stderr
