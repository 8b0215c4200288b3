"""The step scripts on the bundled data: split, training, evaluation format and report.

`make test-compat` runs this file on the SageMaker container's scikit-learn as well, so it imports
only the standard library, pytest, numpy, pandas, scikit-learn, joblib and the step scripts.
"""

import ast
import json
import sys
import tarfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.steps import evaluate, inference, preprocess, train

ROOT = config.REPO_ROOT
DATA = ROOT / config.SAMPLE_DATA
STEPS = ROOT / "src" / "{{ cookiecutter.__package }}" / "steps"
TARGET = config.TARGET_COLUMN
C = config.HYPERPARAMETERS["c"]
MAX_ITER = config.HYPERPARAMETERS["max-iter"]


def data_dir(tmp_path: Path, name: str, text: str) -> Path:
    """A processing input directory holding one CSV with this text."""
    folder = tmp_path / "input"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return preprocess.read_input(DATA.parent, TARGET)


@pytest.fixture(scope="module")
def model_tar(tmp_path_factory: pytest.TempPathFactory, sample: pd.DataFrame) -> Path:
    """model.tar.gz as SageMaker packs it after the train step."""
    root = tmp_path_factory.mktemp("model")
    train_set, _ = preprocess.split(sample, TARGET, config.TEST_SIZE, config.RANDOM_SEED)
    model_dir = root / "model"
    train.save(train.train(train_set, TARGET, C, MAX_ITER, config.RANDOM_SEED), model_dir)
    tar = root / "tar" / "model.tar.gz"
    tar.parent.mkdir()
    with tarfile.open(tar, "w:gz") as archive:
        for path in sorted(model_dir.rglob("*")):
            archive.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    return tar


# --- preprocess ---------------------------------------------------------------------------------


def test_sample_data_is_binary_and_numeric(sample: pd.DataFrame) -> None:
    assert sample.shape == (569, 31)
    assert sorted(sample[TARGET].unique()) == [0, 1]
    assert all(np.issubdtype(dtype, np.number) for dtype in sample.dtypes)


def test_split_is_stratified_seeded_and_disjoint(sample: pd.DataFrame) -> None:
    train_set, test_set = preprocess.split(sample, TARGET, 0.2, seed=7)
    assert len(train_set) + len(test_set) == len(sample)
    assert len(test_set) == pytest.approx(0.2 * len(sample), abs=1)
    # Stratified: the malignant share is the same on both sides, to within one row.
    share = sample[TARGET].mean()
    assert abs(test_set[TARGET].mean() - share) < 1 / len(test_set)
    assert abs(train_set[TARGET].mean() - share) < 1 / len(train_set)
    # Disjoint and complete: together they are the input, row for row.
    together = pd.concat([train_set, test_set]).sort_values(list(sample.columns))
    assert together.reset_index(drop=True).equals(
        sample.sort_values(list(sample.columns)).reset_index(drop=True)
    )
    again, _ = preprocess.split(sample, TARGET, 0.2, seed=7)
    other, _ = preprocess.split(sample, TARGET, 0.2, seed=8)
    assert again.equals(train_set)
    assert not other.equals(train_set)


def test_preprocess_main_writes_train_and_test(tmp_path: Path) -> None:
    code = preprocess.main(
        [
            *("--input-dir", str(DATA.parent)),
            *("--train-dir", str(tmp_path / "train")),
            *("--test-dir", str(tmp_path / "test")),
            *("--target", TARGET),
        ]
    )
    assert code == 0
    train_set = pd.read_csv(tmp_path / "train" / "train.csv")
    test_set = pd.read_csv(tmp_path / "test" / "test.csv")
    assert (len(train_set), len(test_set)) == (456, 113)
    assert list(train_set.columns) == list(test_set.columns)
    assert not list(tmp_path.rglob(".*partial"))


HEADER = "a,b,malignant\n"
BAD_INPUTS = [
    pytest.param("", "the file is empty", id="empty-file"),
    pytest.param(HEADER, "a header but no rows", id="header-only"),
    pytest.param(
        HEADER + "1,2,0\n3,x,1\n", "column 'b', data row 2: 'x' is not a finite", id="text"
    ),
    pytest.param(HEADER + "1,2,0\n3,,1\n", "column 'b', data row 2", id="missing-value"),
    pytest.param(HEADER + "1,inf,0\n3,4,1\n", "column 'b', data row 1", id="infinite"),
    pytest.param("a,b,label\n1,2,0\n3,4,1\n", "no target column 'malignant'", id="no-target"),
    pytest.param("malignant\n0\n1\n", "no feature column", id="no-features"),
    pytest.param(HEADER + "1,2,1\n3,4,1\n", "holds one class only (1)", id="single-class"),
    pytest.param(HEADER + "1,2,0\n3,4,2\n", "must hold 0 or 1, found 2", id="three-classes"),
]


