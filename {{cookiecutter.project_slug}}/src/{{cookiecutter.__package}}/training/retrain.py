"""Retrain one exact commit: package it, upload it, start the retrain CodePipeline on it.

The source bucket is versioned, and CodePipeline V2 starts on the object version of this
upload (`sourceRevisions`), so two merges in quick succession can never train each other's
code. The commit SHA travels as a pipeline variable, so CodeBuild and the registry record it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.github import write_job_summary
from {{ cookiecutter.__package }}.training.execution import checked_input_data

# What `--wait` does with each CodePipeline execution status; anything else keeps waiting.
SUCCEEDED = "Succeeded"
FAILED_STATUSES = frozenset({"Failed", "Stopped", "Cancelled", "Superseded"})
# A retrain takes many minutes: poll every 10 s at first, backing off to once a minute.
POLL_FIRST_SECONDS, POLL_MAX_SECONDS = 10.0, 60.0
_COMMIT = re.compile(r"[0-9a-f]{7,40}")


@dataclass
class Retrain:
    """What one retrain did, for the log line and the job summary."""

    commit: str
    version_id: str
    execution_id: str
    status: str = "InProgress"
    detail: str = ""
    model_packages: list[dict[str, Any]] | None = field(default=None)
    input_data: str | None = None


def resolve_commit(commit: str, repo: Path = Path()) -> str:
    """The full SHA of `commit` in the git repository at `repo`, or a CliError."""
    if not _COMMIT.fullmatch(commit):
        raise CliError(f"--commit {commit!r} is not a commit SHA (7-40 hex digits)", ExitCode.USAGE)
    peeled = commit + "^{commit}"
    result = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", peeled)
    if result.returncode != 0:
        raise CliError(
            f"commit {commit} is not in the git repository {repo.resolve()}", ExitCode.USAGE
        )
    return result.stdout.decode().strip()


def archive(commit: str, repo: Path = Path()) -> bytes:
    """The tree of `commit` as a zip, exactly as committed (no working-tree changes)."""
    result = _git(repo, "archive", "--format=zip", commit)
    if result.returncode != 0:
        raise CliError(f"git archive {commit} failed: {result.stderr.decode().strip()}")
    return result.stdout


def upload(s3: Any, body: bytes, commit: str) -> str:
    """Upload the archive to the versioned source bucket; return the new object version."""
    response = s3.put_object(
        Bucket=config.SOURCE_BUCKET,
        Key=config.SOURCE_OBJECT_KEY,
        Body=body,
        Metadata={"commit-sha": commit},
        # Refuse to write into a bucket of the same name owned by another account.
        ExpectedBucketOwner=config.AWS_ACCOUNT_ID,
    )
    version_id = response.get("VersionId")
    if not version_id or version_id == "null":
        raise CliError(
            f"s3://{config.SOURCE_BUCKET} is not versioned: CodePipeline cannot start on an "
            "exact object version"
        )
    return version_id


def start_request(version_id: str, commit: str, input_data: str | None = None) -> dict[str, Any]:
    """The StartPipelineExecution request for one uploaded object version."""
    variables = [{"name": config.COMMIT_SHA_VARIABLE, "value": commit}]
    if input_data:
        # Only when asked: the buildspec's `pipeline start` otherwise keeps the data set's input.
        variables.append({"name": config.INPUT_DATA_VARIABLE, "value": input_data})
    return {
        "name": config.CODEPIPELINE_RETRAIN,
        "sourceRevisions": [
            {
                "actionName": config.SOURCE_ACTION,
                "revisionType": "S3_OBJECT_VERSION_ID",
                "revisionValue": version_id,
            }
        ],
        # (botocore fills clientRequestToken, so its own retries cannot start a second run.)
        "variables": variables,
    }


def wait(
    codepipeline: Any,
    execution_id: str,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[str, str]:
    """Poll the execution with backoff until it ends; return (status, status summary)."""
    deadline = clock() + timeout
    delays = aws.backoff(POLL_FIRST_SECONDS, POLL_MAX_SECONDS)
    last = None
    while True:
        execution = codepipeline.get_pipeline_execution(
            pipelineName=config.CODEPIPELINE_RETRAIN, pipelineExecutionId=execution_id
        )["pipelineExecution"]
        status = execution["status"]
        if status != last:
            print(f"execution {execution_id}: {status}", flush=True)
            last = status
        if status == SUCCEEDED or status in FAILED_STATUSES:
            return status, execution.get("statusSummary") or ""
        remaining = deadline - clock()
        if remaining <= 0:
            return "TimedOut", f"still {status} after {timeout:.0f} s"
        sleep(min(next(delays), remaining))


def registered_since(sagemaker: Any, started: datetime) -> list[dict[str, Any]]:
    """The model packages registered in the group since `started`, newest first."""
    response = sagemaker.list_model_packages(
        ModelPackageGroupName=config.MODEL_PACKAGE_GROUP,
        CreationTimeAfter=started,
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=10,
    )
    return response["ModelPackageSummaryList"]


def execution_url(execution_id: str) -> str:
    """The console page of one retrain execution."""
    region = config.AWS_REGION
    return (
        f"https://{region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        f"{config.CODEPIPELINE_RETRAIN}/executions/{execution_id}/timeline?region={region}"
    )


def summary_markdown(run: Retrain) -> str:
    """The job summary: which commit was retrained, where to look, and what it produced."""
    lines = [
        "## Retrain",
        "",
        "| | |",
        "| --- | --- |",
        f"| Commit | `{run.commit}` |",
        f"| Source | `s3://{config.SOURCE_BUCKET}/{config.SOURCE_OBJECT_KEY}` "
        f"version `{run.version_id}` |",
        f"| Data | {f'`{run.input_data}`' if run.input_data else 'the data set config.py names'} |",
        f"| Execution | [{run.execution_id}]({execution_url(run.execution_id)}) |",
        f"| Status | {run.status} |",
    ]
    if run.detail:
        lines.append(f"| Detail | {run.detail.replace('|', '/')} |")
    if run.model_packages is None:
        registered = "not checked"
    elif run.model_packages:
        newest = run.model_packages[0]
        registered = (
            f"version {newest['ModelPackageVersion']} ({newest['ModelApprovalStatus']}) "
            f"in `{config.MODEL_PACKAGE_GROUP}`"
        )
    else:
        registered = "none (see the execution: the model may not have passed the gate)"
    lines.append(f"| Model package registered | {registered} |")
    return "\n".join(lines) + "\n"


def outcome(status: str) -> ExitCode:
    """The exit code for a final execution status."""
    if status == SUCCEEDED:
        return ExitCode.OK
    if status == "TimedOut":
        return ExitCode.TIMED_OUT
    return ExitCode.FAILED


def retrain(
    commit: str,
    *,
    input_data: str | None = None,
    wait_seconds: float | None = None,
    repo: Path = Path(),
) -> int:
    """Package one commit, upload it and start the retrain CodePipeline on it; optionally wait."""
    input_data = checked_input_data(input_data)
    commit = resolve_commit(commit, repo)
    body = archive(commit, repo)
    print(f"packaged {commit} ({len(body)} bytes)", flush=True)

    version_id = upload(aws.client("s3"), body, commit)
    print(
        f"uploaded s3://{config.SOURCE_BUCKET}/{config.SOURCE_OBJECT_KEY} version {version_id}",
        flush=True,
    )

    codepipeline = aws.client("codepipeline")
    started = datetime.now(UTC)
    request = start_request(version_id, commit, input_data)
    execution_id = codepipeline.start_pipeline_execution(**request)["pipelineExecutionId"]
    run = Retrain(commit, version_id, execution_id, input_data=input_data)
    print(f"started {config.CODEPIPELINE_RETRAIN} execution {execution_id}", flush=True)
    print(execution_url(execution_id), flush=True)

    if wait_seconds is not None:
        run.status, run.detail = wait(codepipeline, execution_id, wait_seconds)
        if run.status == SUCCEEDED:
            run.model_packages = _registered_or_none(aws.client("sagemaker"), started)
    write_job_summary(summary_markdown(run))
    code = outcome(run.status) if wait_seconds is not None else ExitCode.OK
    if code != ExitCode.OK:
        raise CliError(
            f"{config.CODEPIPELINE_RETRAIN} execution {execution_id} ended {run.status}"
            + (f": {run.detail}" if run.detail else ""),
            code,
        )
    return code


def _registered_or_none(sagemaker: Any, started: datetime) -> list[dict[str, Any]] | None:
    # The summary line is a courtesy: a role without ListModelPackages must not fail a
    # successful retrain, so report "not checked" instead.
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return registered_since(sagemaker, started)
    except (BotoCoreError, ClientError) as error:
        print(f"could not list model packages: {error}", flush=True)
        return None


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    git = shutil.which("git")
    if git is None:
        raise CliError("git is not installed; it is needed to package the commit")
    # Fixed executable and arguments; the commit was validated as hex digits above.
    return subprocess.run([git, "-C", str(repo), *args], capture_output=True, check=False)  # noqa: S603
