"""`run-local`: the three steps as local processes, their artifacts, the verdict and bad input."""

import dataclasses
import json
import math
import tarfile
from pathlib import Path

import pytest

from {{ cookiecutter.__package }} import cli, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.training import local
from {{ cookiecutter.__package }}.training.local import LocalResult, run_local

ROOT = config.REPO_ROOT
DATA = ROOT / config.SAMPLE_DATA


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalResult, list[str]]:
    lines: list[str] = []
    workdir = tmp_path_factory.mktemp("local")
    return run_local(DATA, workdir, config.ACCURACY_THRESHOLD, log=lines.append), lines


def test_run_produces_every_artifact(run: tuple[LocalResult, list[str]]) -> None:
    result, _ = run
    processing = result.workdir / "opt" / "ml" / "processing"
    assert result.model_tar == processing / "model" / "model.tar.gz"
    assert result.evaluation == processing / "evaluation" / "evaluation.json"
    assert result.report == processing / "evaluation" / "report.md"
    assert [p.name for p in result.plots] == ["confusion_matrix.png", "roc_curve.png"]
    assert (processing / "train" / "train.csv").is_file()
    assert (processing / "test" / "test.csv").is_file()
    with tarfile.open(result.model_tar) as archive:
        assert sorted(archive.getnames()) == ["code/inference.py", "model.joblib"]
    assert not list(result.workdir.rglob(".*partial*"))


def test_run_clears_the_threshold_on_the_bundled_data(run: tuple[LocalResult, list[str]]) -> None:
    result, _ = run
    document = json.loads(result.evaluation.read_text(encoding="utf-8"))
    accuracy = document["binary_classification_metrics"]["accuracy"]["value"]
    assert result.accuracy == accuracy
    assert result.metrics["accuracy"] == accuracy
    assert set(result.metrics) == {"accuracy", "precision", "recall", "f1", "auc"}
    assert accuracy >= 0.85
    assert result.passed
    # The threshold reached the evaluate step: its report judges against the same number.
    report = result.report.read_text(encoding="utf-8")
    threshold = f"{config.ACCURACY_THRESHOLD:.4f}"
    assert f"**Verdict: PASS**: accuracy {accuracy:.4f} >= threshold {threshold}" in report


def test_one_progress_line_per_step(run: tuple[LocalResult, list[str]]) -> None:
    result, lines = run
    assert [line.split()[0] for line in lines] == ["preprocess", "train", "evaluate"]
    assert all(line.split()[2] == "s" for line in lines)
    assert set(result.seconds) == {"preprocess", "train", "evaluate"}


def test_cli_prints_the_table_and_exits_7_below_threshold(
    run: tuple[LocalResult, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The module's run stands in for the steps (they take seconds); the command is what is tested.
    calls = []

    def judged(data: Path, workdir: Path, threshold: float) -> LocalResult:
        calls.append((data, workdir, threshold))
        result = run[0]
        passed = result.accuracy >= threshold
        return dataclasses.replace(result, threshold=threshold, passed=passed)

    monkeypatch.setattr(local, "run_local", judged)
    code = cli.main(["run-local", "--workdir", str(tmp_path), "--threshold", "0.999"])
    out, err = capsys.readouterr()
    assert calls == [(DATA, tmp_path, 0.999)]
    assert code == ExitCode.BELOW_THRESHOLD
    assert "verdict: FAIL: accuracy" in out
    assert "< threshold 0.9990" in out
    assert "  accuracy   0." in out
    assert "model.tar.gz" in out
    assert err.startswith("error: accuracy ")
    assert "below the threshold 0.999" in err


HEADER = "a,b,malignant\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "the file is empty", id="empty"),
        pytest.param(HEADER + "1,x,0\n2,3,1\n", "'x' is not a finite number", id="non-numeric"),
        pytest.param("a,b,c\n1,2,0\n", "no target column 'malignant'", id="wrong-columns"),
        pytest.param(HEADER + "1,2,0\n3,4,0\n", "holds one class only (0)", id="single-class"),
    ],
)
def test_bad_data_is_one_error_naming_the_file_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    data = tmp_path / "patients.csv"
    data.write_text(text, encoding="utf-8")
    workdir = tmp_path / "work"
    # A previous good run's model must not survive a failed run.
    stale = workdir / "opt" / "ml" / "processing" / "model" / "model.tar.gz"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old model")
    code = cli.main(["run-local", "--data", str(data), "--workdir", str(workdir)])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE
    assert err.count("\n") == 1
    assert message in err
    assert str(data) in err
    assert not (workdir / "opt").exists()


def test_missing_data_file(tmp_path: Path) -> None:
    with pytest.raises(CliError, match=r"missing\.csv: input CSV not found") as error:
        run_local(tmp_path / "missing.csv", tmp_path, 0.85)
    assert error.value.code == ExitCode.USAGE


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.5, math.nan])
def test_threshold_outside_0_1_is_refused(tmp_path: Path, threshold: float) -> None:
    with pytest.raises(CliError, match=r"threshold .* is outside \(0, 1\]") as error:
        run_local(DATA, tmp_path, threshold)
    assert error.value.code == ExitCode.USAGE
    assert not (tmp_path / "opt").exists()
