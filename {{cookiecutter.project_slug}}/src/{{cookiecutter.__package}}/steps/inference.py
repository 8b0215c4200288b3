"""Serving hooks the SageMaker scikit-learn container calls for each request to the endpoint.

The container loads the model once with `model_fn`, then for every invocation runs
`input_fn` -> `predict_fn` -> `output_fn`. Requests carry feature rows, in the training data's
column order without the target, as CSV (one row per line, no header) or JSON (a row, a list of
rows, or {"instances": [rows]}). Malformed requests raise ValueError with a readable message.
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

MODEL_FILE = "model.joblib"
CSV = "text/csv"
JSON = "application/json"


def model_fn(model_dir: str) -> Any:
    """Load the fitted pipeline that the train step saved."""
    return joblib.load(Path(model_dir) / MODEL_FILE)


def input_fn(request_body: str | bytes, request_content_type: str) -> np.ndarray:
    """Parse a CSV or JSON request into a 2-D float array, one row per instance."""
    if isinstance(request_body, bytes | bytearray):
        try:
            request_body = request_body.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("the request body is not UTF-8 text") from None
    content_type = _media_type(request_content_type)
    if not request_body.strip():
        raise ValueError("the request body is empty")
    if content_type == CSV:
        rows = [row for row in csv.reader(io.StringIO(request_body)) if row]
    elif content_type == JSON:
        rows = _json_rows(request_body)
    else:
        raise ValueError(f"unsupported content type {request_content_type!r}; send {CSV} or {JSON}")
    return _numeric(rows)


def predict_fn(input_data: np.ndarray, model: Any) -> dict[str, list]:
    """Predicted labels and the probability of class 1 for each row."""
    expected = int(model.n_features_in_)
    if input_data.shape[1] != expected:
        raise ValueError(f"each row needs {expected} values, got {input_data.shape[1]}")
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


def output_fn(prediction: dict[str, list], accept: str | None) -> tuple[str, str]:
    """Serialise the prediction as JSON or CSV; returns (body, content type) for the container."""
    media = _media_type(accept or JSON)
    pairs = zip(prediction["labels"], prediction["probabilities"], strict=True)
    if media in (JSON, "*/*"):
        body = {"predictions": [{"label": lab, "probability": prob} for lab, prob in pairs]}
        return json.dumps(body), JSON
    if media == CSV:
        return "".join(f"{lab},{prob}\n" for lab, prob in pairs), CSV
    raise ValueError(f"unsupported accept type {accept!r}; ask for {JSON} or {CSV}")


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
