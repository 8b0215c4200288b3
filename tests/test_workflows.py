"""The baked GitHub workflows (and this template's own CI): schema, zizmor, posture, commands.

For every option combination: SchemaStore's workflow schema and zizmor (offline, auditor
persona) report nothing; the triggers follow the branching model; the AWS jobs are the only
ones with an OIDC token and use the names config.py holds; every action is pinned to a full
commit SHA; every command a workflow runs exists; shellcheck passes on every `run:` script.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import TEMPLATE, BakedProject, uv

TEMPLATE_CI = TEMPLATE / ".github" / "workflows" / "ci.yml"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"uses: (\S+) # v\d+\.\d+\.\d+$")
# The AWS jobs, by workflow: the only jobs that may hold an OIDC token.
AWS_JOBS = {("retrain", "retrain"), ("deploy", "deploy"), ("rollback", "rollback")}


def tool(name: str) -> str:
    """A linter from the environment running these tests."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run the tests with `make test`")
    return found


def workflow_files(baked: BakedProject) -> dict[str, Path]:
    """The baked workflows by stem (pr, retrain, ...)."""
    return {p.stem: p for p in sorted((baked.path / ".github" / "workflows").glob("*.yml"))}


def load(path: Path) -> dict[str, Any]:
    """A workflow parsed; PyYAML reads the `on` key as True, so it is renamed back."""
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every (job id, step) of a workflow."""
    return [(job_id, s) for job_id, job in workflow["jobs"].items() for s in job.get("steps", [])]


def all_workflows(baked: BakedProject) -> dict[str, Path]:
    """The baked workflows plus the template's own CI workflow."""
    return {**workflow_files(baked), "template-ci": TEMPLATE_CI}


def config_values(baked: BakedProject) -> dict[str, Any]:
    code = (
        f"from {baked.package} import config as c; import json; print(json.dumps(dict("
        "region=c.AWS_REGION, branches=c.RETRAIN_BRANCHES, integration=c.INTEGRATION_BRANCH, "
        "retrain_var=c.RETRAIN_ROLE_ARN_VARIABLE, deploy_var=c.DEPLOY_ROLE_ARN_VARIABLE, "
        "session=c.GITHUB_SESSION_SECONDS, environments=c.ENVIRONMENTS, "
        "strategy=c.DEPLOYMENT_STRATEGY, strategies=c.STRATEGIES)))"
    )
    return json.loads(baked.run("python", "-c", code).stdout)


def test_the_workflow_set_follows_the_branching_model(baked: BakedProject) -> None:
    expected = {"pr", "retrain", "deploy", "rollback", "template-update"}
    if baked.answers["branching_model"] == "gitflow":
        expected.add("promote")
    assert set(workflow_files(baked)) == expected


def test_schema_accepts_every_workflow(baked: BakedProject) -> None:
    paths = [str(p) for p in all_workflows(baked).values()]
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *paths],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_reports_nothing(baked: BakedProject, tmp_path: Path) -> None:
    target = tmp_path / ".github" / "workflows"
    shutil.copytree(baked.path / ".github" / "workflows", target)
    shutil.copy(TEMPLATE_CI, target / "template-ci.yml")
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--persona", "auditor", "--format", "plain", str(target)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout, result.stdout


