"""`make bootstrap` as a first-timer meets it, with a stand-in `aws` that plays the account.

The stand-in answers the AWS CLI calls infra/bootstrap.sh makes, from a JSON account state, and
records each call, so every branch runs here: a fresh account, GitHub's OIDC provider already
there (or made by this very stack), a failed first create left in ROLLBACK_COMPLETE, and the
wrong credentials.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.__package }} import config

IAM = f"arn:{config.PARTITION}:iam::{config.AWS_ACCOUNT_ID}"
PROVIDER = f"{IAM}:oidc-provider/token.actions.githubusercontent.com"
ROLE = f"{IAM}:role/"
# The repository's IDs, as given on the command line (infra/github_ids.py's own test covers
# asking GitHub for them).
OIDC_IDS = ("583231", "1296269")
FAKE_AWS = f"""#!{sys.executable}
import json, os, sys
args = sys.argv[1:]
state_file = os.environ["FAKE_AWS_STATE"]
state = json.load(open(state_file))
state["calls"].append(args)
def save():
    json.dump(state, open(state_file, "w"))
def say(text):
    save(); print(text); sys.exit(0)
def fail(text):
    save(); print(text, file=sys.stderr); sys.exit(255)
words = [a for a in args if not a.startswith("-")]
query = args[args.index("--query") + 1] if "--query" in args else ""
if words[1:3] == ["sts", "get-caller-identity"]:
    say(state["account"])
if words[1:3] == ["cloudformation", "describe-stacks"]:
    if state["stack"] is None:
        fail("An error occurred (ValidationError): Stack with id x does not exist")
    if "StackStatus" in query:
        say(state["stack"])
    key = query.split("OutputKey=='")[1].split("'")[0]
    say("{ROLE}" + key)
if words[1:3] == ["cloudformation", "describe-stack-events"]:
    say("SourceBucket\\tResource handler returned message: bucket already exists")
if words[1:3] == ["cloudformation", "delete-stack"]:
    state["stack"] = None
    say("")
if words[1:3] == ["cloudformation", "wait"]:
    say("")
if words[1:3] == ["iam", "list-open-id-connect-providers"]:
    say(state["provider"] or "None")
if words[1:3] == ["cloudformation", "describe-stack-resources"]:
    say(state["ours"] or "None")
if words[1:3] == ["cloudformation", "deploy"]:
    state["stack"] = "CREATE_COMPLETE"
    say("Successfully created/updated stack")
