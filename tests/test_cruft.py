"""A generated repository can be kept up to date with the template: cruft create, then update."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import TEMPLATE, bake_env

CRUFT = str(Path(sys.executable).with_name("cruft"))
# The cruft the template's own tooling pins (pyproject.toml); the workflow must run the same one.
CRUFT_VERSION = next(
    line.split("==")[1].strip('", ')
    for line in (TEMPLATE / "pyproject.toml").read_text().splitlines()
    if line.strip().startswith('"cruft==')
)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Template Test",
    "GIT_AUTHOR_EMAIL": "template-test@example.invalid",
    "GIT_COMMITTER_NAME": "Template Test",
    "GIT_COMMITTER_EMAIL": "template-test@example.invalid",
    "GIT_CONFIG_GLOBAL": "/dev/null",
}


def sh(*command: str, cwd: Path) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=bake_env(**GIT_ENV), capture_output=True, text=True, check=False
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

    # What the weekly Template update workflow does: its own script, run as GitHub runs it, with
    # a stand-in `uv` that runs the template's pinned cruft (the runner's uv would fetch it).
    workflow = yaml.safe_load(
        (project / ".github" / "workflows" / "template-update.yml").read_text(encoding="utf-8")
    )
    [apply] = [s for s in workflow["jobs"]["update"]["steps"] if s.get("id") == "update"]
    assert f"uv tool run --from cruft=={CRUFT_VERSION} cruft update" in apply["run"]
    outputs = tmp_path / "github-output"
    bot = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", apply["run"]],
        cwd=project,
        env=bake_env(
            **GIT_ENV,
            GITHUB_OUTPUT=str(outputs),
            PATH=f"{fake_uv(tmp_path)}:{os.environ['PATH']}",
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    assert bot.returncode == 0, bot.stdout + bot.stderr
    assert outputs.read_text() == "changed=true\n"
    # The pull request the bot would open: exactly the template's change, nothing else.
    assert sh("git", "status", "--short", cwd=project).split() == [
        "M",
        ".cruft.json",
        "M",
        "README.md",
    ]
    assert "+A line added by a later template release." in sh("git", "diff", "HEAD", cwd=project)
    assert json.loads((project / ".cruft.json").read_text())["commit"] == second
    sh(CRUFT, "check", cwd=project)

    # A second run finds nothing to do and opens nothing.
    commit_all(project, "apply the template update")
    outputs.unlink()
    again = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", apply["run"]],
        cwd=project,
        env=bake_env(**GIT_ENV, GITHUB_OUTPUT=str(outputs),
                      PATH=f"{fake_uv(tmp_path)}:{os.environ['PATH']}"),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert not outputs.exists()


def fake_uv(tmp_path: Path) -> Path:
    """A directory whose `uv tool run --from cruft==X cruft ...` runs the template's cruft."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    script = folder / "uv"
    script.write_text(
        "#!/usr/bin/env bash\n"
        "set -euo pipefail\n"
        f'[[ "$1 $2 $3 $4 $5" == "tool run --from cruft=={CRUFT_VERSION} cruft" ]]\n'
        f'exec {CRUFT} "${{@:6}}"\n'
    )
    script.chmod(0o755)
    return folder
