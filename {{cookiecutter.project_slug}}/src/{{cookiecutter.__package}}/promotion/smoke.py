"""The smoke test: a few rows of the sample data through the endpoint, one prediction each."""

from __future__ import annotations

import csv
import json
from typing import Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode

SMOKE_ROWS = 5


def sample_rows(limit: int = SMOKE_ROWS) -> list[list[str]]:
    """The first rows of the bundled sample data, without the target column."""
    sample = config.SAMPLE_DATA
    if not sample.is_file():
        raise CliError(f"{sample}: no sample CSV for the smoke test", ExitCode.ERROR)
    with sample.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if config.TARGET_COLUMN not in header:
            raise CliError(f"{sample.name} has no {config.TARGET_COLUMN!r} column", ExitCode.ERROR)
        target = header.index(config.TARGET_COLUMN)
        rows = []
        for row in reader:
            rows.append([value for i, value in enumerate(row) if i != target])
            if len(rows) == limit:
                break
    return rows


def smoke_test(runtime: Any, endpoint_name: str, rows: list[list[str]]) -> list[Any]:
    """Invoke the endpoint with `rows`; return one prediction a row or raise FAILED."""
    body = "".join(",".join(row) + "\n" for row in rows)
    try:
        response = runtime.invoke_endpoint(
            EndpointName=endpoint_name,
            ContentType="text/csv",
            Accept="application/json",
            Body=body.encode(),
        )
        payload = response["Body"].read().decode()
    except aws.ClientError as error:
        raise CliError(
            f"smoke test: invoking {endpoint_name} failed: {error}", ExitCode.FAILED
        ) from error
    try:
        predictions = json.loads(payload)["predictions"]
    except (ValueError, KeyError, TypeError):
        raise CliError(
            f'smoke test: response has no "predictions" list: {payload[:200]!r}',
            ExitCode.FAILED,
        ) from None
    if not isinstance(predictions, list) or len(predictions) != len(rows):
        raise CliError(
            f"smoke test: sent {len(rows)} rows, got {len(predictions)} predictions",
            ExitCode.FAILED,
        )
    return predictions
