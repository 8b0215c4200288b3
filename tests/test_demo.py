"""The product's promise in one run: `make demo` bakes the defaults and tells the whole story.

Then the same story (without its lint-and-test stage, which test_bake.py runs) for the other
combinations, so every strategy and approval mode goes through register -> approve -> deploy ->
alarm rollback -> rollback on the local emulator. Every AWS request the story's commands make
is recorded, and the bake's stack must authorize each for the roles that run it (tests/iam/).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import (
    OTHER_COMBINATIONS,
    TEMPLATE,
    assert_authorized,
    bake,
    clean_env,
    recording_env,
    rendered_answers,
    uv,
    why,
)

STAGES = [
    "pull request: ruff check",
    "pull request: ruff format",
    "pull request: pytest -q",
    "merge: buildspec build 1 (pipeline upsert)",
    "merge: buildspec build 2 (pipeline start)",
    "approve version 1",
    "deploy staging (all-at-once) + smoke test",
    "deploy prod (creates the endpoint)",
    "merge again: pipeline start, a second version",
    "approve version 2",
    "merge 3: a weaker challenger meets the champion",
    "deploy version 2 to staging",
]


def check_story(output: str, answers: dict[str, str], gate: bool) -> str:
    """Every stage printed its line in order, the alarm rolled prod back, and v1 serves; return
    the rollback's timeline picture, relative to the project."""
    lines = [line for line in output.splitlines() if re.match(r"\[\s*\d+\] ", line)]
    expected = STAGES if gate else STAGES[3:]
    strategy = answers["deployment_strategy"]
    expected = [
        *expected,
        f"deploy version 2 to prod ({strategy}), alarm fires",
        "rollback staging, reject version 2",
        "final state",
        "shifted traffic to prod, monitor check",
    ]
    assert [re.sub(r"^\[\s*\d+\] ", "", line).split("  ")[0].strip() for line in lines] == expected
    status = "Approved" if answers["approval_mode"] == "automatic" else "PendingManualApproval"
    # The versions come from the pipeline's Register step, run by the emulator, which records the
    # score under the answered metric's name (the story reads it there; a definition built for
    # another metric records none, and the story shows nan). test_pipeline_bake.py builds only
    # two combinations' definitions.
    assert re.search(rf"{answers['gate_metric']} \d\.\d{{4}} -> version 1 {status}", output)
    assert f"vs champion v1 (+0.0000) -> version 2 {status}" in output
    # The third merge's weaker model: refused by the champion gate, both scores printed, and
    # nothing registered (the table ends at version 2).
    refused = r"refused by the champion gate \(exit 7\): champion version 2 scored (\d\.\d+); "
    refused += r"the challenger's (\d\.\d+) is below its bar"
    scores = re.search(refused, output)
    assert scores, "the third merge is refused by the champion gate"
    assert float(scores[2]) < float(scores[1])
    assert "-> version 3" not in output
    # The intended rollback reads as intended, with its timeline picture.
    rollback = r"rolled back, as expected \(exit 4\); picture: (build/deploy/\S+\.png)"
    picture = re.search(rollback, output)
    assert picture, "the story's rollback stage names its timeline"
    # It closes with the newest report's comparison table, where its reports are and what to do
    # next: the evaluation report is the one the last pipeline execution's Report job wrote.
    assert re.search(r"^Against the champion \(version 2\), on the same test rows$", output, re.M)
    assert re.search(r"^\| metric \| challenger \| champion \| difference \|$", output, re.M)
    assert re.search(rf"^  {re.escape(picture[1])}  prod's rolled-back traffic", output, re.M)
    report = r"build/story/pipeline-executions/\S+/Report/\S+/report\.md"
    assert re.search(rf"^  {report}  the newest evaluation, against the champion", output, re.M)
    assert "Next: README.md, 'Set up AWS'" in output
    # The monitoring stage: prod captured the shifted rows and `monitor check` named them; the
    # closing note shows the drift table and where the newest run's baseline files are.
    if answers.get("data_capture_percent", "100") != "0":
        assert re.search(r"drift in \S.*: exit 11, as expected", output)
        assert re.search(r"^  \S+\s+baseline_drift_check\s+\d\.\d{3}\s+0\.100\s", output, re.M)
        baseline = r"build/story/pipeline-executions/\S+/Baseline/\S+/baseline"
        assert re.search(rf"^  {baseline}  the newest run's data-quality baseline", output, re.M)
    else:
        assert "skipped: data capture is off" in output
    final = next(line for line in lines if "] final state" in line)
    assert final.endswith("staging InService v1, prod InService v1")
    assert re.search(r"^2\s+Rejected\s", output, re.M), "the registry table shows v2 Rejected"
    assert re.search(r"^total\s+\d+\.\d+s$", output, re.M)
    return picture[1]


def test_make_demo(tmp_path: Path) -> None:
    """The README's first command, as a user runs it (with the demo folder moved to tmp)."""
    demo = tmp_path / "demo"
    root = demo / rendered_answers()["project_slug"]
    record = tmp_path / "aws-requests"
    result = subprocess.run(
        ["make", "demo", f"DEMO_DIR={demo}", f"UV={uv()}"],
        cwd=TEMPLATE,
        env=clean_env(**recording_env(root, record)),
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, why(result.stdout, 4000) + result.stderr[-4000:]
    # A quiet first run: the bake, the install's one line, then the story (stderr included).
    before_story = result.stdout[: result.stdout.index("local AWS emulator on")].splitlines()
    assert len(before_story) + len(result.stderr.splitlines()) < 60, result.stdout[:4000]
    picture = check_story(result.stdout, rendered_answers(), gate=True)
    assert (root / picture).read_bytes().startswith(b"\x89PNG")
    assert_authorized(root, record, "make demo (story with its gate)")


@pytest.mark.parametrize("answers", OTHER_COMBINATIONS)
def test_story_in_every_other_combination(
    request: pytest.FixtureRequest, answers: dict[str, str], tmp_path: Path, shared_venv: Path
) -> None:
    project = bake(tmp_path / "bake", **answers)
    project.venv = shared_venv
    record = tmp_path / "aws-requests"
    result = project.run(
        "python", "-m", project.package, "story", "--skip-gate", timeout=600, record=record
    )
    check_story(result.stdout, project.answers, gate=False)
    assert_authorized(project.path, record, f"story [{request.node.callspec.id}]")
