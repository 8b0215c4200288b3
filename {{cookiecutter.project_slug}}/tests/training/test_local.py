"""`run-local`: the three steps as local processes, their artifacts, the verdict and bad input."""

import dataclasses
import json
import math
import tarfile
from pathlib import Path

import pytest

from {{ cookiecutter.__package }} import cli, config, processes
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.steps import evaluate
from {{ cookiecutter.__package }}.training import local
from {{ cookiecutter.__package }}.training.local import LocalResult, run_local

ROOT = config.REPO_ROOT
DATA = config.DATA_FILE


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalResult, list[str]]:
    lines: list[str] = []
    workdir = tmp_path_factory.mktemp("local")
    return run_local(DATA, workdir, config.GATE_THRESHOLD, log=lines.append), lines


def test_run_produces_every_artifact(run: tuple[LocalResult, list[str]]) -> None:
    result, _ = run
    processing = result.workdir / "opt" / "ml" / "processing"
    assert result.model_tar == processing / "model" / "model.tar.gz"
    assert result.evaluation == processing / "evaluation" / "evaluation.json"
    assert result.report == processing / "report" / "report.md"
    plots = ["confusion_matrix.png", *(["roc_curve.png"] if config.TASK == "binary" else [])]
    assert [p.name for p in result.plots] == plots
    assert (processing / "train" / "train.parquet").is_file()
    assert (processing / "test" / "test.parquet").is_file()
    with tarfile.open(result.model_tar) as archive:
        assert sorted(archive.getnames()) == ["code/inference.py", "model.joblib"]
    assert not list(result.workdir.rglob(".*partial*"))


def test_the_verdict_is_the_pipelines_gate(run: tuple[LocalResult, list[str]]) -> None:
    """The gate metric and its baseline come from evaluation.json, where the pipeline reads them."""
    result, _ = run
    document = json.loads(result.evaluation.read_text(encoding="utf-8"))
    metrics = document[config.METRICS_KEY]
    field = evaluate.GATE_FIELDS[config.TASK][config.GATE_METRIC]
    assert (result.metric, result.field) == (config.GATE_METRIC, field)
    assert result.score == metrics[field]["value"]
    assert result.baseline == metrics[f"{field}_best_constant_classifier"]["value"]
    assert result.metrics[field] == (result.score, result.baseline)
    expected = result.score >= config.GATE_THRESHOLD and result.score > result.baseline
    assert result.passed is expected
    # The threshold reached the evaluate step: its report judges against the same numbers.
    report = result.report.read_text(encoding="utf-8")
    verdict = "PASS" if result.passed else "FAIL"
    gate = document[config.GATE_KEY]
    assert (result.passed, result.gate_line) == (gate["passed"], gate["line"])
    assert f"**Verdict: {verdict}**: {result.gate_line}; no champion: " in report
    assert (result.champion_bar, result.champion_verdict) == (0.0, result.champion_verdict)
    assert result.champion_verdict.startswith("no champion")


def test_one_progress_line_per_step(run: tuple[LocalResult, list[str]]) -> None:
    result, lines = run
    steps = [line for line in lines if not line.startswith(" ")]
    names = ["preprocess", "train", "evaluate", "report"]
    assert [line.split()[0] for line in steps] == names
    assert all(line.split()[2] == "s" for line in steps)
    assert set(result.seconds) == set(names)
    # Each step process's own peak, libraries included (forked from the warm interpreter where
    # there is one: processes.py); more than the 20 MiB a bare interpreter holds.
    if processes.warm():
        assert all(result.peak_bytes[name] > 20 * 2**20 for name in names), result.peak_bytes
    # Under the preprocess line: how the target's labels were read.
    assert f"target {config.TARGET_COLUMN!r}: " in lines[1]


