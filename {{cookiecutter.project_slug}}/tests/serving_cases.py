"""Requests to the endpoint and the HTTP status each must get: one table for two tests.

tests/steps/test_serving_stack.py sends them through the scikit-learn image's own request
handler (`make test-compat`); tests/dev/test_emulator.py sends them to the emulator's
InvokeEndpoint. Both assert this table, so the emulator answers with the endpoint's codes.
SageMaker counts a 4xx as Invocation4XXErrors and a 5xx as Invocation5XXErrors, the metric the
rollback alarms watch: a client's mistake must never be a 5xx.

Imports the standard library and the package's config only: it runs in the image's versions too.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from {{ cookiecutter.__package }} import config

CSV = "text/csv"
JSON = "application/json"
TRAINED = "trained"
BROKEN = "broken"


@dataclass(frozen=True)
class Case:
    """One request, built from a valid row of feature values, and the answer it must get."""

    name: str
    content_type: str
    accept: str | None
    body: Callable[[list[str]], bytes]
    status: int
    returns: tuple[str, int] | None = None  # a 200's content type and number of predictions
    model: str = TRAINED  # BROKEN: a model whose every prediction raises


def _csv(*rows: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()


def _json(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _values(row: list[str]) -> list[Any]:
    """The row as a JSON client sends it: numbers as numbers, text as text, empty cells null."""
    values: list[Any] = []
    for value in row:
        number = _number(value) if value else None
        values.append(number if number is not None else value or None)
    return values


def _malformed(row: list[str]) -> list[str]:
    """The row with text where the first number was (a categorical column takes any text)."""
    numbers = [i for i, value in enumerate(row) if value and _number(value) is not None]
    if not numbers:
        return [*row, row[0]]  # no number to spoil: one value too many instead
    return [*row[: numbers[0]], "abc", *row[numbers[0] + 1 :]]


CASES = (
    Case("csv-in-json-out", CSV, JSON, lambda r: _csv(r, r), 200, (JSON, 2)),
    Case("json-in-csv-out", JSON, CSV, lambda r: _json([_values(r)] * 3), 200, (CSV, 3)),
    Case("json-object", JSON, JSON, lambda r: _json({"instances": [_values(r)]}), 200, (JSON, 1)),
    Case("no-accept-means-json", CSV, None, lambda r: _csv(r), 200, (JSON, 1)),
    Case("any-accept-means-json", CSV, "*/*", lambda r: _csv(r), 200, (JSON, 1)),
    Case("malformed-csv", CSV, JSON, lambda r: _csv(_malformed(r)), 400),
    Case("malformed-json", JSON, JSON, lambda r: _json([_values(r)])[:-1], 400),
    Case("empty-body", CSV, JSON, lambda r: b"", 400),
    Case("not-utf8", CSV, JSON, lambda r: b"\xff\xfe\xfa", 400),
    Case("ragged-rows", CSV, JSON, lambda r: _csv(r, r[:-1]), 400),
    Case("a-column-short", CSV, JSON, lambda r: _csv(r[:-1]), 400),
    Case("a-column-too-many", CSV, JSON, lambda r: _csv([*r, r[0]]), 400),
    Case("unsupported-content-type", "application/x-npy", JSON, lambda r: _csv(r), 415),
    Case("unsupported-accept", CSV, "application/xml", lambda r: _csv(r), 406),
    Case("bug-in-the-model", CSV, JSON, lambda r: _csv(r), 500, model=BROKEN),
)


def predictions(content_type: str, body: bytes) -> list[Any]:
    """The predictions in a 200 answer of inference.py, one per row sent."""
    text = body.decode()
    if content_type == CSV:
        return text.splitlines()
    return json.loads(text)["predictions"]


def sample_row() -> list[str]:
    """The data set's first row as text, without the target and the dropped columns."""
    left_out = {config.TARGET_COLUMN, *config.DROP_COLUMNS}
    with config.DATA_FILE.open(newline="", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    return [value for name, value in row.items() if name not in left_out]


class BrokenModel:
    """A model with a bug: it loads and names its features like the real one, then raises.

    It raises ValueError on purpose, as scikit-learn does for many internal faults: the status
    must come from where the error happens (the model), not from the exception's type.
    """

    def __init__(self, model: Any) -> None:
        # What serving reads from a model before it predicts: the features, their preparation
        # (the column lists) and the classes.
        self.n_features_in_ = model.n_features_in_
        self.feature_names_in_ = model.feature_names_in_
        self.named_steps = model.named_steps
        self.classes_ = model.classes_

    def predict(self, data: Any) -> Any:
        """Fail, as a bug in the model would."""
        raise ValueError("a bug in the model")

    predict_proba = predict
