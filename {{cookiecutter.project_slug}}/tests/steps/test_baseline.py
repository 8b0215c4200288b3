"""The baseline step: Model Monitor's statistics.json and constraints.json of the training rows.

`make test-compat` runs this file on the SageMaker container's libraries as well, so it imports
only the standard library, pytest, numpy, pandas and the step scripts (with tests/tables.py).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tables

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.steps import baseline, preprocess

TARGET = tables.TARGET
# The fields the schemas name ("Schema for Statistics", "Schema for Constraints", SageMaker
# developer guide), which Model Monitor's analyzer reads.
NUMERIC_STATISTICS = {"common", "mean", "sum", "std_dev", "min", "max", "distribution"}
STRING_STATISTICS = {"common", "distinct_count", "distribution"}
MONITORING_CONFIG = {
    "evaluate_constraints",
    "emit_metrics",
    "datatype_check_threshold",
    "domain_content_threshold",
    "distribution_constraints",
}
DISTRIBUTION_CONSTRAINTS = {
    "perform_comparison",
    "comparison_threshold",
    "comparison_method",
    "categorical_comparison_threshold",
    "categorical_drift_method",
}


def run_step(train: pd.DataFrame, tmp_path: Path) -> tuple[int, dict, dict]:
    """baseline.main on one training split; its exit code and the two files it wrote."""
    preprocess.write_table(train, tmp_path / "train" / baseline.TRAIN_FILE)
    code = baseline.main(
        [
            *("--train-dir", str(tmp_path / "train")),
            *("--output-dir", str(tmp_path / "baseline")),
            *config.command_line(config.BASELINE_OPTIONS),
        ]
    )
    if code:
        return code, {}, {}
    written = sorted(p.name for p in (tmp_path / "baseline").iterdir())
    assert written == [baseline.CONSTRAINTS, baseline.STATISTICS]  # and nothing half-written
    read = [json.loads((tmp_path / "baseline" / n).read_text()) for n in written]
    return code, read[1], read[0]


def test_the_data_sets_baseline_has_every_field_model_monitor_reads(tmp_path: Path) -> None:
    train, _ = tables.splits(tables.data_set())
    code, statistics, constraints = run_step(train, tmp_path)
    assert code == 0
    features = [c for c in train.columns if c != TARGET]  # a request's columns, in order
    assert statistics["version"] == constraints["version"] == 0
    assert statistics["dataset"] == {"item_count": len(train)}
    assert [f["name"] for f in statistics["features"]] == features
    assert [f["name"] for f in constraints["features"]] == features
    for stat, rule in zip(statistics["features"], constraints["features"], strict=True):
        column = train[stat["name"]]
        assert stat["inferred_type"] == rule["inferred_type"]
        assert stat["inferred_type"] in ("Integral", "Fractional", "String")
        assert 0 <= rule["completeness"] <= column.notna().mean()
        if stat["inferred_type"] == "String":
            assert set(stat["string_statistics"]) == STRING_STATISTICS
            continue
        numbers = stat["numerical_statistics"]
        assert set(numbers) == NUMERIC_STATISTICS
        assert numbers["common"] == {
            "num_present": int(column.notna().sum()),
            "num_missing": int(column.isna().sum()),
        }
        assert numbers["min"] == pytest.approx(column.min())
        assert numbers["max"] == pytest.approx(column.max())
        assert numbers["mean"] == pytest.approx(column.mean())
        kll = numbers["distribution"]["kll"]
        assert len(kll["buckets"]) in (1, baseline.BUCKETS)
        assert sum(b["count"] for b in kll["buckets"]) == column.notna().sum()
        assert kll["sketch"]["parameters"] == {"c": baseline.SKETCH_C, "k": baseline.SKETCH_K}
        assert rule["num_constraints"] == {"is_non_negative": bool(column.min() >= 0)}
    monitoring = constraints["monitoring_config"]
    assert set(monitoring) == MONITORING_CONFIG
    assert set(monitoring["distribution_constraints"]) == DISTRIBUTION_CONSTRAINTS
    threshold = monitoring["distribution_constraints"]["comparison_threshold"]
    assert threshold == config.DRIFT_THRESHOLD


def test_types_gaps_and_categories(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = 400
    table = pd.DataFrame(
        {
            "count": rng.integers(0, 9, rows),
            "whole_floats": rng.integers(0, 9, rows).astype(float),
            "amount": rng.normal(-1, 1, rows),
            "colour": rng.choice(["red", "green", "blue"], rows),
            TARGET: rng.integers(0, 2, rows),
        }
    )
    table.loc[:39, "amount"] = np.nan  # 10% missing
    code, statistics, constraints = run_step(table, tmp_path)
    assert code == 0
    kinds = {f["name"]: f["inferred_type"] for f in constraints["features"]}
    assert kinds == {
        "count": "Integral",
        "whole_floats": "Integral",
        "amount": "Fractional",
        "colour": "String",
    }
    rules = {f["name"]: f for f in constraints["features"]}
    assert rules["count"]["completeness"] == 1.0
    # Below the training share (0.9), by the share's 95% interval: chance alone rarely violates.
    assert 0.85 < rules["amount"]["completeness"] < 0.9
    assert rules["amount"]["num_constraints"] == {"is_non_negative": False}
    assert rules["colour"]["string_constraints"] == {"domains": ["blue", "green", "red"]}
    colour = next(f for f in statistics["features"] if f["name"] == "colour")
    assert colour["string_statistics"]["distinct_count"] == 3
    buckets = colour["string_statistics"]["distribution"]["categorical"]["buckets"]
    assert sum(b["count"] for b in buckets) == rows


def test_a_large_table_keeps_k_quantiles_in_the_sketch(tmp_path: Path) -> None:
    values = np.arange(5000, dtype=float)
    table = pd.DataFrame({"x": values, TARGET: np.zeros(5000, dtype=int)})
    code, statistics, _ = run_step(table, tmp_path)
    assert code == 0
    sketch = statistics["features"][0]["numerical_statistics"]["distribution"]["kll"]["sketch"]
    (level,) = sketch["data"]
    assert len(level) == baseline.SKETCH_K
    assert (level[0], level[-1]) == (0.0, 4999.0)


def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert baseline.main(["--train-dir", str(tmp_path), "--target", TARGET]) == 2
    assert "the training split is missing" in capsys.readouterr().err
    no_target = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    code, _, _ = run_step(no_target, tmp_path)
    assert code == 2
    assert f"no target column {TARGET!r}" in capsys.readouterr().err
