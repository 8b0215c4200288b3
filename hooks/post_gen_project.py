"""After a successful bake: start the git repository on the integration branch, say what is next.

`git init -b <integration branch>` runs because the branch name matters here: the retrain
workflow runs on pushes to that branch (main, or develop under Gitflow), and a plain `git init`
names the first branch after the user's git configuration (master on a fresh machine), so the
first push would retrain nothing. It is skipped when git is missing or when the project was
baked inside another repository (a monorepo keeps its own). Nothing is committed: the first
commit, with the lock file and the author's identity, is the user's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

# Read as data (tojson), like the pre-generation hook's answers.
NAMES = json.loads(
    r"""{{ {
    "slug": cookiecutter.project_slug,
    "branch": cookiecutter.__integration_branch,
} | tojson }}"""
)
SLUG, BRANCH = NAMES["slug"], NAMES["branch"]
PROJECT = Path.cwd()  # cookiecutter runs this hook in the new project's folder


def _git(*args: str) -> subprocess.CompletedProcess[str] | None:
    git = shutil.which("git")
    if git is None:
        return None
    # A fixed executable and fixed arguments; the branch is one of the template's own names.
    return subprocess.run(  # noqa: S603
        [git, *args], cwd=PROJECT, capture_output=True, text=True, check=False
    )


def init_repository() -> str:
    """Run `git init -b BRANCH` unless git is missing or a repository already holds the folder."""
    inside = _git("rev-parse", "--is-inside-work-tree")
    if inside is None:
        return f"git is not installed: run `git init -b {BRANCH}` once it is"
    if inside.returncode == 0 and inside.stdout.strip() == "true":
        return "inside an existing git repository: no new repository was started"
    created = _git("init", "--quiet", "-b", BRANCH)
    if created is None or created.returncode != 0:
        error = created.stderr.strip() if created else ""
        return f"`git init -b {BRANCH}` failed ({error}): run it yourself"
    return f"started a git repository on branch {BRANCH} (nothing committed yet)"


def next_steps(git_line: str) -> str:
    """The lines printed after the bake: what happened, and the next three commands."""
    return "\n".join(
        [
            f"Baked {SLUG}: {git_line}.",
            "Next:",
            f"  cd {SLUG}",
            "  make local   # install, then train and judge the model on the sample data",
            "  make story   # the whole flow offline: PR gate, retrain, deploy, an alarm rollback",
            "Then README.md, 'Set up AWS', for the real account.",
        ]
    )


if __name__ == "__main__":
    print(next_steps(init_repository()), file=sys.stdout)
