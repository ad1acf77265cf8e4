"""Fixtures of the end-to-end tests: one synthesis per session, one moto pipeline per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import FAST_CONTEXT, Pipeline, Synthesized
from harness.synth import synthesize_many


@pytest.fixture(scope="session")
def synthesized_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Synthesized, Synthesized]:
    """The CDK app synthesized with the fast settings and with cdk.json's, in parallel."""
    fast, default = synthesize_many(
        [
            (tmp_path_factory.mktemp("cdk-out-fast"), FAST_CONTEXT),
            (tmp_path_factory.mktemp("cdk-out-default"), None),
        ]
    )
    return fast, default


@pytest.fixture(scope="session")
def synthesized(synthesized_pair: tuple[Synthesized, Synthesized]) -> Synthesized:
    """The CDK app synthesized with the fast settings (poll every second, a copula model)."""
    return synthesized_pair[0]


@pytest.fixture(scope="session")
def synthesized_default(synthesized_pair: tuple[Synthesized, Synthesized]) -> Synthesized:
    """The CDK app synthesized with the settings of cdk.json, as `cdk deploy` would."""
    return synthesized_pair[1]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Caches shared by every pipeline of the session (matplotlib's font cache)."""
    return tmp_path_factory.mktemp("e2e-cache")


@pytest.fixture(scope="module")
def pipeline(
    synthesized: Synthesized, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    """The stack running in moto, fresh for each test module."""
    with Pipeline(synthesized, tmp_path_factory.mktemp("e2e-jobs"), cache_dir=cache_dir) as running:
        yield running