@pytest.mark.parametrize(("text", "message"), BAD_INPUTS)
def test_bad_input_is_one_clear_error_and_no_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    folder = data_dir(tmp_path, "patients.csv", text)
    out = tmp_path / "out"
    code = preprocess.main(
        ["--input-dir", str(folder), "--train-dir", str(out), "--test-dir", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert err.startswith("error: ")
    assert str(folder) in err
    assert not out.exists()


def test_no_csv_and_mismatched_files_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(preprocess.DataError, match=r"no \.csv file"):
        preprocess.read_input(empty, TARGET)
    folder = data_dir(tmp_path, "a.csv", HEADER + "1,2,0\n3,4,1\n")
    (folder / "b.csv").write_text("a,c,malignant\n1,2,0\n", encoding="utf-8")
    with pytest.raises(preprocess.DataError, match=r"b\.csv: columns differ from those of a\.csv"):
        preprocess.read_input(folder, TARGET)


def test_every_csv_in_the_input_directory_is_read(tmp_path: Path) -> None:
    folder = data_dir(tmp_path, "a.csv", HEADER + "1,2,0\n3,4,1\n")
    (folder / "b.csv").write_text(HEADER + "5,6,1\n", encoding="utf-8")
    assert len(preprocess.read_input(folder, TARGET)) == 3


# --- train --------------------------------------------------------------------------------------


def test_training_is_seeded_and_takes_its_hyperparameters(sample: pd.DataFrame) -> None:
    first = train.train(sample, TARGET, 0.5, 200, seed=1)
    second = train.train(sample, TARGET, 0.5, 200, seed=1)
    assert [name for name, _ in first.steps] == ["scale", "classify"]
    assert first.named_steps["classify"].C == 0.5
    assert first.named_steps["classify"].max_iter == 200
    np.testing.assert_array_equal(
        first.named_steps["classify"].coef_, second.named_steps["classify"].coef_
    )
    assert list(first.feature_names_in_) == [c for c in sample.columns if c != TARGET]


def test_train_main_follows_sagemaker_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample: pd.DataFrame
) -> None:
    channel = tmp_path / "input" / "data" / "train"
    channel.mkdir(parents=True)
    sample.to_csv(channel / "train.csv", index=False)
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(channel))
    monkeypatch.setenv("SM_MODEL_DIR", str(tmp_path / "model"))
    assert train.main(["--c", "2.0", "--max-iter", "500"]) == 0
    model = joblib.load(tmp_path / "model" / "model.joblib")
    assert model.named_steps["classify"].C == 2.0
    served = tmp_path / "model" / "code" / "inference.py"
    assert served.read_bytes() == (STEPS / "inference.py").read_bytes()
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["code", "model.joblib"]


def test_train_main_refuses_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = train.main(["--train-dir", str(tmp_path), "--model-dir", str(tmp_path / "model")])
    assert code == 2
    assert "train.csv" in capsys.readouterr().err
    assert not (tmp_path / "model").exists()


# --- evaluate -----------------------------------------------------------------------------------


def test_metrics_follow_sagemakers_model_quality_format() -> None:
    # The example in SageMaker's model-quality metrics documentation: 4 rows, 2 false positives.
    y_true = np.array([0, 0, 0, 1])
    y_pred = np.array([0, 1, 1, 1])
    y_score = np.array([0.1, 0.6, 0.7, 0.9])
    metrics = evaluate.compute_metrics(y_true, y_pred, y_score)["binary_classification_metrics"]
    assert metrics["confusion_matrix"] == {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}
    assert metrics["accuracy"] == {"value": 0.5, "standard_deviation": "NaN"}
    assert metrics["precision"]["value"] == pytest.approx(1 / 3)
    assert metrics["recall"]["value"] == 1.0
    assert metrics["f1"]["value"] == pytest.approx(0.5)
    assert metrics["auc"]["value"] == 1.0
    curve = metrics["receiver_operating_characteristic_curve"]
    assert curve["false_positive_rates"][0] == 0.0
    assert curve["true_positive_rates"][-1] == 1.0


def json_path(document: dict, dotted: str) -> object:
    """What the pipeline's JsonGet reads at a dotted path."""
    value: object = document
    for key in dotted.split("."):
        assert isinstance(value, dict), f"{dotted}: {key!r} is not under an object"
        value = value[key]
    return value


