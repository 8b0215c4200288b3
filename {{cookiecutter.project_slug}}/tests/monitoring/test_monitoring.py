"""Monitoring through the local emulator: capture, the drift check, the schedule, re-pointing.

Every request goes through the strict request validator (tests/conftest.py), the new
monitoring-schedule calls included.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import boto3
import model_packages
import pandas as pd
import pytest
import tables

from {{ cookiecutter.__package }} import cli, config
from {{ cookiecutter.__package }}.errors import ExitCode
from {{ cookiecutter.__package }}.monitoring import drift, schedule
from {{ cookiecutter.__package }}.steps import baseline

FAST = ["--poll-seconds", "0.05"]
SCHEDULE_ARN = f"arn:aws:sagemaker:{config.AWS_REGION}:123456789012:monitoring-schedule/s"
CAPTURING = config.DATA_CAPTURE_PERCENT > 0
# Rows per request: a request's rows share one capture record.
BATCH = 25


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) of the data set, as the pipeline prepares and splits it."""
    return tables.splits(tables.data_set())


def _version(train: pd.DataFrame, tmp_path: Path, name: str, *, with_baseline: bool = True) -> int:
    """An Approved version of a model of `train`, carrying the Baseline step's files of it."""
    model = tables.fit(train)
    url = model_packages.upload_model(model, f"models/{name}/model.tar.gz")
    files: dict[str, str] | None = None
    if with_baseline:
        train.to_parquet(tmp_path / baseline.TRAIN_FILE)
        out = tmp_path / name
        argv = ["--train-dir", str(tmp_path), "--output-dir", str(out)]
        assert baseline.main([*argv, *config.command_line(config.BASELINE_OPTIONS)]) == 0
        files = {}
        for kind, file in (
            ("Statistics", baseline.STATISTICS),
            ("Constraints", baseline.CONSTRAINTS),
        ):
            key = f"baselines/{name}/{file}"
            boto3.client("s3").put_object(
                Bucket=config.ARTIFACT_BUCKET, Key=key, Body=(out / file).read_bytes()
            )
            files[kind] = f"s3://{config.ARTIFACT_BUCKET}/{key}"
    arn = model_packages.register(url, 0.95, name, "Approved", baseline=files)
    return int(arn.rsplit("/", 1)[1])


def _features(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[config.TARGET_COLUMN])


def _send(env: str, rows: pd.DataFrame) -> None:
    """The rows as CSV requests (no header, the training column order), BATCH at a time."""
    runtime = boto3.client("sagemaker-runtime")
    for start in range(0, len(rows), BATCH):
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(
            ["" if pd.isna(v) else v for v in row]
            for row in rows.iloc[start : start + BATCH].itertuples(index=False)
        )
        runtime.invoke_endpoint(
            EndpointName=config.endpoint_name(env), ContentType="text/csv", Body=text.getvalue()
        )


def _numeric(train: pd.DataFrame) -> list[str]:
    features = _features(train)
    return [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])]


