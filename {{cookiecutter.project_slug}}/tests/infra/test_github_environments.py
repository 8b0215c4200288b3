"""infra/github_environments.py (`make github-environments`): the environments' protection.

Run as make runs it, with a stand-in `gh` on PATH that answers GitHub's REST API from a table
and records every call, so the test sees the exact requests a real repository would get.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import fake_gh
import pytest

from {{ cookiecutter.__package }} import config

SCRIPT = config.REPO_ROOT / "infra" / "github_environments.py"
OWNER, REPO = "octo-org", "octo-repo"
ENVS = f"repos/{OWNER}/{REPO}/environments"


def run(
    tmp_path: Path, *reviewers: str, responses: dict[str, Any] | None = None
) -> tuple[subprocess.CompletedProcess, list[list[Any]]]:
    """The script with the stand-in gh (none when responses is None); its result and gh's calls.
    What the table lacks is answered {}, as GitHub answers the PUTs."""
    argv = [sys.executable, str(SCRIPT), OWNER, REPO, config.INTEGRATION_BRANCH, *reviewers]
    return fake_gh.run(tmp_path, argv, responses, otherwise={})


BRANCH_POLICY = {
    "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True}
}


def test_a_new_repository_gets_both_environments(tmp_path: Path) -> None:
    result, calls = run(tmp_path, responses={"GET user": {"id": 42, "login": "me"}})
    assert result.returncode == 0, result.stderr
    assert calls == [
        ["GET", "user", None],
        ["PUT", f"{ENVS}/staging", BRANCH_POLICY],
        ["GET", f"{ENVS}/staging/deployment-branch-policies", None],
        [
            "POST",
            f"{ENVS}/staging/deployment-branch-policies",
            {"name": config.INTEGRATION_BRANCH, "type": "branch"},
        ],
        ["PUT", f"{ENVS}/prod", {**BRANCH_POLICY, "reviewers": [{"type": "User", "id": 42}]}],
        ["GET", f"{ENVS}/prod/deployment-branch-policies", None],
        ["POST", f"{ENVS}/prod/deployment-branch-policies", {"name": "main", "type": "branch"}],
    ]
    assert result.stdout.splitlines() == [
        f"staging: deploys only from {config.INTEGRATION_BRANCH}",
        "prod: 1 required reviewer(s)",
        "prod: deploys only from main",
    ]


def test_named_reviewers_and_existing_policies(tmp_path: Path) -> None:
    responses = {
        "GET users/alice": {"id": 7},
        "GET users/bob": {"id": 8},
        f"GET {ENVS}/prod/deployment-branch-policies": {
            "branch_policies": [{"name": "main"}, {"name": "release/*"}]
        },
    }
    result, calls = run(tmp_path, "alice", "bob", responses=responses)
    assert result.returncode == 0, result.stderr
    prod = [c for c in calls if c[1] == f"{ENVS}/prod"]
    assert prod[0][2]["reviewers"] == [{"type": "User", "id": 7}, {"type": "User", "id": 8}]
    # main is there already: no second policy, and the stray one is pointed out.
    assert ["POST", f"{ENVS}/prod/deployment-branch-policies"] not in [c[:2] for c in calls]
    assert "prod: deploys only from main (also allowed, remove if unintended: release/*)" in (
        result.stdout.splitlines()
    )


def test_a_plan_without_reviewers_keeps_the_branch_policy(tmp_path: Path) -> None:
    """Private repositories below Enterprise have no required reviewers: say so, go on."""
    responses = {
        "GET user": {"id": 42},
        f"PUT {ENVS}/prod +reviewers": {"error": "gh: Failed to create the environment (HTTP 422)"},
    }
    result, calls = run(tmp_path, responses=responses)
    assert result.returncode == 0, result.stderr
    assert ["PUT", f"{ENVS}/prod", BRANCH_POLICY] in calls
    [line] = [t for t in result.stdout.splitlines() if "refused required reviewers" in t]
    assert "need GitHub Enterprise" in line


@pytest.mark.parametrize(
    ("responses", "message"),
    [
        pytest.param(
            None, "the gh CLI is needed (installed and logged in: gh auth login)", id="no-gh"
        ),
        pytest.param(
            {"GET user": {"id": 1}, f"PUT {ENVS}/staging": {"error": "gh: Not Found (HTTP 404)"}},
            f"gh api -X PUT {ENVS}/staging failed: gh: Not Found (HTTP 404)",
            id="no-access",
        ),
    ],
)
def test_what_stops_it_is_one_line_and_exit_2(
    tmp_path: Path, responses: dict[str, Any] | None, message: str
) -> None:
    result, _ = run(tmp_path, responses=responses)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"error: {message}"]


def test_make_github_environments_runs_it_for_this_repository() -> None:
    makefile = (config.REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert (
        f"\tpython3 infra/github_environments.py {config.GITHUB_OWNER} {config.GITHUB_REPO} "
        f"{config.INTEGRATION_BRANCH} $(REVIEWERS)\n"
    ) in makefile
