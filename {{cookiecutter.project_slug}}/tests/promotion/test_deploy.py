"""Deployments judged from scripted SageMaker status sequences (botocore Stubber)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.monitoring import capture
from {{ cookiecutter.__package }}.promotion import (
    deploy,
    endpoint,
    history,
    registry,
    rollback,
    shift,
    smoke,
)

ROOT = config.REPO_ROOT

ENV = "prod"
ENDPOINT = config.endpoint_name(ENV)
ACCOUNT = "123456789012"
ENDPOINT_ARN = f"arn:aws:sagemaker:{config.AWS_REGION}:{ACCOUNT}:endpoint/{ENDPOINT}"
PACKAGE_ARN = (
    f"arn:aws:sagemaker:{config.AWS_REGION}:{ACCOUNT}:model-package/{config.MODEL_PACKAGE_GROUP}/2"
)
OLD_CONFIG = f"{ENDPOINT}-20240101000000"
NOW = dt.datetime(2024, 6, 1, 12, 0, 0, tzinfo=dt.UTC)
NEW_CONFIG = config.deployment_resource_name(ENV, NOW)
ALARMS = config.alarm_names(ENV)
PACKAGE = {
    "ModelPackageArn": PACKAGE_ARN,
    "ModelPackageVersion": 2,
    "ModelApprovalStatus": "Approved",
    "MetadataProperties": {"CommitId": "abc123"},
    "InferenceSpecification": {
        "Containers": [{"Image": "image:1", "ModelDataUrl": "s3://bucket/model.tar.gz"}]
    },
}


class FakeClock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Script:
    """Stubbed sagemaker, cloudwatch and runtime clients, fed in call order."""

    def __init__(self) -> None:
        self.sm = aws.client("sagemaker")
        self.cw = aws.client("cloudwatch")
        self.runtime = aws.client("sagemaker-runtime")
        self.stubs = [Stubber(c) for c in (self.sm, self.cw, self.runtime)]
        self.sm_stub, self.cw_stub, self.runtime_stub = self.stubs
        self.clients = endpoint.Clients(self.sm, self.cw, self.runtime)
        self.clock = FakeClock()

    def endpoint(self, status: str, config_name: str = OLD_CONFIG, **extra: object) -> None:
        self.sm_stub.add_response(
            "describe_endpoint",
            {
                "EndpointName": ENDPOINT,
                "EndpointArn": ENDPOINT_ARN,
                "EndpointConfigName": config_name,
                "EndpointStatus": status,
                "CreationTime": NOW,
                "LastModifiedTime": NOW,
                **extra,
            },
        )

    def alarms(self, states: dict[str, str] | None = None) -> None:
        states = states or {}
        self.cw_stub.add_response(
            "describe_alarms",
            {
                "MetricAlarms": [
                    {"AlarmName": name, "StateValue": states.get(kind, "OK")}
                    for kind, name in ALARMS.items()
                    if states.get(kind) != "missing"
                ]
            },
        )

    def preflight(self, tags: dict[str, str] | None = None, variant: str = "") -> None:
        self.endpoint("InService")
        self.sm_stub.add_response(
            "list_tags", {"Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}
        )
        self.sm_stub.add_response(
            "describe_endpoint_config",
            {
                "EndpointConfigName": OLD_CONFIG,
                "EndpointConfigArn": ENDPOINT_ARN.replace("endpoint/", "endpoint-config/"),
                "ProductionVariants": [
                    {"VariantName": variant or config.VARIANT_NAME, "ModelName": "m"}
                ],
                "CreationTime": NOW,
            },
        )
        self.alarms()

    def submit(self, policy: dict | None = None, *, held_by_another: bool = False) -> None:
        arn = ENDPOINT_ARN.replace("endpoint/", "model/")
        self.sm_stub.add_response("create_model", {"ModelArn": arn})
        self.sm_stub.add_response(
            "create_endpoint_config",
            {"EndpointConfigArn": ENDPOINT_ARN.replace("endpoint/", "endpoint-config/")},
            # Every strategy's config, and a rollback's, captures as config.py says.
            {
                "EndpointConfigName": NEW_CONFIG,
                "ProductionVariants": ANY,
                "Tags": ANY,
                **capture.capture_config(),
            },
        )
        self.sm_stub.add_response(
            "describe_endpoint_config",
            {
                "EndpointConfigName": NEW_CONFIG,
                "EndpointConfigArn": ENDPOINT_ARN.replace("endpoint/", "endpoint-config/"),
                "ProductionVariants": [{"VariantName": config.VARIANT_NAME, "ModelName": "m"}],
                "CreationTime": NOW,
            },
            {"EndpointConfigName": NEW_CONFIG},
        )
        if held_by_another:
            # SageMaker's refusal when another change started between our look and our update.
            self.sm_stub.add_client_error(
                "update_endpoint",
                service_error_code="ValidationException",
                service_message=f'Cannot update in-progress endpoint "{ENDPOINT_ARN}".',
            )
            return
        self.resubmit(policy)

    def resubmit(self, policy: dict | None = None) -> None:
        expected = {
            "EndpointName": ENDPOINT,
            "EndpointConfigName": NEW_CONFIG,
            "DeploymentConfig": policy if policy is not None else ANY,
        }
        self.sm_stub.add_response("update_endpoint", {"EndpointArn": ENDPOINT_ARN}, expected)

    def poll(self, status: str, config_name: str = OLD_CONFIG, alarms: dict | None = None) -> None:
        extra = {"FailureReason": "capacity error: no ml.m5.large"} if "Failed" in status else {}
        self.endpoint(status, config_name, **extra)
        self.alarms(alarms)

    def record_and_smoke(self, rows: int, verified: bool = True) -> None:
        self.endpoint("InService", NEW_CONFIG)
        self.sm_stub.add_response("add_tags", {})
        self.sm_stub.add_response("add_tags", {})
        body = json.dumps({"predictions": [{"label": 1, "probability": 0.9}] * rows}).encode()
        self.runtime_stub.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentType": "application/json"},
        )
        if verified:
            # The smoke test passed: the package is marked verified on this environment.
            self.sm_stub.add_response(
                "add_tags",
                {},
                {
                    "ResourceArn": PACKAGE_ARN,
                    "Tags": [
                        {"Key": f"deploy:{ENV}:verified", "Value": f"{NOW:%Y-%m-%dT%H:%M:%SZ}"}
                    ],
                },
            )
        # No monitoring schedule: nothing to re-point, and the deploy succeeds all the same.
        self.sm_stub.add_client_error(
            "describe_monitoring_schedule",
            "ResourceNotFound",
            f"Monitoring schedule {config.monitoring_schedule_name(ENV)} does not exist",
            expected_params={"MonitoringScheduleName": config.monitoring_schedule_name(ENV)},
        )

    def run(self, strategy: str, settings: shift.Settings | None = None) -> int:
        for stub in self.stubs:
            stub.activate()
        try:
            return deploy.deploy(
                ENV,
                PACKAGE,
                strategy,
                settings or shift.Settings(),
                self.clients,
                clock=self.clock,
                sleep=self.clock.sleep,
                now=lambda: NOW,
                echo=lambda line: None,
            )
        finally:
            for stub in self.stubs:
                stub.deactivate()

    def done(self) -> None:
        for stub in self.stubs:
            stub.assert_no_pending_responses()


@pytest.fixture(autouse=True)
def fleet_of_four(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every strategy fits four instances; tests of smaller fleets set their own count.
    monkeypatch.setattr(config, "ENDPOINT_INSTANCE_COUNT", 4)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture
def script() -> Script:
    return Script()


# ---- DeploymentConfig per strategy (unit) ---------------------------------------------------


def test_all_at_once_is_a_blue_green_switch() -> None:
    policy = shift.deployment_config("all-at-once", 4, shift.Settings(), ["a"])
    routing = policy["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing == {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 300}
    assert policy["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": "a"}]}
    assert policy["BlueGreenUpdatePolicy"]["MaximumExecutionTimeoutInSeconds"] == 300 + 120 + 1800


def test_canary_defaults_to_one_instance() -> None:
    routing = shift.deployment_config("canary", 4, shift.Settings(), ["a"])[
        "BlueGreenUpdatePolicy"
    ]["TrafficRoutingConfiguration"]
    assert routing["Type"] == "CANARY"
    assert routing["CanarySize"] == {"Type": "CAPACITY_PERCENT", "Value": 25}


def test_linear_steps_are_at_least_ten_percent() -> None:
    routing = shift.deployment_config("linear", 20, shift.Settings(), ["a"])[
        "BlueGreenUpdatePolicy"
    ]["TrafficRoutingConfiguration"]
    assert routing["Type"] == "LINEAR"
    assert routing["LinearStepSize"] == {"Type": "CAPACITY_PERCENT", "Value": 10}


def test_rolling_uses_batches_of_instances() -> None:
    policy = shift.deployment_config("rolling", 4, shift.Settings(rolling_batch=2), ["a"])
    rolling = policy["RollingUpdatePolicy"]
    assert rolling["MaximumBatchSize"] == {"Type": "INSTANCE_COUNT", "Value": 2}
    assert rolling["RollbackMaximumBatchSize"] == {"Type": "INSTANCE_COUNT", "Value": 2}
    assert "BlueGreenUpdatePolicy" not in policy


@pytest.mark.parametrize(
    ("strategy", "count", "settings", "message"),
    [
        ("canary", 1, shift.Settings(), "canary size 100%"),
        ("canary", 4, shift.Settings(canary_percent=60), "canary size 60%"),
        ("canary", 3, shift.Settings(canary_percent=20), "less than one instance"),
        ("linear", 4, shift.Settings(linear_step_percent=5), "linear step 5%"),
        ("linear", 1, shift.Settings(), "linear step 100%"),
        ("linear", 5, shift.Settings(linear_step_percent=10), "less than one instance"),
        ("rolling", 2, shift.Settings(rolling_batch=3), "rolling batch 3 is outside 1-2"),
        ("rolling", 1, shift.Settings(), "SageMaker needs 5-50%"),
        ("rolling", 4, shift.Settings(rolling_batch=3), "3 is 75% of 4"),
        ("rolling", 40, shift.Settings(rolling_batch=1), "1 is 2% of 40"),
        ("all-at-once", 2, shift.Settings(wait_seconds=4000), "--wait-seconds 4000"),
        ("all-at-once", 2, shift.Settings(max_seconds=60), "--max-seconds 60"),
    ],
)
def test_strategy_that_does_not_fit_is_refused(
    strategy: str, count: int, settings: shift.Settings, message: str
) -> None:
    with pytest.raises(CliError, match=message) as info:
        shift.deployment_config(strategy, count, settings, ["a"])
    assert info.value.code == ExitCode.REFUSED


def test_rolling_batch_defaults_fit_the_fleet_and_the_time_budget() -> None:
    """One instance a batch, at least 5% of the fleet, and few enough batches to fit the budget."""
    for count, batch in ((2, 1), (3, 1), (8, 1), (20, 3), (40, 5), (100, 13)):
        policy = shift.deployment_config("rolling", count, shift.Settings(), ["a"])
        assert policy["RollingUpdatePolicy"]["MaximumBatchSize"]["Value"] == batch, count


def test_without_alarms_there_is_no_auto_rollback() -> None:
    policy = shift.deployment_config("all-at-once", 2, shift.Settings(), [])
    assert "AutoRollbackConfiguration" not in policy  # an empty alarm list is invalid


# ---- scenarios ------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["all-at-once", "canary", "linear", "rolling"])
def test_each_strategy_succeeds_on_the_new_config(script: Script, strategy: str) -> None:
    policy = shift.deployment_config(
        strategy, 4, shift.Settings(), [ALARMS["5xx"], ALARMS["4xx"], ALARMS["latency"]]
    )
    script.preflight(tags={history.TAG_VERSION: "1", history.TAG_HISTORY: "1"})
    script.submit(policy)
    script.poll("Updating")
    script.poll("Updating")
    script.poll("InService", NEW_CONFIG)
    script.record_and_smoke(rows=smoke.SMOKE_ROWS)
    assert script.run(strategy) == ExitCode.OK
    script.done()


def test_alarm_during_canary_rolls_back_and_names_the_alarm(script: Script) -> None:
    script.preflight()
    script.submit()
    script.poll("Updating")
    script.poll("Updating", alarms={"5xx": "ALARM"})
    script.poll("RollingBack", alarms={"5xx": "ALARM"})
    script.poll("InService", OLD_CONFIG, alarms={"5xx": "OK"})
    with pytest.raises(CliError) as info:
        script.run("canary")
    assert info.value.code == ExitCode.ROLLED_BACK
    assert ALARMS["5xx"] in str(info.value)
    assert "old config" in str(info.value)
    script.done()  # nothing recorded, no smoke test


@pytest.mark.parametrize("status", ["Failed", "UpdateRollbackFailed"])
def test_failure_exits_failed_with_the_reason(script: Script, status: str) -> None:
    script.preflight()
    script.submit()
    script.poll("Updating")
    script.poll(status)
    with pytest.raises(CliError, match="capacity error") as info:
        script.run("linear")
    assert info.value.code == ExitCode.FAILED
    assert status in str(info.value)
    script.done()


def test_timeout_gives_up_at_the_maximum_execution_time_polling_at_most_6_a_minute(
    script: Script,
) -> None:
    settings = shift.Settings(wait_seconds=0, termination_wait_seconds=0, max_seconds=600)
    script.preflight()
    script.submit()
    # The worst case is SageMaker's 600 s, then a blue/green rollback's 600 s: at one call every
    # 10-30 s that is at most 121 polls; script more than enough.
    for _ in range(121):
        script.poll("Updating")
    with pytest.raises(CliError, match="gave up after 1200s") as info:
        script.run("all-at-once", settings)
    assert info.value.code == ExitCode.TIMED_OUT
    polls = len(script.clock.sleeps) + 1
    assert polls / (script.clock.now / 60) <= 6
    # Every wait is at least 10 s, except a last one cut short by the deadline.
    assert all(seconds >= 10 for seconds in script.clock.sleeps[:-1])


def test_a_change_in_progress_is_waited_for_then_the_deploy_goes_ahead(script: Script) -> None:
    """One change per endpoint at a time, whoever started the other (the deploy CodePipeline,
    which GitHub's concurrency group cannot see): wait for it, then decide afresh."""
    script.endpoint("Updating", "pipeline-config")
    script.endpoint("Updating", "pipeline-config")
    script.preflight()
    script.submit()
    script.poll("Updating")
    script.poll("InService", NEW_CONFIG)
    script.record_and_smoke(rows=smoke.SMOKE_ROWS)
    assert script.run("canary") == ExitCode.OK
    # It looked at most every 10-30 s while it waited.
    assert script.clock.sleeps[:2] == [10.0, 15.0]
    script.done()


def test_a_change_that_started_first_is_waited_for_and_ours_submitted_again(
    script: Script,
) -> None:
    """The race between our look and our UpdateEndpoint: SageMaker refuses the second change."""
    script.preflight()
    script.submit(held_by_another=True)
    script.endpoint("Updating", "pipeline-config")
    script.preflight()
    script.resubmit()
    script.poll("InService", NEW_CONFIG)
    script.record_and_smoke(rows=smoke.SMOKE_ROWS)
    assert script.run("canary") == ExitCode.OK
    script.done()  # one model and one endpoint config, created once


def test_waiting_for_another_change_gives_up_within_the_budget(
    script: Script, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = shift.Settings()
    worst = shift.worst_case_seconds("canary", 4, settings)
    # A minute left after this deployment's worst case: the wait may use that and no more.
    monkeypatch.setattr(config, "DEPLOY_WAIT_SECONDS", worst + 60)
    # Looks at 0, 10, 25 and 47.5 s, and at 60 s, when the budget is spent.
    for _ in range(5):
        script.endpoint("Updating", "pipeline-config")
    with pytest.raises(CliError, match="still Updating after 60s of waiting") as info:
        script.run("canary", settings)
    assert info.value.code == ExitCode.TIMED_OUT
    assert "nothing was changed" in str(info.value)
    assert script.clock.sleeps == [10.0, 15.0, 22.5, 12.5]
    script.done()


def test_a_dry_run_does_not_wait_and_is_refused(script: Script) -> None:
    script.endpoint("Updating")
    script.sm_stub.add_response("list_tags", {"Tags": []})
    lines: list[str] = []
    with script.sm_stub, pytest.raises(CliError, match="Updating: another deployment") as info:
        deploy.deploy(
            ENV,
            PACKAGE,
            "canary",
            shift.Settings(),
            script.clients,
            dry_run=True,
            echo=lines.append,
        )
    assert info.value.code == ExitCode.REFUSED
    script.done()


@pytest.mark.parametrize(
    ("states", "message", "code"),
    [
        (
            {"latency": "missing"},
            f"missing in {config.AWS_REGION}: {ALARMS['latency']}; `make bootstrap` creates",
            ExitCode.NOT_SET_UP,
        ),
        ({"4xx": "ALARM"}, "in ALARM before the deployment: " + ALARMS["4xx"], ExitCode.REFUSED),
    ],
)
def test_missing_or_firing_alarm_is_refused(
    script: Script, states: dict, message: str, code: ExitCode
) -> None:
    script.endpoint("InService")
    script.sm_stub.add_response("list_tags", {"Tags": []})
    script.sm_stub.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": OLD_CONFIG,
            "EndpointConfigArn": ENDPOINT_ARN.replace("endpoint/", "endpoint-config/"),
            "ProductionVariants": [{"VariantName": config.VARIANT_NAME}],
            "CreationTime": NOW,
        },
    )
    script.alarms(states)
    with pytest.raises(CliError, match=re.escape(message)) as info:
        script.run("canary")
    assert info.value.code == code
    script.done()


