"""`teardown` against the local emulator: it shows, asks, and deletes the project's alone."""

from __future__ import annotations

import builtins
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import model_packages
import pytest
from botocore.exceptions import WaiterError

from {{ cookiecutter.__package }} import cli, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.infra import stack, teardown
from {{ cookiecutter.__package }}.monitoring import schedule
from {{ cookiecutter.__package }}.monitoring.baseline import Baseline

STAGING = config.endpoint_name("staging")
# Named as deploy names them.
OURS = config.deployment_resource_name("staging", datetime(2024, 1, 1, tzinfo=UTC))
# Resources of the same account that are not this project's deployments: they must survive,
# even one that starts with the endpoint's name.
THEIRS = (f"{config.PROJECT}-experiment", "someone-elses-model", f"{STAGING}-experiment")


def _client(service: str) -> Any:
    return boto3.client(service)


def _model(name: str) -> None:
    sm = _client("sagemaker")
    sm.create_model(
        ModelName=name,
        PrimaryContainer={"Image": "image:1", "ModelDataUrl": "s3://bucket/model.tar.gz"},
        ExecutionRoleArn=config.role_arn(config.SAGEMAKER_EXECUTION_ROLE),
    )
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": config.VARIANT_NAME,
                "ModelName": name,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )


@pytest.fixture
def used(aws_emulator: str) -> None:
    """An account after a first run: an endpoint, versions, a pipeline, versioned objects."""
    for name in (OURS, *THEIRS):
        _model(name)
    _client("sagemaker").create_endpoint(EndpointName=STAGING, EndpointConfigName=OURS)
    for commit in ("1" * 40, "2" * 40):
        model_packages.register(f"s3://{config.ARTIFACT_BUCKET}/model/model.tar.gz", 0.95, commit)
    _client("sagemaker").create_pipeline(
        PipelineName=config.SAGEMAKER_PIPELINE,
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn=config.role_arn(config.SAGEMAKER_EXECUTION_ROLE),
    )
    s3 = _client("s3")
    for body in (b"commit 1", b"commit 2"):  # two versions of the upload
        s3.put_object(Bucket=config.SOURCE_BUCKET, Key=config.SOURCE_OBJECT_KEY, Body=body)
    s3.delete_object(Bucket=config.SOURCE_BUCKET, Key=config.SOURCE_OBJECT_KEY)  # a marker
    s3.put_object(Bucket=config.ACCESS_LOG_BUCKET, Key="source/log", Body=b"GET")
    # `monitor schedule`'s schedule on staging's endpoint, and one of its drift alarms.
    job = schedule.job_definition(
        "staging", Baseline(1, "arn", "s3://b/statistics.json", "s3://b/constraints.json"), "img"
    )
    _client("sagemaker").create_monitoring_schedule(
        MonitoringScheduleName=config.monitoring_schedule_name("staging"),
        MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": config.MONITORING_SCHEDULE_EXPRESSION},
            "MonitoringJobDefinition": job,
        },
    )
    schedule.drift_alarms(_client("cloudwatch"), "staging", ["a_feature"], 0.1)


def _left() -> dict[str, Any]:
    """What of the project exists, read independently of teardown's own survey."""
    sm, s3, logs = _client("sagemaker"), _client("s3"), _client("logs")
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    groups = {g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]}
    return {
        "endpoints": [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]],
        "models": sorted(m["ModelName"] for m in sm.list_models()["Models"]),
        "configs": sorted(
            c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]
        ),
        "versions": len(
            sm.list_model_packages(ModelPackageGroupName=config.MODEL_PACKAGE_GROUP)[
                "ModelPackageSummaryList"
            ]
        ),
        "pipelines": [p["PipelineName"] for p in sm.list_pipelines()["PipelineSummaries"]],
        "stacks": [
            s["StackName"]
            for s in _client("cloudformation").list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"
        ],
        "buckets": sorted(buckets & set(stack.RETAINED_BUCKETS)),
        "log groups": sorted(groups & set(stack.RETAINED_LOG_GROUPS)),
        "schedules": [e for e in config.ENVIRONMENTS if schedule.describe(sm, e) is not None],
        "drift alarms": [
            a["AlarmName"]
            for a in _client("cloudwatch").describe_alarms()["MetricAlarms"]
            if "-data-drift-" in a["AlarmName"]
        ],
    }


