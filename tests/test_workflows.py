"""The baked GitHub workflows (and this template's own CI): schema, zizmor, posture, commands.

For every option combination: SchemaStore's workflow, action and Dependabot schemas and zizmor
(offline, auditor persona) report nothing; the triggers follow the branching model; the AWS jobs
are the only ones with an OIDC token and use the names config.py holds; every action is pinned to
a full commit SHA; every command a workflow runs exists; shellcheck passes on every `run:` script
(the workflows' and the setup action's); no run that loses work is cancelled by another.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import TEMPLATE, BakedProject, run_tool, uv

TEMPLATE_CI = TEMPLATE / ".github" / "workflows" / "ci.yml"
TEMPLATE_DEPENDABOT = TEMPLATE / ".github" / "dependabot.yml"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"uses: (\S+) # v\d+\.\d+\.\d+$")
# The repository's own setup action, by self-repository reference (the workflow's own commit).
SETUP = "$/.github/actions/setup"
SETUP_ACTION = Path(".github/actions/setup/action.yml")
# The AWS jobs, by workflow: the only jobs that may hold an OIDC token.
AWS_JOBS = {
    ("retrain", "retrain"),
    ("deploy", "deploy"),
    ("rollback", "rollback"),
    ("approve", "approve"),
}
# The jobs that change an endpoint: one at a time per endpoint, every pending run kept.
ENDPOINT_JOBS = {("deploy", "deploy"), ("rollback", "rollback")}


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
    """Every (job id, step) of a workflow, or ("setup", step) of the setup action."""
    if "runs" in workflow:
        return [("setup", s) for s in workflow["runs"]["steps"]]
    return [(job_id, s) for job_id, job in workflow["jobs"].items() for s in job.get("steps", [])]


def setup_action(baked: BakedProject) -> dict[str, Any]:
    """The setup action every job starts with."""
    return yaml.safe_load((baked.path / SETUP_ACTION).read_text(encoding="utf-8"))


def setup_step(job: dict[str, Any]) -> dict[str, Any]:
    """A job's call of the setup action: its first step, and its only one."""
    calls = [s for s in job["steps"] if s.get("uses") == SETUP]
    assert calls == [job["steps"][0]], job["steps"][0]
    return calls[0]


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
    expected = {"pr", "retrain", "deploy", "rollback", "approve", "template-update"}
    if baked.answers["branching_model"] == "gitflow":
        expected.add("promote")
    assert set(workflow_files(baked)) == expected


