"""The baked CloudFormation stack passes the field's linters, for every option combination.

cfn-lint must report nothing (no error, no warning). checkov must fail no check, and every check
the stack skips must say why next to the skip. Each linter reads every combination's stack in
one run: its start (about 2 s for cfn-lint, 6 s for checkov) is most of its time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml
from conftest import COMBINATIONS, TEMPLATE, BakedProject, bake, clean_env, run_tool, uv

STACK = "infra/stack.yml"
CHECKOV_PROJECT = TEMPLATE / "tools" / "checkov"


@pytest.fixture(scope="session")
def checkov() -> Path:
    """checkov from its own locked environment (tools/checkov), synced once per session."""
    subprocess.run(
        [uv(), "sync", "--frozen", "--quiet", "--project", str(CHECKOV_PROJECT)],
        env=clean_env(),
        check=True,
        timeout=600,
    )
    return CHECKOV_PROJECT / ".venv" / "bin" / "checkov"


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every combination's stack, each in its own bake."""
    root = tmp_path_factory.mktemp("stacks")
    return [
        bake(root / str(combination.id), **combination.values[0]).path / STACK
        for combination in COMBINATIONS
    ]


def cfn_lint() -> str:
    """The cfn-lint of the environment running the tests."""
    beside = Path(sys.executable).parent / "cfn-lint"
    return str(beside) if beside.exists() else (shutil.which("cfn-lint") or "cfn-lint")


def test_cfn_lint_reports_nothing(stacks: list[Path]) -> None:
    result = run_tool([cfn_lint(), "--format", "parseable", *map(str, stacks)], timeout=300)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_cfn_lint_would_catch_a_broken_stack(stacks: list[Path], tmp_path: Path) -> None:
    """The linter really reads the stack: one misspelt resource type fails it."""
    broken = tmp_path / "stack.yml"
    broken.write_text(
        stacks[0]
        .read_text(encoding="utf-8")
        .replace("AWS::CloudWatch::Alarm", "AWS::CloudWatch::Alarms", 1),
        encoding="utf-8",
    )
    result = run_tool([cfn_lint(), "--format", "parseable", str(broken)], timeout=300)
    assert result.returncode != 0
    assert "AWS::CloudWatch::Alarms" in result.stdout


def test_checkov_fails_no_check(stacks: list[Path], checkov: Path) -> None:
    files = [argument for stack in stacks for argument in ("--file", str(stack))]
    options = ["--framework", "cloudformation", "--skip-download", "--output", "json"]
    result = subprocess.run(
        [str(checkov), *files, *options],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
        timeout=600,
    )
    report = json.loads(result.stdout)
    failed = [
        f"{c['file_path']}: {c['check_id']} {c['resource']}"
        for c in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert report["summary"]["parsing_errors"] == 0
    # A stack checkov could not read would pass vacuously: each one passes checks of its own.
    passed = Counter(c["file_path"] for c in report["results"]["passed_checks"])
    assert len(passed) == len(stacks), passed
    assert min(passed.values()) >= 50, passed
    assert result.returncode == 0


def test_every_checkov_skip_says_why(baked: BakedProject) -> None:
    template = cfn_yaml.load(str(baked.path / STACK))
    skips = [
        (name, skip)
        for name, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips, "expected the justified skips (access-log bucket, log group encryption)"
    unexplained = [name for name, skip in skips if len(str(skip.get("comment", "")).split()) < 5]
    assert unexplained == []


def test_shellcheck_passes_on_the_bootstrap_script(baked: BakedProject) -> None:
    """`make bootstrap` runs infra/bootstrap.sh; its own test runs it against a stand-in CLI."""
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        if os.environ.get("CI") == "true":
            pytest.fail("shellcheck is missing under CI; .ci/run installs it with apt-get")
        pytest.skip("shellcheck is not installed")
    script = baked.path / "infra" / "bootstrap.sh"
    result = subprocess.run(
        [shellcheck, "--severity=style", str(script)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout
