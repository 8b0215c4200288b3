"""One pipeline execution, run offline: the definition's steps in dependency order, for real.

Development tooling for the emulator. `check` refuses up front what this executor cannot run (a
step type, a function, a reference to nothing), naming it. `Execution.run` then starts every step
whose data dependencies (`Get` of another step's properties, property files) and `DependsOn`
steps have succeeded, several at once when they are independent, and records what SageMaker's
ListPipelineExecutionSteps reports: status, start and end times, failure reason, metadata.

- Processing and Training: jobs run as local processes (containers.py).
- Condition: the conditions are evaluated; only the chosen branch's steps run.
- RegisterModel and Model: CreateModelPackage and CreateModel with the step's resolved arguments.
- Fail: the step fails with its ErrorMessage, and so does the execution.

A failed step stops new steps from starting; the execution ends Failed once the running ones end.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import string
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from {{ cookiecutter.__package }}.dev import containers, expressions

STEP_TYPES = frozenset({"Processing", "Training", "Condition", "Fail", "RegisterModel", "Model"})
BOOLEANS = {"true": True, "false": False}
PARAMETER_TYPES: dict[str, Callable[[Any], Any]] = {
    "String": str,
    "Integer": int,
    "Float": float,
    "Boolean": lambda v: v if isinstance(v, bool) else BOOLEANS[str(v).lower()],
}
# SageMaker's own words in DescribePipelineExecution when a step failed; the steps say why.
STEP_FAILURE = "Step failure: One or multiple steps failed."
# Steps at once when the start request sets no ParallelismConfiguration.
DEFAULT_PARALLELISM = 50
_JOB_NAME = re.compile(r"[^a-zA-Z0-9-]+")


class DefinitionError(ValueError):
    """A start request SageMaker would refuse: an unknown parameter, a value of the wrong type."""


@dataclass
class Step:
    """One step of the definition, where it sits, and what it waits for."""

    spec: dict[str, Any]
    needs: set[str]
    branch: tuple[str, bool] | None = None  # (condition step, outcome that runs this step)

    @property
    def name(self) -> str:
        return self.spec["Name"]


@dataclass
class Record:
    """A step's state as ListPipelineExecutionSteps reports it."""

    name: str
    started: dt.datetime
    status: str = "Executing"
    ended: dt.datetime | None = None
    reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def entry(self) -> dict[str, Any]:
        """The PipelineExecutionStep entry."""
        entry: dict[str, Any] = {
            "StepName": self.name,
            "StepStatus": self.status,
            "StartTime": self.started,
            "Metadata": self.metadata,
            "AttemptCount": 1,
        }
        if self.ended is not None:
            entry["EndTime"] = self.ended
        if self.reason is not None:
            entry["FailureReason"] = self.reason[: containers.REASON_MAX]
        return entry


def flatten(definition: dict[str, Any]) -> dict[str, Step]:
    """Every step, the Condition branches' too, by name, with its dependencies."""
    steps: dict[str, Step] = {}

    def add(specs: list[dict[str, Any]], branch: tuple[str, bool] | None) -> None:
        for spec in specs:
            arguments = spec.get("Arguments", {})
            own = {k: v for k, v in arguments.items() if k not in ("IfSteps", "ElseSteps")}
            needs = expressions.referenced_steps(own) | set(spec.get("DependsOn", []))
            if branch is not None:
                needs.add(branch[0])
            steps[spec["Name"]] = Step(spec, needs - {spec["Name"]}, branch)
            if spec.get("Type") == "Condition":
                add(arguments.get("IfSteps", []), (spec["Name"], True))
                add(arguments.get("ElseSteps", []), (spec["Name"], False))

    add(definition.get("Steps", []), None)
    return steps


def check(definition: dict[str, Any]) -> list[tuple[str | None, str]]:
    """What in the definition this executor cannot run, as (step or None, problem) pairs."""
    steps = flatten(definition)
    parameters = {p["Name"] for p in definition.get("Parameters", [])}
    problems: list[tuple[str | None, str]] = []
    for name, step in steps.items():
        kind = step.spec.get("Type")
        if kind not in STEP_TYPES:
            problems.append((name, f"step type {kind!r} is not supported offline"))
            continue
        used = {k: v for k, v in step.spec.items() if k in ("Arguments", "PropertyFiles")}
        for problem in expressions.unsupported(used, parameters, set(steps)):
            problems.append((name, f"{problem} is not supported offline"))
        for other in sorted(set(step.spec.get("DependsOn", [])) - set(steps)):
            problems.append((name, f"DependsOn names no step {other!r}"))
        for condition in _conditions(step.spec):
            if condition.get("Type") not in expressions.CONDITIONS:
                kind = condition.get("Type")
                problems.append((name, f"condition type {kind!r} is not supported offline"))
    if _cycle(steps):
        problems.append((None, f"the steps depend on each other in a cycle: {_cycle(steps)}"))
    return problems


