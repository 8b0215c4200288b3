"""`monitor check`: captured requests against the served version's baseline, offline.

A local approximation of SageMaker Model Monitor's data-quality analyzer, which reads the same
files: the endpoint's captured requests (SageMaker's data-capture JSON Lines) and the version's
statistics.json and constraints.json. It applies the constraint checks the violations schema
names (SageMaker developer guide, "Schema for Violations (constraint_violations.json file)"):

- missing_column_check / extra_column_check: a request row with fewer or more values than the
  baseline has features;
- completeness_check: a feature present in a smaller share of rows than the baseline's
  `completeness`;
- data_type_check: more than `datatype_check_threshold` of a numeric feature's values are not
  numbers (or, for an Integral feature, not whole numbers);
- categorical_values_check: more than `domain_content_threshold` of a text feature's values are
  outside its `string_constraints.domains`;
- baseline_drift_check: for a numeric feature, the largest distance between the baseline's and
  the captured values' cumulative distributions (the L-infinity distance, computed here on the
  baseline sketch's values and every captured value) is above `comparison_threshold`. With
  `comparison_method` Robust, the distance must also exceed what two samples of these sizes
  show by chance (the two-sample Kolmogorov-Smirnov critical value at a 1% level).

Where it differs from the analyzer: the analyzer's exact Robust rule and its sketch merging are
not published, it runs as a processing job over one hour of capture, and it writes
constraint_violations.json and CloudWatch metrics; this reads every captured file of the endpoint
and prints a table. docs/design-decisions.md ("Monitoring") says more.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.monitoring import baseline

NUMERIC = ("Integral", "Fractional")
# The two-sample Kolmogorov-Smirnov coefficient c(alpha) at alpha = 0.01: sqrt(-ln(alpha/2)/2).
KS_COEFFICIENT = math.sqrt(-math.log(0.01 / 2) / 2)


@dataclass
class Violation:
    """One row of constraint_violations.json, with the figures behind it."""

    feature: str
    check: str
    description: str
    value: float | None = None
    threshold: float | None = None


@dataclass
class Captured:
    """The captured request rows of one endpoint: by position, or by name for JSON records."""

    files: int = 0
    invocations: int = 0
    rows: list[list[Any] | dict[str, Any]] = field(default_factory=list)


def capture_prefix(env: str) -> str:
    """The S3 key prefix of one endpoint's captured files (every variant, every hour)."""
    return f"{config.DATA_CAPTURE_PREFIX}/{config.endpoint_name(env)}/"


def read_captures(s3: Any, env: str, features: list[str]) -> Captured:
    """Every captured request of `env`'s endpoint, as rows; a clear error when there is none."""
    prefix = capture_prefix(env)
    captured = Captured()
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=config.ARTIFACT_BUCKET, Prefix=prefix
    ):
        for item in page.get("Contents", []):
            if not item["Key"].endswith(".jsonl"):
                continue
            captured.files += 1
            body = s3.get_object(Bucket=config.ARTIFACT_BUCKET, Key=item["Key"])["Body"].read()
            for line in body.decode("utf-8").splitlines():
                if line.strip():
                    captured.invocations += 1
                    captured.rows.extend(request_rows(json.loads(line), features))
    if not captured.rows:
        raise CliError(
            f"nothing captured under s3://{config.ARTIFACT_BUCKET}/{prefix}: the endpoint has "
            "had no requests since capture began"
            + ("" if config.DATA_CAPTURE_PERCENT else " (config.DATA_CAPTURE_PERCENT is 0: off)"),
            ExitCode.NOTHING_TO_CHECK,
        )
    return captured


def request_rows(record: dict[str, Any], features: list[str]) -> list[list[Any] | dict[str, Any]]:
    """The rows one captured request held (the shapes steps/inference.py accepts)."""
    part = record.get("captureData", {}).get("endpointInput")
    if not part:
        return []
    data = part.get("data", "")
    if part.get("encoding") == "BASE64":
        data = base64.b64decode(data).decode("utf-8", errors="replace")
    media = part.get("observedContentType", "").split(";", 1)[0].strip().lower()
    if media == "application/json":
        try:
            return list(_json_rows(json.loads(data)))
        except ValueError:
            return []
    rows = [row for row in csv.reader(io.StringIO(data)) if row]
    if rows and set(rows[0]) >= set(features) and len(rows[0]) == len(set(rows[0])):
        header, body = rows[0], rows[1:]
        return [dict(zip(header, row, strict=False)) for row in body]
    return list(rows)


def _json_rows(payload: Any) -> Iterator[list[Any] | dict[str, Any]]:
    if isinstance(payload, dict) and "instances" in payload:
        payload = payload["instances"]
    if isinstance(payload, dict):
        yield payload
    elif isinstance(payload, list) and payload and isinstance(payload[0], (list, dict)):
        yield from payload
    elif isinstance(payload, list):
        yield payload


def _number(value: Any) -> float | None:
    """The value as a finite number, or None when it is not one."""
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def columns(
    captured: Captured, features: list[str]
) -> tuple[dict[str, list[Any]], list[Violation]]:
    """Each feature's captured values, and the rows that had too few or too many values."""
    values: dict[str, list[Any]] = {name: [] for name in features}
    short = long = 0
    for row in captured.rows:
        if isinstance(row, dict):
            for name in features:
                values[name].append(row.get(name))
            continue
        short += len(row) < len(features)
        long += len(row) > len(features)
        for index, name in enumerate(features):
            values[name].append(row[index] if index < len(row) else None)
    found = []
    if short:
        found.append(Violation("", "missing_column_check", f"{short} rows have fewer values"))
    if long:
        found.append(Violation("", "extra_column_check", f"{long} rows have more values"))
    return values, found


