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
    return "".join(",".join(row) + "\n" for row in rows).encode()


def _json(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def _floats(row: list[str]) -> list[float]:
    return [float(value) for value in row]


CASES = (
    Case("csv-in-json-out", CSV, JSON, lambda r: _csv(r, r), 200, (JSON, 2)),
    Case("json-in-csv-out", JSON, CSV, lambda r: _json([_floats(r)] * 3), 200, (CSV, 3)),
    Case("json-object", JSON, JSON, lambda r: _json({"instances": [_floats(r)]}), 200, (JSON, 1)),
    Case("no-accept-means-json", CSV, None, lambda r: _csv(r), 200, (JSON, 1)),
    Case("any-accept-means-json", CSV, "*/*", lambda r: _csv(r), 200, (JSON, 1)),
    Case("malformed-csv", CSV, JSON, lambda r: _csv(["abc", *r[1:]]), 400),
    Case("malformed-json", JSON, JSON, lambda r: _json([_floats(r)])[:-1], 400),
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
    """The first row of the bundled sample data, without the target column."""
    with config.SAMPLE_DATA.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        row = next(reader)
    return [value for name, value in row.items() if name != config.TARGET_COLUMN]


class BrokenModel:
    """A model with a bug: it loads and names its features like the real one, then raises.

    It raises ValueError on purpose, as scikit-learn does for many internal faults: the status
    must come from where the error happens (the model), not from the exception's type.
    """

    def __init__(self, model: Any) -> None:
        self.n_features_in_ = model.n_features_in_
        if hasattr(model, "feature_names_in_"):
            self.feature_names_in_ = model.feature_names_in_

    def predict(self, data: Any) -> Any:
        """Fail, as a bug in the model would."""
        raise ValueError("a bug in the model")

    predict_proba = predict