def _cycle(steps: dict[str, Step]) -> str:
    """The steps of a dependency cycle, if any (SageMaker refuses such a definition)."""
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> str:
        if state.get(name) == "open":
            return " -> ".join([*path[path.index(name) :], name])
        if state.get(name) == "done" or name not in steps:
            return ""
        state[name] = "open"
        for need in sorted(steps[name].needs):
            found = visit(need, [*path, name])
            if found:
                return found
        state[name] = "done"
        return ""

    return next((found for name in steps if (found := visit(name, []))), "")


def _conditions(spec: dict[str, Any]) -> list[dict[str, Any]]:
    found, pending = [], list(spec.get("Arguments", {}).get("Conditions", []))
    while pending:
        condition = pending.pop()
        found.append(condition)
        pending += condition.get("Conditions", [])
        pending += [condition["Condition"]] if "Condition" in condition else []
    return found


def parameter_values(definition: dict[str, Any], given: list[dict[str, str]]) -> dict[str, Any]:
    """The value of every parameter: the start request's, else the default, typed."""
    declared = {p["Name"]: p for p in definition.get("Parameters", [])}
    values = {item["Name"]: item["Value"] for item in given}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise DefinitionError(f"Parameters {unknown} are not defined in the pipeline")
    typed = {}
    for name, spec in declared.items():
        raw = values.get(name, spec.get("DefaultValue"))
        if raw is None:
            raise DefinitionError(f"Parameter {name} has no default value and none was given")
        try:
            typed[name] = PARAMETER_TYPES[spec.get("Type", "String")](raw)
        except (KeyError, ValueError):
            kind = spec.get("Type")
            raise DefinitionError(f"Parameter {name}: {raw!r} is not a {kind}") from None
    return typed


