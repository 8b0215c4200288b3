"""Deploy an Approved model package to an endpoint and judge the outcome.

The guardrails are SageMaker's own: `UpdateEndpoint` with a DeploymentConfig (blue/green
all-at-once, canary or linear traffic shifting, or a rolling update) and alarm-based
auto-rollback. This module orchestrates:

1. one change per endpoint at a time, whoever starts it (a GitHub job or the deploy CodePipeline,
   which GitHub's concurrency groups cannot see): wait while another change is in progress, and
   when SageMaker refuses ours because another started first, wait for it and decide again;
2. pre-flight: rollback alarms present and quiet, the strategy fits the fleet, the running
   config has the same variant name; a refusal changes nothing;
3. create the Model and a new EndpointConfig, then create or update the endpoint;
4. watch and judge (endpoint.py): success only when InService on the NEW config;
5. record the deployment in tags (history.py), smoke-test the endpoint (smoke.py), and mark the
   version verified on this environment (what prod requires, road.py);
6. write a Markdown summary for the GitHub job.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.github import write_job_summary
from {{ cookiecutter.__package }}.monitoring import capture, schedule
from {{ cookiecutter.__package }}.promotion import history, smoke, timeline
from {{ cookiecutter.__package }}.promotion.endpoint import (
    IN_PROGRESS,
    Clients,
    Outcome,
    alarm_states,
    describe_endpoint,
    endpoint_tags,
    judge,
    until_visible,
    watch,
)
from {{ cookiecutter.__package }}.promotion.shift import (
    POLL_MAX_SECONDS,
    Settings,
    deployment_config,
    worst_case_seconds,
)

# How SageMaker refuses a change while another holds the endpoint (ValidationException).
HELD_BY_ANOTHER_CHANGE = ("Cannot update in-progress endpoint", "Cannot create already existing")


def held_by_another_change(error: aws.ClientError) -> bool:
    """Whether SageMaker refused our change because another one started first."""
    return error.response["Error"]["Code"] == "ValidationException" and any(
        text in str(error) for text in HELD_BY_ANOTHER_CHANGE
    )


def settled_endpoint(
    clients: Clients,
    name: str,
    deadline: float,
    settings: Settings,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    echo: Callable[[str], None],
) -> dict[str, Any] | None:
    """The endpoint once no change is in progress on it; give up (exit 6) at `deadline`."""
    started = clock()
    delays = aws.backoff(settings.poll_seconds, max(POLL_MAX_SECONDS, settings.poll_seconds))
    endpoint = describe_endpoint(clients.sm, name)
    said = ""
    while endpoint is not None and endpoint["EndpointStatus"] in IN_PROGRESS:
        status = endpoint["EndpointStatus"]
        if clock() >= deadline:
            raise CliError(
                f"{name} is still {status} after {clock() - started:.0f}s of waiting: another "
                "deployment is changing it; nothing was changed, deploy again when it is done",
                ExitCode.TIMED_OUT,
            )
        if status != said:
            echo(f"{name} is {status}: waiting for the change in progress (one at a time)")
            said = status
        sleep(min(next(delays), max(0.0, deadline - clock())))
        endpoint = describe_endpoint(clients.sm, name)
    return endpoint


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
            f"rollback alarm(s) missing in {aws.region_text()}: {', '.join(missing)}; "
            "`make bootstrap` creates them",
            ExitCode.NOT_SET_UP,
        )
    firing = [name for name in names if states[name] == "ALARM"]
    if firing:
        raise CliError(
            f"rollback alarm(s) in ALARM before the deployment: {', '.join(firing)}",
            ExitCode.REFUSED,
        )
    return deployment_config(strategy, config.ENDPOINT_INSTANCE_COUNT, settings, names)


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


def common_tags(version: int) -> list[dict[str, str]]:
    """The tags on everything a deployment creates."""
    return [
        {"Key": "project", "Value": config.PROJECT},
        {"Key": history.TAG_VERSION, "Value": str(version)},
    ]


def create_model_and_config(
    clients: Clients, env: str, package: dict[str, Any], started_at: dt.datetime
) -> str:
    """Create the package's Model and a one-variant EndpointConfig; return their shared name."""
    version = int(package["ModelPackageVersion"])
    resource = config.deployment_resource_name(env, started_at)
    clients.sm.create_model(
        ModelName=resource,
        PrimaryContainer=container_of(package),
        ExecutionRoleArn=config.role_arn(config.SAGEMAKER_EXECUTION_ROLE),
        Tags=common_tags(version),
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
        # Every config captures requests and responses, rollbacks' too (monitoring/capture.py).
        **capture.capture_config(),
        Tags=common_tags(version),
    )
    return resource


