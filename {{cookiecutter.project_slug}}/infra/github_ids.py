"""Print the GitHubOwnerId=... GitHubRepoId=... overrides `make bootstrap` gives infra/stack.yml.

They choose the OIDC subject form the roles trust, which must be the form this repository's
tokens carry. Repositories created, renamed or transferred on or after 2026-07-15 put the owner's
and the repository's immutable numeric IDs in the subject (`repo:OWNER@ID/REPO@ID:...`, GitHub
docs, OpenID Connect, "Immutable subject claims"); older ones the names alone, and then both
overrides are empty.

    python3 infra/github_ids.py OWNER REPO [OWNER_ID REPO_ID]

With the IDs given, prints them. Without, asks GitHub with the gh CLI (logged in):
`repos/OWNER/REPO/actions/oidc/customization/sub` says whether the default subject is used and
its prefix (`sub_claim_prefix`), and `repos/OWNER/REPO` gives the IDs. Standard library only: it
runs before any environment exists. Exits 2 with one line on stderr when it cannot tell.
"""

from __future__ import annotations

import re
import shutil
import sys

from gh import Refused, gh_api, report

GITHUB_ID = re.compile(r"[1-9][0-9]*")


def overrides(owner: str, repo: str, owner_id: str = "", repo_id: str = "") -> str:
    """The stack parameter overrides for this repository's subject form."""
    if owner_id or repo_id:
        if not (GITHUB_ID.fullmatch(owner_id) and GITHUB_ID.fullmatch(repo_id)):
            raise Refused(
                "GITHUB_OWNER_ID and GITHUB_REPO_ID must both be GitHub's numeric IDs "
                f"(got {owner_id!r} and {repo_id!r})"
            )
        return f"GitHubOwnerId={owner_id} GitHubRepoId={repo_id}"
    if shutil.which("gh") is None:
        raise Refused(
            f"the roles' OIDC trust needs {owner}/{repo}'s numeric IDs: install and log in to "
            "the gh CLI, or pass GITHUB_OWNER_ID=... GITHUB_REPO_ID=... "
            f"(gh api repos/{owner}/{repo} --jq '.owner.id, .id')"
        )
    subject = gh_api(f"repos/{owner}/{repo}/actions/oidc/customization/sub")
    if subject.get("use_default") is not True:
        raise Refused(
            f"{owner}/{repo} customizes its OIDC subject claim; the roles trust GitHub's default "
            f"subject (gh api -X PUT repos/{owner}/{repo}/actions/oidc/customization/sub "
            "-F use_default=true restores it)"
        )
    prefix = subject.get("sub_claim_prefix", "")
    if prefix == f"repo:{owner}/{repo}":
        print(
            f"note: {owner}/{repo}'s tokens carry the name-only subject {prefix}", file=sys.stderr
        )
        return "GitHubOwnerId= GitHubRepoId="
    details = gh_api(f"repos/{owner}/{repo}")
    owner_id, repo_id = str(details["owner"]["id"]), str(details["id"])
    # The subject spells the names as GitHub does; another spelling here would match no token.
    if prefix and prefix != f"repo:{owner}@{owner_id}/{repo}@{repo_id}":
        raise Refused(
            f"{owner}/{repo}'s tokens carry the subject prefix {prefix}: spell GITHUB_OWNER and "
            "GITHUB_REPO in config.py and the Makefile as it does"
        )
    return f"GitHubOwnerId={owner_id} GitHubRepoId={repo_id}"


def main(argv: list[str]) -> int:
    """Print the overrides, or one error line and exit 2."""
    if len(argv) not in (2, 4):
        print("usage: github_ids.py OWNER REPO [OWNER_ID REPO_ID]", file=sys.stderr)
        return 2
    return report(lambda: [overrides(*argv)])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
