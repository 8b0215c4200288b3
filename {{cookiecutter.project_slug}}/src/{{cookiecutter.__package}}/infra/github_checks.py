"""`doctor`'s GitHub side: the variables the workflows read, the environments' protection, and
the OIDC subject form the repository's tokens carry, read through the gh CLI's REST calls.

Checked only when gh is installed and logged in; otherwise each line is a SKIP saying so, since
the AWS side is still worth checking from a machine without gh. GitHub REST API references:
"Variables" (repository and environment variables), "Deployment environments" (protection_rules,
deployment_branch_policy), "Deployment branch policies", and "OIDC" (the repository's subject
template: use_default, and sub_claim_prefix, the prefix its tokens' `sub` carries).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.infra.doctor import Check, Context, Result, Status, failed, passed

REPOSITORY = f"repos/{config.GITHUB_OWNER}/{config.GITHUB_REPO}"
SLUG = f"{config.GITHUB_OWNER}/{config.GITHUB_REPO}"
# The variables the workflows read (`vars.NAME`), where they read them: the repository for the
# retrain job, each environment for its deploy, rollback and approve jobs.
REPOSITORY_VARIABLES = {"AWS_RETRAIN_ROLE_ARN": config.role_arn(config.GITHUB_RETRAIN_ROLE)}
ENVIRONMENT_VARIABLES = {
    env: {"AWS_DEPLOY_ROLE_ARN": config.role_arn(config.github_deploy_role(env))}
    for env in config.ENVIRONMENTS
}
# Which branch each environment deploys from: what `make github-environments` sets.
BRANCHES = {"staging": config.INTEGRATION_BRANCH, "prod": "main"}


# The gh executable; tests name one that does not exist, so no test reaches GitHub.
GH = "gh"


class GitHubError(Exception):
    """A gh call that failed; its message is gh's last line."""


def gh_api(path: str) -> Any:
    """One GET of GitHub's REST API through gh; None when GitHub answers 404."""
    result = subprocess.run(  # noqa: S603 - a fixed argv; the path is built from config.py
        [GH, "api", path],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        if "(HTTP 404)" in reason:
            return None
        raise GitHubError(f"gh api {path}: {reason}")
    return json.loads(result.stdout)


def checks(api: Callable[[str], Any] | None = None) -> tuple[Check, ...]:
    """The GitHub checks, run through `api` (gh's by default); skipped when gh is missing or
    logged out."""
    if api is None and shutil.which(GH):
        api = gh_api

    def repository(_: Context) -> Iterator[Result]:
        if api is None:
            yield Result(
                "GitHub repository", Status.SKIP, "gh is not installed: GitHub not checked"
            )
            return
        try:
            details = api(REPOSITORY)
        except GitHubError as error:
            yield Result("GitHub repository", Status.SKIP, f"{error}: GitHub not checked")
            return
        if details is None:
            yield failed(
                "GitHub repository",
                f"{SLUG} not found (or gh's account cannot see it)",
                f"gh repo create {SLUG} --private --source . --push",
            )
            return
        yield passed("GitHub repository", f"{SLUG} (default branch {details['default_branch']})")

    return (
        Check("GitHub repository", repository),
        *(
            Check(name, _guarded(name, check, api or gh_api), requires=("GitHub repository",))
            for name, check in (
                ("GitHub variables", _variables),
                ("GitHub environments", _environments),
                ("GitHub OIDC subject", _subject),
            )
        ),
    )


def _guarded(
    name: str, check: Callable[[Callable[[str], Any]], Iterator[Result]], api: Callable[[str], Any]
) -> Callable[[Context], list[Result]]:
    """A check whose failed gh call becomes its FAIL line, as an AWS error does."""

    def run(_: Context) -> list[Result]:
        try:
            return list(check(api))
        except GitHubError as error:
            return [failed(name, str(error), "check gh's access to the repository, then doctor")]

    return run


def _variables(api: Callable[[str], Any]) -> Iterator[Result]:
    """Each variable the workflows read exists where they read it, naming this stack's role."""
    places = {"": (f"{REPOSITORY}/actions/variables", REPOSITORY_VARIABLES)} | {
        env: (f"{REPOSITORY}/environments/{env}/variables", wanted)
        for env, wanted in ENVIRONMENT_VARIABLES.items()
    }
    for env, (path, wanted) in places.items():
        listed = api(path) or {}
        have = {v["name"]: v["value"] for v in listed.get("variables", [])}
        where = f"environment {env}" if env else "repository"
        for variable, value in wanted.items():
            name = f"GitHub variable {variable}" + (f" ({env})" if env else "")
            flag = f" --env {env}" if env else ""
            fix = f"gh variable set {variable} --body {value}{flag} --repo {SLUG}"
            if variable not in have:
                yield failed(name, f"missing in the {where}", fix)
            elif have[variable] != value:
                yield failed(name, f"the {where}'s is {have[variable]}, not {value}", fix)
            else:
                yield passed(name, f"set in the {where}")


def _environments(api: Callable[[str], Any]) -> Iterator[Result]:
    """staging and prod exist, deploy only from their branch, and prod waits for a reviewer."""
    fix = "make github-environments"
    for env, branch in BRANCHES.items():
        name = f"GitHub environment {env}"
        found = api(f"{REPOSITORY}/environments/{env}")
        if found is None:
            yield failed(name, "missing", fix)
            continue
        policy = found.get("deployment_branch_policy") or {}
        if not policy.get("custom_branch_policies"):
            yield failed(name, "deploys from any branch (no branch policy)", fix)
            continue
        listed = api(f"{REPOSITORY}/environments/{env}/deployment-branch-policies") or {}
        branches = sorted(p["name"] for p in listed.get("branch_policies", []))
        if branches != [branch]:
            yield failed(
                name, f"deploys from {', '.join(branches) or 'no branch'}, not {branch}", fix
            )
            continue
        rules = {rule["type"]: rule for rule in found.get("protection_rules", [])}
        if env == "prod" and not rules.get("required_reviewers", {}).get("reviewers"):
            yield failed(
                name,
                "no required reviewers: a merge to main deploys to prod unreviewed",
                f"{fix} (on private repositories reviewers need GitHub Enterprise; README)",
            )
            continue
        reviewed = ", required reviewers" if env == "prod" else ""
        yield passed(name, f"deploys only from {branch}{reviewed}")


def _subject(api: Callable[[str], Any]) -> Iterator[Result]:
    """The subject the repository's tokens carry is the one the roles trust (config.py)."""
    name = "GitHub OIDC subject"
    template = api(f"{REPOSITORY}/actions/oidc/customization/sub") or {}
    if template.get("use_default") is not True:
        yield failed(
            name,
            "the repository customizes its subject claim; the roles trust GitHub's default",
            f"gh api -X PUT {REPOSITORY}/actions/oidc/customization/sub -F use_default=true",
        )
        return
    prefix = template.get("sub_claim_prefix", "")
    if prefix != config.GITHUB_SUBJECT_PREFIX:
        yield failed(
            name,
            f"tokens carry {prefix or 'an unreported prefix'}, the roles trust "
            f"{config.GITHUB_SUBJECT_PREFIX}",
            "set GITHUB_OWNER_ID and GITHUB_REPO_ID in config.py as the prefix says, then "
            "make bootstrap",
        )
        return
    yield passed(name, f"tokens carry {prefix}, as the roles trust")