fail("unexpected call: " + " ".join(args))
"""


def bootstrap(
    tmp_path: Path, *, account: str = config.AWS_ACCOUNT_ID, stack: str | None = None,
    provider: str | None = None, ours: str | None = None, given: str = "",
    ids: tuple[str, str] = OIDC_IDS,
) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:  # fmt: skip
    """Run `make bootstrap` against the stand-in account; return the run and the AWS calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "aws"
    fake.write_text(FAKE_AWS)
    fake.chmod(0o755)
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            {"account": account, "stack": stack, "provider": provider, "ours": ours, "calls": []}
        )
    )
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_AWS_STATE": str(state),
        "HOME": str(tmp_path),
    }
    make = shutil.which("make")
    assert make is not None
    result = subprocess.run(
        [make, "--no-print-directory", "bootstrap", f"GITHUB_OIDC_PROVIDER_ARN={given}",
         f"GITHUB_OWNER_ID={ids[0]}", f"GITHUB_REPO_ID={ids[1]}"],
        cwd=config.REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return result, json.loads(state.read_text())["calls"]


def deployed_parameters(calls: list[list[str]]) -> list[str]:
    (deploy,) = [call for call in calls if call[2:4] == ["cloudformation", "deploy"]]
    return deploy[deploy.index("--parameter-overrides") + 1 :]


def test_a_fresh_account_creates_the_provider_and_prints_the_github_side(tmp_path: Path) -> None:
    result, calls = bootstrap(tmp_path)
    assert result.returncode == 0, result.stderr
    assert deployed_parameters(calls) == [
        f"ProjectName={config.PROJECT}",
        f"GitHubOwner={config.GITHUB_OWNER}",
        f"GitHubRepo={config.GITHUB_REPO}",
        # The immutable OIDC subject's IDs, so the roles trust this repository's tokens.
        f"GitHubOwnerId={OIDC_IDS[0]}",
        f"GitHubRepoId={OIDC_IDS[1]}",
    ]
    repo = f"{config.GITHUB_OWNER}/{config.GITHUB_REPO}"
    out = result.stdout
    assert (
        f"gh variable set AWS_RETRAIN_ROLE_ARN --repo {repo} --body {ROLE}GitHubRetrainRoleArn"
        in out
    )
    for env in config.ENVIRONMENTS:
        assert f"gh variable set AWS_DEPLOY_ROLE_ARN --repo {repo} --env {env} --body {ROLE}" in out
    # Branch policies and prod's reviewer: make github-environments.
    assert "  make github-environments" in out


def test_an_existing_github_provider_is_found_and_reused(tmp_path: Path) -> None:
    result, calls = bootstrap(tmp_path, provider=PROVIDER)
    assert result.returncode == 0, result.stderr
    assert f"ExistingGitHubOidcProviderArn={PROVIDER}" in deployed_parameters(calls)
    assert "already exists in the account: reusing" in result.stdout


def test_the_provider_this_stack_made_is_not_handed_back_to_it(tmp_path: Path) -> None:
    """Passing its own provider as "existing" would make CloudFormation delete it."""
    result, calls = bootstrap(tmp_path, stack="UPDATE_COMPLETE", provider=PROVIDER, ours=PROVIDER)
    assert result.returncode == 0, result.stderr
    assert not any(p.startswith("ExistingGitHubOidc") for p in deployed_parameters(calls))


def test_a_failed_first_create_is_deleted_and_created_again(tmp_path: Path) -> None:
    result, calls = bootstrap(tmp_path, stack="ROLLBACK_COMPLETE")
    assert result.returncode == 0, result.stderr
    assert "failed and was rolled back: SourceBucket\tResource handler returned" in result.stdout
    verbs = [call[3] for call in calls if call[2] == "cloudformation"]
    assert verbs.index("delete-stack") < verbs.index("wait") < verbs.index("deploy")


@pytest.mark.parametrize(
    ("given", "expected"), [("", "reusing"), (PROVIDER + "-given", "")], ids=["found", "given"]
)
def test_a_given_provider_wins(tmp_path: Path, given: str, expected: str) -> None:
    result, calls = bootstrap(tmp_path, provider=PROVIDER, given=given)
    chosen = given or PROVIDER
    assert f"ExistingGitHubOidcProviderArn={chosen}" in deployed_parameters(calls)
    assert expected in result.stdout


def test_credentials_for_another_account_stop_before_anything_changes(tmp_path: Path) -> None:
    result, calls = bootstrap(tmp_path, account="999999999999")
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == (
        f"error: the credentials are for account 999999999999, config.py names "
        f"{config.AWS_ACCOUNT_ID}: switch profile (AWS_PROFILE=...)"
    )
    assert [call[2:4] for call in calls] == [["sts", "get-caller-identity"]]


def test_without_the_subject_ids_nothing_changes(tmp_path: Path) -> None:
    """The roles' trust needs the subject form: when GitHub cannot say, stop after the login."""
    # A gh that is not logged in (the bin directory comes first on PATH).
    (tmp_path / "bin").mkdir()
    gh = tmp_path / "bin" / "gh"
    gh.write_text("#!/bin/sh\necho 'gh: not logged in to any GitHub hosts' >&2\nexit 4\n")
    gh.chmod(0o755)
    result, calls = bootstrap(tmp_path, ids=("", ""))
    assert result.returncode == 2
    subject = f"repos/{config.GITHUB_OWNER}/{config.GITHUB_REPO}/actions/oidc/customization/sub"
    assert result.stderr.splitlines()[0] == (
        f"error: gh api {subject} failed: gh: not logged in to any GitHub hosts"
    )
    assert [call[2:4] for call in calls] == [["sts", "get-caller-identity"]]
