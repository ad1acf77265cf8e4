"""Fixtures of the end-to-end tests: one synthesis per session, one moto pipeline per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import FAST_CONTEXT, Pipeline, Synthesized, synthesize


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The CDK app synthesized with the fast settings (poll every second, a copula model)."""
    return synthesize(tmp_path_factory.mktemp("cdk-out"), FAST_CONTEXT)


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
