"""The WSGI application behind ``serve``: the SageMaker inference routes.

Routes:
    ``GET /ping``: 200 with an empty body. The model is loaded before the app exists, so a
    worker that responds is ready.
    ``POST /invocations``: generate synthetic rows. ``model_code.invocations`` describes the
    body. The response is CSV, or JSON lines for ``Accept: application/jsonlines``.
    ``GET /execution-parameters``: the batch transform settings this server supports.

Every error response is a JSON object ``{"error": "..."}`` with a 4xx or 5xx status.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pandas as pd
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from model_code.invocations import parse_generation_request
from model_code.settings import ServeSettings
from synthcare import steps
from synthcare.errors import ConfigError, GenerationError, InputError, SynthcareError
from synthcare.report import synthetic_csv_text

logger = logging.getLogger("model_code.app")

CSV_TYPE = "text/csv"
JSONLINES_TYPE = "application/jsonlines"
# Media types that the Accept header may name, in order of preference.
ACCEPTED_TYPES = (CSV_TYPE, JSONLINES_TYPE, "application/x-jsonlines")
# Body media types read as JSON. Batch transform sends application/octet-stream when the job
# sets no content type.
JSON_BODY_TYPES = ("application/json", "application/octet-stream", "text/plain")


def create_app(model: Any, settings: ServeSettings) -> Flask:
    """Build the Flask application that serves one trained model.

    Args:
        model: A ``synthcare.steps.TrainedModel``.
        settings: Payload and row limits and the batch flag.

    Returns:
        The WSGI application.
    """
    app = Flask("synthcare-serve")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_payload_bytes
    columns = [column.name for column in model.schema.columns]
    modelled = list(model.schema.modelled())

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if error.code == 413:
            message = (
                f"The request body is larger than {settings.max_payload_mb} MB, "
                "the limit set by SAGEMAKER_MAX_PAYLOAD_IN_MB. Send a smaller request."
            )
        else:
            message = error.description or error.name
        return _json_error(message, error.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Response:
        logger.exception("request %s %s failed", request.method, request.path)
        return _json_error(
            f"Generation failed with an unexpected {type(error).__name__}. "
            "The server log contains the details.",
            500,
        )

    @app.get("/ping")
    def ping() -> Response:
        return Response(status=200)

    @app.get("/execution-parameters")
    def execution_parameters() -> Response:
        # One request makes one whole table, so batch transform must not split or merge
        # records and gains nothing from parallel requests to one container.
        return app.json.response(
            {
                "MaxConcurrentTransforms": 1,
                "BatchStrategy": "SINGLE_RECORD",
                "MaxPayloadInMB": settings.max_payload_mb,
            }
        )

    @app.post("/invocations")
    def invocations() -> Response:
        content_length = request.content_length
        if content_length is not None and content_length > settings.max_payload_bytes:
            return http_error(RequestEntityTooLarge())

        content_type = request.mimetype
        if content_type and content_type not in JSON_BODY_TYPES:
            return _json_error(
                f"Content type {content_type!r} is not supported. "
                "Send the request as application/json.",
                415,
            )
        response_type = request.accept_mimetypes.best_match(ACCEPTED_TYPES)
        if response_type is None:
            return _json_error(
                f"Accept {request.headers.get('Accept')!r} names no supported type. "
                f"Ask for {CSV_TYPE} or {JSONLINES_TYPE}.",
                406,
            )

        try:
            parsed = parse_generation_request(
                request.get_data(cache=False),
                columns=columns,
                modelled=modelled,
                max_rows=settings.max_rows,
            )
            started = time.perf_counter()
            frame = steps.generate(
                model, rows=parsed.rows, seed=parsed.seed, conditions=parsed.conditions or None
            )
        except (ConfigError, InputError) as error:
            return _json_error(str(error), 400)
        except GenerationError as error:
            return _json_error(str(error), 422)
        except SynthcareError as error:
            return _json_error(str(error), 500)

        logger.info(
            "generated %d rows in %.2f s (seed %s, %d conditions)",
            len(frame),
            time.perf_counter() - started,
            "of training" if parsed.seed is None else parsed.seed,
            len(parsed.conditions),
        )
        if response_type == CSV_TYPE:
            return Response(synthetic_csv_text(frame, model.schema), mimetype=CSV_TYPE)
        return Response(_jsonlines_text(frame), mimetype=JSONLINES_TYPE)

    return app


def _jsonlines_text(frame: pd.DataFrame) -> str:
    """Write one JSON object per row: missing values as null, datetimes as ISO 8601."""
    if frame.empty:
        return ""
    text = frame.to_json(orient="records", lines=True, date_format="iso", date_unit="s")
    return text if text.endswith("\n") else text + "\n"


def _json_error(message: str, status: int) -> Response:
    # Unexpected errors are logged with their traceback where they are caught.
    level = logging.WARNING if status >= 422 else logging.INFO
    logger.log(level, "%s %s returned %d: %s", request.method, request.path, status, message)
    response = Response(status=status, mimetype="application/json")
    response.set_data(json.dumps({"error": message}))
    return response