def test_cli_prints_the_table_and_exits_7_below_threshold(
    run: tuple[LocalResult, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The module's run stands in for the steps (they take seconds); the command is what is tested.
    calls = []

    def judged(
        data: Path,
        workdir: Path,
        threshold: float,
        options: dict[str, dict[str, object]],
        champion: Path | None,
    ) -> LocalResult:
        calls.append((data, workdir, threshold, options))
        assert champion is None
        result = run[0]
        line = evaluate.gate_line(result.metric, result.score, result.baseline, threshold)
        return dataclasses.replace(
            result,
            threshold=threshold,
            passed=evaluate.passes(result.score, result.baseline, threshold),
            gate_line=line,
            reason=line,
        )

    monkeypatch.setattr(local, "run_local", judged)
    code = cli.main(["run-local", "--workdir", str(tmp_path), "--threshold", "1"])
    out, err = capsys.readouterr()
    assert calls == [(DATA, tmp_path, 1.0, local.step_options())]
    assert code == ExitCode.BELOW_THRESHOLD
    assert f"verdict: FAIL: {config.GATE_METRIC} " in out
    assert "is below the threshold 1.0000" in out
    assert "best constant classifier" in out
    assert "model.tar.gz" in out
    assert err.startswith(f"error: {config.GATE_METRIC} ")
    assert "below the threshold 1.0000" in err
    assert err.count("\n") == 1


def test_data_target_and_drop_override_config_for_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: tuple[LocalResult, list[str]]
) -> None:
    calls = []
    monkeypatch.setattr(
        local, "run_local", lambda *args, **kwargs: calls.append((args, kwargs)) or run[0]
    )
    other = tmp_path / "churn.csv"
    argv = ["run-local", "--data", str(other), "--target", "churned", "--drop", "id, signup"]
    cli.main([*argv, "--positive-class", "yes", "--workdir", str(tmp_path)])
    (data, _, _), kwargs = calls[0]
    assert data == other
    options = kwargs["options"]
    assert {step: o["target"] for step, o in options.items()} == dict.fromkeys(
        ("preprocess", "train", "evaluate"), "churned"
    )
    assert options["preprocess"]["drop"] == "id,signup"
    assert options["preprocess"]["positive-class"] == "yes"
    # Without the flags, the data set is config.py's.
    assert local.step_options() == {
        "preprocess": config.PREPROCESS_OPTIONS,
        "train": config.TRAIN_OPTIONS,
        "evaluate": config.EVALUATE_OPTIONS,
    }


# Built from the configured names (the target, the columns to drop), so they hold whatever the
# data set is.
DROPPED = "".join(f"{name}," for name in config.DROP_COLUMNS)
HEADER = f"feature_a,feature_b,{DROPPED}{config.TARGET_COLUMN}\n"


def row(a: object, b: object, label: object) -> str:
    """One CSV line under HEADER."""
    return f"{a},{b},{'0,' * len(config.DROP_COLUMNS)}{label}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "the file is empty", id="empty"),
        pytest.param("just some text\n", "one column only, so not a table", id="not-a-table"),
        pytest.param(
            "feature_a,feature_b,label\n1,2,0\n",
            f"no target column {config.TARGET_COLUMN!r}",
            id="wrong-columns",
        ),
        pytest.param(
            HEADER + row(1, 2, "a") + row(3, 4, "a"), "holds one class only ('a')", id="one-class"
        ),
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


def test_a_steps_warnings_are_shown_under_its_line(tmp_path: Path) -> None:
    """An ID-like column is named under the preprocess line, and the step goes on."""
    folder = tmp_path / "input"
    folder.mkdir()
    lines = [
        f"row_id,x,{config.TARGET_COLUMN}",
        *(f"{1000 + i},{i % 7},{i % 2}" for i in range(40)),
    ]
    (folder / "ids.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shown: list[str] = []
    options = local.step_options(drop=(), positive_class="")["preprocess"]
    arguments = ["--input-dir", str(folder), "--train-dir", str(tmp_path / "train")]
    arguments += ["--test-dir", str(tmp_path / "test"), *config.command_line(options)]
    local._step("preprocess", arguments, env={}, log=shown.append)
    assert shown[0].startswith("preprocess ")
    assert shown[-1].strip().startswith("warning: column 'row_id' holds a different whole number")


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


def test_a_champion_is_scored_on_the_same_rows_and_judged_by_the_gate(
    run: tuple[LocalResult, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run-local --champion` (and `make local CHAMPION=`): the same model is an equal champion,
    so the verdict is the gate's without one (a data set of noise misses it either way)."""
    champion = tmp_path / "champion.tar.gz"
    champion.write_bytes(run[0].model_tar.read_bytes())
    code = cli.main(["run-local", "--workdir", str(tmp_path / "run"), "--champion", str(champion)])
    out = capsys.readouterr().out
    assert code == (ExitCode.OK if run[0].passed else ExitCode.BELOW_THRESHOLD)
    score = run[0].score
    assert f"champion: champion version local scored {score:.4f}; the challenger's " in out
    assert f"clears its bar {score - config.CHAMPION_TOLERANCE:.4f}" in out
    report = (tmp_path / "run" / "opt/ml/processing/report/report.md").read_text()
    assert "## Against the champion (version local), on the same test rows" in report


def test_a_missing_champion_is_refused_before_any_step(tmp_path: Path) -> None:
    with pytest.raises(CliError, match=r"gone\.tar\.gz: champion model\.tar\.gz not found") as e:
        run_local(DATA, tmp_path, 0.85, champion=tmp_path / "gone.tar.gz")
    assert e.value.code == ExitCode.USAGE
    assert not (tmp_path / "opt").exists()
