"""Baseline step: the training rows' data-quality baseline, in SageMaker Model Monitor's format.

Runs as a SageMaker processing job (the training split in /opt/ml/processing/train, the files
written to /opt/ml/processing/baseline) and, unchanged, as a local process. It writes the two
files Model Monitor's data-quality jobs read (SageMaker developer guide, "Schema for Statistics
(statistics.json file)" and "Schema for Constraints (constraints.json file)"):

- statistics.json: per feature, in the order a request sends them (the table's columns without
  the target), the inferred type (Integral, Fractional or String), the present and missing
  counts, and for numbers the mean, sum, standard deviation, extremes, 10 equal-width buckets
  and a KLL-shaped quantile sketch; for text the distinct count and each value's count;
- constraints.json: per feature its type, its completeness (the share of rows that have it, or
  a cautious lower bound of it when some rows lack it),
  whether a number was never negative, the values of a text feature of small cardinality, and
  the monitoring_config thresholds (distribution distance, data-type and domain shares).

The sketch holds up to SKETCH_K values as they are (a KLL sketch holds that many before its first
compaction); a larger table is represented by SKETCH_K evenly spaced quantiles, which keep the
distribution's shape (the item count is in common.num_present).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PROCESSING = Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")) / "processing"
USAGE_ERROR = 2
TRAIN_FILE = "train.parquet"
STATISTICS, CONSTRAINTS = "statistics.json", "constraints.json"
# Model Monitor materialises each numeric distribution in 10 buckets (statistics schema, notes).
BUCKETS = 10
# The KLL parameters Model Monitor's statistics name (k items per level, c the level shrink).
SKETCH_K, SKETCH_C = 2048, 0.64
# A text feature's values are a domain constraint when there are at most this many.
DOMAIN_MAX = 20
# Model Monitor's documented defaults for the shares and the categorical distance.
DATATYPE_CHECK_THRESHOLD = 0.1
DOMAIN_CONTENT_THRESHOLD = 0.1


def completeness(present: int, rows: int) -> float:
    """The completeness constraint: 1.0 for a full column, else a cautious lower bound.

    A column missing in 5% of the training rows will miss in a little more or less of an hour's
    traffic by chance. As Deequ's RetainCompletenessRule suggests a completeness constraint, the
    bound is the lower end of the share's 95% normal interval, so chance alone rarely violates it.
    """
    share = present / rows
    if share >= 1.0:
        return 1.0
    return max(0.0, share - 1.96 * math.sqrt(share * (1 - share) / rows))


class DataError(ValueError):
    """The training rows cannot be baselined; the message names the file and the problem."""


def inferred_type(column: pd.Series) -> str:
    """Model Monitor's type of a column: Integral, Fractional or String (bools are Integral)."""
    present = column.dropna()
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_integer_dtype(column):
        return "Integral"
    if pd.api.types.is_numeric_dtype(column):
        whole = present.empty or bool(np.all(np.mod(present.to_numpy(dtype=float), 1) == 0))
        return "Integral" if whole else "Fractional"
    return "String"


def numeric_statistics(column: pd.Series) -> dict[str, Any]:
    """numerical_statistics of one numeric column (NaN-free figures; an empty column has none)."""
    present = column.dropna().to_numpy(dtype=float)
    values = np.sort(present)
    common = {"num_present": int(values.size), "num_missing": int(column.isna().sum())}
    if values.size == 0:
        return {"common": common}
    low, high = float(values[0]), float(values[-1])
    edges = np.linspace(low, high, BUCKETS + 1) if high > low else np.array([low, high])
    counts, _ = np.histogram(values, bins=edges)
    buckets = [
        {"lower_bound": float(a), "upper_bound": float(b), "count": int(n)}
        for a, b, n in zip(edges[:-1], edges[1:], counts, strict=True)
    ]
    sketch = values if values.size <= SKETCH_K else np.quantile(values, np.linspace(0, 1, SKETCH_K))
    return {
        "common": common,
        "mean": float(np.mean(present)),
        "sum": float(np.sum(present)),
        "std_dev": float(np.std(present)),
        "min": low,
        "max": high,
        "distribution": {
            "kll": {
                "buckets": buckets,
                "sketch": {
                    "parameters": {"c": SKETCH_C, "k": SKETCH_K},
                    "data": [[float(v) for v in sketch]],
                },
            }
        },
    }


