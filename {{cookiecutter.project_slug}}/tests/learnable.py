"""A table any model learns, in the data set's own names: for the tests of the pipeline's wiring.

The tests that run the whole pipeline (the emulator's executions, the buildspec's build phase)
check that the definition wires the steps together and registers what the gate lets through.
Whether the configured data set can be learnt is not theirs to decide (a user's table may be
noise, and the gate rightly refuses it), so they train on this one instead, through the
pipeline's own `--input-data`: the configured target, labels and dropped columns, and one column
that separates the classes completely.

Imports the standard library and the package's config only.
"""

from __future__ import annotations

import random

import boto3

from {{ cookiecutter.__package }} import config

KEY = "input/learnable/learnable.csv"


def labels() -> list[str]:
    """Labels the preprocess step reads as the configured task's classes."""
    if config.TASK == "multiclass":
        return ["a", "b", "c"]
    positive = config.POSITIVE_CLASS or "1"
    return ["0" if positive == "1" else f"not {positive}", positive]


def csv_text(rows: int = 120, seed: int = 0) -> str:
    """The table as CSV: a column per class band, one of noise, the dropped columns, the target."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    names = labels()
    header = ["learnable_signal", "learnable_noise", *config.DROP_COLUMNS, config.TARGET_COLUMN]
    lines = [",".join(header)]
    for row in range(rows):
        index = row % len(names)
        values = [f"{10 * index + rng.random():.4f}", f"{rng.random():.4f}"]
        lines.append(",".join([*values, *("0" for _ in config.DROP_COLUMNS), names[index]]))
    return "\n".join(lines) + "\n"


def upload(endpoint_url: str | None = None) -> str:
    """Put the table in the artifact bucket; its s3:// URI, for `pipeline start --input-data`."""
    boto3.client("s3", endpoint_url=endpoint_url).put_object(
        Bucket=config.ARTIFACT_BUCKET, Key=KEY, Body=csv_text().encode()
    )
    return f"s3://{config.ARTIFACT_BUCKET}/{KEY}"
