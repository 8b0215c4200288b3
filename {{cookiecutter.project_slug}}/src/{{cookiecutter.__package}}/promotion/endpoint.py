"""One endpoint, read and watched: its state, its tags, its rollback alarms, and the verdict.

SageMaker does the deployment; this module looks at it: DescribeEndpoint with backoff (at most
six calls a minute), the alarms' states, and the judgement of where the endpoint ended up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.promotion.shift import POLL_MAX_SECONDS, Settings
from {{ cookiecutter.__package }}.promotion.timeline import Sample

# The statuses during which SageMaker is changing the endpoint.
IN_PROGRESS = {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"}
# How often until_visible asks before giving up (1 + 1.5 + ... s: about a minute in all).
VISIBLE_ATTEMPTS = 7

T = TypeVar("T")


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
    # Every poll, for the deployment's timeline picture (timeline.py).
    samples: list[Sample] = field(default_factory=list)


def describe_endpoint(sm: Any, name: str) -> dict[str, Any] | None:
    """The endpoint's description, or None when it does not exist."""
    try:
        return sm.describe_endpoint(EndpointName=name)
    except aws.ClientError as error:
        if not_found(error):
            return None
        raise


def not_found(error: aws.ClientError) -> bool:
    """Whether SageMaker answered that the named resource does not exist (a ValidationException)."""
    message = str(error)
    return error.response["Error"]["Code"] == "ValidationException" and (
        "Could not find" in message or "not found" in message.lower()
    )


def until_visible(
    call: Callable[[], T], what: str, *, sleep: Callable[[float], None] = time.sleep
) -> T:
    """Run `call`, again while SageMaker does not see `what` yet; give up after a minute or so.

    CreateEndpoint reads the endpoint config back with an eventually consistent read and fails
    with a ValidationException when the new config is not visible yet; botocore's standard retry
    mode does not retry that error. botocore's CreateEndpoint documentation recommends
    DescribeEndpointConfig first, and retrying: deploy does both, through this.
    """
    delays = aws.backoff(1.0, POLL_MAX_SECONDS)
    waited, attempt = 0.0, 1
    while True:
        try:
            return call()
        except aws.ClientError as error:
            if not not_found(error):
                raise
            if attempt >= VISIBLE_ATTEMPTS:
                raise CliError(
                    f"SageMaker still does not see {what} after {waited:.0f}s: {error}",
                    ExitCode.FAILED,
                ) from None
        delay = next(delays)
        sleep(delay)
        waited, attempt = waited + delay, attempt + 1


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
    # Metric alarms only: asking for composite alarms too needs cloudwatch:DescribeAlarms on "*"
    # (CloudWatch API reference, DescribeAlarms), and the deploy roles may read only their own
    # environment's alarms, which are all metric alarms (infra/stack.yml).
    found = cw.describe_alarms(AlarmNames=names, AlarmTypes=["MetricAlarm"])
    return {alarm["AlarmName"]: alarm["StateValue"] for alarm in found.get("MetricAlarms", [])}


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
    samples: list[Sample] = []
    while True:
        endpoint = clients.sm.describe_endpoint(EndpointName=endpoint_name)
        polls += 1
        states = alarm_states(clients.cw, alarms)
        fired.update(name for name, state in states.items() if state == "ALARM")
        status = endpoint["EndpointStatus"]
        current = endpoint["EndpointConfigName"]
        elapsed = clock() - started
        pending_summary = endpoint.get("PendingDeploymentSummary", {})
        pending = pending_summary.get("EndpointConfigName")
        variant_statuses = tuple(
            entry["Status"]
            for variant in pending_summary.get("ProductionVariants", [])
            for entry in variant.get("VariantStatus", [])
        )
        labelled = {_alarm_label(name): state for name, state in states.items()}
        samples.append(Sample(elapsed, status, current, variant_statuses, labelled))
        line = f"{status} config={current}" + (f" pending={pending}" if pending else "")
        alarm_text = " ".join(f"{_alarm_label(n)}={s}" for n, s in sorted(states.items()))
        if f"{line} {alarm_text}" != last_line:
            echo(f"[{elapsed:6.0f}s] {line} alarms: {alarm_text or 'none'}")
            last_line = f"{line} {alarm_text}"
            # Something moved: look again soon.
            delays = aws.backoff(settings.poll_seconds, cap)
        outcome = Outcome(
            status, current, elapsed, endpoint.get("FailureReason", ""), fired, samples=samples
        )
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
    reason = outcome.failure_reason
    if outcome.status == "InService" and outcome.fired_alarms:
        # An auto-rollback alarm fired during the shift: SageMaker's guardrail did its job.
        alarms = ", ".join(sorted(outcome.fired_alarms))
        raise CliError(
            f"SageMaker rolled the deployment back: {endpoint_name} is InService on the old "
            f"config {outcome.config_name}; alarm: {alarms}"
            + (f"; SageMaker says: {reason}" if reason else ""),
            ExitCode.ROLLED_BACK,
        )
    if outcome.status == "InService":
        # Back on the old config with no alarm seen: the new fleet never took over (a failed
        # health check, an image or model that did not load, no capacity). That is a failure
        # of the new version, not an alarm rollback, and SageMaker's reason says which.
        raise CliError(
            f"the deployment failed: {endpoint_name} is still InService on the old config "
            f"{outcome.config_name}, and no rollback alarm was seen in ALARM; "
            + (f"SageMaker says: {reason}" if reason else "SageMaker gave no reason")
            + " (the endpoint's CloudWatch logs show what the new containers did)",
            ExitCode.FAILED,
        )
    raise CliError(
        f"{endpoint_name} is {outcome.status}: {reason or 'no reason given'}",
        ExitCode.FAILED,
    )
