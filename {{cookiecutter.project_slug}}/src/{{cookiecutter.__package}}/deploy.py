"""Deploy an Approved model package to an endpoint, judge the outcome, and roll back.

The guardrails are SageMaker's own: `UpdateEndpoint` with a DeploymentConfig (blue/green
all-at-once, canary or linear traffic shifting, or a rolling update) and alarm-based
auto-rollback. This module chooses, checks, submits, watches and judges:

1. resolve the package (default: the latest Approved; anything else is refused);
2. pre-flight: no deployment in progress, rollback alarms present and quiet, the strategy fits
   the fleet, the running config has the same variant name; a refusal changes nothing;
3. create the Model and a new EndpointConfig, then create or update the endpoint;
4. watch DescribeEndpoint with backoff (at most 6 calls a minute);
5. judge: success only when InService on the NEW config;
6. smoke-test the endpoint with the bundled sample rows;
7. record the deployment in tags and a Markdown summary.

Plain boto3: the promotion path never imports the SageMaker SDK.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from {{ cookiecutter.__package }} import aws, config, registry
from {{ cookiecutter.__package }}.cli import write_job_summary
from {{ cookiecutter.__package }}.errors import CliError, ExitCode

# SageMaker's limits on the DeploymentConfig fields (botocore's service model).
WAIT_MAX = 3600
EXECUTION_MIN, EXECUTION_MAX = 600, 28800
# Beyond the waits the strategy asks for, time for instances to start and traffic to move.
PROVISIONING_SECONDS = 1800
# DescribeEndpoint at most every 10 s (6 calls a minute), backing off to one call in 30 s.
POLL_SECONDS, POLL_MAX_SECONDS = 10.0, 30.0
# Tags on the endpoint: what it serves now, and the versions it served (newest first), which
# is where `rollback` finds the previous known-good version.
TAG_VERSION = "deploy:version"
TAG_PACKAGE = "deploy:package-arn"
TAG_CONFIG = "deploy:endpoint-config"
TAG_STRATEGY = "deploy:strategy"
TAG_COMMIT = "deploy:commit"
TAG_TIME = "deploy:time"
TAG_HISTORY = "deploy:history"
TAG_VALUE_MAX = 256
# The statuses during which SageMaker is changing the endpoint.
IN_PROGRESS = {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"}
SMOKE_ROWS = 5


@dataclass(frozen=True)
class Settings:
    """Traffic-shifting parameters; None means the strategy's default for the fleet size."""

    canary_percent: int | None = None
    linear_step_percent: int | None = None
    rolling_batch: int | None = None
    wait_seconds: int = 300
    termination_wait_seconds: int = 120
    max_seconds: int | None = None
    poll_seconds: float = POLL_SECONDS


@dataclass
class Clients:
    """The AWS clients one deployment uses (tests pass stubbed ones)."""

    sm: Any = None
    cw: Any = None
    runtime: Any = None

    def __post_init__(self) -> None:
        self.sm = self.sm or aws.client("sagemaker")
        self.cw = self.cw or aws.client("cloudwatch")
        self.runtime = self.runtime or aws.client("sagemaker-runtime")


@dataclass
class Outcome:
    """What watching the endpoint saw."""

    status: str
    config_name: str
    elapsed: float
    failure_reason: str = ""
    fired_alarms: set[str] = field(default_factory=set)
    timed_out: bool = False


def canary_percent(count: int, settings: Settings) -> int:
    """The canary size in percent: given, else the smallest share that is one whole instance."""
    if settings.canary_percent is not None:
        return settings.canary_percent
    return math.ceil(100 / count)


def linear_step_percent(count: int, settings: Settings) -> int:
    """The linear step in percent: given, else one instance a step, at least 10%."""
    if settings.linear_step_percent is not None:
        return settings.linear_step_percent
    return max(10, math.ceil(100 / count))


def rolling_batch(count: int, settings: Settings) -> int:
    """Instances per rolling batch: given, else one, or the fewest that are 5% of the fleet."""
    if settings.rolling_batch is not None:
        return settings.rolling_batch
    return max(1, math.ceil(count * 5 / 100))