def test_other_variant_name_is_refused(script: Script) -> None:
    script.preflight(variant="Blue")
    with pytest.raises(CliError, match="blue/green needs exactly") as info:
        script.run("canary")
    assert info.value.code == ExitCode.REFUSED


def test_canary_that_does_not_fit_the_fleet_is_refused(
    script: Script, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "ENDPOINT_INSTANCE_COUNT", 1)
    script.preflight()
    with pytest.raises(CliError, match="canary") as info:
        script.run("canary")
    assert info.value.code == ExitCode.REFUSED
    script.done()  # no create_model, no update_endpoint


def test_same_deploy_again_is_a_no_op(script: Script) -> None:
    script.endpoint("InService", NEW_CONFIG)
    script.sm_stub.add_response(
        "list_tags",
        {
            "Tags": [
                {"Key": history.TAG_PACKAGE, "Value": PACKAGE_ARN},
                {"Key": history.TAG_CONFIG, "Value": NEW_CONFIG},
            ]
        },
    )
    lines: list[str] = []
    with script.sm_stub:
        code = deploy.deploy(
            ENV, PACKAGE, "canary", shift.Settings(), script.clients, echo=lines.append
        )
    assert code == ExitCode.OK
    assert "nothing to do" in lines[-1]
    script.done()


