"""Which role of the stack runs which command in AWS, read from the bake's own files.

- A GitHub job that configures AWS credentials assumes the role its `role-to-assume` variable
  names (or the setup action's `aws-role`, which it passes on); `make bootstrap` prints each
  stack output's Description, which says which GitHub variable (of the repository, or of one
  GitHub environment) to set to it. A job bound to
  `environment: X` reads environment X's variable (an environment variable overrides the
  repository's: GitHub docs, "Variables", precedence). `${{ inputs.name }}` environments count
  once per option of the workflow_dispatch input.
- A CodeBuild project runs its Source.BuildSpec as its ServiceRole; DEPLOY_ENV-style variables
  take the project's value and every CodePipeline action's override.
- Each `python -m <package> ...` line those run is an invocation: the command words and --env.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from iam.records import Invocation, invocation_of

EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
SETUP_ACTION = "$/.github/actions/setup"


@dataclass(frozen=True)
class Runner:
    """A role of the stack that runs one invocation of the command line."""

    identity: str  # the role's logical id in infra/stack.yml
    invocation: Invocation
    source: str  # where the bake's files say so


def role_ids(stack: Any) -> list[str]:
    return [name for name, r in stack.resources.items() if r["Type"] == "AWS::IAM::Role"]


def role_by_arn(stack: Any, arn: str) -> str | None:
    """The logical id of the stack's role with this ARN."""
    return next((r for r in role_ids(stack) if stack.arn(r) == arn), None)


def role_by_name(stack: Any, name: str) -> str | None:
    """The logical id of the stack's role with this name."""
    return next((r for r in role_ids(stack) if stack.name(r) == name), None)


def runners(root: Path, stack: Any, package: str) -> list[Runner]:
    """Every (role, invocation) that the workflows and buildspecs of a bake run in AWS."""
    return [*workflow_runners(root, stack, package), *buildspec_runners(root, stack, package)]


def _python_lines(script: str, package: str) -> Iterator[list[str]]:
    """The argument words of each `python -m <package>` command in a shell script."""
    for line in script.splitlines():
        found = re.search(rf"python -m {re.escape(package)}(\s.*)?$", line)
        if found:
            yield shlex.split(found.group(1) or "", comments=True)


def _env_word(words: list[str], script: str) -> str | None:
    """The --env argument of a command, also when the script passes it in an array."""
    if invocation_of(words).env is not None:
        return invocation_of(words).env
    if any(w.startswith("$") and "[@]" in w for w in words):
        found = re.search(r"--env[ =]\"?(\$\{?\w+\}?|[a-z]+)\"?", script)
        return found.group(1) if found else None
    return None


def _variable(word: str) -> str | None:
    found = re.fullmatch(r"\$\{?(\w+)\}?", word)
    return found.group(1) if found else None


def _role_variable_output(stack: Any, variable: str, environment: str | None) -> str:
    """The role the stack output for this GitHub variable (and environment) names."""
    outputs = stack.resolve(stack.template.get("Outputs", {}))
    wanted = []
    if environment is not None:
        wanted.append(rf"environment {re.escape(environment)}\b.*\b{variable}\b")
    wanted.append(rf"repository variable {variable}\b")
    for pattern in wanted:
        for output in outputs.values():
            if re.search(pattern, output.get("Description", "")):
                role = role_by_arn(stack, output["Value"])
                if role is None:
                    raise AssertionError(f"output for {variable} names no role: {output}")
                return role
    raise AssertionError(
        f"no stack output says which role the GitHub variable {variable} holds"
        + (f" in environment {environment}" if environment else "")
    )