def test_teardown_deletes_everything_of_the_project_and_nothing_else(
    used: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _left()["versions"] == 2
    assert _left()["schedules"] == ["staging"]
    assert cli.main(["teardown", "--yes"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert f"stack: {config.STACK_NAME} (CREATE_COMPLETE)" in out
    assert f"{config.SOURCE_BUCKET} (3 object versions)" in out
    assert (
        f"emptied (3 object versions and delete markers) and deleted {config.SOURCE_BUCKET}" in out
    )
    assert _left() == {
        "endpoints": [],
        "models": sorted(THEIRS),
        "configs": sorted(THEIRS),
        "versions": 0,
        "pipelines": [],
        "stacks": [],
        "buckets": [],
        "log groups": [],
        "schedules": [],
        "drift alarms": [],
    }
    # Again: nothing left, nothing to ask.
    assert cli.main(["teardown"]) == ExitCode.OK
    assert "nothing of" in capsys.readouterr().out


@pytest.mark.parametrize("answer", ["no", "", EOFError], ids=["other-word", "empty", "eof"])
def test_without_the_project_name_typed_nothing_is_deleted(
    used: None,
    answer: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _left()
    asked: list[str] = []

    def reply(prompt: str) -> str:
        asked.append(prompt)
        if answer is EOFError:
            raise EOFError
        return answer

    monkeypatch.setattr(builtins, "input", reply)
    assert cli.main(["teardown"]) == ExitCode.REFUSED
    assert asked == [f"type {config.PROJECT} to delete all of it: "]
    captured = capsys.readouterr()
    assert f"endpoints: {STAGING}" in captured.out
    assert captured.err == "error: not confirmed: nothing was deleted\n"
    assert _left() == before


def test_typing_the_project_name_confirms(used: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builtins, "input", lambda prompt: f" {config.PROJECT}\n")
    assert cli.main(["teardown"]) == ExitCode.OK
    assert _left()["stacks"] == []


def test_credentials_of_another_account_are_refused_before_anything(
    used: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "999999999999")
    assert cli.main(["teardown", "--yes"]) == ExitCode.REFUSED
    assert "credentials are for account 999999999999" in capsys.readouterr().err
    monkeypatch.setenv("MOTO_ACCOUNT_ID", config.AWS_ACCOUNT_ID)
    assert _left()["endpoints"] == [STAGING]


def test_buckets_are_emptied_in_batches(aws_emulator: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(teardown, "DELETE_BATCH", 2)
    s3 = _client("s3")
    for number in range(5):  # five versions of two keys in the versioned source bucket
        s3.put_object(Bucket=config.SOURCE_BUCKET, Key=f"k{number % 2}", Body=b"x")
    assert teardown._delete_bucket(s3, config.SOURCE_BUCKET) == 5
    assert config.SOURCE_BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


class _Waiter:
    def __init__(self, reason: str, last: dict[str, Any]) -> None:
        self.error = WaiterError("StackDeleteComplete", reason, last)

    def wait(self, **_: str) -> None:
        raise self.error


def test_a_stack_that_fails_to_delete_says_why() -> None:
    last = {"Stacks": [{"StackStatus": "DELETE_FAILED", "StackStatusReason": "group not empty"}]}
    with pytest.raises(CliError, match="group not empty") as info:
        teardown._wait(_Waiter("terminal failure state", last), {}, "stack s")
    assert info.value.code == ExitCode.FAILED


def test_a_deletion_still_running_is_a_timeout() -> None:
    last = {"Stacks": [{"StackStatus": "DELETE_IN_PROGRESS"}]}
    with pytest.raises(CliError, match="run teardown again later") as info:
        teardown._wait(_Waiter("Max attempts exceeded", last), {}, "stack s")
    assert info.value.code == ExitCode.TIMED_OUT