def test_unapproved_package_is_refused(script: Script) -> None:
    summary = {
        "ModelPackageGroupName": config.MODEL_PACKAGE_GROUP,
        "ModelPackageVersion": 2,
        "ModelPackageArn": PACKAGE_ARN,
        "CreationTime": NOW,
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": "PendingManualApproval",
    }
    script.sm_stub.add_response("list_model_packages", {"ModelPackageSummaryList": [summary]})
    described = {k: v for k, v in summary.items() if k != "ModelPackageVersion"}
    script.sm_stub.add_response(
        "describe_model_package",
        {
            **described,
            "ModelPackageVersion": 2,
            "ModelPackageName": config.MODEL_PACKAGE_GROUP,
            "ModelPackageStatusDetails": {"ValidationStatuses": []},
        },
    )
    with script.sm_stub, pytest.raises(CliError, match="PendingManualApproval, not Approved"):
        registry.resolve_package(script.sm, 2, None)


def test_throttling_is_retried_by_botocore_standard_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    sm = aws.client("sagemaker")
    answers = [
        (400, {"__type": "ThrottlingException", "message": "Rate exceeded"}),
        (400, {"__type": "ThrottlingException", "message": "Rate exceeded"}),
        (
            200,
            {
                "EndpointName": ENDPOINT,
                "EndpointArn": ENDPOINT_ARN,
                "EndpointConfigName": OLD_CONFIG,
                "EndpointStatus": "InService",
                "CreationTime": 0,
                "LastModifiedTime": 0,
            },
        ),
    ]
    sent: list[str] = []

    def answer(request, **_: object) -> AWSResponse:
        sent.append(request.headers["X-Amz-Target"].decode())
        status, body = answers.pop(0)
        return AWSResponse(request.url, status, {}, _Raw(json.dumps(body).encode()))

    sm.meta.events.register_first("before-send", answer)
    delays: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", delays.append)
    assert endpoint.describe_endpoint(sm, ENDPOINT)["EndpointStatus"] == "InService"
    assert sent == ["SageMaker.DescribeEndpoint"] * 3
    assert len(delays) == 2  # two backoffs, chosen by botocore


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: object):
        yield self.body


