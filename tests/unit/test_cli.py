"""The synthcare command as a user runs it: exit codes, messages, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
CASES = DATA / "cases"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "synthcare.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def _run_ra_table(out, *options: str) -> subprocess.CompletedProcess:
    """Run the fast Gaussian copula on the RA-like table with extra options."""
    return _run(
        "run",
        str(DATA / "ra_like_60.csv"),
        "--out",
        str(out),
        "--model",
        "gaussian_copula",
        "--quiet",
        *options,
    )


def test_cli_help_names_units():
    result = _run("run", "--help")
    assert result.returncode == 0
    assert "SECONDS" in result.stdout
    assert "real row count" in result.stdout
    assert "--privacy-threshold" in result.stdout


def test_cli_run_publishes(tmp_path):
    result = _run_ra_table(tmp_path, "--privacy-threshold", "1")
    assert result.returncode == 0, result.stderr
    assert "mean KS complement" in result.stdout
    assert str(tmp_path / "report.html") in result.stdout
    assert (tmp_path / "synthetic.csv").is_file()


@pytest.mark.parametrize(
    "name", ["header_only.csv", "single_row.csv", "not_a_table.csv", "ragged_rows.csv"]
)
def test_cli_rejects_bad_input_plainly(tmp_path, name):
    result = _run("run", str(CASES / name), "--out", str(tmp_path), "--quiet")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("synthcare: error")
    assert (tmp_path / "error.json").is_file()


def test_cli_rejects_out_naming_file(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("keep")
    result = _run("run", str(DATA / "ra_like_60.csv"), "--out", str(target), "--quiet")
    assert result.returncode == 2
    assert "is a file" in result.stderr
    assert target.read_text() == "keep"


def test_cli_rejects_missing_input(tmp_path):
    result = _run("run", str(tmp_path / "absent.csv"), "--out", str(tmp_path / "o"), "--quiet")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "absent.csv" in result.stderr


def test_cli_rejects_unknown_sample(tmp_path):
    result = _run("run", "sample:nope", "--out", str(tmp_path), "--quiet")
    assert result.returncode == 2
    assert "sample:diabetes" in result.stderr


def test_cli_rejects_condition_outside_range(tmp_path):
    result = _run_ra_table(tmp_path, "--condition", "Hb=99")
    assert result.returncode == 2
    assert "outside the real range" in result.stderr


def test_cli_withheld_exit_code(tmp_path):
    result = _run_ra_table(tmp_path, "--privacy-threshold", "0")
    assert result.returncode == 3
    assert "withheld" in result.stdout
    assert not (tmp_path / "synthetic.csv").exists()


def test_cli_rejects_uncreatable_out(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("keep")
    result = _run("run", str(DATA / "ra_like_60.csv"), "--out", str(blocker / "sub"), "--quiet")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "cannot be created" in result.stderr


def test_cli_rejects_threshold_before_training(tmp_path):
    result = _run(
        "run",
        str(DATA / "ra_like_60.csv"),
        "--out",
        str(tmp_path / "o"),
        "--privacy-threshold",
        "5",
        "--quiet",
    )
    assert result.returncode == 2
    assert "--privacy-threshold" in result.stderr
    assert not (tmp_path / "o").exists()


def test_cli_rejects_seed_out_of_range(tmp_path):
    result = _run_ra_table(tmp_path / "o", "--seed", str(2**32))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "seed" in result.stderr
    assert "4294967295" in result.stderr
