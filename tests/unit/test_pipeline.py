"""The local pipeline end to end: report contents checked against the files beside it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import ks_2samp

from synthcare.pipeline import RunFailed, run_local
from synthcare.report import read_synthetic_csv
from synthcare.schema import Schema
from synthcare.synthesizers import TrainingConfig

DATA = Path(__file__).resolve().parents[1] / "data"
RA_TABLE = DATA / "ra_like_60.csv"
CASES = DATA / "cases"
FAST = TrainingConfig(model="gaussian_copula", seed=3)


@pytest.fixture(scope="module")
def ra_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ra")
    result = run_local(RA_TABLE, out, FAST, privacy_threshold=1.0)
    return result, out


def _published(out: Path, report: dict) -> pd.DataFrame:
    schema = Schema.from_dict(report["schema"])
    return read_synthetic_csv(out / "synthetic.csv", schema)


def test_run_writes_three_files(ra_run):
    _, out = ra_run
    assert (out / "synthetic.csv").is_file()
    assert (out / "report.json").is_file()
    assert (out / "report.html").is_file()


def test_report_ks_matches_scipy(ra_run):
    result, out = ra_run
    report = json.loads((out / "report.json").read_text())
    real = pd.read_csv(RA_TABLE)
    synthetic = _published(out, report)
    ks_columns = [c for c in report["fidelity"]["columns"] if c["metric"] == "ks"]

    assert ks_columns, "the RA-like table has continuous columns"
    for column in ks_columns:
        name = column["column"]
        expected = ks_2samp(real[name].dropna(), synthetic[name].dropna().astype(float))
        assert column["statistic"] == pytest.approx(expected.statistic, abs=1e-12), name
        assert column["p_value"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-12), name
        assert column["score"] == pytest.approx(1 - expected.statistic, abs=1e-12), name


def test_report_headline_is_mean_of_columns(ra_run):
    result, _ = ra_run
    scores = [c["score"] for c in result.report["fidelity"]["columns"] if c["metric"] == "ks"]
    headline = result.report["summary"]["ks_mean_complement"]
    assert headline == pytest.approx(sum(scores) / len(scores), abs=1e-9)


def test_report_records_input_provenance(ra_run):
    result, _ = ra_run
    source = result.report["input"]
    assert source["sha256"] == hashlib.sha256(RA_TABLE.read_bytes()).hexdigest()
    assert source["rows"] == 60
    assert result.report["model"]["hyperparameters"]["seed"] == "3"
    assert "sdv" in result.report["versions"]


def test_constant_columns_stay_constant(ra_run):
    result, out = ra_run
    synthetic = pd.read_csv(out / "synthetic.csv")
    assert set(synthetic["MH"].unique()) == {0}
    assert set(synthetic["EAM"].unique()) == {0}
    not_evaluated = {item["column"] for item in result.report["not_evaluated"]}
    assert {"MH", "EAM"} <= not_evaluated


def test_integer_columns_stay_integer(ra_run):
    _, out = ra_run
    synthetic = pd.read_csv(out / "synthetic.csv")
    as_text = pd.read_csv(out / "synthetic.csv", dtype=str)
    for name in ("Age", "Plat", "ESR", "Ast", "Alt"):
        assert pd.api.types.is_integer_dtype(synthetic[name]), name
        assert not as_text[name].str.contains(".", regex=False).any(), name


def test_values_stay_in_real_range(ra_run):
    _, out = ra_run
    real = pd.read_csv(RA_TABLE)
    synthetic = pd.read_csv(out / "synthetic.csv")
    for name in ("Hb", "Plat", "ESR", "CRP"):
        assert synthetic[name].min() >= real[name].min(), name
        assert synthetic[name].max() <= real[name].max(), name


def test_same_seed_same_table(ra_run, tmp_path):
    _, out = ra_run
    run_local(RA_TABLE, tmp_path, FAST, privacy_threshold=1.0)
    assert (tmp_path / "synthetic.csv").read_bytes() == (out / "synthetic.csv").read_bytes()


def test_identifiers_never_reach_output(tmp_path):
    source = CASES / "identifier_columns.csv"
    result = run_local(source, tmp_path, FAST, privacy_threshold=1.0)
    real = pd.read_csv(source, dtype=str)
    published = (tmp_path / "synthetic.csv").read_text() + (tmp_path / "report.html").read_text()
    listed = {item["column"] for item in result.report["not_evaluated"]}

    assert {"patient_name", "mrn", "phone"} <= listed
    for name in ("patient_name", "mrn", "phone"):
        for value in real[name]:
            assert value not in published, (name, value)


def test_gate_withholds_table(tmp_path):
    result = run_local(RA_TABLE, tmp_path, FAST, privacy_threshold=0.0)
    assert result.published is False
    assert result.report["status"] == "withheld"
    assert not (tmp_path / "synthetic.csv").exists()
    assert "withheld" in result.report["privacy"]["gate"]["reason"]
    assert (tmp_path / "report.html").is_file()


def test_rejected_input_writes_error_report(tmp_path):
    source = CASES / "header_only.csv"
    before = source.read_bytes()
    with pytest.raises(RunFailed) as caught:
        run_local(source, tmp_path / "out", FAST)
    error = json.loads((tmp_path / "out" / "error.json").read_text())

    assert caught.value.step == "validate"
    assert error["status"] == "failed"
    assert error["step"] == "validate"
    assert error["reason"] == str(caught.value)
    assert source.read_bytes() == before


def test_packaged_sample_runs(tmp_path):
    result = run_local("sample:arthritis", tmp_path, FAST, privacy_threshold=1.0)
    synthetic = pd.read_csv(tmp_path / "synthetic.csv")
    summary = result.report["summary"]
    unreplaced = summary["exact_copies_removed"] - summary["exact_copies_replaced"]
    assert len(synthetic) + unreplaced == 84
    assert "ID" not in synthetic.columns
    assert set(synthetic["Treatment"].unique()) <= {"Placebo", "Treated"}
    assert result.report["summary"]["real_rows"] == 84