# ---- rollback -------------------------------------------------------------------------------


def _summary(version: int, status: str = "Approved") -> dict:
    return {
        "ModelPackageGroupName": config.MODEL_PACKAGE_GROUP,
        "ModelPackageVersion": version,
        "ModelPackageArn": PACKAGE_ARN.rsplit("/", 1)[0] + f"/{version}",
        "CreationTime": NOW,
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": status,
    }


def test_rollback_goes_through_while_an_alarm_fires_and_is_not_guarded_by_it(
    script: Script,
) -> None:
    # The bad version is why prod's 5xx alarm fires; guarded by that alarm, SageMaker would roll
    # the rollback back onto the bad version.
    script.endpoint("InService")
    script.sm_stub.add_response("list_tags", {"Tags": []})
    script.sm_stub.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": OLD_CONFIG,
            "EndpointConfigArn": ENDPOINT_ARN.replace("endpoint/", "endpoint-config/"),
            "ProductionVariants": [{"VariantName": config.VARIANT_NAME, "ModelName": "m"}],
            "CreationTime": NOW,
        },
    )
    unguarded = shift.deployment_config("all-at-once", 4, shift.Settings(), [])
    script.submit(unguarded)
    script.endpoint("Updating")
    script.endpoint("InService", NEW_CONFIG)
    script.record_and_smoke(rows=smoke.SMOKE_ROWS)
    for stub in script.stubs:
        stub.activate()
    code = deploy.deploy(
        ENV,
        PACKAGE,
        "all-at-once",
        shift.Settings(),
        script.clients,
        guarded=False,
        clock=script.clock,
        sleep=script.clock.sleep,
        now=lambda: NOW,
        echo=lambda line: None,
    )
    assert code == ExitCode.OK
    script.done()  # no DescribeAlarms at all: the alarm states do not matter


