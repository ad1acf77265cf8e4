"""The ``serve`` entry point against the SageMaker inference contract, over real HTTP."""

from __future__ import annotations

import io
import json
import signal

import pandas as pd
import pytest
import requests
from ml_harness import MAX_PAYLOAD_MB, MAX_ROWS, SERVE, ml_environment, start_server

from synthcare.report import read_synthetic_csv
from synthcare.schema import ColumnKind

TIMEOUT = 60


def invoke(server, body, *, accept: str = "text/csv", content_type="application/json"):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    headers = {"Accept": accept}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return requests.post(f"{server.url}/invocations", data=data, headers=headers, timeout=TIMEOUT)


def assert_json_error(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    document = response.json()
    assert set(document) == {"error"}
    assert "Traceback" not in document["error"]
    return document["error"]


def test_ping_empty_200(server):
    response = requests.get(f"{server.url}/ping", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.content == b""


def test_execution_parameters(server):
    response = requests.get(f"{server.url}/execution-parameters", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json() == {
        "MaxConcurrentTransforms": 1,
        "BatchStrategy": "SINGLE_RECORD",
        "MaxPayloadInMB": MAX_PAYLOAD_MB,
    }


def test_invocations_default_rows_csv(server, ra_prepared):
    response = invoke(server, {})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    frame = pd.read_csv(io.StringIO(response.text))
    assert len(frame) == len(ra_prepared.table)
    assert list(frame.columns) == list(ra_prepared.table.columns)


def test_invocations_empty_body_means_defaults(server, ra_prepared):
    response = invoke(server, b"", content_type=None)
    assert response.status_code == 200, response.text
    assert len(pd.read_csv(io.StringIO(response.text))) == len(ra_prepared.table)


def test_invocations_row_count(server):
    response = invoke(server, {"rows": 25, "seed": 3})
    assert response.status_code == 200, response.text
    assert len(pd.read_csv(io.StringIO(response.text))) == 25


def test_invocations_dtypes_match_real_table(server, ra_prepared):
    response = invoke(server, {"rows": 40, "seed": 5})
    frame = read_synthetic_csv(response.text, ra_prepared.schema)
    for column in ra_prepared.table.columns:
        assert frame[column].dtype == ra_prepared.table[column].dtype, column


def test_invocations_integers_written_without_decimals(server, ra_prepared):
    response = invoke(server, {"rows": 40, "seed": 5})
    text = pd.read_csv(io.StringIO(response.text), dtype=str, keep_default_na=False)
    integer_columns = [
        column.name
        for column in ra_prepared.schema.columns
        if column.dtype == "int64" and column.kind == ColumnKind.NUMERICAL
    ]
    assert integer_columns
    for name in integer_columns:
        assert not text[name].str.contains(r"\.").any(), name


def test_invocations_same_seed_same_rows(server):
    first = invoke(server, {"rows": 30, "seed": 11})
    second = invoke(server, {"rows": 30, "seed": 11})
    assert first.status_code == 200
    assert first.text == second.text


def test_invocations_other_seed_other_rows(server):
    first = invoke(server, {"rows": 30, "seed": 11})
    second = invoke(server, {"rows": 30, "seed": 12})
    assert first.text != second.text


def test_invocations_jsonlines(server, ra_prepared):
    response = invoke(server, {"rows": 8, "seed": 2}, accept="application/jsonlines")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/jsonlines")
    lines = response.text.splitlines()
    assert len(lines) == 8
    for line in lines:
        assert list(json.loads(line)) == list(ra_prepared.table.columns)


def test_invocations_jsonlines_same_values_as_csv(server, ra_prepared):
    csv_frame = read_synthetic_csv(invoke(server, {"rows": 8, "seed": 4}).text, ra_prepared.schema)
    lines = invoke(server, {"rows": 8, "seed": 4}, accept="application/jsonlines").text
    json_frame = pd.read_json(io.StringIO(lines), lines=True)
    for column in ra_prepared.schema.columns:
        if column.kind == ColumnKind.NUMERICAL:
            assert json_frame[column.name].tolist() == pytest.approx(
                csv_frame[column.name].astype(float).tolist()
            ), column.name


def test_invocations_condition_fixes_column(server, trained):
    info = json.loads((trained.root / "model" / "model.json").read_text())["info"]
    name, column_range = next(
        (name, values) for name, values in info["value_ranges"].items() if "min" in values
    )
    value = column_range["min"]
    response = invoke(server, {"rows": 10, "seed": 1, "conditions": {name: value}})
    assert response.status_code == 200, response.text
    frame = pd.read_csv(io.StringIO(response.text))
    assert frame[name].tolist() == pytest.approx([value] * 10)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"rows": 5,', "not valid JSON"),
        ("[1, 2]", "not an object"),
        ({"rows": 5, "colour": "blue"}, "colour"),
        ({"rows": -3}, "out of range"),
        ({"rows": 0}, "out of range"),
        ({"rows": "ten"}, "not a whole number"),
        ({"rows": True}, "not a whole number"),
        ({"rows": 2.5}, "not a whole number"),
        ({"seed": -1}, "out of range"),
        ({"conditions": ["Age"]}, "not an object"),
        ({"conditions": {"no_such_column": 1}}, "no_such_column"),
        ({"conditions": {"Age": 10_000}}, "outside the real range"),
    ],
    ids=[
        "broken-json",
        "array",
        "unknown-key",
        "negative-rows",
        "zero-rows",
        "text-rows",
        "boolean-rows",
        "fraction-rows",
        "negative-seed",
        "conditions-array",
        "unknown-condition-column",
        "condition-out-of-range",
    ],
)
def test_invocations_bad_request_400(server, body, expected):
    message = assert_json_error(invoke(server, body), 400)
    assert expected in message


def test_invocations_rows_over_cap_400(server):
    message = assert_json_error(invoke(server, {"rows": MAX_ROWS + 1}), 400)
    assert str(MAX_ROWS) in message


def test_invocations_oversized_body_413(server):
    padding = "x" * (MAX_PAYLOAD_MB * 1024 * 1024 + 10)
    body = json.dumps({"rows": 5, "seed": 1, "conditions": {"Age": padding}})
    message = assert_json_error(invoke(server, body), 413)
    assert "SAGEMAKER_MAX_PAYLOAD_IN_MB" in message


def test_invocations_unsupported_accept_406(server):
    assert_json_error(invoke(server, {"rows": 5}, accept="application/xml"), 406)


def test_invocations_unsupported_content_type_415(server):
    assert_json_error(invoke(server, "rows=5", content_type="text/csv"), 415)


def test_unknown_route_404_json(server):
    response = requests.get(f"{server.url}/no-such-route", timeout=TIMEOUT)
    assert_json_error(response, 404)


def test_ping_wrong_method_405_json(server):
    response = requests.post(f"{server.url}/ping", timeout=TIMEOUT)
    assert_json_error(response, 405)


def test_server_survives_bad_requests(server):
    invoke(server, "{")
    invoke(server, {"rows": -1})
    assert requests.get(f"{server.url}/ping", timeout=TIMEOUT).status_code == 200
    assert server.process.poll() is None
    assert "POST /invocations returned 400: 'rows' is -1" in server.log


def test_serve_sigterm_exits_0(tmp_path, trained):
    running = start_server(trained.root, tmp_path / "serve.log", MODEL_SERVER_WORKERS="2")
    assert invoke(running, {"rows": 5}).status_code == 200

    running.process.send_signal(signal.SIGTERM)
    returncode = running.process.wait(timeout=30)

    assert returncode == 0, running.log
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{running.url}/ping", timeout=5)


def test_serve_missing_model_folder_exits_1(tmp_path):
    result = _run_serve(tmp_path / "empty-root")
    assert result.returncode == 1
    assert "model folder" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_serve_bad_worker_count_exits_1(tmp_path, trained):
    result = _run_serve(trained.root, SAGEMAKER_GUNICORN_WORKERS="many")
    assert result.returncode == 1
    assert "SAGEMAKER_GUNICORN_WORKERS" in result.stdout


def test_serve_unreadable_model_stops(tmp_path):
    # GIVEN a model folder without the files that train writes
    (tmp_path / "model").mkdir()
    result = _run_serve(tmp_path)
    # THEN the server stops with gunicorn's "application failed to load" code and one message
    assert result.returncode == 4
    output = result.stdout + result.stderr
    assert "Cannot load the model" in output
    assert "Traceback" not in output


def _run_serve(root, **extra):
    import subprocess

    from ml_harness import free_port

    environment = ml_environment(
        root, SYNTHCARE_SERVE_HOST="127.0.0.1", SAGEMAKER_BIND_TO_PORT=str(free_port()), **extra
    )
    return subprocess.run(
        [SERVE], env=environment, capture_output=True, text=True, timeout=120, check=False
    )