def submit(
    clients: Clients,
    name: str,
    resource: str,
    endpoint: dict[str, Any] | None,
    policy: dict[str, Any],
    version: int,
) -> None:
    """Create the endpoint on the new config, or update it with the DeploymentConfig."""
    if endpoint is None:
        clients.sm.create_endpoint(
            EndpointName=name, EndpointConfigName=resource, Tags=common_tags(version)
        )
    else:
        clients.sm.update_endpoint(
            EndpointName=name, EndpointConfigName=resource, DeploymentConfig=policy
        )


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
    timeout = worst_case_seconds(strategy, config.ENDPOINT_INSTANCE_COUNT, settings)
    # Waiting for another change may use what the budget leaves after this one's worst case, so
    # the job still outlives the watch (a plan that does not fit at all is refused below).
    deadline = clock() + max(0, config.DEPLOY_WAIT_SECONDS - timeout)
    resource = ""
    while True:
        if dry_run:
            endpoint = describe_endpoint(clients.sm, name)
        else:
            endpoint = settled_endpoint(
                clients, name, deadline, settings, clock=clock, sleep=sleep, echo=echo
            )
        tags = endpoint_tags(clients.sm, endpoint["EndpointArn"]) if endpoint else {}
        if (
            endpoint is not None
            and endpoint["EndpointStatus"] == "InService"
            and tags.get(history.TAG_PACKAGE) == arn
            and tags.get(history.TAG_CONFIG) == endpoint["EndpointConfigName"]
        ):
            echo(f"{name} already serves version {version} ({arn}); nothing to do")
            return ExitCode.OK
        policy = preflight(clients, env, endpoint, strategy, settings, guarded=guarded)
        guard = policy.get("AutoRollbackConfiguration", {}).get("Alarms", [])
        alarms = [a["AlarmName"] for a in guard]
        action = "create" if endpoint is None else "update"
        echo(
            f"plan: {action} {name} with version {version} ({strategy}); "
            f"current: version {tags.get(history.TAG_VERSION, 'none')}; "
            f"rollback alarms: {', '.join(alarms) or 'none (unguarded)'}"
        )
        if dry_run:
            echo(json.dumps(policy, indent=2))
            echo("dry run: nothing changed")
            return ExitCode.OK
        if not resource:
            started_at = now()
            resource = create_model_and_config(clients, env, package, started_at)
            echo(f"created model and endpoint config {resource}")
            # SageMaker reads the new config back with an eventually consistent read.
            until_visible(
                functools.partial(clients.sm.describe_endpoint_config, EndpointConfigName=resource),
                f"endpoint config {resource}",
                sleep=sleep,
            )
        try:
            until_visible(
                functools.partial(submit, clients, name, resource, endpoint, policy, version),
                f"endpoint config {resource}",
                sleep=sleep,
            )
        except aws.ClientError as error:
            if not held_by_another_change(error):
                raise
            # Another deployer got there between our look and our change: wait, decide again.
            echo(f"another deployment started on {name} first; waiting for it, then deciding again")
            continue
        break
    echo(f"{action} submitted; watching {name}")
    outcome = watch(
        clients, name, resource, alarms, timeout, settings, clock=clock, sleep=sleep, echo=echo
    )
    picture = timeline.draw(
        outcome.samples,
        resource,
        policy if endpoint is not None else {},
        config.ENDPOINT_INSTANCE_COUNT,
        f"{name}: version {version} ({strategy}), {_verdict(outcome, resource)}",
        config.DEPLOY_TIMELINES / f"{resource}.png",
    )
    shown = _relative(picture) if picture else "not drawn (matplotlib is not installed)"
    echo(f"timeline: {shown}")
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
        f"| Timeline | `{shown}` (the run's `deploy-timeline` artifact) |",
    ]
    try:
        judge(outcome, resource, name)
    except CliError as error:
        write_job_summary("\n".join([*summary, f"| Outcome | **{error.code.name}**: {error} |"]))
        raise
    echo(f"{name} is InService on {resource} (version {version}) after {outcome.elapsed:.0f}s")
    described = clients.sm.describe_endpoint(EndpointName=name)
    recorded = history.record(
        clients.sm,
        described["EndpointArn"],
        package,
        env,
        strategy,
        resource,
        tags.get(history.TAG_HISTORY, ""),
        started_at,
    )
    echo(f"recorded: version {version}, history {recorded[history.TAG_HISTORY]}")
    try:
        predictions = smoke.smoke_test(clients.runtime, name, smoke.sample_rows())
    except CliError as error:
        write_job_summary("\n".join([*summary, f"| Smoke test | **failed**: {error} |"]))
        raise
    echo(f"smoke test passed: {len(predictions)} predictions")
    history.mark_verified(clients.sm, arn, env, now())
    # A monitoring schedule, when there is one, now compares traffic with this version's baseline.
    schedule.repoint(clients.sm, env, package, echo)
    write_job_summary("\n".join([*summary, f"| Smoke test | passed ({len(predictions)} rows) |"]))
    return ExitCode.OK


def _relative(path: Path) -> str:
    """The path from the repository root when it is inside it (as a workflow names files)."""
    try:
        return path.relative_to(config.REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def _verdict(outcome: Outcome, new_config: str) -> str:
    """Where the endpoint ended up, in the words of the timeline's title."""
    if outcome.status != "InService":
        return outcome.status
    return "serving it" if outcome.config_name == new_config else "rolled back"