def test_rollback_target_is_the_previous_known_good_from_history() -> None:
    sm = boto3.client("sagemaker", region_name=config.AWS_REGION)
    stub = Stubber(sm)
    stub.add_response(
        "list_model_packages", {"ModelPackageSummaryList": [_summary(3), _summary(1)]}
    )
    stub.add_response("list_model_packages", {"ModelPackageSummaryList": [_summary(1)]})
    stub.add_response(
        "describe_model_package",
        {
            **_summary(1),
            "ModelPackageName": "g",
            "ModelPackageStatusDetails": {"ValidationStatuses": []},
        },
    )
    tags = {history.TAG_VERSION: "3", history.TAG_HISTORY: "3 2 1"}  # 2 is no longer Approved
    with stub:
        current, target = rollback.rollback_target(sm, tags, None)
    assert current == 3
    assert target["ModelPackageVersion"] == 1


def test_rollback_with_nothing_to_return_to_is_refused() -> None:
    sm = boto3.client("sagemaker", region_name=config.AWS_REGION)
    stub = Stubber(sm)
    stub.add_response("list_model_packages", {"ModelPackageSummaryList": [_summary(1)]})
    with stub, pytest.raises(CliError, match="no known-good version") as info:
        rollback.rollback_target(sm, {history.TAG_VERSION: "1", history.TAG_HISTORY: "1"}, None)
    assert info.value.code == ExitCode.REFUSED


