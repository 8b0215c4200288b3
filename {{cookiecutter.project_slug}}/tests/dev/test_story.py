"""The offline story tells the truth: its commands are the workflow's and the buildspec's."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.dev import story
from {{ cookiecutter.__package }}.errors import CliError, ExitCode

ROOT = config.REPO_ROOT


def workflow_commands(name: str) -> str:
    """Every `run:` script of a workflow, joined."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))
    return "\n".join(
        step["run"]
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "run" in step
    )


def test_pull_request_stage_runs_what_the_gate_workflow_runs() -> None:
    gate = workflow_commands("pr.yml")
    for command in story.pull_request_commands():
        assert command[:2] == [sys.executable, "-m"]
        tool_and_args = " ".join(a for a in command[2:] if not a.startswith("-p") and a != "-q")
        tool = tool_and_args.removesuffix(" no:cacheprovider")
        assert tool.split(" .")[0] in gate, tool


def test_merge_stage_runs_the_buildspec_build_phase_in_order() -> None:
    spec = yaml.safe_load((ROOT / config.BUILDSPEC_RETRAIN).read_text(encoding="utf-8"))
    expected = spec["phases"]["build"]["commands"]
    commands = story.buildspec_build_commands()
    assert len(commands) == len(expected) == 2
    for ours, theirs in zip(commands, expected, strict=True):
        words = shlex.split(ours)
        assert words[0] == sys.executable
        # "uv run --locked python -m ..." became "<this python> -m ...": the same arguments.
        assert shlex.split(theirs)[4:] == words[1:]
        assert words[1:4] == ["-m", config.PACKAGE, "pipeline"]


def test_summary_table_lists_every_stage_and_the_total() -> None:
    stages = [story.Stage("first", 1.25, "ok"), story.Stage("a longer second", 2.5, "ok")]
    lines = story.summary_table(stages).splitlines()
    assert lines[0].split() == ["stage", "time"]
    assert lines[2].split() == ["first", "1.2s"]
    assert lines[3].endswith("2.5s")
    assert lines[-1].split() == ["total", "3.8s"]


def test_last_line_is_the_verdict() -> None:
    assert story._tail("working\n\nsmoke test passed: 5 predictions\n\n") == (
        "smoke test passed: 5 predictions"
    )
    assert story._tail("") == ""


def test_a_model_below_the_threshold_stops_the_story(monkeypatch: pytest.MonkeyPatch) -> None:
    """Like CodeBuild: `pipeline start --wait` exits 7, nothing is registered, nothing deploys."""
    gate = "step BelowQualityGate failed: f1 0.5 must be at least GateThreshold 0.85 and above ..."
    ran: list[dict[str, str]] = []

    def start(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        ran.append(kwargs["env"])
        return subprocess.CompletedProcess(command, ExitCode.BELOW_THRESHOLD, "", f"error: {gate}")

    monkeypatch.setattr(story.subprocess, "run", start)
    teller = story.Story(env={"PATH": "/bin"})
    with pytest.raises(CliError, match="did not pass the quality gate") as error:
        story.run_pipeline(teller, "python -m pkg pipeline start --wait", story.COMMITS[1])
    assert error.value.code == ExitCode.BELOW_THRESHOLD
    assert gate in str(error.value)
    assert ran[0][config.COMMIT_SHA_VARIABLE] == story.COMMITS[1]


def test_the_registered_version_must_be_this_commits(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stale version (another commit's) is not taken for the one this run registered."""
    with mock_aws():
        sm = boto3.client("sagemaker")
        sm.create_model_package_group(ModelPackageGroupName=config.MODEL_PACKAGE_GROUP)
        sm.create_model_package(
            ModelPackageGroupName=config.MODEL_PACKAGE_GROUP,
            ModelApprovalStatus="PendingManualApproval",
            CustomerMetadataProperties={"commit": story.COMMITS[0], config.GATE_METRIC: "0.97"},
        )
        assert story.registered(story.COMMITS[0]) == (
            f"{config.GATE_METRIC} 0.9700 -> version 1 PendingManualApproval"
        )
        with pytest.raises(CliError, match="did not register this run's model") as error:
            story.registered(story.COMMITS[1])
    assert error.value.code == ExitCode.FAILED


def test_the_closing_note_shows_the_comparison_table_of_the_newest_report(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    table = [
        "| metric | challenger | champion | difference |",
        "| --- | --- | --- | --- |",
        "| **balanced_accuracy** (gate) | 0.8810 | 0.9762 | -0.0952 |",
    ]
    heading = "## Against the champion (version 2), on the same test rows"
    report.write_text(
        "\n".join(["# Model evaluation", "", heading, "", *table, "", "## Per class"])
    )
    assert story.comparison(report) == [heading.removeprefix("## "), *table, ""]
    # No champion, or no report: nothing to show.
    report.write_text("# Model evaluation\n\n## Champion\n\nNo champion to compare with.\n")
    assert story.comparison(report) == []
    assert story.comparison(None) == []
