"""The baked repository's main job: `make local` trains, evaluates and judges a model, offline.

Also `make test-compat`: the step and serving tests on the SageMaker image's scikit-learn and
request handler. A refused model (`make local` exits 7) is the noise table's, in test_bake.py.
"""

from __future__ import annotations

import json
import re
import shutil
import tarfile
from pathlib import Path

import pytest
from conftest import BakedProject, bake, uv

ARTIFACTS = "build/local/opt/ml/processing"


@pytest.fixture(scope="module")
def default_bake(tmp_path_factory: pytest.TempPathFactory, shared_venv: Path) -> BakedProject:
    project = bake(tmp_path_factory.mktemp("local-flow"))
    project.venv = shared_venv
    return project


def check_artifacts(project: BakedProject, stdout: str) -> float:
    """Every artifact of a local run on the sample is there and sound; returns the gate score."""
    root = project.path / ARTIFACTS
    with tarfile.open(root / "model" / "model.tar.gz") as archive:
        assert sorted(archive.getnames()) == ["code/inference.py", "model.joblib"]
    evaluation = json.loads((root / "evaluation" / "evaluation.json").read_text(encoding="utf-8"))
    # Where the pipeline's gate reads them (the baked suite ties them to SageMaker's fields).
    score, baseline = evaluation["gate"]["score"], evaluation["gate"]["baseline"]
    metric = project.answers["gate_metric"]
    assert evaluation["gate"]["metric"] == metric
    assert score >= float(project.answers["gate_threshold"])
    assert score > baseline
    report = (root / "report" / "report.md").read_text(encoding="utf-8")
    assert "**Verdict: PASS**" in report
    for plot in ("confusion_matrix.png", "roc_curve.png"):
        assert (root / "report" / plot).read_bytes().startswith(b"\x89PNG")
    steps = [line.split()[0] for line in stdout.splitlines() if line[:1].isalpha()][:4]
    assert steps == ["preprocess", "train", "evaluate", "report"]
    assert f"verdict: PASS: {metric} {score:.4f} clears the threshold" in stdout
    return score


def test_make_local_in_the_default_bake(default_bake: BakedProject, shared_venv: Path) -> None:
    """The Makefile path: install from the shipped lock into the bake's .venv, then run-local."""
    # The shared environment was synced from the same lock, so `make install` finds every
    # package in uv's cache (UV_OFFLINE) instead of downloading.
    shutil.rmtree(default_bake.path / "build", ignore_errors=True)
    result = default_bake.run("make", "local", f"UV={uv()}", UV_OFFLINE="1", timeout=900)
    run_output = result.stdout[result.stdout.index("preprocess ") :]
    check_artifacts(default_bake, run_output)


def test_make_test_compat_in_the_default_bake(default_bake: BakedProject) -> None:
    result = default_bake.run("make", "test-compat", f"UV={uv()}", timeout=900)
    assert "test-compat: scikit-learn 1.4.2 " in result.stdout
    # The image's own request handler, at the image's versions, runs the serving hooks.
    assert "sagemaker-containers 2.8.6.post2 flask 1.1.1 werkzeug 2.0.3 " in result.stdout
    assert "tests/steps/test_serving_stack.py " in result.stdout
    # Parquet between the steps: the pyarrow the image ships.
    assert " pyarrow 17.0.0 " in result.stdout
    # pytest's closing line (a parent make may print "Leaving directory" after it).
    (summary,) = [line for line in result.stdout.splitlines() if re.search(r"\d+ passed", line)]
    assert " failed" not in summary
    assert " error" not in summary