def test_zizmor_would_catch_an_unpinned_action(baked: BakedProject, tmp_path: Path) -> None:
    """zizmor really reads these files: one tag-pinned action fails it."""
    text = workflow_files(baked)["pr"].read_text(encoding="utf-8")
    broken = re.sub(r"actions/checkout@[0-9a-f]{40} # \S+", "actions/checkout@v7", text)
    (tmp_path / "pr.yml").write_text(broken, encoding="utf-8")
    result = subprocess.run(
        [tool("zizmor"), "--offline", str(tmp_path / "pr.yml")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0
    assert "unpinned-uses" in result.stdout


def test_triggers(baked: BakedProject) -> None:
    workflows = {name: load(path) for name, path in workflow_files(baked).items()}
    values = config_values(baked)
    assert set(workflows["pr"]["on"]) == {"pull_request", "workflow_call"}
    retrain = workflows["retrain"]["on"]
    assert set(retrain) == {"push", "workflow_dispatch"}
    assert retrain["push"]["branches"] == list(values["branches"]) == [values["integration"]]
    assert (
        set(workflows["deploy"]["on"]) == set(workflows["rollback"]["on"]) == {"workflow_dispatch"}
    )
    if baked.answers["branching_model"] == "gitflow":
        assert values["integration"] == "develop"
        assert workflows["promote"]["on"]["push"]["branches"] == ["main"]
    else:
        assert values["integration"] == "main"
    for name, workflow in workflows.items():
        assert "pull_request_target" not in workflow["on"], name
        assert "workflow_run" not in workflow["on"], name
    # Nothing trains or deploys a commit that has not passed the gate.
    for name in ("retrain", "promote"):
        if name in workflows:
            jobs = workflows[name]["jobs"]
            assert jobs["gate"]["uses"] == "$/.github/workflows/pr.yml"
            assert jobs[name]["needs"] == "gate"


def test_dispatch_inputs(baked: BakedProject) -> None:
    values = config_values(baked)
    deploy = load(workflow_files(baked)["deploy"])["on"]["workflow_dispatch"]["inputs"]
    assert set(deploy) == {"environment", "strategy", "version", "approve-first", "reason"}
    assert deploy["environment"]["type"] == "choice"
    assert deploy["environment"]["options"] == list(values["environments"])
    assert deploy["strategy"]["type"] == "choice"
    # "default" lets the command pick each environment's own default (config.default_strategy),
    # so the workflow cannot disagree with it; the rest is config.STRATEGIES, rendered.
    assert deploy["strategy"]["default"] == "default"
    assert deploy["strategy"]["options"] == ["default", *values["strategies"]]
    assert values["strategy"] == baked.answers["deployment_strategy"]
    assert f"{values['strategy']} for prod" in deploy["strategy"]["description"]
    assert deploy["version"]["required"] is False
    assert deploy["approve-first"] == {
        **deploy["approve-first"],
        "type": "boolean",
        "default": False,
    }
    assert deploy["reason"]["required"] is True
    rollback = load(workflow_files(baked)["rollback"])["on"]["workflow_dispatch"]["inputs"]
    assert set(rollback) == {"environment", "version", "reject-current", "reason"}
    assert rollback["environment"]["options"] == list(values["environments"])
    assert rollback["reject-current"]["type"] == "boolean"


def test_permissions_environments_and_aws_names(baked: BakedProject) -> None:
    values = config_values(baked)
    aws_jobs = set(AWS_JOBS)
    if baked.answers["branching_model"] == "gitflow":
        aws_jobs.add(("promote", "promote"))
    with_token = set()
    for name, path in all_workflows(baked).items():
        workflow = load(path)
        assert workflow["permissions"] == {}, name
        for job_id, job in workflow["jobs"].items():
            permissions = job["permissions"]
            if (name, job_id) == ("template-update", "update"):
                # The one job that writes to the repository: it pushes a branch and opens a PR.
                assert permissions == {"contents": "write", "pull-requests": "write"}
                continue
            assert permissions.get("contents") == "read", (name, job_id)
            assert set(permissions) <= {"contents", "id-token"}, (name, job_id)
            if permissions.get("id-token") == "write":
                with_token.add((name, job_id))
    assert with_token == aws_jobs
    for name, job_id in aws_jobs:
        job = load(workflow_files(baked)[name])["jobs"][job_id]
        [credentials] = [
            s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")
        ]
        variable = values["retrain_var"] if name == "retrain" else values["deploy_var"]
        assert credentials["with"]["role-to-assume"] == f"${{{{ vars.{variable} }}}}"
        assert credentials["with"]["aws-region"] == values["region"]
        assert credentials["with"]["role-duration-seconds"] == values["session"]
        assert job["timeout-minutes"] * 60 <= values["session"]
        # No dependency cache where AWS credentials are held.
        [setup_uv] = [s for s in job["steps"] if "setup-uv" in s.get("uses", "")]
        assert setup_uv["with"]["enable-cache"] is False
        if name == "retrain":
            # The retrain role trusts the branch, so the job has no environment to change that.
            assert "environment" not in job
            assert job["if"] == f"github.ref == 'refs/heads/{values['integration']}'"
        elif name == "promote":
            assert job["environment"] == "prod"
        else:
            assert job["environment"] == "${{ inputs.environment }}"


def test_concurrency_and_timeouts(baked: BakedProject) -> None:
    workflows = {name: load(path) for name, path in all_workflows(baked).items()}
    pr = workflows["pr"]["concurrency"]
    assert pr["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"
    assert "pull_request.number" in pr["group"]
    assert workflows["retrain"]["concurrency"] == {
        "group": "retrain-${{ github.ref }}",
        "cancel-in-progress": False,
    }
    endpoint_jobs = [("deploy", "deploy"), ("rollback", "rollback")]
    if "promote" in workflows:
        endpoint_jobs.append(("promote", "promote"))
    for name, job_id in endpoint_jobs:
        concurrency = workflows[name]["jobs"][job_id]["concurrency"]
        assert concurrency["group"].startswith("endpoint-"), name
        assert concurrency["cancel-in-progress"] is False, name
    for name, workflow in workflows.items():
        for job_id, job in workflow["jobs"].items():
            if "uses" not in job:  # a called workflow's own jobs carry the timeouts
                # GitHub-hosted jobs stop at 360 minutes; the AWS jobs' figures come from
                # config.py's budgets (the baked tests/test_budgets.py holds them to it).
                assert 0 < job["timeout-minutes"] <= 360, (name, job_id)


def test_actions_pinned_to_a_full_sha_with_a_version_comment(baked: BakedProject) -> None:
    for name, path in all_workflows(baked).items():
        for job_id, step in steps(load(path)):
            if "uses" in step:
                assert PINNED.match(step["uses"]), (name, job_id, step["uses"])
        for line in path.read_text(encoding="utf-8").splitlines():
            if "uses:" in line and "@" in line:
                assert VERSION_COMMENT.search(line.strip()), (name, line)
        for job_id, step in steps(load(path)):
            if "actions/checkout@" in step.get("uses", ""):
                assert step["with"]["persist-credentials"] is False, (name, job_id)


def test_no_expression_inside_run(baked: BakedProject) -> None:
    """Inputs and event data reach scripts through env:, never spliced into the script."""
    for name, path in all_workflows(baked).items():
        for job_id, step in steps(load(path)):
            assert "${{" not in step.get("run", ""), (name, job_id, step.get("name"))


def run_scripts(baked: BakedProject) -> list[tuple[str, str]]:
    return [
        (f"{name}/{job_id}/{step.get('name', '')}", step["run"])
        for name, path in all_workflows(baked).items()
        for job_id, step in steps(load(path))
        if "run" in step
    ]


def command_lines(script: str) -> list[list[str]]:
    """The uv commands of a script, one per (continued) line, without redirections."""
    commands = []
    for line in script.replace("\\\n", " ").splitlines():
        if line.strip().startswith("uv "):
            argv = shlex.split(line.strip())
            ends = [i for i, word in enumerate(argv) if word in {">", ">>", "|", "&&", ";"}]
            commands.append(argv[: ends[0]] if ends else argv)
    return commands


# uv flags that take a value (the rest of the workflows' uv flags are switches).
UV_VALUE_FLAGS = {"--only-group", "--group", "--no-group", "--format"}


def split_uv_run(argv: list[str]) -> tuple[list[str], list[str]]:
    """`uv run FLAGS COMMAND...` -> (FLAGS, COMMAND...)."""
    i = 2
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in UV_VALUE_FLAGS else 1
    return argv[2:i], argv[i:]


def test_every_command_a_workflow_runs_exists(baked: BakedProject) -> None:
    commands = [argv for where, script in run_scripts(baked) for argv in command_lines(script)]
    ran = set()
    for argv in commands:
        # uv itself accepts the flags (`--help` after them parses them, then stops).
        flags = split_uv_run(argv)[0] if argv[1] == "run" else argv[2:]
        result = subprocess.run(
            [uv(), argv[1], *flags, "--help"], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, (argv, result.stderr)
        if argv[1] != "run":
            continue
        command = split_uv_run(argv)[1]
        if command[:3] == ["python", "-m", baked.package]:
            subcommand = []
            for word in command[3:]:
                if word.startswith(("-", "$")):
                    break
                subcommand.append(word)
            baked.run("python", "-m", baked.package, *subcommand, "--help")
            ran.add(" ".join(subcommand))
        else:
            assert (baked.venv / "bin" / command[0]).exists(), command
            ran.add(command[0])
    expected = {"retrain", "deploy", "rollback", "registry approve", "pipeline definition"}
    assert (expected | {"ruff", "pytest", "zizmor", "cfn-lint", "pip-audit"}) - ran == set()


def test_retrain_flags_the_retrain_job_passes_exist(baked: BakedProject) -> None:
    [script] = [
        s for where, s in run_scripts(baked) if where.startswith("retrain/") and "retrain" in s
    ]
    [argv] = command_lines(script)
    command = split_uv_run(argv)[1]
    # No timeout flag: the command waits for its own budget, which fits inside the job's.
    assert command[3:] == ["retrain", "--commit", "$COMMIT_SHA", "--wait"]
    result = baked.run(
        "python",
        "-c",
        f"from {baked.package} import cli, config; "
        "a = cli.build_parser().parse_args(['retrain', '--commit', 'abc1234', '--wait']); "
        "print(a.handler.__module__, a.wait, a.timeout_seconds == config.RETRAIN_WAIT_SECONDS)",
    )
    assert result.stdout.split() == [f"{baked.package}.cli.retrain", "True", "True"]


def test_shellcheck_passes_on_every_run_script(baked: BakedProject, tmp_path: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        if os.environ.get("CI") == "true":
            pytest.fail("shellcheck is missing under CI; .ci/run installs it with apt-get")
        pytest.skip("shellcheck is not installed")
    problems = []
    for where, script in run_scripts(baked):
        # GitHub runs `run:` with `bash -e {0}` (and -o pipefail) on Linux runners.
        path = tmp_path / "script.sh"
        path.write_text(f"#!/usr/bin/env bash\nset -eo pipefail\n{script}", encoding="utf-8")
        result = subprocess.run(
            [shellcheck, "--severity=style", str(path)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            problems.append(f"{where}:\n{result.stdout}")
    assert problems == []