# A blue/green shift's step, by strategy: its size in percent of the fleet, the range SageMaker
# accepts for it, and its name in messages.
SHIFT_STEPS: dict[str, tuple[Callable[[int, Settings], int], int, int, str]] = {
    "canary": (canary_percent, 1, 50, "canary size"),
    "linear": (linear_step_percent, 10, 50, "linear step"),
}


def check_fits(strategy: str, count: int, settings: Settings) -> None:
    """Refuse a strategy that does not fit a fleet of `count` instances."""
    for name, value in (
        ("--wait-seconds", settings.wait_seconds),
        ("--termination-wait-seconds", settings.termination_wait_seconds),
    ):
        if not 0 <= value <= WAIT_MAX:
            raise CliError(f"{name} {value} is outside 0-{WAIT_MAX}", ExitCode.REFUSED)
    if settings.max_seconds is not None and not (
        EXECUTION_MIN <= settings.max_seconds <= EXECUTION_MAX
    ):
        raise CliError(
            f"--max-seconds {settings.max_seconds} is outside {EXECUTION_MIN}-{EXECUTION_MAX}",
            ExitCode.REFUSED,
        )
    if strategy in SHIFT_STEPS:
        size, low, high, label = SHIFT_STEPS[strategy]
        percent = size(count, settings)
        if not low <= percent <= high:
            raise CliError(f"{label} {percent}% is outside {low}-{high}%", ExitCode.REFUSED)
        if count * percent // 100 < 1:
            raise CliError(
                f"{label} {percent}% of {count} instance(s) is less than one instance; "
                f"choose a larger {label}",
                ExitCode.REFUSED,
            )
    if strategy == "rolling":
        batch = rolling_batch(count, settings)
        if not 1 <= batch <= count:
            raise CliError(
                f"rolling batch {batch} is outside 1-{count} (the fleet has {count} instance(s))",
                ExitCode.REFUSED,
            )
        # SageMaker refuses a MaximumBatchSize outside 5-50% of the variant's instances.
        percent = 100 * batch / count
        if not 5 <= percent <= 50:
            raise CliError(
                f"a rolling batch of {batch} is {percent:.0f}% of "
                f"{count} instance(s); SageMaker needs 5-50% (rolling needs at least 2 instances)",
                ExitCode.REFUSED,
            )


def execution_seconds(strategy: str, count: int, settings: Settings) -> int:
    """MaximumExecutionTimeoutInSeconds: given, else the strategy's waits plus provisioning."""
    if settings.max_seconds is not None:
        return settings.max_seconds
    if strategy == "canary":
        steps = 2
    elif strategy == "linear":
        steps = math.ceil(100 / linear_step_percent(count, settings))
    elif strategy == "rolling":
        steps = math.ceil(count / rolling_batch(count, settings))
    else:
        steps = 1
    wanted = steps * settings.wait_seconds + settings.termination_wait_seconds
    return min(EXECUTION_MAX, max(EXECUTION_MIN, wanted + PROVISIONING_SECONDS))


def deployment_config(
    strategy: str, count: int, settings: Settings, alarms: list[str]
) -> dict[str, Any]:
    """The UpdateEndpoint DeploymentConfig for a strategy, with auto-rollback on `alarms`."""
    check_fits(strategy, count, settings)
    timeout = execution_seconds(strategy, count, settings)
    # No alarms, no AutoRollbackConfiguration: SageMaker refuses an empty alarm list.
    guard = {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": n} for n in alarms]}}
    guard = guard if alarms else {}
    if strategy == "rolling":
        batch = {"Type": "INSTANCE_COUNT", "Value": rolling_batch(count, settings)}
        return {
            "RollingUpdatePolicy": {
                "MaximumBatchSize": batch,
                "WaitIntervalInSeconds": settings.wait_seconds,
                "MaximumExecutionTimeoutInSeconds": timeout,
                "RollbackMaximumBatchSize": batch,
            },
            **guard,
        }
    routing: dict[str, Any] = {"WaitIntervalInSeconds": settings.wait_seconds}
    if strategy == "canary":
        routing["Type"] = "CANARY"
        routing["CanarySize"] = {
            "Type": "CAPACITY_PERCENT",
            "Value": canary_percent(count, settings),
        }
    elif strategy == "linear":
        routing["Type"] = "LINEAR"
        routing["LinearStepSize"] = {
            "Type": "CAPACITY_PERCENT",
            "Value": linear_step_percent(count, settings),
        }
    else:
        routing["Type"] = "ALL_AT_ONCE"
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": settings.termination_wait_seconds,
            "MaximumExecutionTimeoutInSeconds": timeout,
        },
        **guard,
    }


