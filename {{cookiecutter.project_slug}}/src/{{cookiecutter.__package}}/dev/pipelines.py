"""The emulator's SageMaker pipeline executions: StartPipelineExecution runs the definition.

Development tooling. moto records executions and marks them Succeeded at once; here each one runs
the definition that was upserted (executor.py), in a thread of the emulator, and
DescribePipelineExecution, ListPipelineExecutions and ListPipelineExecutionSteps report what it
really did. Every AWS call the execution makes (S3 for the jobs' data, SageMaker to register the
model) goes through boto3 to the emulator itself, on the pipeline's behalf.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from {{ cookiecutter.__package }} import aws, processes
from {{ cookiecutter.__package }}.dev import executor


@functools.cache
def _session(access_key: str, secret_key: str, region: str) -> Any:
    """One boto3 session per caller: each new one loads botocore's service models again."""
    return boto3.session.Session(
        aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region
    )


@dataclasses.dataclass
class PipelineExecutions:
    """Every execution the emulator started, by ARN."""

    secret_key: str
    workdir: Path | None = None  # keep each job's scratch directory under it; None: discard
    runs: dict[str, executor.Execution] = dataclasses.field(default_factory=dict)
    tokens: dict[str, str] = dataclasses.field(default_factory=dict)
    clients: dict[tuple[str, ...], tuple[Any, Any]] = dataclasses.field(default_factory=dict)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def start(
        self, backend: Any, endpoint_url: str, access_key: str, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Start an execution of the pipeline's current definition; None: moto answers."""
        pipeline = backend.pipelines.get(params.get("PipelineName"))
        if pipeline is None:
            return None  # moto's own "could not find pipeline" error
        token = params.get("ClientRequestToken")
        with self.lock:
            if token in self.tokens:
                # A retried request starts nothing new, as SageMaker promises for the token.
                return {"PipelineExecutionArn": self.tokens[token]}
        definition = json.loads(pipeline.pipeline_definition)
        given = params.get("PipelineParameters") or []
        values = executor.parameter_values(definition, given)  # ValueError: a 400 to the caller
        arn = backend.start_pipeline_execution(
            pipeline.pipeline_name,
            params.get("PipelineExecutionDisplayName"),
            given,
            params.get("PipelineExecutionDescription"),
            params.get("ParallelismConfiguration"),
            token,
        )["PipelineExecutionArn"]
        record = pipeline.pipeline_executions[arn]
        record.pipeline_execution_status = "Executing"
        region = arn.split(":")[3]
        s3, sagemaker = self._clients(endpoint_url, access_key, region, pipeline.role_arn)
        workdir = (
            self.workdir.resolve() / arn.rsplit("/", 1)[1]
            if self.workdir is not None
            else Path(tempfile.mkdtemp(prefix="pipeline-execution-"))
        )
        parallelism = (params.get("ParallelismConfiguration") or {}).get(
            "MaxParallelExecutionSteps", executor.DEFAULT_PARALLELISM
        )
        # A job that calls AWS itself (the evaluate step reading the champion's model data)
        # reaches the emulator with the keys of the pipeline's caller.
        job_aws = {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": region,
        }
        run = executor.Execution(
            arn, pipeline.arn, definition, values, s3, sagemaker, workdir, parallelism, job_aws
        )
        with self.lock:
            self.runs[arn] = run
            if token:
                self.tokens[token] = arn
        problems = executor.check(definition)
        if problems:
            run.fail_at_once(problems)
            self._finish(run, record)
        else:
            processes.warm_up()
            threading.Thread(target=self._run, args=(run, record), daemon=True).start()
        return {"PipelineExecutionArn": arn}

    def _run(self, run: executor.Execution, record: Any) -> None:
        try:
            run.run()
        finally:
            self._finish(run, record)

    def _finish(self, run: executor.Execution, record: Any) -> None:
        """Copy the outcome to moto's record of the execution; drop a throwaway scratch tree."""
        with run.lock:
            record.pipeline_execution_status = run.status
            record.pipeline_execution_failure_reason = run.reason
        record.last_modified_time = dt.datetime.now(dt.UTC)
        if self.workdir is None:
            shutil.rmtree(run.workdir, ignore_errors=True)

    def describe(self, backend: Any, params: dict[str, Any]) -> dict[str, Any] | None:
        """DescribePipelineExecution with the real status and failure reason; None: not ours."""
        arn = params.get("PipelineExecutionArn", "")
        with self.lock:
            run = self.runs.get(arn)
        if run is None:
            return None
        described = backend.describe_pipeline_execution(arn)
        with run.lock:
            described["PipelineExecutionStatus"] = run.status
            described.pop("FailureReason", None)
            if run.reason:
                described["FailureReason"] = run.reason[:1300]
        return described

    def list_steps(self, params: dict[str, Any]) -> dict[str, Any]:
        """ListPipelineExecutionSteps: the steps that started, newest first unless asked."""
        arn = params["PipelineExecutionArn"]
        with self.lock:
            run = self.runs.get(arn)
        if run is None:
            raise LookupError(f"Pipeline execution {arn} does not exist.")
        steps = run.steps()
        if params.get("SortOrder", "Descending") == "Descending":
            steps.reverse()
        start = int(params.get("NextToken") or 0)
        end = start + int(params.get("MaxResults") or len(steps) or 1)
        page: dict[str, Any] = {"PipelineExecutionSteps": steps[start:end]}
        if end < len(steps):
            page["NextToken"] = str(end)
        return page

    def _clients(
        self, endpoint_url: str, access_key: str, region: str, role_arn: str
    ) -> tuple[Any, Any]:
        """S3 and SageMaker clients that act for the pipeline's execution role."""
        role = role_arn.rsplit("/", 1)[-1]
        key = (endpoint_url, access_key, region, role)
        with self.lock:
            if key not in self.clients:
                session = _session(access_key, self.secret_key, region)
                # Every call the executor makes for the pipeline says whose it is: the user
                # agent names the SageMaker execution role, so the emulator's IAM checks can
                # judge it as that role's call (SageMaker makes them with the role itself).
                on_behalf = aws.RETRY_CONFIG.merge(Config(user_agent_extra=f"on-behalf-of/{role}"))
                self.clients[key] = tuple(  # type: ignore[assignment]
                    session.client(service, endpoint_url=endpoint_url, config=on_behalf)
                    for service in ("s3", "sagemaker")
                )
            return self.clients[key]
