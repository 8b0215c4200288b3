"""The story's monitoring stage: shifted traffic to prod, then `monitor check` finds the drift.

Development tooling, like story.py. Prod's endpoint captures what it receives (DataCaptureConfig,
config.DATA_CAPTURE_PERCENT); the stage sends rows of the data set with a few numeric features
moved by three training standard deviations, as a changed upstream system would send them, and
runs `monitor check --env prod` as a person would: it must exit 11 and name those features.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.monitoring import baseline
from {{ cookiecutter.__package }}.promotion import smoke
from {{ cookiecutter.__package }}.training.interface import BASELINE

STAGE = "shifted traffic to prod, monitor check"
# About ROWS rows spread over the first READ of the data set (its first rows alone may be a
# biased sample: sorted by date, or by class), BATCH to a request, SHIFTED features moved.
ROWS, READ, BATCH, SHIFTED = 200, 5000, 50, 3
REPORT = "drift-report.txt"


def shifted_rows(statistics: dict[str, Any], rows: list[list[str]]) -> tuple[list[str], list]:
    """(the features moved, the rows with them moved by 3 standard deviations); gaps stay."""
    numeric = [
        (index, feature)
        for index, feature in enumerate(statistics["features"])
        if "numerical_statistics" in feature
    ][:SHIFTED]
    moved = [list(row) for row in rows]
    for index, feature in numeric:
        step = 3 * (feature["numerical_statistics"].get("std_dev") or 1.0)
        for row in moved:
            if row[index].strip():
                row[index] = repr(float(row[index]) + step)
    return [feature["name"] for _, feature in numeric], moved


def drift_stage(story: Any, report: Path) -> str:
    """Send shifted rows to prod; `monitor check` must report them (exit 11); keep its table."""
    report.unlink(missing_ok=True)  # an earlier story's
    if not config.DATA_CAPTURE_PERCENT:
        return "skipped: data capture is off (config.DATA_CAPTURE_PERCENT is 0)"
    served = baseline.served(aws.client("sagemaker"), "prod")
    statistics = baseline.read_json(aws.client("s3"), served.statistics_uri)
    spread = smoke.sample_rows(READ)
    moved, rows = shifted_rows(statistics, spread[:: max(1, len(spread) // ROWS)])
    if not moved:
        return "skipped: the data set has no numeric feature to shift"
    runtime = aws.client("sagemaker-runtime")
    for start in range(0, len(rows), BATCH):
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows[start : start + BATCH])
        runtime.invoke_endpoint(
            EndpointName=config.endpoint_name("prod"), ContentType="text/csv", Body=text.getvalue()
        )
    out = story.cli("monitor", "check", "--env", "prod", expect=ExitCode.DRIFTED)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(out, encoding="utf-8")
    flagged = sorted(
        {line.split()[0] for line in out.splitlines() if "baseline_drift_check" in line}
    )
    if not set(moved) <= set(flagged):
        raise CliError(
            f"monitor check did not flag every shifted feature ({', '.join(moved)}):\n{out}",
            ExitCode.FAILED,
        )
    story.log("\n".join(f"     {line}" for line in drift_table(out)))
    return f"drift in {', '.join(flagged)}: exit {int(ExitCode.DRIFTED)}, as expected"


def drift_table(output: str) -> list[str]:
    """The violations table of `monitor check`'s output (its header line onwards)."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("feature ")), len(lines))
    return [line for line in lines[start:] if line.strip() and not line.startswith("error:")]


def baseline_files(jobs: Path) -> Path | None:
    """The newest Baseline job's output folder under the story's pipeline jobs."""
    found = sorted(jobs.glob(f"*/{BASELINE}/**/{config.BASELINE_CONSTRAINTS}"))
    newest = max(found, key=lambda path: path.stat().st_mtime, default=None)
    return newest.parent if newest is not None else None
