"""Hostile answers: each is either refused with one clear line, or baked intact into files that
still parse and pass the baked repo's own lint."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import TEMPLATE, bake, bake_env, parse_everything
from cookiecutter.exceptions import FailedHookException

LONG = "Model " * 40

# (answers, the answer that must arrive intact, where it lands)
ACCEPTED = [
    pytest.param(
        {"project_name": 'Bob\'s "Quoted" Model'}, "project_name", "README.md", id="quotes"
    ),
    pytest.param(
        {"description": "Say \"hi\" to C:\\temp\\new and 'it' \\ end\\"},
        "description",
        "pyproject.toml",
        id="backslashes",
    ),
    pytest.param(
        {"description": "Modèle de détection — ünïcödé ✓ 模型"},
        "description",
        "pyproject.toml",
        id="unicode-description",
    ),
    pytest.param(
        {"project_name": "Détecteur Ünïcode"}, "project_name", "README.md", id="unicode-name"
    ),
    pytest.param(
        {"project_name": 'Triple """ Quoted \\ Model'},
        "project_name",
        "README.md",
        id="python-quotes-in-name",
    ),
    pytest.param(
        {"description": "$(touch pwned) `touch pwned2` ; rm -rf ~"},
        "description",
        "pyproject.toml",
        id="shell-injection",
    ),
    pytest.param(
        {"description": "\"\"\" ''' </script> <!-- --> # not a comment"},
        "description",
        "pyproject.toml",
        id="python-and-html-quotes",
    ),
]

REFUSED = [
    # Cookiecutter renders every answer as Jinja (that is how derived defaults work), so
    # "{{ 7*7 }}" arrives as "49"; as a project name that gives the slug "49", which is refused.
    pytest.param({"project_name": "{{ 7*7 }}"}, "project_slug '49'", id="jinja-expression"),
    pytest.param({"project_name": LONG}, "project_name must be at most 80", id="very-long-name"),
    pytest.param({"project_slug": "x" * 60}, "must be 3-40 characters", id="very-long-slug"),
    pytest.param({"project_slug": "9lives"}, "starting with a letter", id="leading-digit"),
    pytest.param({"project_slug": "import"}, "shadows a Python keyword", id="python-keyword"),
    pytest.param({"description": "line one\nline two"}, "single line", id="newline"),
    pytest.param({"project_name": "a\rb"}, "single line", id="carriage-return"),
    pytest.param({"github_repo": "repo; rm -rf /"}, "github_repo", id="repo-injection"),
    pytest.param({"github_owner": "$(whoami)"}, "github_owner", id="owner-injection"),
    pytest.param({"aws_region": "us-east-1'; drop"}, "aws_region", id="region-injection"),
]


@pytest.mark.parametrize(("answers", "key", "where"), ACCEPTED)
def test_hostile_answer_baked_intact(
    answers: dict, key: str, where: str, tmp_path: Path, shared_venv: Path
) -> None:
    project = bake(tmp_path / "out", **answers)
    project.venv = shared_venv
    parse_everything(project)
    value = answers[key]
    if where == "pyproject.toml":
        assert tomllib.loads(project.read(where))["project"]["description"] == value
    else:
        assert value in project.read(where)
    project.run("ruff", "check", ".")
    project.run("ruff", "format", "--check", ".")
    project.run("python", "-m", project.package, "--help")
    for leftover in ("pwned", "pwned2"):
        assert not list(tmp_path.rglob(leftover))
        assert not (TEMPLATE / leftover).exists()


@pytest.mark.parametrize(("answers", "message"), REFUSED)
def test_hostile_answer_refused(answers: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(FailedHookException):
        bake(tmp_path, **answers)
    assert list(tmp_path.iterdir()) == [], "a refused bake left files behind"


def test_refusal_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    """What a user sees: cookiecutter's exit status is non-zero and our line names the answer."""
    result = subprocess.run(
        [
            sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(tmp_path),
            str(TEMPLATE), "aws_region=mars-1",
        ],
        capture_output=True,
        text=True,
        env=bake_env(),
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    ours = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert ours == ["ERROR: aws_region 'mars-1' is not an AWS region name such as us-east-1"]
    assert list(tmp_path.iterdir()) == []


def test_refused_messages_name_the_answer(tmp_path: Path) -> None:
    """The REFUSED table's messages are what the hook prints (checked through the hook)."""
    from test_hooks import run_hook

    for param in REFUSED:
        answers, message = param.values
        result = run_hook(tmp_path, **answers)
        assert result.returncode == 1
        assert message in result.stderr, (param.id, result.stderr)
