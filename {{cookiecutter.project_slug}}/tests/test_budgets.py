"""One time budget: every wait fits inside the one that contains it, and every file agrees.

config.py derives the budgets; the workflows, the buildspec and the stack restate them (YAML
cannot import Python), so this test holds each copy to config.py. If a wait outlived the one
around it, the outer waiter would give up first and report a timeout while the work still ran.
"""

import re

import pytest
import yaml

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.cli import build_parser

ROOT = config.REPO_ROOT
MINUTE = 60


def _job_minutes(workflow: str, job: str) -> int:
    document = yaml.safe_load((ROOT / ".github" / "workflows" / workflow).read_text())
    return int(document["jobs"][job]["timeout-minutes"])


def _stack_resource(logical_id: str) -> str:
    stack = (ROOT / "infra" / "stack.yml").read_text(encoding="utf-8")
    return stack.split(f"\n  {logical_id}:\n", 1)[1].split("\n  # ---", 1)[0]


def test_retrain_waits_nest() -> None:
    assert config.PIPELINE_WAIT_SECONDS < config.RETRAIN_BUILD_SECONDS
    assert (
        config.RETRAIN_BUILD_SECONDS + config.RETRAIN_BUILD_QUEUE_SECONDS
        < config.RETRAIN_WAIT_SECONDS
        < config.RETRAIN_JOB_SECONDS
        <= config.GITHUB_SESSION_SECONDS
    )


def test_deploy_waits_nest() -> None:
    assert config.DEPLOY_WAIT_SECONDS < config.DEPLOY_JOB_SECONDS <= config.GITHUB_SESSION_SECONDS
    # GitHub-hosted jobs stop at 6 hours; IAM role sessions at 12.
    assert config.DEPLOY_JOB_SECONDS <= 360 * MINUTE
    assert config.RETRAIN_JOB_SECONDS <= 360 * MINUTE
    assert config.GITHUB_SESSION_SECONDS <= 12 * 3600


def test_the_commands_wait_for_their_budget() -> None:
    parser = build_parser()
    start = parser.parse_args(["pipeline", "start", "--wait"])
    assert start.timeout_seconds == config.PIPELINE_WAIT_SECONDS
    retrain = parser.parse_args(["retrain", "--commit", "0" * 40, "--wait"])
    assert retrain.timeout_seconds == config.RETRAIN_WAIT_SECONDS


def test_the_stack_uses_the_budgets() -> None:
    retrain = _stack_resource("RetrainBuild")
    assert f"TimeoutInMinutes: {config.RETRAIN_BUILD_SECONDS // MINUTE}\n" in retrain
    assert f"QueuedTimeoutInMinutes: {config.RETRAIN_BUILD_QUEUE_SECONDS // MINUTE}\n" in retrain
    deploy = _stack_resource("DeployBuild")
    assert f"TimeoutInMinutes: {config.DEPLOY_JOB_SECONDS // MINUTE}\n" in deploy
    stack = (ROOT / "infra" / "stack.yml").read_text(encoding="utf-8")
    sessions = re.findall(r"MaxSessionDuration: (\d+)", stack)
    assert sessions
    assert {int(s) for s in sessions} == {config.GITHUB_SESSION_SECONDS}


# Every job that changes an endpoint gets the deploy budget; promote exists under Gitflow only.
WORKFLOW_BUDGETS = [
    ("retrain.yml", "retrain", config.RETRAIN_JOB_SECONDS),
    ("deploy.yml", "deploy", config.DEPLOY_JOB_SECONDS),
    ("rollback.yml", "rollback", config.DEPLOY_JOB_SECONDS),
] + (
    [("promote.yml", "promote", config.DEPLOY_JOB_SECONDS)]
    if config.BRANCHING_MODEL == "gitflow"
    else []
)


@pytest.mark.parametrize(("workflow", "job", "seconds"), WORKFLOW_BUDGETS)
def test_the_workflows_use_the_budgets(workflow: str, job: str, seconds: int) -> None:
    assert _job_minutes(workflow, job) == seconds // MINUTE


def test_the_role_session_outlives_every_job() -> None:
    # The setup action assumes the role for every job, under one session length.
    action = (ROOT / ".github" / "actions" / "setup" / "action.yml").read_text(encoding="utf-8")
    assert f"role-duration-seconds: {config.GITHUB_SESSION_SECONDS}\n" in action