def test_history_keeps_newest_first_within_a_tag_value() -> None:
    assert history.history_value("3 2 1", 4) == "4 3 2 1"
    assert history.history_value("1 2", 2) == "2 1"
    long = " ".join(str(v) for v in range(1000, 1100))
    assert len(history.history_value(long, 5)) <= history.TAG_VALUE_MAX


def test_a_plan_that_could_outlast_the_deploy_job_is_refused_with_the_figures() -> None:
    """A slow rolling update of a large fleet would outlive the job that watches it."""
    slow = shift.Settings(rolling_batch=1, wait_seconds=900)
    with pytest.raises(
        CliError, match=r"rolling deployment to 16 instance\(s\) can take (\d+) min"
    ) as info:
        shift.deployment_config("rolling", 16, slow, ["a"])
    assert info.value.code == ExitCode.REFUSED
    assert f"allow {config.DEPLOY_WAIT_SECONDS // 60} min" in str(info.value)
    # Every default plan, for fleets up to 100 instances, fits.
    for strategy in config.STRATEGIES:
        for count in (2, 16, 100):
            worst = shift.worst_case_seconds(strategy, count, shift.Settings())
            assert worst <= config.DEPLOY_WAIT_SECONDS, (strategy, count)


def test_backoff_grows_to_its_cap() -> None:
    """The one polling schedule of deploy, pipeline start and retrain."""
    delays = aws.backoff(first=5, cap=20)
    assert [next(delays) for _ in range(6)] == [5, 7.5, 11.25, 16.875, 20, 20]


