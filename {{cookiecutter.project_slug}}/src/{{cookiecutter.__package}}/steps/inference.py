"""Serving hooks the SageMaker scikit-learn container calls for each request to the endpoint.

The container loads the model once with `model_fn`, then answers every invocation with
`transform_fn`. Requests carry feature rows, in the training data's column order without the
target, as CSV (one row per line, no header) or JSON (a row, a list of rows, or
{"instances": [rows]}).

Status codes: the container's request handler (sagemaker-containers) turns any exception a hook
raises into HTTP 500, which SageMaker counts as Invocation5XXErrors, the metric the rollback
alarms watch. So a request this script cannot serve never raises: `transform_fn` answers it
with 400 (malformed body, wrong column count), 415 (content type) or 406 (accept type), counted
as Invocation4XXErrors. Whatever fails once the request has been read is a fault on the
endpoint's side, the model's included, and raises: a 500.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from werkzeug.wrappers import Response

MODEL_FILE = "model.joblib"
CSV = "text/csv"
JSON = "application/json"
BAD_REQUEST = 400
NOT_ACCEPTABLE = 406
UNSUPPORTED_MEDIA_TYPE = 415


class UnsupportedType(ValueError):
    """A content type or accept type this endpoint does not serve, with its HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def model_fn(model_dir: str) -> Any:
    """Load the fitted pipeline that the train step saved."""
    return joblib.load(Path(model_dir) / MODEL_FILE)


def transform_fn(
    model: Any, request_body: str | bytes, content_type: str, accept: str | None
) -> tuple[str, str] | Response:
    """Answer one invocation: (body, content type), or a 4xx response naming the problem."""
    # One hook, not input_fn/predict_fn/output_fn: the container wraps each of those so that
    # every exception is a 500, and it refuses a module that defines both kinds.
    try:
        media = response_type(accept)
        data = decode(request_body, content_type)
        check_width(data, model)
    except ValueError as error:
        # Everything that goes wrong while reading the request is the client's to fix.
        status = error.status if isinstance(error, UnsupportedType) else BAD_REQUEST
        return Response(json.dumps({"error": str(error)}), status=status, mimetype=JSON)
    return encode(predict(data, model), media), media


def response_type(accept: str | None) -> str:
    """The media type to answer with; UnsupportedType (406) for one this endpoint cannot write."""
    media = _media_type(accept or JSON)
    if media in (JSON, "*/*"):
        return JSON
    if media == CSV:
        return CSV
    raise UnsupportedType(
        f"unsupported accept type {accept!r}; ask for {JSON} or {CSV}", NOT_ACCEPTABLE
    )


def decode(request_body: str | bytes, request_content_type: str) -> np.ndarray:
    """Parse a CSV or JSON request into a 2-D float array, one row per instance."""
    content_type = _media_type(request_content_type)
    if content_type not in (CSV, JSON):
        raise UnsupportedType(
            f"unsupported content type {request_content_type!r}; send {CSV} or {JSON}",
            UNSUPPORTED_MEDIA_TYPE,
        )
    if isinstance(request_body, bytes | bytearray):
        try:
            request_body = request_body.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("the request body is not UTF-8 text") from None
    if not request_body.strip():
        raise ValueError("the request body is empty")
    if content_type == CSV:
        rows = [row for row in csv.reader(io.StringIO(request_body)) if row]
    else:
        rows = _json_rows(request_body)
    return _numeric(rows)


def check_width(input_data: np.ndarray, model: Any) -> None:
    """ValueError unless each row has as many values as the model has features."""
    expected = int(model.n_features_in_)
    if input_data.shape[1] != expected:
        raise ValueError(f"each row needs {expected} values, got {input_data.shape[1]}")


def predict(input_data: np.ndarray, model: Any) -> dict[str, list]:
    """Predicted labels and the probability of class 1 for each row."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        # The model was fitted on named columns; give it the same names, in the same order.
        input_data = pd.DataFrame(input_data, columns=list(names))
    probabilities = model.predict_proba(input_data)[:, 1]
    labels = model.predict(input_data)
    return {
        "labels": [int(label) for label in labels],
        "probabilities": [float(p) for p in probabilities],
    }


def encode(prediction: dict[str, list], media: str) -> str:
    """Serialise the prediction as JSON or CSV (a media type from `response_type`)."""
    pairs = zip(prediction["labels"], prediction["probabilities"], strict=True)
    if media == CSV:
        return "".join(f"{lab},{prob}\n" for lab, prob in pairs)
    body = {"predictions": [{"label": lab, "probability": prob} for lab, prob in pairs]}
    return json.dumps(body)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _json_rows(body: str) -> list[list[Any]]:
    try:
        payload = json.loads(body)
    except json.JSONDecodeError as error:
        raise ValueError(f"the request body is not valid JSON ({error.msg})") from None
    if isinstance(payload, dict):
        if "instances" not in payload:
            raise ValueError('a JSON object request needs an "instances" list')
        payload = payload["instances"]
    if not isinstance(payload, list) or not payload:
        raise ValueError("send a JSON list of numbers, or a non-empty list of such lists")
    if not any(isinstance(item, list) for item in payload):
        return [payload]
    if not all(isinstance(item, list) for item in payload):
        raise ValueError("mixes rows (lists) and single values at the top level")
    return payload


def _numeric(rows: list[list[Any]]) -> np.ndarray:
    if not rows:
        raise ValueError("the request holds no rows")
    width = len(rows[0])
    values: list[list[float]] = []
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise ValueError(f"row {number} has {len(row)} values; row 1 has {width}")
        values.append([_number(value, number, column) for column, value in enumerate(row, 1)])
    return np.asarray(values, dtype=float)


def _number(value: Any, row: int, column: int) -> float:
    # bool is an int in Python, but true/false is never a feature value here.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"row {row}, column {column}: {value!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"row {row}, column {column}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"row {row}, column {column}: {value!r} is not a finite number")
    return number
