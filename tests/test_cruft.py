"""A generated repository can be kept up to date with the template: cruft create, then update."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import TEMPLATE, clean_env

CRUFT = str(Path(sys.executable).with_name("cruft"))
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Template Test",
    "GIT_AUTHOR_EMAIL": "template-test@example.invalid",
    "GIT_COMMITTER_NAME": "Template Test",
    "GIT_COMMITTER_EMAIL": "template-test@example.invalid",
    "GIT_CONFIG_GLOBAL": "/dev/null",
}


def sh(*command: str, cwd: Path) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=clean_env(**GIT_ENV), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def commit_all(repo: Path, message: str) -> str:
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-q", "-m", message, cwd=repo)
    return sh("git", "rev-parse", "HEAD", cwd=repo).strip()


def test_cruft_create_then_update(tmp_path: Path) -> None:
    template = tmp_path / "template"
    shutil.copytree(
        TEMPLATE,
        template,
        ignore=shutil.ignore_patterns(".git", ".venv", ".tools", "build", "*_cache", "__pycache__"),
    )
    sh("git", "init", "-q", "-b", "main", cwd=template)
    first = commit_all(template, "template v1")

    sh(CRUFT, "create", "--no-input", "--output-dir", str(tmp_path / "out"), str(template),
       cwd=tmp_path)  # fmt: skip
    project = tmp_path / "out" / "tumor-classifier"
    cruft_state = json.loads((project / ".cruft.json").read_text())
    assert cruft_state["commit"] == first
    assert cruft_state["context"]["cookiecutter"]["project_slug"] == "tumor-classifier"
    sh("git", "init", "-q", "-b", "main", cwd=project)
    commit_all(project, "generated")

    readme = template / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text() + "\nA line added by a later template release.\n")
    second = commit_all(template, "template v2")

    check = subprocess.run(
        [CRUFT, "check"], cwd=project, env=clean_env(**GIT_ENV), capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert check.returncode != 0, "cruft check should report the project as out of date"

    sh(CRUFT, "update", "--skip-apply-ask", "--allow-untracked-files", cwd=project)
    assert "A line added by a later template release." in (project / "README.md").read_text()
    assert json.loads((project / ".cruft.json").read_text())["commit"] == second
    sh(CRUFT, "check", cwd=project)