def test_model_container_gets_the_serving_environment_unless_the_package_sets_it() -> None:
    def package(environment: dict[str, str] | None) -> dict:
        container = {"Image": "image:1", "ModelDataUrl": "s3://bucket/model.tar.gz"}
        if environment is not None:
            container["Environment"] = environment
        return {"InferenceSpecification": {"Containers": [container]}}

    assert deploy.container_of(package(None))["Environment"] == config.SERVING_ENVIRONMENT
    own = deploy.container_of(package({"SAGEMAKER_PROGRAM": "serve.py", "EXTRA": "1"}))
    assert own["Environment"] == {
        **config.SERVING_ENVIRONMENT,
        "SAGEMAKER_PROGRAM": "serve.py",
        "EXTRA": "1",
    }


def test_job_summary_records_the_outcome(
    script: Script, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Under GitHub Actions each deploy appends its table: a success, then a rollback."""
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    script.preflight()
    script.submit()
    script.poll("InService", NEW_CONFIG)
    script.record_and_smoke(rows=smoke.SMOKE_ROWS)
    assert script.run("canary") == ExitCode.OK
    script.done()

    rollback = Script()
    rollback.preflight()
    rollback.submit()
    rollback.poll("RollingBack", alarms={"5xx": "ALARM"})
    rollback.poll("InService", OLD_CONFIG)
    with pytest.raises(CliError):
        rollback.run("canary")
    text = summary.read_text(encoding="utf-8")
    assert text.count(f"### Deploy {config.PROJECT} to prod") == 2
    assert f"| Smoke test | passed ({smoke.SMOKE_ROWS} rows) |" in text
    assert "| Outcome | **ROLLED_BACK**: SageMaker rolled the deployment back" in text
    # Beside the summary, each deployment's timeline picture (the rollback's drawn last).
    picture = config.DEPLOY_TIMELINES / f"{NEW_CONFIG}.png"
    assert text.count(f"| Timeline | `{picture}` (the run's `deploy-timeline` artifact) |") == 2
    assert picture.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


# ---- what SageMaker says when the new fleet never takes over --------------------------------

HEALTH_CHECK = (
    "The primary container for production variant AllTraffic did not pass the ping health "
    "check. Please check CloudWatch logs for this endpoint."
)


def test_back_on_the_old_config_with_a_reason_is_a_failure_not_a_rollback(
    script: Script,
) -> None:
    """A new fleet that fails its health check leaves the old config serving: exit 5, why."""
    script.preflight()
    script.submit()
    script.poll("Updating")
    script.endpoint("InService", OLD_CONFIG, FailureReason=HEALTH_CHECK)
    script.alarms()
    with pytest.raises(CliError) as info:
        script.run("canary")
    assert info.value.code == ExitCode.FAILED
    assert HEALTH_CHECK in str(info.value)
    assert "rolled the deployment back" not in str(info.value)
    script.done()


def test_judge_tells_an_alarm_rollback_from_a_failure() -> None:
    name, new = ENDPOINT, NEW_CONFIG
    alarm = ALARMS["5xx"]
    verdicts = {
        "alarm": endpoint.Outcome("InService", OLD_CONFIG, 60.0, fired_alarms={alarm}),
        "alarm and reason": endpoint.Outcome(
            "InService", OLD_CONFIG, 60.0, HEALTH_CHECK, fired_alarms={alarm}
        ),
        "reason": endpoint.Outcome("InService", OLD_CONFIG, 60.0, HEALTH_CHECK),
        "neither": endpoint.Outcome("InService", OLD_CONFIG, 60.0),
    }
    codes, messages = {}, {}
    for case, outcome in verdicts.items():
        with pytest.raises(CliError) as info:
            endpoint.judge(outcome, new, name)
        codes[case], messages[case] = info.value.code, str(info.value)
    assert codes == {
        "alarm": ExitCode.ROLLED_BACK,
        "alarm and reason": ExitCode.ROLLED_BACK,
        "reason": ExitCode.FAILED,
        "neither": ExitCode.FAILED,
    }
    assert alarm in messages["alarm"]
    assert HEALTH_CHECK in messages["alarm and reason"]
    assert HEALTH_CHECK in messages["reason"]
    assert "no rollback alarm was seen" in messages["neither"]


# ---- the first deploy: the new config may not be visible to CreateEndpoint at once ------------


def _not_found(stub: Stubber, operation: str, what: str) -> None:
    stub.add_client_error(
        operation, "ValidationException", f"Could not find {what}.", http_status_code=400
    )


def test_first_deploy_confirms_the_config_before_creating_the_endpoint(script: Script) -> None:
    """botocore's CreateEndpoint docs: DescribeEndpointConfig first, and retry a stale read."""
    _not_found(script.sm_stub, "describe_endpoint", f"endpoint '{ENDPOINT}'")
    script.alarms()
    script.sm_stub.add_response("create_model", {"ModelArn": "arn:aws:sagemaker:::model/m"})
    script.sm_stub.add_response(
        "create_endpoint_config", {"EndpointConfigArn": "arn:aws:sagemaker:::endpoint-config/c"}
    )
    config_name = {"EndpointConfigName": NEW_CONFIG}
    _not_found(script.sm_stub, "describe_endpoint_config", f"endpoint configuration {NEW_CONFIG}")
    script.sm_stub.add_response(
        "describe_endpoint_config",
        {
            **config_name,
            "EndpointConfigArn": "arn:aws:sagemaker:::endpoint-config/c",
            "ProductionVariants": [{"VariantName": config.VARIANT_NAME, "ModelName": "m"}],
            "CreationTime": NOW,
        },
        config_name,
    )
    _not_found(script.sm_stub, "create_endpoint", f"endpoint configuration {NEW_CONFIG}")
    script.sm_stub.add_response(
        "create_endpoint",
        {"EndpointArn": ENDPOINT_ARN},
        {**config_name, "EndpointName": ENDPOINT, "Tags": ANY},
    )
    script.poll("Creating", NEW_CONFIG)
    script.poll("InService", NEW_CONFIG)
    script.record_and_smoke(rows=smoke.SMOKE_ROWS)
    assert script.run("all-at-once") == ExitCode.OK
    script.done()
    # One wait after each stale read, before anything is polled.
    assert script.clock.sleeps[:2] == [1.0, 1.0]


def test_a_config_that_never_becomes_visible_fails_with_one_line(script: Script) -> None:
    slept: list[float] = []
    calls = []

    def stale() -> None:
        calls.append(1)
        raise aws.ClientError(
            {"Error": {"Code": "ValidationException", "Message": "Could not find it."}}, "Op"
        )

    with pytest.raises(CliError, match="still does not see endpoint config c after") as info:
        endpoint.until_visible(stale, "endpoint config c", sleep=slept.append)
    assert info.value.code == ExitCode.FAILED
    assert len(calls) == endpoint.VISIBLE_ATTEMPTS
    assert len(slept) == endpoint.VISIBLE_ATTEMPTS - 1


def test_other_errors_are_not_retried_as_not_yet_visible() -> None:
    def denied() -> None:
        raise aws.ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "Op")

    with pytest.raises(aws.ClientError, match="AccessDenied"):
        endpoint.until_visible(denied, "endpoint config c", sleep=lambda _: pytest.fail("slept"))