def test_schema_accepts_every_workflow(baked: BakedProject) -> None:
    paths = [str(p) for p in all_workflows(baked).values()]
    result = run_tool(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *paths],
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for schema, files in (
        ("vendor.github-actions", [baked.path / SETUP_ACTION]),
        ("vendor.dependabot", [baked.path / ".github" / "dependabot.yml", TEMPLATE_DEPENDABOT]),
    ):
        result = run_tool(
            [tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)], timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_reports_nothing(baked: BakedProject, tmp_path: Path) -> None:
    """The workflows, the setup action and both Dependabot files (its cooldown audit too)."""
    target = tmp_path / "repo" / ".github"
    shutil.copytree(baked.path / ".github", target)
    shutil.copytree(TEMPLATE / ".github", tmp_path / "template" / ".github")
    result = subprocess.run(
        [
            tool("zizmor"),
            "--offline",
            "--persona",
            "auditor",
            "--format",
            "plain",
            str(target),
            str(tmp_path / "template" / ".github"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout, result.stdout
    audited = re.findall(r"completed (\S+)", result.stderr)
    assert any(path.endswith(str(SETUP_ACTION)) for path in audited), result.stderr


def test_zizmor_would_catch_an_unpinned_action(baked: BakedProject, tmp_path: Path) -> None:
    """zizmor really reads the setup action: one tag-pinned action in it fails it."""
    text = (baked.path / SETUP_ACTION).read_text(encoding="utf-8")
    broken = re.sub(r"actions/checkout@[0-9a-f]{40} # \S+", "actions/checkout@v7", text)
    (tmp_path / "action.yml").write_text(broken, encoding="utf-8")
    result = run_tool([tool("zizmor"), "--offline", str(tmp_path / "action.yml")], timeout=120)
    assert result.returncode != 0
    assert "unpinned-uses" in result.stdout


def test_triggers(baked: BakedProject) -> None:
    workflows = {name: load(path) for name, path in workflow_files(baked).items()}
    values = config_values(baked)
    # A merge queue waits for the gate on its merge commit: without this trigger it stalls.
    assert workflows["pr"]["on"] == {
        "pull_request": None,
        "merge_group": {"types": ["checks_requested"]},
        "workflow_call": None,
    }
    retrain = workflows["retrain"]["on"]
    assert set(retrain) == {"push", "workflow_dispatch"}
    assert retrain["push"]["branches"] == list(values["branches"]) == [values["integration"]]
    for name in ("deploy", "rollback", "approve"):
        assert set(workflows[name]["on"]) == {"workflow_dispatch"}, name
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


def test_a_retrain_dispatched_off_the_integration_branch_fails(baked: BakedProject) -> None:
    """Red, with the reason, before the gate runs: not a skipped retrain that shows green."""
    jobs = load(workflow_files(baked)["retrain"])["jobs"]
    assert jobs["gate"]["needs"] == "branch"
    # No job-level `if:` that would turn a wrong branch into a green, skipped run.
    assert [job_id for job_id, job in jobs.items() if "if" in job] == []
    [step] = jobs["branch"]["steps"]
    assert step["env"] == {"REF": "${{ github.ref }}"}
    integration = config_values(baked)["integration"]
    for ref, code in ((f"refs/heads/{integration}", 0), ("refs/heads/feature/x", 1)):
        result = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            env={"PATH": os.environ["PATH"], "REF": ref},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == code, (ref, result.stdout)
    assert result.stdout.startswith(f"::error::Retrain runs on {integration} only")
    assert "refs/heads/feature/x" in result.stdout


def test_dispatch_inputs(baked: BakedProject) -> None:
    values = config_values(baked)
    deploy = load(workflow_files(baked)["deploy"])["on"]["workflow_dispatch"]["inputs"]
    # No approve-first: approving starts the deploy CodePipeline, which would race this job.
    assert set(deploy) == {"environment", "strategy", "version", "reason"}
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
    assert deploy["reason"]["required"] is True
    rollback = load(workflow_files(baked)["rollback"])["on"]["workflow_dispatch"]["inputs"]
    assert set(rollback) == {"environment", "version", "reject-current", "reason"}
    assert rollback["environment"]["options"] == list(values["environments"])
    assert rollback["reject-current"]["type"] == "boolean"
    approve = load(workflow_files(baked)["approve"])["on"]["workflow_dispatch"]["inputs"]
    assert {name: spec["required"] for name, spec in approve.items()} == {
        "version": True,
        "reason": True,
    }


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
            # A job either checks out the code (read) or needs nothing at all.
            assert permissions.get("contents") == "read" or permissions == {}, (name, job_id)
            assert set(permissions) <= {"contents", "id-token"}, (name, job_id)
            if permissions.get("id-token") == "write":
                with_token.add((name, job_id))
    assert with_token == aws_jobs
    # The setup action assumes the role for the session the longest job needs, in the region.
    [credentials] = [
        s for s in setup_action(baked)["runs"]["steps"]
        if "configure-aws-credentials" in s.get("uses", "")
    ]  # fmt: skip
    assert credentials["with"]["aws-region"] == values["region"]
    assert credentials["with"]["role-duration-seconds"] == values["session"]
    assert credentials["if"] == "inputs.aws-role != ''"
    for name, job_id in aws_jobs:
        job = load(workflow_files(baked)[name])["jobs"][job_id]
        setup = setup_step(job)["with"]
        variable = values["retrain_var"] if name == "retrain" else values["deploy_var"]
        assert setup["aws-role"] == f"${{{{ vars.{variable} }}}}"
        assert setup["aws-session-name"] == f"{name}-${{{{ github.run_id }}}}"
        assert setup["dependencies"] == "runtime"
        assert job["timeout-minutes"] * 60 <= values["session"]
        # No dependency cache where AWS credentials are held.
        assert "cache" not in setup
        if name == "retrain":
            # The retrain role trusts the branch, so the job has no environment to change that.
            assert "environment" not in job
        elif name in ("promote", "approve"):
            # Approval and promotion belong to the protected environment alone.
            assert job["environment"] == "prod"
        else:
            assert job["environment"] == "${{ inputs.environment }}"


def test_the_setup_action_refuses_a_cache_with_credentials(baked: BakedProject) -> None:
    """A job that holds AWS credentials never restores a cache another run could have written."""
    action = setup_action(baked)
    guard, *rest = action["runs"]["steps"]
    assert guard["if"] == "inputs.aws-role != '' && inputs.cache != ''"
    assert "exit 2" in guard["run"]
    [setup_uv] = [s for s in rest if "setup-uv" in s.get("uses", "")]
    assert setup_uv["with"]["enable-cache"] == "${{ inputs.cache != '' }}"
    assert setup_uv["with"]["cache-suffix"] == "${{ inputs.cache }}"
    assert action["inputs"]["cache"]["default"] == ""


def test_every_gate_job_caches_under_its_own_key(baked: BakedProject) -> None:
    """Jobs that install different groups and share a key never save the larger cache."""
    jobs = load(workflow_files(baked)["pr"])["jobs"]
    keys = {job_id: setup_step(job)["with"]["cache"] for job_id, job in jobs.items()}
    assert sorted(keys.values()) == sorted(set(keys.values()))
    assert set(keys) == {"lint", "test", "compat", "audit"}


def test_one_uv_version_from_pyproject(baked: BakedProject) -> None:
    """pyproject.toml's [tool.uv] required-version is the only place the uv version is written."""
    required = tomllib.loads(baked.read("pyproject.toml"))["tool"]["uv"]["required-version"]
    template = tomllib.loads((TEMPLATE / "pyproject.toml").read_text(encoding="utf-8"))
    assert template["tool"]["uv"]["required-version"] == required
    version = required.removeprefix("==")
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), required
    # setup-uv reads it (the setup action and the template's own CI).
    for where, step in [("setup", s) for s in setup_action(baked)["runs"]["steps"]] + steps(
        load(TEMPLATE_CI)
    ):
        if "setup-uv" in step.get("uses", ""):
            assert step["with"]["version-file"] == "pyproject.toml", where
    # Both Makefiles, with PATH's uv of another version, install this exact one.
    for root in (baked.path, TEMPLATE):
        fake_bin = baked.path.parent / "fake-uv-bin"
        fake_bin.mkdir(exist_ok=True)
        fake = fake_bin / "uv"
        fake.write_text("#!/bin/sh\necho 'uv 0.0.1'\n", encoding="utf-8")
        fake.chmod(0o755)
        for path_uv, expected in ((str(fake_bin), str(root / ".tools/bin/uv")),):
            result = subprocess.run(
                ["make", "-s", "--eval", "print-uv: ; @echo $(UV) $(UV_VERSION)", "print-uv"],
                cwd=root,
                env={"PATH": f"{path_uv}{os.pathsep}/usr/bin:/bin"},
                capture_output=True,
                text=True,
                check=True,
            )
            assert result.stdout.split() == [expected, version], root
    # Nothing else names a uv version (the build backend's range is another package's).
    for name in sorted(baked.files()):
        text = baked.read(name) if not name.endswith((".csv", ".png")) else ""
        for line in text.splitlines():
            if version in line and name != "pyproject.toml":
                pytest.fail(f"{name} names uv {version}: {line.strip()}")


def test_dependabot_keeps_every_pin_current_with_a_cooldown(baked: BakedProject) -> None:
    """Each Python project and each composite action is listed, with a cooldown on each."""

    def directories(update: dict[str, Any]) -> set[str]:
        return set(update.get("directories", [update.get("directory")]))

    def listed(root: Path, pattern: str) -> set[str]:
        """The directories holding `pattern`, as Dependabot names them ("/" is the root)."""
        return {
            "/" + p.parent.relative_to(root).as_posix().removeprefix(".")
            for p in root.rglob(pattern)
            # The template's own project folder is Jinja, which Dependabot cannot parse.
            if not {".venv", ".tools"} & set(p.parts) and "{{" not in str(p.relative_to(root))
        }

    for root in (baked.path, TEMPLATE):
        path = root / ".github" / "dependabot.yml"
        updates = yaml.safe_load(path.read_text(encoding="utf-8"))["updates"]
        by_ecosystem = {u["package-ecosystem"]: u for u in updates}
        assert set(by_ecosystem) == {"github-actions", "uv"}, path
        for update in updates:
            assert update["cooldown"]["default-days"] >= 7, path
        # Dependabot applies no semver cooldown to actions: such a key would mislead.
        assert set(by_ecosystem["github-actions"]["cooldown"]) == {"default-days"}, path
        composite = (
            listed(root / ".github" / "actions", "action.yml")
            if (root / ".github" / "actions").is_dir()
            else set()
        )
        composite = {f"/.github/actions{d}".rstrip("/") for d in composite}
        assert directories(by_ecosystem["github-actions"]) == {"/"} | composite, path
        assert directories(by_ecosystem["uv"]) == listed(root, "pyproject.toml"), path
    assert composite == set()  # the template has no composite action of its own
    baked_actions = yaml.safe_load(baked.read(".github/dependabot.yml"))["updates"][0]
    assert "/.github/actions/setup" in directories(baked_actions)


def test_concurrency_and_timeouts(baked: BakedProject) -> None:
    workflows = {name: load(path) for name, path in all_workflows(baked).items()}
    pr = workflows["pr"]["concurrency"]
    # Latest wins on a pull request only; merge-queue and called runs each get their own group.
    assert pr == {
        "group": "gate-${{ github.event.pull_request.number || github.run_id }}",
        "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
    }
    # Every merge trains: GitHub's default keeps one pending run and cancels the one before.
    assert workflows["retrain"]["concurrency"] == {
        "group": "retrain-${{ github.ref }}",
        "cancel-in-progress": False,
        "queue": "max",
    }
    assert workflows["approve"]["concurrency"]["queue"] == "max"
    endpoint_jobs = set(ENDPOINT_JOBS)
    if "promote" in workflows:
        endpoint_jobs.add(("promote", "promote"))
    groups = set()
    for name, job_id in endpoint_jobs:
        concurrency = workflows[name]["jobs"][job_id]["concurrency"]
        assert concurrency["group"].startswith("endpoint-"), name
        # A pending rollback is never cancelled by a later deploy, nor the reverse.
        assert concurrency["cancel-in-progress"] is False, name
        assert concurrency["queue"] == "max", name
        groups.add(concurrency["group"])
    assert groups <= {"endpoint-${{ inputs.environment }}", "endpoint-prod"}
    for name, workflow in workflows.items():
        for where in [workflow, *workflow["jobs"].values()]:
            concurrency = where.get("concurrency", {})
            # GitHub rejects queue: max with cancel-in-progress: true.
            if isinstance(concurrency, dict) and concurrency.get("queue") == "max":
                assert concurrency["cancel-in-progress"] is False, name
        for job_id, job in workflow["jobs"].items():
            if "uses" not in job:  # a called workflow's own jobs carry the timeouts
                # GitHub-hosted jobs stop at 360 minutes; the AWS jobs' figures come from
                # config.py's budgets (the baked tests/test_budgets.py holds them to it).
                assert 0 < job["timeout-minutes"] <= 360, (name, job_id)


def test_actions_pinned_to_a_full_sha_with_a_version_comment(baked: BakedProject) -> None:
    paths = {**all_workflows(baked), "setup-action": baked.path / SETUP_ACTION}
    for name, path in paths.items():
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "runs" not in document:
            document = load(path)
        for job_id, step in steps(document):
            if "uses" in step:
                # The setup action is this repository's own, at the workflow's commit.
                if step["uses"] == SETUP:
                    assert (baked.path / SETUP_ACTION).is_file()
                    continue
                assert PINNED.match(step["uses"]), (name, job_id, step["uses"])
        for line in path.read_text(encoding="utf-8").splitlines():
            if "uses:" in line and "@" in line:
                assert VERSION_COMMENT.search(line.strip()), (name, line)
        for job_id, step in steps(document):
            if "actions/checkout@" in step.get("uses", ""):
                assert step["with"]["persist-credentials"] is False, (name, job_id)


def all_steps(baked: BakedProject) -> list[tuple[str, str, dict[str, Any]]]:
    """(workflow, job, step) of every workflow, and ("setup-action", "setup", step)."""
    found = [
        (name, job_id, step)
        for name, path in all_workflows(baked).items()
        for job_id, step in steps(load(path))
    ]
    return found + [("setup-action", job, step) for job, step in steps(setup_action(baked))]


def test_no_expression_inside_run(baked: BakedProject) -> None:
    """Inputs and event data reach scripts through env:, never spliced into the script."""
    for name, job_id, step in all_steps(baked):
        assert "${{" not in step.get("run", ""), (name, job_id, step.get("name"))


def run_scripts(baked: BakedProject) -> list[tuple[str, str]]:
    return [
        (f"{name}/{job_id}/{step.get('name', '')}", step["run"])
        for name, job_id, step in all_steps(baked)
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
        s for where, s in run_scripts(baked) if where.startswith("retrain/") and "python -m" in s
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
