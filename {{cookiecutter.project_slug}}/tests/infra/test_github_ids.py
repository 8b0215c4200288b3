"""infra/github_ids.py: the subject form `make bootstrap` gives the stack, from what GitHub says.

Run as `make bootstrap` runs it, with a stand-in `gh` on PATH that answers GitHub's documented
REST responses (the OIDC subject customization and the repository) from a table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import fake_gh
import pytest

from {{ cookiecutter.__package }} import config

SCRIPT = config.REPO_ROOT / "infra" / "github_ids.py"
OWNER, REPO = "octo-org", "octo-repo"
SUBJECT_PATH = f"repos/{OWNER}/{REPO}/actions/oidc/customization/sub"
REPO_PATH = f"repos/{OWNER}/{REPO}"


def run(
    tmp_path: Path, *args: str, responses: dict | None = None
) -> tuple[subprocess.CompletedProcess, list[list]]:
    """The script with a stand-in gh (none when responses is None) answering GETs by path; its
    result and gh's calls. A path the table lacks is GitHub's 404."""
    table = None if responses is None else {f"GET {path}": a for path, a in responses.items()}
    return fake_gh.run(tmp_path, [sys.executable, str(SCRIPT), *args], table)


def test_ids_given_are_passed_without_asking_github(tmp_path: Path) -> None:
    result, calls = run(tmp_path, OWNER, REPO, "583231", "1296269", responses={})
    assert (result.returncode, result.stdout) == (0, "GitHubOwnerId=583231 GitHubRepoId=1296269\n")
    assert calls == []


def test_a_repository_with_immutable_subjects_gets_its_ids(tmp_path: Path) -> None:
    responses = {
        SUBJECT_PATH: {
            "use_default": True,
            "sub_claim_prefix": f"repo:{OWNER}@583231/{REPO}@1296269",
        },
        REPO_PATH: {"id": 1296269, "name": REPO, "owner": {"id": 583231, "login": OWNER}},
    }
    result, calls = run(tmp_path, OWNER, REPO, responses=responses)
    assert (result.returncode, result.stdout) == (0, "GitHubOwnerId=583231 GitHubRepoId=1296269\n")
    assert calls == [["GET", SUBJECT_PATH, None], ["GET", REPO_PATH, None]]


def test_an_older_repository_keeps_the_name_only_subject(tmp_path: Path) -> None:
    responses = {SUBJECT_PATH: {"use_default": True, "sub_claim_prefix": f"repo:{OWNER}/{REPO}"}}
    result, _ = run(tmp_path, OWNER, REPO, responses=responses)
    assert (result.returncode, result.stdout) == (0, "GitHubOwnerId= GitHubRepoId=\n")
    assert "name-only subject" in result.stderr


@pytest.mark.parametrize(
    ("args", "responses", "message"),
    [
        pytest.param((), None, "install and log in to the gh CLI", id="no-gh"),
        pytest.param(("583231", ""), {}, "must both be GitHub's numeric IDs", id="one-id"),
        pytest.param(("58a", "1"), {}, "must both be GitHub's numeric IDs", id="not-digits"),
        pytest.param((), {}, f"gh api {SUBJECT_PATH} failed: gh: Not Found", id="gh-fails"),
        pytest.param(
            (),
            {SUBJECT_PATH: {"use_default": False, "include_claim_keys": ["repo", "context"]}},
            "customizes its OIDC subject claim",
            id="custom-subject",
        ),
        pytest.param(
            (),
            {
                SUBJECT_PATH: {
                    "use_default": True,
                    "sub_claim_prefix": f"repo:Octo-Org@583231/{REPO}@1296269",
                },
                REPO_PATH: {"id": 1296269, "owner": {"id": 583231}},
            },
            "carry the subject prefix repo:Octo-Org@583231",
            id="other-spelling",
        ),
    ],
)
def test_what_it_cannot_tell_is_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], responses: dict | None, message: str
) -> None:
    result, _ = run(tmp_path, OWNER, REPO, *args, responses=responses)
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: "), line
    assert message in line, line
