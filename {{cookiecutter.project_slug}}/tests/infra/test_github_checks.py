"""`doctor`'s GitHub side: a well set-up repository passes, and each gap FAILs its own line.

GitHub is a table of REST answers shaped as GitHub's API reference documents them; gh itself is
exercised once, as a stand-in executable, for how its errors are read.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.infra import doctor, github_checks

REPO = github_checks.REPOSITORY
INTEGRATION = config.INTEGRATION_BRANCH


def _environment(env: str, reviewers: int) -> dict[str, Any]:
    rules = [{"type": "branch_policy"}]
    if reviewers:
        reviewer = {"type": "User", "reviewer": {"login": "octocat", "id": 1}}
        rules.append({"type": "required_reviewers", "reviewers": [reviewer] * reviewers})
    return {
        "name": env,
        "protection_rules": rules,
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
    }


def _healthy() -> dict[str, Any]:
    answers: dict[str, Any] = {
        REPO: {"id": 456789, "owner": {"id": 123456}, "default_branch": "main"},
        f"{REPO}/actions/variables": {
            "variables": [
                {"name": n, "value": v} for n, v in github_checks.REPOSITORY_VARIABLES.items()
            ]
        },
        f"{REPO}/actions/oidc/customization/sub": {
            "use_default": True,
            "sub_claim_prefix": config.GITHUB_SUBJECT_PREFIX,
        },
    }
    for env, branch in github_checks.BRANCHES.items():
        answers[f"{REPO}/environments/{env}"] = _environment(env, 1 if env == "prod" else 0)
        answers[f"{REPO}/environments/{env}/deployment-branch-policies"] = {
            "branch_policies": [{"name": branch, "type": "branch"}]
        }
        answers[f"{REPO}/environments/{env}/variables"] = {
            "variables": [
                {"name": n, "value": v} for n, v in github_checks.ENVIRONMENT_VARIABLES[env].items()
            ]
        }
    return answers


def _run(answers: dict[str, Any]) -> dict[str, doctor.Result]:
    def api(path: str) -> Any:
        return copy.deepcopy(answers.get(path))

    results = doctor.run(github_checks.checks(api), doctor.Context(), echo=lambda _: None)
    return {result.name: result for result in results}


def test_a_set_up_repository_passes_one_line_per_thing_checked() -> None:
    results = _run(_healthy())
    assert {name: r.status for name, r in results.items()} == {
        "GitHub repository": doctor.Status.PASS,
        "GitHub variable AWS_RETRAIN_ROLE_ARN": doctor.Status.PASS,
        "GitHub variable AWS_DEPLOY_ROLE_ARN (staging)": doctor.Status.PASS,
        "GitHub variable AWS_DEPLOY_ROLE_ARN (prod)": doctor.Status.PASS,
        "GitHub environment staging": doctor.Status.PASS,
        "GitHub environment prod": doctor.Status.PASS,
        "GitHub OIDC subject": doctor.Status.PASS,
    }
    assert results["GitHub environment prod"].detail == "deploys only from main, required reviewers"


def _broken(change: str) -> dict[str, Any]:
    answers = _healthy()
    env_vars = f"{REPO}/environments/staging/variables"
    if change == "no repository":
        del answers[REPO]
    elif change == "no retrain variable":
        answers[f"{REPO}/actions/variables"] = {"variables": []}
    elif change == "another stack's role":
        answers[env_vars]["variables"][0]["value"] = config.role_arn("someone-elses-role")
    elif change == "no staging environment":
        del answers[f"{REPO}/environments/staging"]
    elif change == "any branch deploys":
        answers[f"{REPO}/environments/prod"]["deployment_branch_policy"] = None
    elif change == "prod deploys from a feature branch":
        policies = answers[f"{REPO}/environments/prod/deployment-branch-policies"]
        policies["branch_policies"].append({"name": "feature/*", "type": "branch"})
    elif change == "prod unreviewed":
        answers[f"{REPO}/environments/prod"] = _environment("prod", reviewers=0)
    elif change == "customized subject":
        answers[f"{REPO}/actions/oidc/customization/sub"]["use_default"] = False
    elif change == "other subject form":
        other = "repo:someone@1/else@2"
        answers[f"{REPO}/actions/oidc/customization/sub"]["sub_claim_prefix"] = other
    return answers


CASES = {
    "no repository": ("GitHub repository", "gh repo create"),
    "no retrain variable": ("GitHub variable AWS_RETRAIN_ROLE_ARN", "gh variable set"),
    "another stack's role": ("GitHub variable AWS_DEPLOY_ROLE_ARN (staging)", "--env staging"),
    "no staging environment": ("GitHub environment staging", "make github-environments"),
    "any branch deploys": ("GitHub environment prod", "make github-environments"),
    "prod deploys from a feature branch": ("GitHub environment prod", "make github-environments"),
    "prod unreviewed": ("GitHub environment prod", "make github-environments"),
    "customized subject": ("GitHub OIDC subject", "use_default=true"),
    "other subject form": ("GitHub OIDC subject", "GITHUB_OWNER_ID"),
}


@pytest.mark.parametrize("change", CASES)
def test_each_gap_fails_its_own_line_with_the_fix(change: str) -> None:
    name, fix = CASES[change]
    results = _run(_broken(change))
    failing = [r for r in results.values() if r.status is doctor.Status.FAIL]
    assert [r.name for r in failing] == [name]
    assert fix in failing[0].fix


def test_without_gh_every_github_line_is_a_skip_that_fails_nothing() -> None:
    results = doctor.run(github_checks.checks(), doctor.Context(), echo=lambda _: None)
    assert {r.status for r in results} == {doctor.Status.SKIP}
    assert results[0].detail == "gh is not installed: GitHub not checked"


@pytest.fixture
def fake_gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A gh that answers as gh does when GitHub says 404 or refuses the token."""
    gh = tmp_path / "gh"
    gh.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "path = sys.argv[2]\n"
        "if path.endswith('/missing'):\n"
        "    sys.exit('gh: Not Found (HTTP 404)')\n"
        "sys.exit('gh: Bad credentials (HTTP 401)')\n",
        encoding="utf-8",
    )
    gh.chmod(0o755)
    monkeypatch.setattr(github_checks, "GH", str(gh))
    return gh


def test_gh_api_reads_404_as_absent_and_other_errors_as_gh_says_them(fake_gh: Path) -> None:
    assert github_checks.gh_api("repos/o/r/missing") is None
    with pytest.raises(github_checks.GitHubError, match=r"Bad credentials \(HTTP 401\)"):
        github_checks.gh_api("repos/o/r")


def test_a_logged_out_gh_skips_the_github_side(fake_gh: Path) -> None:
    results = doctor.run(github_checks.checks(), doctor.Context(), echo=lambda _: None)
    assert {r.status for r in results} == {doctor.Status.SKIP}
    assert "Bad credentials" in results[0].detail
