"""Traffic shifts: SageMaker's DeploymentConfig for a strategy and a fleet size.

Pure arithmetic, no AWS call: the defaults that fit the fleet, SageMaker's limits on each field
(botocore's service model for UpdateEndpoint), and the time a deployment may take.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode

# SageMaker's limits on the DeploymentConfig fields (botocore's service model).
WAIT_MAX = 3600
EXECUTION_MIN, EXECUTION_MAX = 600, 28800
# Beyond the waits the strategy asks for, time for instances to start and traffic to move.
PROVISIONING_SECONDS = 1800
# Returning traffic to the fleet a blue/green deployment kept takes minutes; a rolling update
# rolls back batch by batch, as long as it took to get there.
BLUE_GREEN_ROLLBACK_SECONDS = 600
ROLLING_MAX_BATCHES = 8
# DescribeEndpoint at most every 10 s (6 calls a minute), backing off to one call in 30 s.
POLL_SECONDS, POLL_MAX_SECONDS = 10.0, 30.0


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
    """Instances per rolling batch: given, else one, or enough for 5% of the fleet and at most
    ROLLING_MAX_BATCHES batches (a large fleet's default deploy then fits the time budget)."""
    if settings.rolling_batch is not None:
        return settings.rolling_batch
    return max(1, math.ceil(count * 5 / 100), math.ceil(count / ROLLING_MAX_BATCHES))


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


def worst_case_seconds(strategy: str, count: int, settings: Settings) -> int:
    """The longest a deployment can take: SageMaker's maximum execution time, then a rollback."""
    execution = execution_seconds(strategy, count, settings)
    return execution + (execution if strategy == "rolling" else BLUE_GREEN_ROLLBACK_SECONDS)


def check_budget(strategy: str, count: int, settings: Settings) -> None:
    """Refuse a plan that could outlast the deploy job (config.DEPLOY_WAIT_SECONDS)."""
    worst = worst_case_seconds(strategy, count, settings)
    if worst > config.DEPLOY_WAIT_SECONDS:
        raise CliError(
            f"a {strategy} deployment to {count} instance(s) can take {worst // 60} min "
            f"(SageMaker's maximum execution time, then a rollback); the deploy jobs allow "
            f"{config.DEPLOY_WAIT_SECONDS // 60} min: use larger steps, a shorter "
            "--wait-seconds or a lower --max-seconds",
            ExitCode.REFUSED,
        )


def deployment_config(
    strategy: str, count: int, settings: Settings, alarms: list[str]
) -> dict[str, Any]:
    """The UpdateEndpoint DeploymentConfig for a strategy, with auto-rollback on `alarms`."""
    check_fits(strategy, count, settings)
    check_budget(strategy, count, settings)
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