def _shifted(rows: pd.DataFrame, train: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The rows with each named feature moved by three of its training standard deviations."""
    moved = rows.copy()
    for name in names:
        moved[name] = moved[name].astype(float) + 3 * float(train[name].std() or 1.0)
    return moved


def _captured_keys(env: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(
        Bucket=config.ARTIFACT_BUCKET, Prefix=drift.capture_prefix(env)
    )
    return [item["Key"] for item in listed.get("Contents", [])]


def test_captured_traffic_without_and_with_drift(
    seeded_aws: str, split: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    train, test = split
    _version(train, tmp_path, "v1")
    assert cli.main(["deploy", "--env", "staging", *FAST]) == ExitCode.OK
    assert cli.main(["deploy", "--env", "prod", *FAST]) == ExitCode.OK
    capsys.readouterr()
    if not CAPTURING:
        # Capture off: the configs capture nothing, and the check says so with its own code.
        _send("prod", _features(test))
        assert _captured_keys("prod") == []
        assert cli.main(["monitor", "check", "--env", "prod"]) == ExitCode.NOTHING_TO_CHECK
        assert "DATA_CAPTURE_PERCENT is 0" in capsys.readouterr().err
        # Nor is there anything for an hourly job to read.
        assert cli.main(["monitor", "schedule", "--env", "prod"]) == ExitCode.REFUSED
        assert "data capture is off" in capsys.readouterr().err
        return

    # Traffic like the training data: held-out rows, as they are. No violation.
    _send("staging", _features(test))
    assert cli.main(["monitor", "check", "--env", "staging"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "a local approximation of Model Monitor" in out
    assert "no violations" in out

    # Shifted traffic: the moved features, and only they, drift.
    moved = _numeric(train)[:2]
    if not moved:
        pytest.skip("the data set has no numeric feature to shift")
    _send("prod", _shifted(_features(test), train, moved))
    assert cli.main(["monitor", "check", "--env", "prod"]) == ExitCode.DRIFTED
    out = capsys.readouterr().out
    flagged = {line.split()[0] for line in out.splitlines() if "baseline_drift_check" in line}
    assert flagged == set(moved)

    # The capture files are SageMaker's: <prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl.
    key = _captured_keys("prod")[-1]
    parts = key.split("/")
    assert parts[:3] == [
        config.DATA_CAPTURE_PREFIX,
        config.endpoint_name("prod"),
        config.VARIANT_NAME,
    ]
    assert [len(p) for p in parts[3:7]] == [4, 2, 2, 2]
    assert key.endswith(".jsonl")
    body = boto3.client("s3").get_object(Bucket=config.ARTIFACT_BUCKET, Key=key)["Body"].read()
    record = json.loads(body.decode().splitlines()[0])
    assert record["eventVersion"] == "0"
    assert set(record["eventMetadata"]) == {"eventId", "inferenceTime"}
    request, response = (record["captureData"][k] for k in ("endpointInput", "endpointOutput"))
    assert (request["mode"], request["encoding"], request["observedContentType"]) == (
        "INPUT", "CSV", "text/csv",
    )  # fmt: skip
    assert (response["mode"], response["encoding"]) == ("OUTPUT", "JSON")
    assert "predictions" in json.loads(response["data"])


def test_a_version_without_baseline_or_an_empty_capture_has_its_own_exit_code(
    seeded_aws: str, split: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    train, _ = split
    _version(train, tmp_path, "old", with_baseline=False)
    assert cli.main(["deploy", "--env", "staging", *FAST]) == ExitCode.OK
    capsys.readouterr()
    assert cli.main(["monitor", "check", "--env", "staging"]) == ExitCode.NOTHING_TO_CHECK
    assert "has no data-quality baseline" in capsys.readouterr().err

    _version(train, tmp_path, "new")
    assert cli.main(["deploy", "--env", "staging", *FAST]) == ExitCode.OK
    s3 = boto3.client("s3")
    for key in _captured_keys("staging"):  # the smoke test's requests
        s3.delete_object(Bucket=config.ARTIFACT_BUCKET, Key=key)
    capsys.readouterr()
    assert cli.main(["monitor", "check", "--env", "staging"]) == ExitCode.NOTHING_TO_CHECK
    assert "nothing captured under" in capsys.readouterr().err
    assert cli.main(["monitor", "check", "--env", "prod"]) == ExitCode.NOT_SET_UP  # no endpoint


def _scheduled_baseline(env: str) -> str:
    described = boto3.client("sagemaker").describe_monitoring_schedule(
        MonitoringScheduleName=config.monitoring_schedule_name(env)
    )
    job = described["MonitoringScheduleConfig"]["MonitoringJobDefinition"]
    return job["BaselineConfig"]["StatisticsResource"]["S3Uri"]


@pytest.mark.skipif(not CAPTURING, reason="data capture is off: `monitor schedule` refuses")
def test_schedule_follows_deploy_and_rollback(
    seeded_aws: str, split: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    train, _ = split
    first = _version(train, tmp_path, "v1")
    assert cli.main(["monitor", "status", "--env", "prod"]) == ExitCode.NOT_SET_UP
    # Prod takes only a version staging verified.
    assert cli.main(["deploy", "--env", "staging", *FAST]) == ExitCode.OK
    assert cli.main(["deploy", "--env", "prod", *FAST]) == ExitCode.OK
    assert cli.main(["monitor", "schedule", "--env", "prod"]) == ExitCode.OK
    assert _scheduled_baseline("prod").endswith(f"baselines/v1/{baseline.STATISTICS}")
    described = boto3.client("sagemaker").describe_monitoring_schedule(
        MonitoringScheduleName=config.monitoring_schedule_name("prod")
    )
    scheduled = described["MonitoringScheduleConfig"]
    assert scheduled["ScheduleConfig"]["ScheduleExpression"] == "cron(0 * ? * * *)"
    job = scheduled["MonitoringJobDefinition"]
    (source,) = job["MonitoringInputs"]
    assert source["EndpointInput"]["EndpointName"] == config.endpoint_name("prod")
    assert "sagemaker-model-monitor-analyzer" in job["MonitoringAppSpecification"]["ImageUri"]
    assert job["RoleArn"] == config.role_arn(config.SAGEMAKER_EXECUTION_ROLE)

    # The drift alarms: one per 10 features, each on the largest of its features' drift.
    features = len(_features(train).columns)
    alarms = boto3.client("cloudwatch").describe_alarms(
        AlarmNamePrefix=f"{config.endpoint_name('prod')}-data-drift-"
    )["MetricAlarms"]
    assert len(alarms) == -(-features // schedule.METRICS_PER_ALARM)
    watched = [m for a in alarms for m in a["Metrics"] if "MetricStat" in m]
    assert len(watched) == features
    assert {m["MetricStat"]["Metric"]["Namespace"] for m in watched} == {schedule.DRIFT_NAMESPACE}
    assert all(a["Threshold"] == config.DRIFT_THRESHOLD for a in alarms)

    # A new version: the deploy re-points the schedule at its own baseline; a rollback, back.
    _version(train, tmp_path, "v2")
    assert cli.main(["deploy", "--env", "staging", *FAST]) == ExitCode.OK
    assert cli.main(["deploy", "--env", "prod", "--strategy", "all-at-once", *FAST]) == 0
    assert _scheduled_baseline("prod").endswith(f"baselines/v2/{baseline.STATISTICS}")
    capsys.readouterr()
    code = cli.main(["rollback", "--env", "prod", "--to-version", str(first), *FAST])
    assert code == ExitCode.OK
    assert "now uses version 1's baseline" in capsys.readouterr().out
    assert _scheduled_baseline("prod").endswith(f"baselines/v1/{baseline.STATISTICS}")

    assert cli.main(["monitor", "status", "--env", "prod"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "Scheduled, cron(0 * ? * * *)" in out
    assert "executions: none yet" in out
    assert f"{config.drift_alarm_name('prod', 1)}=" in out


def test_repoint_leaves_deploy_alone_without_a_schedule_or_a_baseline() -> None:
    """No schedule: one Describe, nothing else. A version without a baseline: a warning."""
    from botocore.stub import Stubber

    sm = boto3.client("sagemaker", region_name=config.AWS_REGION)
    package: dict[str, Any] = {"ModelPackageVersion": 3, "ModelPackageArn": "arn:aws:x"}
    lines: list[str] = []
    with Stubber(sm) as stub:
        stub.add_client_error("describe_monitoring_schedule", "ResourceNotFound", "no schedule")
        schedule.repoint(sm, "prod", package, lines.append)
        stub.add_response(
            "describe_monitoring_schedule",
            {
                "MonitoringScheduleArn": SCHEDULE_ARN,
                "MonitoringScheduleName": config.monitoring_schedule_name("prod"),
                "MonitoringScheduleStatus": "Scheduled",
                "CreationTime": "2026-01-01T00:00:00Z",
                "LastModifiedTime": "2026-01-01T00:00:00Z",
                "MonitoringScheduleConfig": {"ScheduleConfig": {"ScheduleExpression": "NOW"}},
            },
        )
        schedule.repoint(sm, "prod", package, lines.append)
        stub.assert_no_pending_responses()
    assert lines == [
        f"warning: version 3 has no data-quality baseline; "
        f"{config.monitoring_schedule_name('prod')} keeps comparing with the previous one"
    ]
