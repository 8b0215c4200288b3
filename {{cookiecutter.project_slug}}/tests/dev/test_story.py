"""The offline story tells the truth: its commands are the workflow's and the buildspec's."""

from __future__ import annotations

import shlex
import sys
import types
from pathlib import Path

import pytest
import yaml

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


def test_a_model_below_the_threshold_stops_the_story(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Like the pipeline's gate: nothing is registered, so nothing later can be deployed."""
    weak = types.SimpleNamespace(passed=False, accuracy=0.5)
    monkeypatch.setattr(story.local, "run_local", lambda *args, **kwargs: weak)
    teller = story.Story(env={})
    with pytest.raises(CliError, match=r"accuracy 0\.5000 < threshold") as error:
        story.train_and_register(teller, tmp_path, story.COMMITS[0])
    assert error.value.code == ExitCode.BELOW_THRESHOLD
