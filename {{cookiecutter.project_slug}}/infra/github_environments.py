"""The GitHub environments staging and prod, with their protection (`make github-environments`).

The deploy roles trust a job by its environment (its OIDC subject ends in `environment:NAME`),
so an environment's rules are what keep an unreviewed branch, whose own edited workflow file
`workflow_dispatch` would run, away from AWS. Each environment gets a deployment branch policy
(staging: the integration branch; prod: main), and prod gets required reviewers (GitHub REST API,
"Deployment environments" and "Deployment branch policies"). Idempotent: run it again to repair.

    python3 infra/github_environments.py OWNER REPO INTEGRATION_BRANCH [REVIEWER_LOGIN ...]

Reviewers default to the gh user. Plans: on private repositories, environments need GitHub Pro,
Team or Enterprise, and required reviewers need Enterprise (they exist on public repositories on
every plan); when GitHub refuses the reviewers, the environment keeps its branch policy and this
says so. Standard library and the gh CLI only. Exits 2 with one line when it cannot go on.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from typing import Any

from gh import Refused, gh_api, report


def branch_policies(integration: str) -> dict[str, str]:
    """What each environment may deploy from: staging the integration branch, prod main."""
    return {"staging": integration, "prod": "main"}


def protect(owner: str, repo: str, env: str, branch: str, reviewers: list[int]) -> list[str]:
    """Create or update one environment, its branch policy and reviewers; say what was done."""
    path = f"repos/{owner}/{repo}/environments/{env}"
    settings: dict[str, Any] = {
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True}
    }
    done = []
    if reviewers:
        try:
            gh_api(
                path,
                "PUT",
                {**settings, "reviewers": [{"type": "User", "id": i} for i in reviewers]},
            )
            done.append(f"{env}: {len(reviewers)} required reviewer(s)")
        except Refused as error:
            gh_api(path, "PUT", settings)
            done.append(
                f"{env}: GitHub refused required reviewers ({error}); on a private repository "
                "they need GitHub Enterprise: the branch policy is then prod's only guard"
            )
    else:
        gh_api(path, "PUT", settings)
    existing = gh_api(f"{path}/deployment-branch-policies")
    names = {p["name"] for p in existing.get("branch_policies", [])}
    if branch not in names:
        gh_api(f"{path}/deployment-branch-policies", "POST", {"name": branch, "type": "branch"})
    extra = sorted(names - {branch})
    done.append(
        f"{env}: deploys only from {branch}"
        + (f" (also allowed, remove if unintended: {', '.join(extra)})" if extra else "")
    )
    return done


def main(argv: list[str]) -> int:
    """Protect both environments, printing one line per thing done, or one error line (exit 2)."""
    if len(argv) < 3:
        print(
            "usage: github_environments.py OWNER REPO INTEGRATION_BRANCH [REVIEWER_LOGIN ...]",
            file=sys.stderr,
        )
        return 2
    owner, repo, integration, *logins = argv

    def lines() -> Iterator[str]:
        if shutil.which("gh") is None:
            raise Refused("the gh CLI is needed (installed and logged in: gh auth login)")
        users = [gh_api(f"users/{login}") for login in logins] or [gh_api("user")]
        reviewers = [int(user["id"]) for user in users]
        for env, branch in branch_policies(integration).items():
            yield from protect(owner, repo, env, branch, reviewers if env == "prod" else [])

    return report(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
