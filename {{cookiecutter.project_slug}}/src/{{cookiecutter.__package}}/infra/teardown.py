"""Delete what this project made in AWS, in an order that lets each deletion succeed.

What `monitor schedule` made (the schedules, before their endpoints, and the drift alarms), what
`deploy` made (endpoints, their configs and models), what the registry and `pipeline
upsert` made (model package versions, the SageMaker pipeline), the stack, and then what the
stack keeps when it is deleted (its buckets and build log groups have DeletionPolicy Retain):
emptied of every object version and delete marker, then deleted, so that a later `make
bootstrap` can create them again under the same names. `survey` only reads, so the command can
show all of it and ask before `tear_down` deletes anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import WaiterError

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.infra import stack
from {{ cookiecutter.__package }}.monitoring import schedule
from {{ cookiecutter.__package }}.promotion.endpoint import describe_endpoint

# DeleteObjects takes at most 1000 keys per request (S3 API reference).
DELETE_BATCH = 1000
# S3 delivers server access logs late, so the log bucket may refill while it is emptied.
BUCKET_ATTEMPTS = 3


@dataclass
class Plan:
    """Everything of this project's that exists now, found by reading only."""

    account: str
    # `monitor schedule` made these; a schedule goes before its endpoint.
    monitoring_schedules: list[str] = field(default_factory=list)
    drift_alarms: list[str] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)
    endpoint_configs: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    model_packages: list[str] = field(default_factory=list)
    pipeline: bool = False
    stack_status: str | None = None
    buckets: dict[str, int] = field(default_factory=dict)  # name -> versions and delete markers
    log_groups: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        """Nothing of this project's is left."""
        return not any(
            (
                self.monitoring_schedules,
                self.drift_alarms,
                self.endpoints,
                self.endpoint_configs,
                self.models,
                self.model_packages,
                self.pipeline,
                self.stack_status,
                self.buckets,
                self.log_groups,
            )
        )

    def lines(self) -> list[str]:
        """What would be deleted, one line per kind."""
        found = [
            ("monitoring schedules", ", ".join(self.monitoring_schedules)),
            ("drift alarms", ", ".join(self.drift_alarms)),
            ("endpoints", ", ".join(self.endpoints)),
            ("endpoint configs", _count(self.endpoint_configs)),
            ("models", _count(self.models)),
            (
                f"model package versions in {config.MODEL_PACKAGE_GROUP}",
                _count(self.model_packages),
            ),
            ("SageMaker pipeline", config.SAGEMAKER_PIPELINE if self.pipeline else ""),
            ("stack", f"{config.STACK_NAME} ({self.stack_status})" if self.stack_status else ""),
            (
                "buckets, emptied then deleted",
                ", ".join(f"{name} ({n} object versions)" for name, n in self.buckets.items()),
            ),
            ("log groups", ", ".join(self.log_groups)),
        ]
        return [f"  {kind}: {what}" for kind, what in found if what]


def _count(names: list[str]) -> str:
    return (
        f"{len(names)} ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})" if names else ""
    )