def test_evaluate_main_writes_json_report_and_plots(model_tar: Path, tmp_path: Path) -> None:
    test_dir = tmp_path / "test"
    test_dir.mkdir()
    sample = preprocess.read_input(DATA.parent, TARGET)
    _, test_set = preprocess.split(sample, TARGET, config.TEST_SIZE, config.RANDOM_SEED)
    test_set.to_csv(test_dir / "test.csv", index=False)
    out = tmp_path / "evaluation"
    code = evaluate.main(
        [
            *("--model-dir", str(model_tar.parent)),
            *("--test-dir", str(test_dir)),
            *("--output-dir", str(out)),
            *("--threshold", "0.85"),
        ]
    )
    assert code == 0
    document = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    accuracy = json_path(document, config.ACCURACY_JSON_PATH)
    assert isinstance(accuracy, float)
    assert accuracy >= 0.85, "the bundled data must clear the default threshold"
    metrics = document["binary_classification_metrics"]
    for name in ("accuracy", "precision", "recall", "f1", "auc"):
        assert 0 <= metrics[name]["value"] <= 1
        assert metrics[name]["standard_deviation"] == "NaN"
    counts = metrics["confusion_matrix"]
    assert sum(counts[a][p] for a in "01" for p in "01") == len(test_set)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert f"**Verdict: PASS**: accuracy {accuracy:.4f} >= threshold 0.8500" in report
    assert f"| accuracy | {accuracy:.4f} |" in report
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "Plots skipped" in report
    else:
        for name in ("confusion_matrix.png", "roc_curve.png"):
            assert (out / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
            assert f"]({name})" in report
    assert not list(out.glob(".*"))


def test_report_verdict_fails_below_threshold() -> None:
    evaluation = evaluate.compute_metrics(
        np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]), np.array([0.2, 0.9, 0.4, 0.1])
    )
    report = evaluate.render_report(evaluation, threshold=0.9, rows=4, plots=[])
    assert "**Verdict: FAIL**: accuracy 0.7500 < threshold 0.9000" in report
    assert "Plots skipped: matplotlib is not installed" in report


def test_the_report_and_the_plots_name_the_classes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    evaluation = evaluate.compute_metrics(
        np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]), np.array([0.2, 0.9, 0.4, 0.1])
    )
    report = evaluate.render_report(evaluation, threshold=0.5, rows=4, plots=[], target="malignant")
    assert "Positive class: malignant (1)." in report
    assert "| actual \\ predicted | not malignant (0) | malignant (1) |" in report
    assert "| not malignant (0) | 2 | 0 |" in report
    pytest.importorskip("matplotlib")
    figures: list = []
    monkeypatch.setattr(evaluate, "_save_figure", lambda figure, path: figures.append(figure))
    evaluate.save_plots(evaluation, tmp_path, "malignant")
    matrix, roc = (figure.axes[0] for figure in figures)
    names = ["not malignant (0)", "malignant (1)"]
    assert [label.get_text() for label in matrix.get_xticklabels()] == names
    assert [label.get_text() for label in matrix.get_yticklabels()] == names
    assert "positive: malignant" in matrix.get_title()
    assert roc.get_title().startswith("ROC curve, malignant vs not")
    assert "malignant found" in roc.get_ylabel()


def test_plots_are_skipped_without_matplotlib(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A None entry in sys.modules makes `import matplotlib` raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    evaluation = evaluate.compute_metrics(np.array([0, 1]), np.array([0, 1]), np.array([0.2, 0.9]))
    assert evaluate.save_plots(evaluation, tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_evaluate_refuses_a_missing_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "evaluation"
    code = evaluate.main(
        ["--model-dir", str(tmp_path), "--test-dir", str(tmp_path), "--output-dir", str(out)]
    )
    assert code == 2
    assert "model.tar.gz" in capsys.readouterr().err
    assert not out.exists()


# --- the steps' contract with the containers and with config.py ---------------------------------

ALLOWED_IMPORTS = {"numpy", "pandas", "sklearn", "joblib", "__future__"}
# inference.py answers a bad request with a 4xx response object, and the image's request handler
# is a Flask application: Werkzeug, Flask's own dependency, is in the serving image.
SERVING_IMPORTS = {"werkzeug"}


@pytest.mark.parametrize("name", ["preprocess", "train", "evaluate", "inference"])
def test_steps_are_self_contained(name: str) -> None:
    """A step runs alone in a container: stdlib and the image's libraries only, at top level."""
    allowed = ALLOWED_IMPORTS | (SERVING_IMPORTS if name == "inference" else set())
    tree = ast.parse((STEPS / f"{name}.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{name}.py: relative import"
            roots = {(node.module or "").split(".")[0]}
        else:
            continue
        outside = roots - allowed - set(sys.stdlib_module_names)
        assert not outside, f"{name}.py imports {outside} at top level"


def test_step_defaults_agree_with_config() -> None:
    """Run alone, a step behaves as the pipeline and run-local configure it."""
    pre = preprocess.parse_args([])
    assert (pre.target, pre.test_size, pre.seed) == (TARGET, config.TEST_SIZE, config.RANDOM_SEED)
    fit = train.parse_args([])
    assert (fit.target, fit.seed) == (TARGET, config.RANDOM_SEED)
    assert {"c": fit.c, "max-iter": fit.max_iter} == config.HYPERPARAMETERS
    judge = evaluate.parse_args([])
    assert (judge.target, judge.threshold) == (TARGET, config.ACCURACY_THRESHOLD)
    assert inference.MODEL_FILE == train.MODEL_FILE == evaluate.MODEL_FILE


def test_compat_pins_are_the_containers() -> None:
    """`make test-compat` installs the scikit-learn that config.py says the image ships."""
    pins = (ROOT / "compat-requirements.txt").read_text(encoding="utf-8").splitlines()
    assert f"scikit-learn=={config.SKLEARN_CONTAINER_VERSION}" in pins
    major_minor = ".".join(config.SKLEARN_CONTAINER_VERSION.split(".")[:2])
    assert config.SKLEARN_FRAMEWORK_VERSION.startswith(f"{major_minor}-")
