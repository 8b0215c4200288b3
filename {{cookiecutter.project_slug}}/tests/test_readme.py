"""The README's commands are real: every make target, CLI command and workflow input it shows.

A command in the README that nothing checks is a defect waiting to happen; this file checks each
one against the Makefile, the command-line parser and the workflows.
"""

from __future__ import annotations

import re
import shlex

import pytest
import yaml

from {{ cookiecutter.__package }} import cli, config
from {{ cookiecutter.__package }}.errors import ExitCode

ROOT = config.REPO_ROOT
README = (ROOT / "README.md").read_text(encoding="utf-8")


def shell_lines() -> list[str]:
    """Every command line of the README's bash blocks, comments removed."""
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL)
    lines = []
    for block in blocks:
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                lines.extend(part.strip() for part in line.split("&&"))
    return lines


def make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))


def test_readme_shows_the_commands_at_all() -> None:
    lines = shell_lines()
    assert any(line.startswith("make ") for line in lines)
    assert any(line.startswith(f"python -m {config.PACKAGE} ") for line in lines)


def test_every_make_target_exists_and_is_listed_by_help() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = make_targets()
    for line in shell_lines():
        if line.startswith("make "):
            for word in shlex.split(line)[1:]:
                if "=" not in word:
                    assert word in targets, f"README runs `make {word}`: no such target"
                    assert re.search(rf"^{word}:.*## ", makefile, re.MULTILINE), word


def test_every_cli_command_parses() -> None:
    parser = cli.build_parser()
    commands = [line for line in shell_lines() if line.startswith(f"python -m {config.PACKAGE} ")]
    assert len(commands) >= 8
    for line in commands:
        words = shlex.split(line.replace("$(git rev-parse HEAD)", "0" * 40))[3:]
        try:
            args = parser.parse_args(words)
        except SystemExit as error:  # argparse's way of refusing
            pytest.fail(f"README command does not parse ({error.code}): {line}")
        assert args.handler


def test_every_workflow_run_names_a_workflow_and_its_inputs() -> None:
    runs = [line for line in shell_lines() if line.startswith("gh workflow run ")]
    assert runs
    for line in runs:
        words = shlex.split(line)
        path = ROOT / ".github" / "workflows" / words[3]
        assert path.is_file(), line
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        # PyYAML reads the `on:` key as True.
        inputs = (workflow.get("on") or workflow[True])["workflow_dispatch"]["inputs"]
        given = {words[i + 1].split("=", 1)[0] for i, w in enumerate(words) if w == "-f"}
        assert given <= set(inputs), f"{line}: unknown inputs {given - set(inputs)}"
        required = {name for name, spec in inputs.items() if spec.get("required")}
        assert required - {"environment", "strategy"} <= given, f"{line}: missing {required}"


def test_exit_code_table_is_errors_py() -> None:
    table = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", README, flags=re.MULTILINE))
    assert {int(code) for code in table} == {int(code) for code in ExitCode}


def test_layout_section_matches_the_tree() -> None:
    """Every path the Layout table names exists, and it names every module of the package."""
    section = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `([^`]+)` \| (.+) \|$", section, flags=re.MULTILINE))
    assert rows
    for path in rows:
        assert (ROOT / path).exists(), f"README's Layout names {path}, which does not exist"
    for module in sorted((ROOT / "src" / config.PACKAGE).rglob("*.py")):
        relative = module.relative_to(ROOT).as_posix()
        if module.name in ("__init__.py", "__main__.py") or relative in rows:
            continue
        folder = f"{module.parent.relative_to(ROOT).as_posix()}/"
        assert folder in rows, f"{relative}: the Layout has no row for it or its folder"
        # The command line's modules are one per command; every other module is named.
        assert module.parent.name == "cli" or f"`{module.name}`" in rows[folder], relative