def _on(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True.
    on = workflow.get("on", workflow.get(True, {}))
    return on if isinstance(on, dict) else {}


def _environments(job: dict[str, Any], workflow: dict[Any, Any]) -> list[str | None]:
    environment = job.get("environment")
    if isinstance(environment, dict):
        environment = environment.get("name")
    if environment is None:
        return [None]
    expression = EXPRESSION.fullmatch(str(environment))
    if expression is None:
        return [str(environment)]
    name = re.fullmatch(r"inputs\.([\w-]+)", expression.group(1))
    inputs = (_on(workflow).get("workflow_dispatch") or {}).get("inputs", {})
    if name is None or name.group(1) not in inputs or "options" not in inputs[name.group(1)]:
        raise AssertionError(f"cannot tell which environments {environment} stands for")
    return list(inputs[name.group(1)]["options"])


def workflow_runners(root: Path, stack: Any, package: str) -> Iterator[Runner]:
    """The jobs of every workflow that assume a role, and what they run with it."""
    for path in sorted((root / ".github" / "workflows").glob("*.yml")):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        for job_id, job in workflow.get("jobs", {}).items():
            steps = job.get("steps", [])
            # The role comes from configure-aws-credentials' role-to-assume, or from the
            # repository's setup action (.github/actions/setup), which passes aws-role to it.
            logins = [
                i
                for i, s in enumerate(steps)
                if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials")
                or (s.get("uses") == SETUP_ACTION and (s.get("with") or {}).get("aws-role"))
            ]
            if not logins:
                continue
            login = steps[logins[0]]["with"]
            role_expression = EXPRESSION.fullmatch(login.get("role-to-assume") or login["aws-role"])
            variable = re.fullmatch(
                r"vars\.(\w+)", role_expression.group(1) if role_expression else ""
            )
            if variable is None:
                raise AssertionError(f"{path.name} {job_id}: role-to-assume is not a variable")
            job_environment = job.get("environment")
            for environment in _environments(job, workflow):
                role = _role_variable_output(stack, variable.group(1), environment)
                for step in steps[logins[0] + 1 :]:
                    script = step.get("run") or ""
                    step_env = step.get("env") or {}
                    for words in _python_lines(script, package):
                        env = _resolve_workflow_env(
                            _env_word(words, script), step_env, job_environment, environment
                        )
                        yield Runner(
                            role,
                            Invocation(invocation_of(words).command, env),
                            f".github/workflows/{path.name} job {job_id}"
                            + (f" (environment {environment})" if environment else ""),
                        )


def _resolve_workflow_env(
    word: str | None, step_env: dict[str, Any], job_environment: Any, environment: str | None
) -> str | None:
    if word is None or _variable(word) is None:
        return word
    value = str(step_env.get(_variable(word), ""))
    if value and value == str(job_environment):
        # The step passes the job's own environment expression: the environment bound here.
        return environment
    if re.fullmatch(r"[a-z]+", value):
        return value
    raise AssertionError(f"cannot tell which environment {word} ({value!r}) is")


def buildspec_runners(root: Path, stack: Any, package: str) -> Iterator[Runner]:
    """Every CodeBuild project's buildspec commands, run as the project's service role."""
    projects = stack.of_type("AWS::CodeBuild::Project")
    pipelines = stack.of_type("AWS::CodePipeline::Pipeline")
    for project_id, project in projects.items():
        role = role_by_arn(stack, project["ServiceRole"])
        if role is None:
            raise AssertionError(f"{project_id}: ServiceRole is not a role of the stack")
        spec_name = project["Source"]["BuildSpec"]
        spec = yaml.safe_load((root / spec_name).read_text(encoding="utf-8"))
        values = _codebuild_variables(project, pipelines)
        for variable, value in (spec.get("env", {}).get("variables") or {}).items():
            values.setdefault(variable, set()).add(str(value))
        for phase in (spec.get("phases") or {}).values():
            for command in phase.get("commands") or []:
                for words in _python_lines(command, package):
                    env_word = _env_word(words, command)
                    name = _variable(env_word) if env_word else None
                    envs = sorted(values.get(name, set())) if name else [env_word]
                    if name and not envs:
                        raise AssertionError(f"{spec_name}: nothing sets {env_word}")
                    for env in envs:
                        yield Runner(
                            role,
                            Invocation(invocation_of(words).command, env),
                            f"{spec_name} (CodeBuild project {project_id})",
                        )


def _codebuild_variables(
    project: dict[str, Any], pipelines: dict[str, dict[str, Any]]
) -> dict[str, set[str]]:
    """Each environment variable's values: the project's, and each pipeline action's override."""
    values: dict[str, set[str]] = {}
    for variable in project.get("Environment", {}).get("EnvironmentVariables", []):
        values.setdefault(variable["Name"], set()).add(str(variable["Value"]))
    for pipeline in pipelines.values():
        for stage in pipeline["Stages"]:
            for action in stage["Actions"]:
                configuration = action.get("Configuration", {})
                if configuration.get("ProjectName") != project["Name"]:
                    continue
                for variable in json.loads(configuration.get("EnvironmentVariables", "[]")):
                    values.setdefault(variable["name"], set()).add(str(variable["value"]))
    return values