def _code(error: aws.ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _ours(name: str) -> bool:
    """An endpoint config or model that `deploy` made, named by config.deployment_resource_name:
    `<endpoint>-<UTC time to the hundredth>`."""
    return any(
        re.fullmatch(re.escape(config.endpoint_name(env)) + "-[0-9]{14}", name)
        for env in config.ENVIRONMENTS
    )


def survey(client: Callable[[str], Any] = aws.client) -> Plan:
    """Find what exists, reading only; refuse when the credentials are for another account."""
    account = client("sts").get_caller_identity()["Account"]
    if account != config.AWS_ACCOUNT_ID:
        raise CliError(
            f"the credentials are for account {account}; config.py names "
            f"{config.AWS_ACCOUNT_ID}: nothing was deleted",
            ExitCode.REFUSED,
        )
    sm = client("sagemaker")
    plan = Plan(account)
    plan.monitoring_schedules = [
        config.monitoring_schedule_name(env)
        for env in config.ENVIRONMENTS
        if schedule.describe(sm, env) is not None
    ]
    for env in config.ENVIRONMENTS:
        prefix = config.drift_alarm_name(env, 1).removesuffix("1")
        pages = client("cloudwatch").get_paginator("describe_alarms")
        found = pages.paginate(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"])
        plan.drift_alarms += [a["AlarmName"] for page in found for a in page["MetricAlarms"]]
    plan.endpoints = [
        name
        for name in map(config.endpoint_name, config.ENVIRONMENTS)
        if describe_endpoint(sm, name) is not None
    ]
    for kind, operation, key, name_key in (
        ("endpoint_configs", "list_endpoint_configs", "EndpointConfigs", "EndpointConfigName"),
        ("models", "list_models", "Models", "ModelName"),
    ):
        pages = sm.get_paginator(operation).paginate(NameContains=config.PROJECT)
        names = [item[name_key] for page in pages for item in page[key]]
        setattr(plan, kind, sorted(name for name in names if _ours(name)))
    pages = sm.get_paginator("list_model_packages").paginate(
        ModelPackageGroupName=config.MODEL_PACKAGE_GROUP
    )
    plan.model_packages = [
        p["ModelPackageArn"] for page in pages for p in page["ModelPackageSummaryList"]
    ]
    listed = sm.list_pipelines(PipelineNamePrefix=config.SAGEMAKER_PIPELINE)["PipelineSummaries"]
    plan.pipeline = any(p["PipelineName"] == config.SAGEMAKER_PIPELINE for p in listed)
    try:
        (described,) = client("cloudformation").describe_stacks(StackName=config.STACK_NAME)[
            "Stacks"
        ]
        plan.stack_status = described["StackStatus"]
    except aws.ClientError as error:
        if _code(error) != "ValidationError":
            raise
    s3 = client("s3")
    for bucket in stack.RETAINED_BUCKETS:
        try:
            plan.buckets[bucket] = sum(1 for _ in _versions(s3, bucket))
        except aws.ClientError as error:
            if _code(error) != "NoSuchBucket":
                raise
    logs = client("logs")
    for group in stack.RETAINED_LOG_GROUPS:
        listed = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        if any(g["logGroupName"] == group for g in listed):
            plan.log_groups.append(group)
    return plan


def _versions(s3: Any, bucket: str) -> Iterator[dict[str, str]]:
    """Every object version and delete marker in the bucket, as DeleteObjects wants them."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            yield {"Key": entry["Key"], "VersionId": entry["VersionId"]}


def tear_down(
    plan: Plan, client: Callable[[str], Any] = aws.client, echo: Callable[[str], None] = print
) -> None:
    """Delete everything in the plan, saying what as it goes."""
    sm = client("sagemaker")
    for name in plan.monitoring_schedules:
        sm.delete_monitoring_schedule(MonitoringScheduleName=name)
        echo(f"deleted monitoring schedule {name}")
    if plan.drift_alarms:
        client("cloudwatch").delete_alarms(AlarmNames=plan.drift_alarms)
        echo(f"deleted drift alarms {', '.join(plan.drift_alarms)}")
    for name in plan.endpoints:
        sm.delete_endpoint(EndpointName=name)
        echo(f"deleting endpoint {name}")
    for name in plan.endpoints:
        _wait(sm.get_waiter("endpoint_deleted"), {"EndpointName": name}, f"endpoint {name}")
        echo(f"deleted endpoint {name}")
    for name in plan.endpoint_configs:
        sm.delete_endpoint_config(EndpointConfigName=name)
    for name in plan.models:
        sm.delete_model(ModelName=name)
    echo(f"deleted {len(plan.endpoint_configs)} endpoint configs, {len(plan.models)} models")
    # The stack deletes the group, which the versions in it could hold up.
    for arn in plan.model_packages:
        sm.delete_model_package(ModelPackageName=arn)
    echo(f"deleted {len(plan.model_packages)} model package versions")
    if plan.pipeline:
        sm.delete_pipeline(PipelineName=config.SAGEMAKER_PIPELINE)
        echo(f"deleted SageMaker pipeline {config.SAGEMAKER_PIPELINE}")
    if plan.stack_status:
        cloudformation = client("cloudformation")
        cloudformation.delete_stack(StackName=config.STACK_NAME)
        echo(f"deleting stack {config.STACK_NAME} (minutes)")
        waiter = cloudformation.get_waiter("stack_delete_complete")
        _wait(waiter, {"StackName": config.STACK_NAME}, f"stack {config.STACK_NAME}")
        echo(f"deleted stack {config.STACK_NAME}")
    # After the stack: nothing writes to the buckets any more (its pipelines are gone).
    s3 = client("s3")
    for bucket in plan.buckets:
        removed = _delete_bucket(s3, bucket)
        echo(f"emptied ({removed} object versions and delete markers) and deleted {bucket}")
    logs = client("logs")
    for group in plan.log_groups:
        logs.delete_log_group(logGroupName=group)
        echo(f"deleted log group {group}")


def _wait(waiter: Any, arguments: dict[str, str], what: str) -> None:
    try:
        waiter.wait(**arguments)
    except WaiterError as error:
        timed_out = "Max attempts exceeded" in str(error)
        last = error.last_response or {}
        reason = (last.get("Stacks") or [{}])[0].get("StackStatusReason") or last.get(
            "FailureReason", str(error)
        )
        raise CliError(
            f"{what} was not deleted: {reason}"
            + ("; it may still be deleting: run teardown again later" if timed_out else ""),
            ExitCode.TIMED_OUT if timed_out else ExitCode.FAILED,
        ) from None


def _delete_bucket(s3: Any, bucket: str) -> int:
    """Delete every version and delete marker, then the bucket; return how many were deleted."""
    removed, attempt = 0, 1
    while True:
        # Listed in full first: deleting while paginating would move the pages' markers.
        versions = list(_versions(s3, bucket))
        for start in range(0, len(versions), DELETE_BATCH):
            batch = versions[start : start + DELETE_BATCH]
            errors = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            if errors.get("Errors"):
                first = errors["Errors"][0]
                raise CliError(
                    f"could not delete {first['Key']} from {bucket}: {first['Message']}",
                    ExitCode.FAILED,
                )
            removed += len(batch)
        try:
            s3.delete_bucket(Bucket=bucket)
            return removed
        except aws.ClientError as error:
            if _code(error) != "BucketNotEmpty" or attempt >= BUCKET_ATTEMPTS:
                raise CliError(
                    f"could not delete {bucket}: {error} (S3 delivers access logs late: "
                    "run teardown again in an hour)",
                    ExitCode.FAILED,
                ) from None
        attempt += 1