def distance(baseline: list[float], current: list[float]) -> float:
    """The L-infinity distance between two samples' cumulative distributions."""
    a, b = sorted(baseline), sorted(current)
    return max(abs(bisect_right(a, x) / len(a) - bisect_right(b, x) / len(b)) for x in [*a, *b])


def check(
    statistics: dict[str, Any], constraints: dict[str, Any], captured: Captured
) -> list[Violation]:
    """Every violation of the constraints by the captured rows."""
    rules = constraints["features"]
    names = [rule["name"] for rule in rules]
    stats = {feature["name"]: feature for feature in statistics["features"]}
    monitoring = constraints.get("monitoring_config", {})
    comparison = monitoring.get("distribution_constraints", {})
    values, found = columns(captured, names)
    for rule in rules:
        name, kind = rule["name"], rule["inferred_type"]
        column = values[name]
        present = [v for v in column if not _missing(v)]
        completeness = len(present) / len(column) if column else 0.0
        if completeness < rule.get("completeness", 0.0) - 1e-9:
            found.append(
                Violation(
                    name,
                    "completeness_check",
                    f"completeness {completeness:.3f} < baseline {rule['completeness']:.3f}",
                    completeness,
                    rule["completeness"],
                )
            )
        if kind in NUMERIC:
            found += _numeric(name, kind, present, stats.get(name, {}), monitoring, comparison)
        elif kind == "String":
            found += _categorical(name, present, rule, monitoring)
    return found


def _numeric(
    name: str,
    kind: str,
    present: list[Any],
    stat: dict[str, Any],
    monitoring: dict[str, Any],
    comparison: dict[str, Any],
) -> list[Violation]:
    found = []
    numbers = [n for n in map(_number, present) if n is not None]
    limit = float(monitoring.get("datatype_check_threshold", 0.1))
    wrong = len(present) - len(numbers)
    if kind == "Integral":
        wrong += sum(1 for n in numbers if not n.is_integer())
    share = wrong / len(present) if present else 0.0
    if share > limit:
        found.append(
            Violation(
                name,
                "data_type_check",
                f"{share:.0%} of values are not {kind} (threshold {limit:.0%})",
                share,
                limit,
            )
        )
    sketch = stat.get("numerical_statistics", {}).get("distribution", {}).get("kll", {})
    reference = [v for level in sketch.get("sketch", {}).get("data", []) for v in level]
    if not numbers or not reference or comparison.get("perform_comparison") == "Disabled":
        return found
    threshold = float(comparison.get("comparison_threshold", 0.1))
    measured = distance(reference, numbers)
    drifted = measured > threshold
    if drifted and comparison.get("comparison_method") == "Robust":
        baseline_n = stat["numerical_statistics"]["common"]["num_present"]
        sizes = (baseline_n + len(numbers)) / (baseline_n * len(numbers))
        chance = KS_COEFFICIENT * math.sqrt(sizes)
        drifted = measured > chance
    if drifted:
        found.append(
            Violation(
                name,
                "baseline_drift_check",
                f"distance {measured:.3f} > {threshold:.3f}",
                measured,
                threshold,
            )
        )
    return found


def _categorical(
    name: str, present: list[Any], rule: dict[str, Any], monitoring: dict[str, Any]
) -> list[Violation]:
    domains = rule.get("string_constraints", {}).get("domains")
    if not domains or not present:
        return []
    limit = float(monitoring.get("domain_content_threshold", 0.1))
    unknown = sum(1 for v in present if str(v) not in set(domains)) / len(present)
    if unknown <= limit:
        return []
    return [
        Violation(
            name,
            "categorical_values_check",
            f"{unknown:.0%} of values are outside the baseline's {len(domains)}",
            unknown,
            limit,
        )
    ]


def table(violations: list[Violation]) -> str:
    """The violations as a fixed-width table (feature, check, value, threshold, description)."""
    header = ("feature", "check", "value", "threshold", "description")
    rows = [
        (
            v.feature or "(row)",
            v.check,
            "" if v.value is None else f"{v.value:.3f}",
            "" if v.threshold is None else f"{v.threshold:.3f}",
            v.description,
        )
        for v in violations
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, tuple("-" * w for w in widths), *rows]
    ]
    return "\n".join(lines)


def check_endpoint(env: str, sm: Any, s3: Any, echo: Callable[[str], None] = print) -> int:
    """Compare `env`'s captured requests with its served version's baseline; exit 11 on drift."""
    served = baseline.served(sm, env)
    statistics = baseline.read_json(s3, served.statistics_uri)
    constraints = baseline.read_json(s3, served.constraints_uri)
    names = [rule["name"] for rule in constraints["features"]]
    captured = read_captures(s3, env, names)
    echo(
        f"monitor check (a local approximation of Model Monitor's data-quality analyzer): "
        f"{len(captured.rows)} rows in {captured.invocations} captured requests of "
        f"{config.endpoint_name(env)} against version {served.version}'s baseline "
        f"({statistics['dataset']['item_count']} training rows, {len(names)} features)"
    )
    violations = check(statistics, constraints, captured)
    if not violations:
        echo("no violations")
        return ExitCode.OK
    echo(table(violations))
    raise CliError(
        f"{len(violations)} violation(s) of version {served.version}'s baseline in "
        f"{config.endpoint_name(env)}'s captured traffic",
        ExitCode.DRIFTED,
    )
