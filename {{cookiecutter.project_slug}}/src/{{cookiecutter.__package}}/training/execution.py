"""Start the SageMaker pipeline and follow an execution to its verdict, with boto3 alone.

`pipeline start` never imports the SageMaker SDK: the definition was upserted before, and
starting, polling and judging an execution are three boto3 calls.
"""

from __future__ import annotations

import os
import shlex
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.promotion import champion
from {{ cookiecutter.__package }}.training import interface

# Polls start POLL_FIRST_SECONDS apart and back off to POLL_BACKOFF_LIMIT times that (a minute by
# default): who asks for quicker polls (--poll-seconds) hears of the end sooner, too.
POLL_FIRST_SECONDS = 5.0
POLL_BACKOFF_LIMIT = 12
_DONE = {"Succeeded", "Failed", "Stopped"}


def start(
    commit: str | None,
    *,
    input_data: str | None = None,
    hyperparameters: list[str] | None = None,
    wait_seconds: float | None = None,
    outputs_file: str | None = None,
    sm: Any | None = None,
    poll_seconds: float = POLL_FIRST_SECONDS,
) -> int:
    """Start an execution recording the commit; with wait_seconds, follow it to its verdict."""
    input_data = checked_input_data(input_data)
    overrides = checked_hyperparameters(hyperparameters or [])
    sm = sm or aws.client("sagemaker")
    commit = commit or interface.NO_COMMIT
    found = champion.find(sm)
    print(f"start: compared with {champion.describe(found)}", flush=True)
    arn = start_execution(sm, commit, input_data, found, overrides)
    trained_on = f", data {input_data}" if input_data else ""
    tuned = "".join(f", {name}={value}" for name, value in overrides.items())
    print(f"start: {arn} (commit {commit}{trained_on}{tuned})")
    outputs = {"PIPELINE_EXECUTION_ARN": arn}
    write_outputs(outputs_file, outputs)
    if wait_seconds is None:
        return ExitCode.OK
    try:
        status, steps, reason = wait(sm, arn, timeout=wait_seconds, first_poll=poll_seconds)
    finally:
        # The registered package is worth exporting even when a later step failed.
        package = registered_package(sm, arn)
        if package:
            outputs["MODEL_PACKAGE_ARN"] = package
            print(f"registered: {package}")
        write_outputs(outputs_file, outputs)
    return outcome(status, steps, reason)


def checked_input_data(uri: str | None) -> str | None:
    """An input data URI to override the pipeline's default with, or None to keep it."""
    if uri is None or uri == config.DEFAULT_INPUT_DATA:
        return None
    if not uri.startswith("s3://") or len(uri) <= len("s3://"):
        raise CliError(
            f"--input-data {uri!r} must be an s3:// URI (a CSV file or a prefix of CSV files), "
            f"or {config.DEFAULT_INPUT_DATA!r} for the data set config.py names",
            ExitCode.USAGE,
        )
    return uri


def checked_hyperparameters(pairs: list[str]) -> dict[str, str]:
    """`name=value` overrides of config.HYPERPARAMETERS, by name; a CliError for anything else."""
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in config.HYPERPARAMETERS or not value.strip():
            known = ", ".join(config.HYPERPARAMETERS)
            raise CliError(
                f"--hyperparameter {pair!r} must be NAME=VALUE with NAME one of: {known}",
                ExitCode.USAGE,
            )
        overrides[name] = value.strip()
    return overrides


def start_execution(
    sm: Any,
    commit: str,
    input_data: str | None = None,
    found: champion.Champion | None = None,
    hyperparameters: dict[str, str] | None = None,
) -> str:
    """Start one execution with the commit, the champion (and any input data or hyperparameter
    overrides) as parameters."""
    parameters = [{"Name": "CommitSha", "Value": commit}, *champion.parameters(found)]
    if input_data:
        parameters.append({"Name": "InputDataUri", "Value": input_data})
    for name, value in (hyperparameters or {}).items():
        parameters.append({"Name": interface.hyperparameter_parameter(name), "Value": value})
    response = sm.start_pipeline_execution(
        PipelineName=config.SAGEMAKER_PIPELINE,
        PipelineExecutionDisplayName=f"commit-{commit[:12]}",
        PipelineExecutionDescription=f"commit {commit}",
        PipelineParameters=parameters,
        # Retries of this call (botocore's) start one execution, not several.
        ClientRequestToken=str(uuid.uuid4()),
    )
    return response["PipelineExecutionArn"]


def step_states(sm: Any, arn: str) -> list[dict[str, Any]]:
    """Every step of the execution, oldest first."""
    paginator = sm.get_paginator("list_pipeline_execution_steps")
    steps = [
        step
        for page in paginator.paginate(PipelineExecutionArn=arn, SortOrder="Ascending")
        for step in page["PipelineExecutionSteps"]
    ]
    return steps


def wait(
    sm: Any,
    arn: str,
    *,
    timeout: float = config.PIPELINE_WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    first_poll: float = POLL_FIRST_SECONDS,
) -> tuple[str, list[dict[str, Any]], str]:
    """Follow the execution to its end, printing one line per step state change.

    Returns the final status, the steps, and the execution's failure reason (if any).
    """
    deadline = clock() + timeout
    seen: dict[str, str] = {}
    cap = first_poll * POLL_BACKOFF_LIMIT
    delays = aws.backoff(first_poll, cap)
    while True:
        described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        status = described["PipelineExecutionStatus"]
        steps = step_states(sm, arn)
        moved = False
        for step in steps:
            name, state = step["StepName"], step.get("StepStatus", "Unknown")
            if seen.get(name) != state:
                seen[name] = state
                moved = True
                print(f"step {name}: {state}", flush=True)
        if status in _DONE:
            print(f"execution: {status}", flush=True)
            return status, steps, described.get("FailureReason", "")
        if moved:
            # Something moved: the next step may end soon too, so look again soon.
            delays = aws.backoff(first_poll, cap)
        delay = next(delays)
        if clock() + delay > deadline:
            raise CliError(
                f"execution {arn} still {status} after {timeout:.0f} s; it keeps running in "
                "SageMaker",
                ExitCode.TIMED_OUT,
            )
        sleep(delay)


def outcome(status: str, steps: list[dict[str, Any]], reason: str = "") -> int:
    """The exit code for a finished execution; raise with the failing step's reason if any."""
    if status == "Succeeded":
        return ExitCode.OK
    failed = [s for s in steps if s.get("StepStatus") == "Failed"]
    if failed:
        step = failed[-1]
        reason = step.get("FailureReason", "no reason given")
        code = ExitCode.BELOW_THRESHOLD if step["StepName"] == interface.FAIL else ExitCode.FAILED
        raise CliError(f"step {step['StepName']} failed: {reason}", code)
    raise CliError(f"execution ended {status}" + (f": {reason}" if reason else ""), ExitCode.FAILED)


def registered_package(sm: Any, arn: str) -> str | None:
    """The model package ARN the Register step created in this execution, if it did."""
    try:
        steps = step_states(sm, arn)
    except aws.ClientError:  # a best-effort lookup, maybe while another failure is reported
        return None
    for step in steps:
        if step["StepName"] == interface.REGISTER and step.get("StepStatus") == "Succeeded":
            return step.get("Metadata", {}).get("RegisterModel", {}).get("Arn")
    return None


def write_outputs(path: str | None, outputs: dict[str, str]) -> None:
    """Write KEY=value lines a shell can source (CodeBuild exports them from the build)."""
    if not path:
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in outputs.items()))
    os.replace(partial, target)
