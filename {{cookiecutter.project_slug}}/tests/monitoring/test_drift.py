"""The offline drift check's constraint semantics, on small hand-made baselines and captures."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.__package }}.dev import capture
from {{ cookiecutter.__package }}.monitoring import drift
from {{ cookiecutter.__package }}.steps import baseline

FEATURES = ["size", "count", "colour"]


@pytest.fixture(scope="module")
def files() -> tuple[dict, dict]:
    rng = np.random.default_rng(1)
    rows = 600
    table = pd.DataFrame(
        {
            "size": rng.normal(10, 2, rows),
            "count": rng.integers(0, 5, rows),
            "colour": rng.choice(["red", "blue"], rows),
            "target": rng.integers(0, 2, rows),
        }
    )
    return baseline.baseline(table, "target", 0.1)


def _captured(rows: list[list[object]]) -> drift.Captured:
    return drift.Captured(files=1, invocations=1, rows=[list(r) for r in rows])


def _rows(n: int, seed: int, size_shift: float = 0.0) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    return [
        [rng.normal(10 + size_shift, 2), int(rng.integers(0, 5)), str(rng.choice(["red", "blue"]))]
        for _ in range(n)
    ]


def _checks(violations: list[drift.Violation]) -> set[tuple[str, str]]:
    return {(v.feature, v.check) for v in violations}


def test_traffic_like_the_baseline_violates_nothing(files: tuple[dict, dict]) -> None:
    statistics, constraints = files
    assert drift.check(statistics, constraints, _captured(_rows(300, 2))) == []


def test_a_shifted_numeric_feature_drifts(files: tuple[dict, dict]) -> None:
    statistics, constraints = files
    found = drift.check(statistics, constraints, _captured(_rows(300, 3, size_shift=3.0)))
    assert _checks(found) == {("size", "baseline_drift_check")}
    (violation,) = found
    assert violation.value is not None
    assert violation.value > 0.5
    assert violation.threshold == 0.1


def test_a_few_rows_are_not_drift_by_chance_under_the_robust_method(
    files: tuple[dict, dict],
) -> None:
    statistics, constraints = files
    # 8 rows always sit some way from 600: Robust asks for more than chance, Simple does not.
    few = _captured(_rows(8, 4, size_shift=0.5))
    assert drift.check(statistics, constraints, few) == []
    simple = json.loads(json.dumps(constraints))
    simple["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Simple"
    assert ("size", "baseline_drift_check") in _checks(drift.check(statistics, simple, few))


def test_completeness_type_and_categories(files: tuple[dict, dict]) -> None:
    statistics, constraints = files
    rows = _rows(100, 5)
    for row in rows[:20]:
        row[0] = ""  # 20% of sizes missing
    for row in rows[:30]:
        row[1] = 2.5  # 30% of counts not whole
    for row in rows[:50]:
        row[2] = "green"  # half the colours unseen
    found = _checks(drift.check(statistics, constraints, _captured(rows)))
    # A third of the counts at 2.5 also moves the count's distribution: that drifts too.
    assert found - {("count", "baseline_drift_check")} == {
        ("size", "completeness_check"),
        ("count", "data_type_check"),
        ("colour", "categorical_values_check"),
    }


def test_rows_of_the_wrong_width(files: tuple[dict, dict]) -> None:
    statistics, constraints = files
    rows = [*_rows(50, 6), [1.0, 2], [1.0, 2, "red", "extra"]]
    found = _checks(drift.check(statistics, constraints, _captured(rows)))
    assert ("", "missing_column_check") in found
    assert ("", "extra_column_check") in found


def test_capture_records_are_read_in_every_encoding_and_shape() -> None:
    settings = {
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
    }
    csv_record = capture.record(settings, (b"1,2,red\n3,4,blue\n", "text/csv"), (b"[]", "x"))
    header = capture.record(settings, (b"colour,count,size\nred,2,1\n", "text/csv"), (b"", "x"))
    body = json.dumps({"instances": [{"size": 1, "count": 2, "colour": "red"}]}).encode()
    json_record = capture.record(settings, (body, "application/json"), (b"", "x"))
    assert json_record["captureData"]["endpointInput"]["encoding"] == "BASE64"
    assert json_record["captureData"]["endpointInput"]["data"] == base64.b64encode(body).decode()
    assert drift.request_rows(csv_record, FEATURES) == [["1", "2", "red"], ["3", "4", "blue"]]
    assert drift.request_rows(header, FEATURES) == [{"colour": "red", "count": "2", "size": "1"}]
    assert drift.request_rows(json_record, FEATURES) == [{"size": 1, "count": 2, "colour": "red"}]


def test_sampling_follows_the_percentage() -> None:
    on = {"EnableCapture": True, "InitialSamplingPercentage": 30}
    assert capture.sampled(on, draw=29.9)
    assert not capture.sampled(on, draw=30.0)
    assert not capture.sampled({**on, "EnableCapture": False}, draw=0.0)
    assert not capture.sampled({}, draw=0.0)


def test_the_violations_table_lines_up() -> None:
    lines = drift.table(
        [
            drift.Violation("size", "baseline_drift_check", "distance 0.700 > 0.100", 0.7, 0.1),
            drift.Violation("", "extra_column_check", "1 rows have more values"),
        ]
    ).splitlines()
    assert lines[0].split() == ["feature", "check", "value", "threshold", "description"]
    assert lines[2].split()[:4] == ["size", "baseline_drift_check", "0.700", "0.100"]
    assert lines[3].startswith("(row)")


def test_capture_config_is_off_at_zero_and_names_the_artifact_bucket() -> None:
    from {{ cookiecutter.__package }} import config
    from {{ cookiecutter.__package }}.monitoring.capture import capture_config

    assert capture_config(0) == {}
    setting = capture_config(25)["DataCaptureConfig"]
    assert setting["InitialSamplingPercentage"] == 25
    assert setting["DestinationS3Uri"] == f"s3://{config.ARTIFACT_BUCKET}/data-capture"
    assert {o["CaptureMode"] for o in setting["CaptureOptions"]} == {"Input", "Output"}
