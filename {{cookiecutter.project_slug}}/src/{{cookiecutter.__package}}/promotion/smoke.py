"""The smoke test: a few rows of the data set through the endpoint, one prediction each."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode

SMOKE_ROWS = 5


def sample_rows(limit: int = SMOKE_ROWS) -> list[list[str]]:
    """The first rows of the data set (config.DATA_FILE), as the model sees them.

    The target and the dropped columns (config.DROP_COLUMNS) are left out, as the preprocess
    step leaves them out; empty cells stay empty, as serving accepts them.
    """
    data = config.DATA_FILE
    if not data.is_file():
        raise CliError(
            f"{data}: no data set file (config.DATA_FILE) for the smoke test", ExitCode.ERROR
        )
    with data.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        if config.TARGET_COLUMN not in header:
            raise CliError(f"{data.name} has no {config.TARGET_COLUMN!r} column", ExitCode.ERROR)
        left_out = {config.TARGET_COLUMN, *config.DROP_COLUMNS}
        keep = [i for i, name in enumerate(header) if name not in left_out]
        rows = []
        for row in reader:
            if row:
                rows.append([row[i] if i < len(row) else "" for i in keep])
            if len(rows) == limit:
                break
    return rows


def csv_body(rows: list[list[str]]) -> str:
    """The rows as a text/csv request body, quoted where a value holds a comma or a quote."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def smoke_test(runtime: Any, endpoint_name: str, rows: list[list[str]]) -> list[Any]:
    """Invoke the endpoint with `rows`; return one prediction a row or raise FAILED."""
    body = csv_body(rows)
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
