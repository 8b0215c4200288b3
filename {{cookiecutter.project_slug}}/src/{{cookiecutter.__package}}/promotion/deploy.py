"""Deploy an Approved model package to an endpoint and judge the outcome.

The guardrails are SageMaker's own: `UpdateEndpoint` with a DeploymentConfig (blue/green
all-at-once, canary or linear traffic shifting, or a rolling update) and alarm-based
auto-rollback. This module orchestrates:

1. pre-flight: no deployment in progress, rollback alarms present and quiet, the strategy fits
   the fleet, the running config has the same variant name; a refusal changes nothing;
2. create the Model and a new EndpointConfig, then create or update the endpoint;
3. watch and judge (endpoint.py): success only when InService on the NEW config;
4. record the deployment in tags (history.py) and smoke-test the endpoint (smoke.py);
5. write a Markdown summary for the GitHub job.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.github import write_job_summary
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
from {{ cookiecutter.__package }}.promotion.shift import Settings, deployment_config, worst_case_seconds


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

    started_at = now()
    resource = config.deployment_resource_name(env, started_at)
    common_tags = [
        {"Key": "project", "Value": config.PROJECT},
        {"Key": history.TAG_VERSION, "Value": str(version)},
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
    # SageMaker reads the new config back with an eventually consistent read (until_visible).
    what = f"endpoint config {resource}"
    until_visible(
        lambda: clients.sm.describe_endpoint_config(EndpointConfigName=resource), what, sleep=sleep
    )
    if endpoint is None:
        until_visible(
            lambda: clients.sm.create_endpoint(
                EndpointName=name, EndpointConfigName=resource, Tags=common_tags
            ),
            what,
            sleep=sleep,
        )
    else:
        until_visible(
            lambda: clients.sm.update_endpoint(
                EndpointName=name, EndpointConfigName=resource, DeploymentConfig=policy
            ),
            what,
            sleep=sleep,
        )
    echo(f"{action} submitted; watching {name}")
    timeout = worst_case_seconds(strategy, config.ENDPOINT_INSTANCE_COUNT, settings)
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
