"""infra/github_ids.py: the subject form `make bootstrap` gives the stack, from what GitHub says.

Run as `make bootstrap` runs it, with a stand-in `gh` on PATH that answers GitHub's documented
REST responses (the OIDC subject customization and the repository) from a table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.__package }} import config

SCRIPT = config.REPO_ROOT / "infra" / "github_ids.py"
OWNER, REPO = "octo-org", "octo-repo"
SUBJECT_PATH = f"repos/{OWNER}/{REPO}/actions/oidc/customization/sub"
REPO_PATH = f"repos/{OWNER}/{REPO}"
FAKE_GH = """
import json, os, sys
responses = json.loads(os.environ["FAKE_GH_RESPONSES"])
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
path = sys.argv[2]
if path not in responses:
    print("gh: Not Found (HTTP 404)", file=sys.stderr)
    sys.exit(1)
print(json.dumps(responses[path]))
"""


def run(tmp_path: Path, *args: str, responses: dict | None = None) -> subprocess.CompletedProcess:
    """The script with a stand-in gh (or none, when responses is None) on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if responses is not None:
        gh = bin_dir / "gh"
        gh.write_text(f"#!{sys.executable}" + FAKE_GH, encoding="utf-8")
        gh.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin",
        "FAKE_GH_RESPONSES": json.dumps(responses or {}),
        "FAKE_GH_LOG": str(tmp_path / "gh.log"),
    }
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, check=False
    )


def gh_calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "gh.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_ids_given_are_passed_without_asking_github(tmp_path: Path) -> None:
    result = run(tmp_path, OWNER, REPO, "583231", "1296269", responses={})
    assert (result.returncode, result.stdout) == (0, "GitHubOwnerId=583231 GitHubRepoId=1296269\n")
    assert gh_calls(tmp_path) == []


def test_a_repository_with_immutable_subjects_gets_its_ids(tmp_path: Path) -> None:
    responses = {
        SUBJECT_PATH: {
            "use_default": True,
            "sub_claim_prefix": f"repo:{OWNER}@583231/{REPO}@1296269",
        },
        REPO_PATH: {"id": 1296269, "name": REPO, "owner": {"id": 583231, "login": OWNER}},
    }
    result = run(tmp_path, OWNER, REPO, responses=responses)
    assert (result.returncode, result.stdout) == (0, "GitHubOwnerId=583231 GitHubRepoId=1296269\n")
    assert gh_calls(tmp_path) == [f"api {SUBJECT_PATH}", f"api {REPO_PATH}"]


def test_an_older_repository_keeps_the_name_only_subject(tmp_path: Path) -> None:
    responses = {SUBJECT_PATH: {"use_default": True, "sub_claim_prefix": f"repo:{OWNER}/{REPO}"}}
    result = run(tmp_path, OWNER, REPO, responses=responses)
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
    result = run(tmp_path, OWNER, REPO, *args, responses=responses)
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: "), line
    assert message in line, line