def describe_endpoint(sm: Any, name: str) -> dict[str, Any] | None:
    """The endpoint's description, or None when it does not exist."""
    try:
        return sm.describe_endpoint(EndpointName=name)
    except aws.ClientError as error:
        if error.response["Error"]["Code"] == "ValidationException" and (
            "Could not find" in str(error) or "not found" in str(error).lower()
        ):
            return None
        raise


def endpoint_tags(sm: Any, arn: str) -> dict[str, str]:
    """The endpoint's tags as a dict (later values win, as AddTags overwrites)."""
    tags: dict[str, str] = {}
    for page in sm.get_paginator("list_tags").paginate(ResourceArn=arn):
        tags.update({tag["Key"]: tag["Value"] for tag in page["Tags"]})
    return tags


def alarm_states(cw: Any, names: list[str]) -> dict[str, str]:
    """StateValue of each named alarm that exists."""
    if not names:
        # DescribeAlarms without names lists every alarm in the account.
        return {}
    found = cw.describe_alarms(AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    alarms = found.get("MetricAlarms", []) + found.get("CompositeAlarms", [])
    return {alarm["AlarmName"]: alarm["StateValue"] for alarm in alarms}


def preflight(
    clients: Clients,
    env: str,
    endpoint: dict[str, Any] | None,
    strategy: str,
    settings: Settings,
    *,
    guarded: bool = True,
) -> dict[str, Any]:
    """Refuse before anything changes; return the DeploymentConfig to submit."""
    names = list(config.alarm_names(env).values())
    if endpoint is not None:
        status = endpoint["EndpointStatus"]
        if status in IN_PROGRESS:
            raise CliError(
                f"endpoint {endpoint['EndpointName']} is {status}: another deployment is in "
                "progress; wait for it to finish",
                ExitCode.REFUSED,
            )
        if status != "InService":
            raise CliError(
                f"endpoint {endpoint['EndpointName']} is {status} "
                f"({endpoint.get('FailureReason', 'no reason given')}); it cannot be updated",
                ExitCode.REFUSED,
            )
        running = clients.sm.describe_endpoint_config(
            EndpointConfigName=endpoint["EndpointConfigName"]
        )
        variants = sorted(v["VariantName"] for v in running["ProductionVariants"])
        if variants != [config.VARIANT_NAME]:
            raise CliError(
                f"the running config {endpoint['EndpointConfigName']} has variants "
                f"{variants}; blue/green needs exactly [{config.VARIANT_NAME!r}]",
                ExitCode.REFUSED,
            )
    if not guarded:
        # A rollback runs while the alarms fire (that is often why it runs). Guarded by them,
        # SageMaker would roll the rollback back to the bad version; so it goes unguarded.
        return deployment_config(strategy, config.ENDPOINT_INSTANCE_COUNT, settings, [])
    states = alarm_states(clients.cw, names)
    missing = [name for name in names if name not in states]
    if missing:
        raise CliError(
            f"rollback alarm(s) missing: {', '.join(missing)} (deploy the stack in infra/)",
            ExitCode.REFUSED,
        )
    firing = [name for name in names if states[name] == "ALARM"]
    if firing:
        raise CliError(
            f"rollback alarm(s) in ALARM before the deployment: {', '.join(firing)}",
            ExitCode.REFUSED,
        )
    return deployment_config(strategy, config.ENDPOINT_INSTANCE_COUNT, settings, names)


def resolve_package(sm: Any, version: int | None, arn: str | None) -> dict[str, Any]:
    """The package to deploy: the one named, else the latest Approved; refuse anything else."""
    if version is None and arn is None:
        latest = registry.latest_approved(sm)
        if latest is None:
            raise CliError(
                f"no Approved version in {config.MODEL_PACKAGE_GROUP}; approve one first",
                ExitCode.REFUSED,
            )
        arn = latest["ModelPackageArn"]
    package = registry.describe(sm, version, arn)
    if package["ModelApprovalStatus"] != registry.APPROVED:
        raise CliError(
            f"version {package.get('ModelPackageVersion')} is "
            f"{package['ModelApprovalStatus']}, not Approved; refusing to deploy it",
            ExitCode.REFUSED,
        )
    return package


def container_of(package: dict[str, Any]) -> dict[str, Any]:
    """The Model's primary container: image, model data and the serving environment."""
    source = package["InferenceSpecification"]["Containers"][0]
    # A package registered elsewhere may lack the serving variables; its own values win.
    environment = {**config.SERVING_ENVIRONMENT, **source.get("Environment", {})}
    return {
        "Image": source["Image"],
        "ModelDataUrl": source["ModelDataUrl"],
        "Environment": environment,
    }


def watch(
    clients: Clients,
    endpoint_name: str,
    new_config: str,
    alarms: list[str],
    timeout: float,
    settings: Settings,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    echo: Callable[[str], None] = print,
) -> Outcome:
    """Poll the endpoint with backoff until it settles or `timeout` passes."""
    started = clock()
    cap = max(POLL_MAX_SECONDS, settings.poll_seconds)
    delays = aws.backoff(settings.poll_seconds, cap)
    last_line = ""
    saw_change = False
    polls = 0
    fired: set[str] = set()
    while True:
        endpoint = clients.sm.describe_endpoint(EndpointName=endpoint_name)
        polls += 1
        states = alarm_states(clients.cw, alarms)
        fired.update(name for name, state in states.items() if state == "ALARM")
        status = endpoint["EndpointStatus"]
        current = endpoint["EndpointConfigName"]
        elapsed = clock() - started
        pending = endpoint.get("PendingDeploymentSummary", {}).get("EndpointConfigName")
        line = f"{status} config={current}" + (f" pending={pending}" if pending else "")
        alarm_text = " ".join(f"{_alarm_label(n)}={s}" for n, s in sorted(states.items()))
        if f"{line} {alarm_text}" != last_line:
            echo(f"[{elapsed:6.0f}s] {line} alarms: {alarm_text or 'none'}")
            last_line = f"{line} {alarm_text}"
            # Something moved: look again soon.
            delays = aws.backoff(settings.poll_seconds, cap)
        outcome = Outcome(status, current, elapsed, endpoint.get("FailureReason", ""), fired)
        if status in IN_PROGRESS:
            saw_change = True
        elif status == "InService" and current == new_config:
            return outcome
        elif status == "InService" and (saw_change or polls >= 3):
            # Back on the old config after a change: SageMaker rolled the deployment back.
            return outcome
        elif status != "InService":
            return outcome
        if elapsed >= timeout:
            return replace(outcome, timed_out=True)
        sleep(min(next(delays), max(0.0, timeout - elapsed)))


def _alarm_label(name: str) -> str:
    """The short label (5xx, 4xx, latency) of one of this project's alarms."""
    for env in config.ENVIRONMENTS:
        for kind, alarm in config.alarm_names(env).items():
            if alarm == name:
                return kind
    return name


def judge(outcome: Outcome, new_config: str, endpoint_name: str) -> None:
    """Raise with the right exit code unless the endpoint is InService on the new config."""
    if outcome.timed_out:
        raise CliError(
            f"gave up after {outcome.elapsed:.0f}s with {endpoint_name} {outcome.status}; "
            "the deployment may still be running in SageMaker",
            ExitCode.TIMED_OUT,
        )
    if outcome.status == "InService" and outcome.config_name == new_config:
        return
    if outcome.status == "InService":
        alarms = ", ".join(sorted(outcome.fired_alarms)) or "none seen in ALARM (it may be clear)"
        raise CliError(
            f"SageMaker rolled the deployment back: {endpoint_name} is InService on the old "
            f"config {outcome.config_name}; alarm: {alarms}",
            ExitCode.ROLLED_BACK,
        )
    raise CliError(
        f"{endpoint_name} is {outcome.status}: {outcome.failure_reason or 'no reason given'}",
        ExitCode.FAILED,
    )


def sample_rows(limit: int = SMOKE_ROWS) -> list[list[str]]:
    """The first rows of the bundled sample data, without the target column."""
    sample = config.SAMPLE_DATA
    if not sample.is_file():
        raise CliError(f"{sample}: no sample CSV for the smoke test", ExitCode.ERROR)
    with sample.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if config.TARGET_COLUMN not in header:
            raise CliError(f"{sample.name} has no {config.TARGET_COLUMN!r} column", ExitCode.ERROR)
        target = header.index(config.TARGET_COLUMN)
        rows = []
        for row in reader:
            rows.append([value for i, value in enumerate(row) if i != target])
            if len(rows) == limit:
                break
    return rows


def smoke_test(runtime: Any, endpoint_name: str, rows: list[list[str]]) -> list[Any]:
    """Invoke the endpoint with `rows`; return one prediction a row or raise FAILED."""
    body = "".join(",".join(row) + "\n" for row in rows)
    try:
        response = runtime.invoke_endpoint(
            EndpointName=endpoint_name,
            ContentType="text/csv",
            Accept="application/json",
            Body=body.encode(),
        )
        payload = response["Body"].read().decode()
    except aws.ClientError as error:
        raise CliError(
            f"smoke test: invoking {endpoint_name} failed: {error}", ExitCode.FAILED
        ) from error
    try:
        predictions = json.loads(payload)["predictions"]
    except (ValueError, KeyError, TypeError):
        raise CliError(
            f'smoke test: response has no "predictions" list: {payload[:200]!r}',
            ExitCode.FAILED,
        ) from None
    if not isinstance(predictions, list) or len(predictions) != len(rows):
        raise CliError(
            f"smoke test: sent {len(rows)} rows, got {len(predictions)} predictions",
            ExitCode.FAILED,
        )
    return predictions


def history_value(previous: str, version: int) -> str:
    """The history tag with `version` first, trimmed to a tag value's 256 characters."""
    versions = [str(version)] + [v for v in previous.split() if v != str(version)]
    while len(" ".join(versions)) > TAG_VALUE_MAX:
        versions.pop()
    return " ".join(versions)


def record(
    sm: Any,
    endpoint_arn: str,
    package: dict[str, Any],
    env: str,
    strategy: str,
    config_name: str,
    previous_history: str,
    now: dt.datetime,
) -> dict[str, str]:
    """Tag the endpoint and the package with what was deployed, how and when."""
    stamp = f"{now:%Y-%m-%dT%H:%M:%SZ}"
    version = int(package["ModelPackageVersion"])
    commit = package.get("MetadataProperties", {}).get("CommitId", "unknown")
    tags = {
        TAG_VERSION: str(version),
        TAG_PACKAGE: package["ModelPackageArn"],
        TAG_CONFIG: config_name,
        TAG_STRATEGY: strategy,
        TAG_COMMIT: commit[:TAG_VALUE_MAX],
        TAG_TIME: stamp,
        TAG_HISTORY: history_value(previous_history, version),
    }
    sm.add_tags(ResourceArn=endpoint_arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    sm.add_tags(
        ResourceArn=package["ModelPackageArn"],
        Tags=[
            {"Key": f"deploy:{env}:time", "Value": stamp},
            {"Key": f"deploy:{env}:strategy", "Value": strategy},
            {"Key": f"deploy:{env}:endpoint-config", "Value": config_name},
        ],
    )
    return tags


def default_strategy(env: str) -> str:
    """Staging always switches all at once; prod uses the project's chosen strategy."""
    return "all-at-once" if env == "staging" else config.DEPLOYMENT_STRATEGY


def deploy(
    env: str,
    package: dict[str, Any],
    strategy: str,
    settings: Settings,
    clients: Clients,
    *,
    dry_run: bool = False,
    guarded: bool = True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    echo: Callable[[str], None] = print,
) -> int:
    """Deploy one Approved package to `env`'s endpoint and judge the outcome."""
    name = config.endpoint_name(env)
    version = int(package["ModelPackageVersion"])
    arn = package["ModelPackageArn"]
    endpoint = describe_endpoint(clients.sm, name)
    tags = endpoint_tags(clients.sm, endpoint["EndpointArn"]) if endpoint else {}
    if (
        endpoint is not None
        and endpoint["EndpointStatus"] == "InService"
        and tags.get(TAG_PACKAGE) == arn
        and tags.get(TAG_CONFIG) == endpoint["EndpointConfigName"]
    ):
        echo(f"{name} already serves version {version} ({arn}); nothing to do")
        return ExitCode.OK
    policy = preflight(clients, env, endpoint, strategy, settings, guarded=guarded)
    guard = policy.get("AutoRollbackConfiguration", {}).get("Alarms", [])
    alarms = [a["AlarmName"] for a in guard]
    action = "create" if endpoint is None else "update"
    echo(
        f"plan: {action} {name} with version {version} ({strategy}); "
        f"current: version {tags.get(TAG_VERSION, 'none')}; "
        f"rollback alarms: {', '.join(alarms) or 'none (unguarded)'}"
    )
    if dry_run:
        echo(json.dumps(policy, indent=2))
        echo("dry run: nothing changed")
        return ExitCode.OK

    started_at = now()
    resource = f"{name}-v{version}-{started_at:%Y%m%d%H%M%S}"
    common_tags = [
        {"Key": "project", "Value": config.PROJECT},
        {"Key": TAG_VERSION, "Value": str(version)},
    ]
    clients.sm.create_model(
        ModelName=resource,
        PrimaryContainer=container_of(package),
        ExecutionRoleArn=config.role_arn(config.SAGEMAKER_EXECUTION_ROLE),
        Tags=common_tags,
    )
    clients.sm.create_endpoint_config(
        EndpointConfigName=resource,
        ProductionVariants=[
            {
                "VariantName": config.VARIANT_NAME,
                "ModelName": resource,
                "InitialInstanceCount": config.ENDPOINT_INSTANCE_COUNT,
                "InstanceType": config.ENDPOINT_INSTANCE_TYPE,
                "InitialVariantWeight": 1.0,
            }
        ],
        Tags=common_tags,
    )
    echo(f"created model and endpoint config {resource}")
    if endpoint is None:
        clients.sm.create_endpoint(EndpointName=name, EndpointConfigName=resource, Tags=common_tags)
    else:
        clients.sm.update_endpoint(
            EndpointName=name, EndpointConfigName=resource, DeploymentConfig=policy
        )
    echo(f"{action} submitted; watching {name}")
    timeout = execution_seconds(strategy, config.ENDPOINT_INSTANCE_COUNT, settings)
    outcome = watch(
        clients, name, resource, alarms, timeout, settings, clock=clock, sleep=sleep, echo=echo
    )
    summary = [
        f"### Deploy {config.PROJECT} to {env}",
        "",
        "| | |",
        "| --- | --- |",
        f"| Version | {version} |",
        f"| Package | `{arn}` |",
        f"| Strategy | {strategy} |",
        f"| Endpoint config | `{resource}` |",
        f"| Result | {outcome.status} after {outcome.elapsed:.0f}s |",
    ]
    try:
        judge(outcome, resource, name)
    except CliError as error:
        write_job_summary("\n".join([*summary, f"| Outcome | **{error.code.name}**: {error} |"]))
        raise
    echo(f"{name} is InService on {resource} (version {version}) after {outcome.elapsed:.0f}s")
    described = clients.sm.describe_endpoint(EndpointName=name)
    recorded = record(
        clients.sm,
        described["EndpointArn"],
        package,
        env,
        strategy,
        resource,
        tags.get(TAG_HISTORY, ""),
        started_at,
    )
    echo(f"recorded: version {version}, history {recorded[TAG_HISTORY]}")
    try:
        predictions = smoke_test(clients.runtime, name, sample_rows())
    except CliError as error:
        write_job_summary("\n".join([*summary, f"| Smoke test | **failed**: {error} |"]))
        raise
    echo(f"smoke test passed: {len(predictions)} predictions")
    write_job_summary("\n".join([*summary, f"| Smoke test | passed ({len(predictions)} rows) |"]))
    return ExitCode.OK


def settings_from(args: argparse.Namespace) -> Settings:
    """The Settings the command line asked for."""
    defaults = Settings()
    return Settings(
        canary_percent=getattr(args, "canary_percent", None),
        linear_step_percent=getattr(args, "linear_step_percent", None),
        rolling_batch=getattr(args, "rolling_batch", None),
        wait_seconds=_given(getattr(args, "wait_seconds", None), defaults.wait_seconds),
        termination_wait_seconds=_given(
            getattr(args, "termination_wait_seconds", None), defaults.termination_wait_seconds
        ),
        max_seconds=getattr(args, "max_seconds", None),
        poll_seconds=_given(getattr(args, "poll_seconds", None), defaults.poll_seconds),
    )


def _given(value: Any, default: Any) -> Any:
    return default if value is None else value


def cmd_deploy(args: argparse.Namespace) -> int:
    """Deploy an Approved package (default: the latest) to --env."""
    clients = Clients()
    package = resolve_package(clients.sm, args.version, args.arn)
    strategy = args.strategy or default_strategy(args.env)
    return deploy(args.env, package, strategy, settings_from(args), clients, dry_run=args.dry_run)


def rollback_target(
    sm: Any, tags: dict[str, str], to_version: int | None
) -> tuple[int | None, dict[str, Any]]:
    """(current version, package to return to): --to-version, else history, else Approved."""
    current = int(tags[TAG_VERSION]) if tags.get(TAG_VERSION, "").isdigit() else None
    if to_version is not None:
        if to_version == current:
            raise CliError(f"version {to_version} is already deployed", ExitCode.REFUSED)
        return current, resolve_package(sm, to_version, None)
    approved = {s["ModelPackageVersion"]: s for s in registry.summaries(sm, registry.APPROVED)}
    for text in tags.get(TAG_HISTORY, "").split():
        if text.isdigit() and int(text) != current and int(text) in approved:
            return current, resolve_package(sm, int(text), None)
    earlier = [v for v in approved if current is None or v < current]
    if not earlier:
        raise CliError(
            "no known-good version to return to: the history has none and no earlier version "
            "is Approved",
            ExitCode.REFUSED,
        )
    return current, resolve_package(sm, max(earlier), None)


def cmd_rollback(args: argparse.Namespace) -> int:
    """Redeploy the previous known-good version all at once; optionally reject the current."""
    if args.reject_current and not args.reason:
        raise CliError("--reject-current needs --reason", ExitCode.USAGE)
    clients = Clients()
    name = config.endpoint_name(args.env)
    endpoint = describe_endpoint(clients.sm, name)
    if endpoint is None:
        raise CliError(f"endpoint {name} does not exist; nothing to roll back", ExitCode.REFUSED)
    tags = endpoint_tags(clients.sm, endpoint["EndpointArn"])
    current, target = rollback_target(clients.sm, tags, args.to_version)
    echo = print
    echo(f"rollback {name}: version {current} -> version {target['ModelPackageVersion']}")
    if args.reject_current:
        if current is None:
            raise CliError("no recorded current version to reject", ExitCode.REFUSED)
        # Reject first: the deploy pipeline deploys the latest Approved version, and must not
        # bring the bad one back while (or after) we roll away from it.
        bad = registry.describe(clients.sm, current, None)
        registry.set_status(
            clients.sm,
            bad,
            registry.REJECTED,
            args.reason,
            aws.caller_arn(),
            dt.datetime.now(dt.UTC),
        )
        echo(f"rejected version {current}: {args.reason}")
    elif current is not None:
        echo(f"version {current} stays Approved; pass --reject-current to keep it from returning")
    return deploy(args.env, target, "all-at-once", settings_from(args), clients, guarded=False)