def string_statistics(column: pd.Series) -> dict[str, Any]:
    """string_statistics of one text column: counts, and each value's count."""
    present = column.dropna().astype(str)
    counts = present.value_counts()
    return {
        "common": {"num_present": int(present.size), "num_missing": int(column.isna().sum())},
        "distinct_count": int(counts.size),
        "distribution": {
            "categorical": {
                "buckets": [{"value": str(v), "count": int(n)} for v, n in counts.items()]
            }
        },
    }


def baseline(
    table: pd.DataFrame, target: str, drift_threshold: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(statistics, constraints) of the table's features, the target left out."""
    if target not in table.columns:
        raise DataError(f"no target column {target!r} among {', '.join(map(str, table.columns))}")
    features = table.drop(columns=[target])
    if features.shape[1] == 0 or features.empty:
        raise DataError("no feature columns or no rows to baseline")
    rows = len(features)
    statistics, constraints = [], []
    for name in features.columns:
        column = features[name]
        kind = inferred_type(column)
        present = int(column.notna().sum())
        stat: dict[str, Any] = {"name": str(name), "inferred_type": kind}
        rule: dict[str, Any] = {
            "name": str(name),
            "inferred_type": kind,
            "completeness": completeness(present, rows),
        }
        if kind == "String":
            stat["string_statistics"] = string_statistics(column)
            values = sorted(column.dropna().astype(str).unique())
            if len(values) <= DOMAIN_MAX:
                rule["string_constraints"] = {"domains": values}
        else:
            stat["numerical_statistics"] = numeric_statistics(column)
            low = stat["numerical_statistics"].get("min", 0.0)
            rule["num_constraints"] = {"is_non_negative": bool(low >= 0)}
        statistics.append(stat)
        constraints.append(rule)
    return (
        {"version": 0, "dataset": {"item_count": rows}, "features": statistics},
        {
            "version": 0,
            "features": constraints,
            "monitoring_config": {
                "evaluate_constraints": "Enabled",
                "emit_metrics": "Enabled",
                "datatype_check_threshold": DATATYPE_CHECK_THRESHOLD,
                "domain_content_threshold": DOMAIN_CONTENT_THRESHOLD,
                "distribution_constraints": {
                    "perform_comparison": "Enabled",
                    "comparison_threshold": drift_threshold,
                    "comparison_method": "Robust",
                    "categorical_comparison_threshold": drift_threshold,
                    "categorical_drift_method": "LInfinity",
                },
            },
        },
    )


def write_json(payload: dict[str, Any], path: Path) -> None:
    """Write JSON atomically: a reader never sees half a file under the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(payload, indent=2, allow_nan=False), encoding="utf-8")
    partial.replace(path)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The step's options; the pipeline passes the target and the drift threshold from config."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train-dir", type=Path, default=PROCESSING / "train")
    p.add_argument("--output-dir", type=Path, default=PROCESSING / "baseline")
    p.add_argument("--target", required=True, help="name of the target column (left out)")
    p.add_argument("--drift-threshold", type=float, default=0.1)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Read the training split, write statistics.json and constraints.json; exit 2 on bad input."""
    args = parse_args(argv)
    source = args.train_dir / TRAIN_FILE
    try:
        if not source.is_file():
            raise DataError("the training split is missing")
        if not (math.isfinite(args.drift_threshold) and 0 < args.drift_threshold <= 1):
            raise DataError(f"--drift-threshold {args.drift_threshold} must be in (0, 1]")
        statistics, constraints = baseline(
            pd.read_parquet(source), args.target, args.drift_threshold
        )
    except DataError as error:
        print(f"error: {source}: {error}", file=sys.stderr)
        return USAGE_ERROR
    write_json(statistics, args.output_dir / STATISTICS)
    write_json(constraints, args.output_dir / CONSTRAINTS)
    kinds = [f["inferred_type"] for f in constraints["features"]]
    summary = ", ".join(f"{kinds.count(k)} {k}" for k in ("Integral", "Fractional", "String"))
    print(
        f"baseline: {statistics['dataset']['item_count']} rows, {len(kinds)} features "
        f"({summary}) -> {STATISTICS}, {CONSTRAINTS}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