@dataclass
class Execution:
    """One run of a definition, with the clients it calls AWS (the emulator) through."""

    arn: str
    pipeline_arn: str
    definition: dict[str, Any]
    parameters: dict[str, Any]
    s3: Any
    sagemaker: Any
    workdir: Path
    parallelism: int = DEFAULT_PARALLELISM
    # The environment a job's own AWS calls need (Container.aws): none unless given.
    job_aws: dict[str, str] = field(default_factory=dict)
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    status: str = "Executing"
    reason: str | None = None
    records: dict[str, Record] = field(default_factory=dict)
    outputs: dict[str, containers.StepResult] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def execution_id(self) -> str:
        return self.arn.rsplit("/", 1)[1]

    def steps(self) -> list[dict[str, Any]]:
        """The steps that started, oldest first, as ListPipelineExecutionSteps entries."""
        with self.lock:
            return [record.entry() for record in self.records.values()]

    def fail_at_once(self, problems: list[tuple[str | None, str]]) -> None:
        """End the execution before any step runs: the definition uses what cannot run here."""
        now = dt.datetime.now(dt.UTC)
        with self.lock:
            for step, problem in problems:
                if step is not None and step not in self.records:
                    self.records[step] = Record(step, now, "Failed", now, problem)
            self.status = "Failed"
            self.reason = "; ".join(
                f"step {step}: {problem}" if step else problem for step, problem in problems
            )

    def run(self) -> None:
        """Run every step that should run, in dependency order; set the final status."""
        steps = flatten(self.definition)
        order = list(steps)
        succeeded: set[str] = set()
        finished: set[str] = set()  # succeeded, failed or skipped
        failed = False
        running: dict[Future[bool], str] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.parallelism)) as pool:
            while True:
                for name in order:
                    if name in finished or name in running.values():
                        continue
                    step = steps[name]
                    if self._blocked(step, finished, succeeded):
                        finished.add(name)  # its branch was not taken, or a step it needs failed
                    elif not failed and step.needs <= succeeded:
                        running[pool.submit(self._run_step, step)] = name
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    name = running.pop(future)
                    finished.add(name)
                    if future.result():
                        succeeded.add(name)
                    else:
                        failed = True
        with self.lock:
            self.status = "Failed" if failed else "Succeeded"
            self.reason = STEP_FAILURE if failed else None

    def _blocked(self, step: Step, finished: set[str], succeeded: set[str]) -> bool:
        if any(need in finished and need not in succeeded for need in step.needs):
            return True
        if step.branch is not None and step.branch[0] in succeeded:
            outcome = self.outputs[step.branch[0]].properties["Outcome"] == "True"
            return outcome != step.branch[1]
        return False

    def _run_step(self, step: Step) -> bool:
        """Run one step; record its outcome; whether it succeeded."""
        record = Record(step.name, dt.datetime.now(dt.UTC))
        with self.lock:
            self.records[step.name] = record
        job_name = self._job_name(step.name)
        try:
            result, metadata = self._dispatch(step, job_name)
        except (containers.JobFailed, expressions.EvaluationError) as error:
            return self._end(record, "Failed", str(error))
        except (ClientError, BotoCoreError) as error:
            return self._end(record, "Failed", f"{type(error).__name__}: {error}")
        except Exception as error:  # an emulator bug must fail the step, never pass it
            return self._end(record, "Failed", f"InternalError: {error!r}")
        with self.lock:
            self.outputs[step.name] = result
            record.metadata = metadata
        if step.spec.get("Type") == "Fail":
            message = result.properties["ErrorMessage"]
            return self._end(record, "Failed", message)
        return self._end(record, "Succeeded", None)

    def _end(self, record: Record, status: str, reason: str | None) -> bool:
        with self.lock:
            record.status, record.reason = status, reason
            record.ended = dt.datetime.now(dt.UTC)
        return status == "Succeeded"

    def _dispatch(self, step: Step, job_name: str) -> tuple[containers.StepResult, dict[str, Any]]:
        kind, spec = step.spec["Type"], step.spec
        scope = self._scope(job_name)
        if kind == "Condition":
            holds = all(expressions.evaluate(c, scope) for c in spec["Arguments"]["Conditions"])
            outcome = "True" if holds else "False"
            return containers.StepResult({"Outcome": outcome}), {"Condition": {"Outcome": outcome}}
        arguments = expressions.resolve(spec.get("Arguments", {}), scope)
        if kind == "Fail":
            message = expressions.text(arguments.get("ErrorMessage", ""))
            result = containers.StepResult({"ErrorMessage": message})
            return result, {"Fail": {"ErrorMessage": message}}
        if kind == "RegisterModel":
            arn = self.sagemaker.create_model_package(**arguments)["ModelPackageArn"]
            result = containers.StepResult({**arguments, "ModelPackageArn": arn})
            return result, {"RegisterModel": {"Arn": arn}}
        if kind == "Model":
            arn = self.sagemaker.create_model(**arguments)["ModelArn"]
            return containers.StepResult({**arguments, "ModelArn": arn}), {"Model": {"Arn": arn}}
        container = containers.Container(self.workdir / step.name, self.job_aws)
        job_arn = self._job_arn(kind, job_name)
        if kind == "Processing":
            result = containers.run_processing(
                arguments,
                expressions.resolve(spec.get("PropertyFiles", []), scope),
                job_name=job_name,
                job_arn=job_arn,
                container=container,
                s3=self.s3,
            )
            return result, {"ProcessingJob": {"Arn": job_arn}}
        result = containers.run_training(
            arguments, job_name=job_name, job_arn=job_arn, container=container, s3=self.s3
        )
        return result, {"TrainingJob": {"Arn": job_arn}}

    def _scope(self, job_name: str) -> expressions.Scope:
        return expressions.Scope(
            parameters=self.parameters,
            execution=lambda name: self._variable(name, job_name),
            step=self._properties,
            property_file=self._property_file,
            json_at=self._json_at,
        )

    def _variable(self, name: str, job_name: str) -> Any:
        return {
            "PipelineExecutionId": self.execution_id,
            "PipelineExecutionArn": self.arn,
            "PipelineName": self.pipeline_arn.rsplit("/", 1)[1],
            "PipelineArn": self.pipeline_arn,
            "StartDateTime": self.started.isoformat(),
            "CurrentDateTime": dt.datetime.now(dt.UTC).isoformat(),
            "TrainingJobName": job_name,
            "ProcessingJobName": job_name,
        }[name]

    def _properties(self, step: str) -> dict[str, Any]:
        with self.lock:
            result = self.outputs.get(step)
        if result is None:
            raise expressions.EvaluationError(f"step {step} has not run: it has no properties")
        return result.properties

    def _property_file(self, step: str, name: str) -> Any:
        with self.lock:
            result = self.outputs.get(step)
        if result is None or name not in result.property_files:
            raise expressions.EvaluationError(f"step {step} has no property file {name}")
        return result.property_files[name]

    def _json_at(self, uri: str) -> Any:
        bucket, key = containers.split_s3_uri(uri)
        try:
            return json.loads(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except (ClientError, ValueError) as error:
            raise expressions.EvaluationError(f"{expressions.JSON_GET} {uri}: {error}") from None

    def _job_name(self, step: str) -> str:
        # SageMaker Pipelines names a step's job pipelines-<execution id>-<step>-<random>.
        suffix = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(10))
        name = _JOB_NAME.sub("-", f"pipelines-{self.execution_id}-{step}").strip("-")
        return f"{name[:52]}-{suffix}"

    def _job_arn(self, kind: str, job_name: str) -> str:
        partition, region, account = self.arn.split(":")[1], *self.arn.split(":")[3:5]
        resource = "processing-job" if kind == "Processing" else "training-job"
        return f"arn:{partition}:sagemaker:{region}:{account}:{resource}/{job_name.lower()}"
