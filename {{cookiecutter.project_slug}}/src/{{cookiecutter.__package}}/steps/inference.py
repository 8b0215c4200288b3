"""Serving hooks the SageMaker scikit-learn container calls for each request to the endpoint.

The container loads the model once with `model_fn`, then answers every invocation with
`transform_fn`. Requests carry the same table the model was trained on, without the target:
- CSV: one row per line, values in the training table's column order (the target and the
  dropped columns left out); or a header line naming the columns, then rows in any column order;
- JSON: a row (a list of values), a list of rows, a record ({"column": value, ...}), a list of
  records, or {"instances": [...]} of either. A record's extra names (an ID, the target) are
  ignored.
Numbers, text categories and empty cells (an empty CSV field, JSON null or "") are all fine: the
model fills empty cells as it learnt to. Each prediction carries the label and every class's
probability ("probability" is the positive class's, for a binary model).

Status codes: the container's request handler (sagemaker-containers) turns any exception a hook
raises into HTTP 500, which SageMaker counts as Invocation5XXErrors, the metric the rollback
alarms watch. So a request this script cannot serve never raises: `transform_fn` answers it
with 400 (malformed body, a missing column, a value that is not a number), 415 (content type)
or 406 (accept type), counted as Invocation4XXErrors. Whatever fails once the request has been
read is a fault on the endpoint's side, the model's included, and raises: a 500.
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
        features = model_input(decode(request_body, content_type), model)
    except ValueError as error:
        # Everything that goes wrong while reading the request is the client's to fix.
        status = error.status if isinstance(error, UnsupportedType) else BAD_REQUEST
        return Response(json.dumps({"error": str(error)}), status=status, mimetype=JSON)
    return encode(predict(features, model), media), media


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


def decode(request_body: str | bytes, request_content_type: str) -> list[Any]:
    """The request's rows: lists of values (CSV, JSON rows) or records (JSON objects)."""
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
        return [row for row in csv.reader(io.StringIO(request_body)) if row]
    return _json_rows(request_body)


def model_input(rows: list[Any], model: Any) -> pd.DataFrame:
    """The request's rows as the model's input: its columns, in its order, typed as in training.

    The model holds its column lists (the train step's ColumnTransformer): numeric columns become
    floats, categorical ones text; empty cells become NaN, which the model's imputers fill.
    ValueError (a 400) for a row the model cannot take.
    """
    if not rows:
        raise ValueError("the request holds no rows")
    names = [str(name) for name in model.feature_names_in_]
    kinds = {
        str(name): kind
        for kind, _, columns in model.named_steps["prepare"].transformers_
        for name in columns
    }
    records = _records(rows, names)
    columns: dict[str, list[Any]] = {}
    for name in names:
        numeric = kinds.get(name) == "numeric"
        cells = []
        for number, record in enumerate(records, start=1):
            if name not in record:
                raise ValueError(
                    f"record {number} has no {name!r} (the model takes {_listed(names)})"
                )
            cells.append(_number(record[name], number, name) if numeric else _text(record[name]))
        columns[name] = cells
    frame = pd.DataFrame(columns, columns=names)
    for name in names:
        if kinds.get(name) != "numeric":
            frame[name] = frame[name].astype(object)
    return frame


def predict(features: pd.DataFrame, model: Any) -> dict[str, Any]:
    """Predicted labels and every class's probability, for each row."""
    return {
        "classes": [_plain(c) for c in model.classes_],
        "labels": [_plain(label) for label in model.predict(features)],
        "probabilities": model.predict_proba(features).tolist(),
    }


def encode(prediction: dict[str, Any], media: str) -> str:
    """Serialise the prediction as JSON or CSV (a media type from `response_type`)."""
    classes = prediction["classes"]
    # A binary model's classes are 0 and 1; its "probability" is that of class 1, the positive.
    binary = classes == [0, 1]
    rows = zip(prediction["labels"], prediction["probabilities"], strict=True)
    if media == CSV:
        # label, then P(positive) for a binary model, else each class's in the model's order.
        lines = io.StringIO()
        writer = csv.writer(lines, lineterminator="\n")
        for label, probabilities in rows:
            writer.writerow([label, *(probabilities[1:] if binary else probabilities)])
        return lines.getvalue()
    predictions = []
    for label, probabilities in rows:
        entry: dict[str, Any] = {"label": label}
        if binary:
            entry["probability"] = probabilities[1]
        entry["probabilities"] = {str(c): p for c, p in zip(classes, probabilities, strict=True)}
        predictions.append(entry)
    return json.dumps({"predictions": predictions})


def _records(rows: list[Any], names: list[str]) -> list[dict[str, Any]]:
    """Every row as a record: dicts as they are, a CSV header's names, or the model's order."""
    if all(isinstance(row, dict) for row in rows):
        return rows
    if not all(isinstance(row, list) for row in rows):
        raise ValueError("mixes rows (lists of values) and records (objects)")
    header = [str(value).strip() for value in rows[0]]
    if set(names) <= set(header):
        # A header line: the same table as the training CSV, columns in any order.
        if len(rows) == 1:
            raise ValueError("a header line but no rows")
        return [dict(zip(header, row, strict=False)) for row in rows[1:]]
    records = []
    for number, row in enumerate(rows, start=1):
        if len(row) != len(names):
            raise ValueError(
                f"row {number} has {len(row)} values; the model takes {len(names)}: "
                + _listed(names)
            )
        records.append(dict(zip(names, row, strict=True)))
    return records


def _number(value: Any, row: int, column: str) -> float:
    """A numeric cell: a number, or NaN for an empty one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan
    # bool is an int in Python, but true/false is never a numeric feature value.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"row {row}, column {column!r}: {value!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"row {row}, column {column!r}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"row {row}, column {column!r}: {value!r} is not a finite number")
    return number


def _text(value: Any) -> Any:
    """A categorical cell as the preprocess step wrote it: stripped text, NaN for an empty one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return np.nan
    text = str(value).strip()
    return text if text else np.nan


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON can write."""
    return value.item() if isinstance(value, np.generic) else value


def _listed(names: list[str]) -> str:
    return ", ".join(names[:8]) + (f", ... ({len(names)} in all)" if len(names) > 8 else "")


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _json_rows(body: str) -> list[Any]:
    try:
        payload = json.loads(body)
    except json.JSONDecodeError as error:
        raise ValueError(f"the request body is not valid JSON ({error.msg})") from None
    if isinstance(payload, dict):
        payload = payload.get("instances", [payload])
    if not isinstance(payload, list) or not payload:
        raise ValueError(
            "send a JSON row (a list of values), a record (an object), "
            "or a non-empty list of either"
        )
    if not any(isinstance(item, list | dict) for item in payload):
        return [payload]
    if not all(isinstance(item, list | dict) for item in payload):
        raise ValueError("mixes rows (lists) and single values at the top level")
    return payload
