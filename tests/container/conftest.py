"""Session fixtures of the container tests: one prepared table, one trained model, one server."""

from __future__ import annotations

import pytest
from ml_harness import (
    FAST_HYPERPARAMETERS,
    MAX_PAYLOAD_MB,
    MAX_ROWS,
    RA_TABLE,
    Server,
    TrainRun,
    make_root,
    run_train,
    start_server,
)

from synthcare import steps


@pytest.fixture(scope="session")
def ra_prepared() -> steps.Prepared:
    """The RA-like 60-row table after the validate step."""
    return steps.validate(RA_TABLE)


@pytest.fixture(scope="session")
def trained(tmp_path_factory, ra_prepared) -> TrainRun:
    """One successful fast training run, shared by the train and serve tests."""
    root = make_root(tmp_path_factory.mktemp("ml-trained"), ra_prepared, FAST_HYPERPARAMETERS)
    run = run_train(root)
    assert run.returncode == 0, run.output
    return run


@pytest.fixture(scope="session")
def server(tmp_path_factory, trained) -> Server:
    """``serve`` on the trained model, as batch transform runs it, with small limits."""
    log_path = tmp_path_factory.mktemp("serve-log") / "serve.log"
    running = start_server(
        trained.root,
        log_path,
        SAGEMAKER_BATCH="true",
        SAGEMAKER_MAX_PAYLOAD_IN_MB=str(MAX_PAYLOAD_MB),
        SYNTHCARE_MAX_ROWS=str(MAX_ROWS),
    )
    yield running
    running.stop()
