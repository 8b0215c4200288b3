"""The evaluate and report steps: SageMaker's metrics format, the constant baseline, the gate,
the champion, and the report made of them.

`make test-compat` runs this file on the SageMaker container's libraries as well, so it imports
only the standard library, pytest, numpy, pandas, scikit-learn, joblib and the step scripts.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tables

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.steps import evaluate, report, train

TARGET = tables.TARGET


def json_path(document: dict, dotted: str) -> object:
    """What the pipeline's JsonGet reads at a dotted path."""
    value: object = document
    for key in dotted.split("."):
        assert isinstance(value, dict), f"{dotted}: {key!r} is not under an object"
        value = value[key]
    return value


def trained(tmp_path: Path, table: pd.DataFrame, target: str) -> Path:
    """Splits and a packed model for `table`, laid out as the evaluate step reads them."""
    train_set, test_set = tables.splits(table, target)
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    train_set.to_parquet(tmp_path / "train" / evaluate.TRAIN_FILE, index=False)
    test_set.to_parquet(tmp_path / "test" / evaluate.TEST_FILE, index=False)
    train.save(tables.fit(train_set, target), tmp_path / "trained")
    tables.pack(tmp_path / "trained", tmp_path / "model" / "model.tar.gz")
    return tmp_path


def run(folder: Path, target: str, task: str, metric: str, threshold: float, *champion: str) -> int:
    """The evaluate step, then the report step on its evaluation.json (into the same folder)."""
    evaluation = folder / "evaluation"
    code = evaluate.main(
        [
            *("--model-dir", str(folder / "model")),
            *("--train-dir", str(folder / "train")),
            *("--test-dir", str(folder / "test")),
            *("--output-dir", str(evaluation)),
            *("--target", target, "--task", task, "--gate-metric", metric),
            *("--threshold", str(threshold)),
            *champion,
        ]
    )
    if code:
        return code
    return report.main(
        ["--evaluation-dir", str(evaluation), "--output-dir", str(evaluation), "--target", target]
    )


# --- metrics --------------------------------------------------------------------------------------


def test_binary_metrics_follow_sagemakers_model_quality_format() -> None:
    # The example in SageMaker's model-quality metrics documentation: 4 rows, 2 false positives.
    y_true = np.array([0, 0, 0, 1])
    y_pred = np.array([0, 1, 1, 1])
    scores = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.1, 0.9]])
    metrics = evaluate.compute_metrics("binary", y_true, y_pred, scores, [0, 1])
    m = metrics["binary_classification_metrics"]
    assert m["confusion_matrix"] == {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}
    assert m["accuracy"] == {"value": 0.5, "standard_deviation": "NaN"}
    assert m["precision"]["value"] == pytest.approx(1 / 3)
    assert m["recall"]["value"] == 1.0
    assert m["f1"]["value"] == pytest.approx(0.5)
    assert m["f2"]["value"] == pytest.approx(0.7142857142857143)
    assert m["auc"]["value"] == 1.0
    assert m["true_negative_rate"]["value"] == pytest.approx(1 / 3)
    # The documentation's constant classifier predicts the positive class; these agree with it.
    assert m["f1_best_constant_classifier"]["value"] == pytest.approx(0.4)
    assert m["f2_best_constant_classifier"]["value"] == pytest.approx(0.625)
    assert m["recall_best_constant_classifier"]["value"] == 1.0
    # Accuracy's best constant is the majority class (3 of 4), not the positive one (1 of 4).
    assert m["accuracy_best_constant_classifier"]["value"] == 0.75
    assert m["balanced_accuracy_best_constant_classifier"]["value"] == 0.5
    assert m["auc_best_constant_classifier"]["value"] == 0.5
    curve = m["receiver_operating_characteristic_curve"]
    assert curve["false_positive_rates"][0] == 0.0
    assert curve["true_positive_rates"][-1] == 1.0
    assert m["precision_recall_curve"]["recalls"][0] == 1.0


def test_multiclass_metrics_follow_sagemakers_model_quality_format() -> None:
    classes = ["a", "b", "c"]
    y_true = np.array(["a", "a", "a", "a", "b", "b", "c", "c"], dtype=object)
    y_pred = np.array(["a", "a", "a", "b", "b", "b", "c", "a"], dtype=object)
    scores = np.eye(3)[[classes.index(p) for p in y_pred]] * 0.8 + 0.2 / 3
    metrics = evaluate.compute_metrics("multiclass", y_true, y_pred, scores, classes)
    m = metrics["multiclass_classification_metrics"]
    assert m["confusion_matrix"]["a"] == {"a": 3, "b": 1, "c": 0}
    assert m["confusion_matrix"]["c"] == {"a": 1, "b": 0, "c": 1}
    assert m["accuracy"]["value"] == 0.75
    for name in ("weighted_recall", "weighted_precision", "weighted_f0_5", "weighted_f1"):
        assert 0 < m[name]["value"] <= 1
        assert f"{name}_best_constant_classifier" in m
    assert m["accuracy_best_constant_classifier"]["value"] == 0.5  # always "a"
    assert m["balanced_accuracy_best_constant_classifier"]["value"] == pytest.approx(1 / 3)
    assert "receiver_operating_characteristic_curve" not in m


def test_a_multiclass_task_with_two_classes_is_evaluated() -> None:
    """The bundled sample is binary; a multiclass project trains on it as two classes."""
    y_true = np.array(["0", "0", "1", "1"], dtype=object)
    y_pred = np.array(["0", "1", "1", "1"], dtype=object)
    scores = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.2, 0.8]])
    m = evaluate.compute_metrics("multiclass", y_true, y_pred, scores, ["0", "1"])
    section = m["multiclass_classification_metrics"]
    assert section["accuracy"]["value"] == 0.75
    assert section["auc"]["value"] == 1.0
    assert section["weighted_f1_best_constant_classifier"]["value"] == pytest.approx(1 / 3)


def test_gate_fields_exist_for_every_metric_and_task() -> None:
    """Each gate metric is a real field of the task's evaluation.json, with its baseline."""
    y = np.array([0, 1, 0, 1])
    scores = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8]])
    binary = evaluate.compute_metrics("binary", y, y, scores, [0, 1])
    labels = np.array(["a", "b", "c", "a"], dtype=object)
    multi = evaluate.compute_metrics(
        "multiclass", labels, labels, np.eye(3)[[0, 1, 2, 0]], ["a", "b", "c"]
    )
    for task, document in (("binary", binary), ("multiclass", multi)):
        for metric in evaluate.GATE_METRICS:
            field = evaluate.GATE_FIELDS[task][metric]
            section = document[evaluate.metrics_key(task)]
            assert isinstance(section[field]["value"], float)
            assert isinstance(section[field + evaluate.BEST_CONSTANT]["value"], float)


# --- the gate ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "baseline", "threshold", "passed"),
    [
        (0.90, 0.50, 0.85, True),
        (0.80, 0.50, 0.85, False),  # below the threshold
        (0.944, 0.95, 0.85, False),  # clears the threshold, but a constant does better
        (0.95, 0.95, 0.85, False),  # a tie with a constant is not learning
    ],
)
def test_the_gate_needs_the_threshold_and_to_beat_a_constant(
    score: float, baseline: float, threshold: float, passed: bool
) -> None:
    assert evaluate.passes(score, baseline, threshold) is passed
    line = evaluate.gate_line("accuracy", score, baseline, threshold)
    assert f"the best constant classifier ({baseline:.4f})" in line


def test_a_model_of_noise_does_not_pass(tmp_path: Path) -> None:
    """95/5 pure noise: predicting the majority is 95% accurate, and the gate still says no."""
    rng = np.random.default_rng(3)
    noise = pd.DataFrame(rng.normal(size=(400, 5)), columns=[f"x{i}" for i in range(5)])
    noise["fraud"] = (rng.random(400) < 0.05).astype("int64")
    folder = trained(tmp_path, noise, "fraud")
    assert run(folder, "fraud", "binary", "accuracy", 0.5) == 0
    document = json.loads((folder / "evaluation" / "evaluation.json").read_text())
    m = document["binary_classification_metrics"]
    for field in ("accuracy", "balanced_accuracy"):
        score, baseline = m[field]["value"], m[field + evaluate.BEST_CONSTANT]["value"]
        assert not evaluate.passes(score, baseline, 0.5), (field, score, baseline)
    assert m["accuracy"]["value"] > 0.9  # the threshold alone would have let it through
    text = (folder / "evaluation" / "report.md").read_text(encoding="utf-8")
    assert "**Verdict: FAIL**: accuracy " in text
    assert "does not beat the best constant classifier" in text


# --- the step on the configured data set, and on a multiclass table ----------------------------


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = trained(tmp_path_factory.mktemp("evaluate"), tables.data_set(), TARGET)
    code = run(folder, TARGET, config.TASK, config.GATE_METRIC, config.GATE_THRESHOLD)
    assert code == 0
    return folder / "evaluation"


def test_evaluation_json_holds_the_gate_metric_and_its_baseline(evaluated: Path) -> None:
    document = json.loads((evaluated / "evaluation.json").read_text(encoding="utf-8"))
    score = json_path(document, config.GATE_JSON_PATH)
    baseline = json_path(document, config.BASELINE_JSON_PATH)
    metrics = document[config.METRICS_KEY]
    # The gate's numbers are the model-quality fields of the gate metric, which the registry shows.
    field = evaluate.GATE_FIELDS[config.TASK][config.GATE_METRIC]
    assert document[config.GATE_KEY]["field"] == field
    assert score == metrics[field]["value"]
    assert baseline == metrics[field + evaluate.BEST_CONSTANT]["value"]
    assert isinstance(score, float)
    assert isinstance(baseline, float)
    total = sum(sum(row.values()) for row in metrics["confusion_matrix"].values())
    _, test_set = tables.splits(tables.data_set())
    assert total == len(test_set)
    assert all(m["standard_deviation"] == "NaN" for m in metrics.values() if "value" in m)
    assert not list(evaluated.glob(".*"))


def test_report_shows_verdict_balance_and_training_score(evaluated: Path) -> None:
    document = json.loads((evaluated / "evaluation.json").read_text(encoding="utf-8"))
    score = json_path(document, config.GATE_JSON_PATH)
    baseline = json_path(document, config.BASELINE_JSON_PATH)
    text = (evaluated / "report.md").read_text(encoding="utf-8")
    passed = evaluate.passes(score, baseline, config.GATE_THRESHOLD)
    line = evaluate.gate_line(config.GATE_METRIC, score, baseline, config.GATE_THRESHOLD)
    # The verdict evaluation.json carries is the one the report shows.
    assert (document[config.GATE_KEY]["passed"], document[config.GATE_KEY]["line"]) == (
        passed,
        line,
    )
    assert f"**Verdict: {'PASS' if passed else 'FAIL'}**: {line}; no champion: " in text
    assert "No champion to compare with." in text
    train_set, test_set = tables.splits(tables.data_set())
    assert f"held-out test set: {len(test_set)} rows, training set: {len(train_set)} rows" in text
    names = report.class_names(document, TARGET)
    for label, count in test_set[TARGET].value_counts().items():
        train_count = int((train_set[TARGET] == label).sum())
        assert f"| {names[str(label)]} | {train_count} | {count} |" in text
    field = evaluate.GATE_FIELDS[config.TASK][config.GATE_METRIC]
    gate_row = next(row for row in text.splitlines() if row.startswith(f"| **{field}** (gate)"))
    test, train_score, best = (float(cell) for cell in gate_row.strip("| ").split(" | ")[1:])
    assert (test, best) == (round(score, 4), round(baseline, 4))
    assert 0 <= train_score <= 1
    assert "## Per class (test)" in text
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "Plots skipped" in text
    else:
        assert (evaluated / "confusion_matrix.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert "](confusion_matrix.png)" in text


def test_a_multiclass_model_is_evaluated_per_class(tmp_path: Path) -> None:
    folder = trained(tmp_path, tables.multiclass(), "species")
    assert run(folder, "species", "multiclass", "f1", 0.5) == 0
    document = json.loads((folder / "evaluation" / "evaluation.json").read_text())
    m = document["multiclass_classification_metrics"]
    assert sorted(m["confusion_matrix"]) == ["setosa", "versicolor", "virginica"]
    assert m["weighted_f1"]["value"] > m["weighted_f1_best_constant_classifier"]["value"]
    text = (folder / "evaluation" / "report.md").read_text(encoding="utf-8")
    assert "**Verdict: PASS**: f1 " in text
    assert "| actual \\ predicted | setosa | versicolor | virginica |" in text
    assert text.count("| setosa | ") >= 3  # balance, per-class and confusion rows


def test_the_report_and_the_plots_name_the_classes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A binary task's 0 and 1 are named after the target; the positive class is the target."""
    y_true, y_pred = np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])
    scores = np.array([[0.8, 0.2], [0.1, 0.9], [0.6, 0.4], [0.9, 0.1]])
    evaluation = evaluate.compute_metrics("binary", y_true, y_pred, scores, [0, 1])
    score = evaluation["binary_classification_metrics"]["accuracy"]["value"]
    evaluation[evaluate.CHAMPION] = evaluate.champion_entry("", "", "accuracy", score, 0.0, None)
    metrics = evaluation["binary_classification_metrics"]
    champion = evaluation[evaluate.CHAMPION]
    evaluation[evaluate.GATE] = evaluate.gate_entry("accuracy", "accuracy", 0.5, metrics, champion)
    training = evaluate.label_metrics("binary", y_true, y_pred, [0, 1])[0] | {"auc": 1.0}
    evaluation[evaluate.TRAINING] = training
    evaluation[evaluate.CLASS_BALANCE] = {
        "0": {"train": 5, "test": 2},
        "1": {"train": 5, "test": 2},
    }
    text = report.render_report(evaluation, [], "malignant")
    assert "positive class malignant (1)" in text
    assert "| actual \\ predicted | not malignant (0) | malignant (1) |" in text
    assert "| not malignant (0) | 2 | 0 |" in text
    assert "| malignant (1) | 5 | 2 | 50.0% |" in text
    pytest.importorskip("matplotlib")
    figures: list = []
    monkeypatch.setattr(report, "_save_figure", lambda figure, path: figures.append(figure))
    report.save_plots(evaluation, tmp_path, "malignant")
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
    y = np.array([0, 1])
    evaluation = evaluate.compute_metrics(
        "binary", y, y, np.array([[0.8, 0.2], [0.1, 0.9]]), [0, 1]
    )
    assert report.save_plots(evaluation, tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_evaluate_refuses_a_missing_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "evaluation"
    code = evaluate.main(
        [
            *("--model-dir", str(tmp_path), "--test-dir", str(tmp_path)),
            *("--output-dir", str(out), "--target", TARGET, "--task", "binary"),
            *("--gate-metric", "accuracy", "--threshold", "0.5"),
        ]
    )
    assert code == 2
    assert "model.tar.gz" in capsys.readouterr().err
    assert not out.exists()


# --- the champion: the latest Approved version, scored on the same rows -------------------------


def separable(task: str, rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """A table any model learns, though not perfectly, with the task's labels in TARGET: the
    champion tests compare models, which a user's table (perhaps noise) cannot promise."""
    rng = np.random.default_rng(seed)
    classes: list[object] = [0, 1] if task == "binary" else ["a", "b", "c"]
    label = rng.integers(len(classes), size=rows)
    return pd.DataFrame(
        {
            "signal": label + rng.normal(scale=0.5, size=rows),
            "noise": rng.normal(size=rows),
            TARGET: [classes[i] for i in label],
        }
    )


@pytest.fixture(scope="module")
def contenders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(the splits with a good model, a good model.tar.gz, a weak one), on a learnable table with
    the configured task's labels. The weak model learnt to lean on a column that told the label
    only in its training rows: on the test rows it still ranks and classifies better than
    chance (above every constant), clearly worse than the good one, by every gate metric."""
    folder = trained(tmp_path_factory.mktemp("contenders"), separable(config.TASK), TARGET)
    train_set = pd.read_parquet(folder / "train" / evaluate.TRAIN_FILE)
    misled = train_set.copy()
    index = {label: i for i, label in enumerate(sorted(misled[TARGET].unique()))}
    rng = np.random.default_rng(2)
    misled["noise"] = misled[TARGET].map(index) + rng.normal(scale=0.5, size=len(misled))
    weak = tmp_path_factory.mktemp("weak")
    train.save(tables.fit(misled, TARGET), weak / "trained")
    tables.pack(weak / "trained", weak / "model.tar.gz")
    return folder, folder / "model" / "model.tar.gz", weak / "model.tar.gz"


def judged(
    splits: Path, workdir: Path, champion: Path, tolerance: float, challenger: Path | None = None
) -> tuple[dict, str]:
    """Evaluate the splits' model (or `challenger`) against `champion`: evaluation.json, report."""
    shutil.copytree(splits, workdir, ignore=shutil.ignore_patterns("evaluation"))
    if challenger is not None:
        shutil.copyfile(challenger, workdir / "model" / "model.tar.gz")
    options = ("--champion-model-data", str(champion), "--champion-version", "7")
    tolerated = ("--champion-tolerance", str(tolerance))
    code = run(workdir, TARGET, config.TASK, config.GATE_METRIC, 0.5, *options, *tolerated)
    assert code == 0
    output = workdir / "evaluation"
    document = json.loads((output / "evaluation.json").read_text(encoding="utf-8"))
    return document, (output / "report.md").read_text(encoding="utf-8")


def verdict(document: dict) -> bool:
    """What the pipeline's gate decides on this evaluation.json."""
    score = json_path(document, config.GATE_JSON_PATH)
    baseline = json_path(document, config.BASELINE_JSON_PATH)
    return evaluate.passes(score, baseline, 0.5, json_path(document, config.CHAMPION_BAR_JSON_PATH))


def test_no_champion_leaves_the_threshold_alone(evaluated: Path) -> None:
    document = json.loads((evaluated / "evaluation.json").read_text(encoding="utf-8"))
    assert document[config.CHAMPION_KEY]["version"] == "none"
    assert json_path(document, config.CHAMPION_BAR_JSON_PATH) == 0.0
    assert json_path(document, config.CHAMPION_CHANGE_JSON_PATH) == "none"
    # SageMaker's model-metrics reader still finds the challenger's metrics where it looks; the
    # rest is for the report step.
    assert set(document) == {
        config.METRICS_KEY,
        config.CHAMPION_KEY,
        evaluate.GATE,
        evaluate.TRAINING,
        evaluate.CLASS_BALANCE,
    }


def test_an_equal_challenger_passes(contenders: tuple[Path, Path, Path], tmp_path: Path) -> None:
    folder, good, _ = contenders
    document, text = judged(folder, tmp_path / "run", good, 0.0)
    champion = document[config.CHAMPION_KEY]
    assert champion["difference"] == 0.0
    assert champion["change"] == "+0.0000"
    assert champion["bar"] == json_path(document, config.GATE_JSON_PATH)
    assert verdict(document)
    assert "## Against the champion (version 7), on the same test rows" in text
    field = evaluate.GATE_FIELDS[config.TASK][config.GATE_METRIC]
    assert f"| **{field}** (gate) | " in text.split("## Against the champion")[1]


def test_a_better_challenger_passes(contenders: tuple[Path, Path, Path], tmp_path: Path) -> None:
    folder, _, weak = contenders
    document, text = judged(folder, tmp_path / "run", weak, 0.0)
    assert document[config.CHAMPION_KEY]["difference"] > 0.05
    assert verdict(document)
    assert "**Verdict: PASS**" in text


@pytest.mark.parametrize(("margin", "passed"), [(0.01, True), (-0.01, False)])
def test_a_worse_challenger_passes_only_within_the_tolerance(
    contenders: tuple[Path, Path, Path], tmp_path: Path, margin: float, passed: bool
) -> None:
    folder, good, weak = contenders
    ahead, _ = judged(folder, tmp_path / "ahead", weak, 0.0)
    behind = ahead[config.CHAMPION_KEY]["difference"]
    document, text = judged(folder, tmp_path / "behind", good, behind + margin, challenger=weak)
    champion = document[config.CHAMPION_KEY]
    assert champion["difference"] == pytest.approx(-behind)
    assert champion["tolerance"] == pytest.approx(behind + margin)
    assert verdict(document) is passed
    assert ("clears its bar" in champion["verdict"]) is passed
    assert f"**Verdict: {'PASS' if passed else 'FAIL'}**" in text
    # The threshold and the constant are cleared either way: a refusal names the champion.
    gate = document[config.GATE_KEY]
    assert gate["passed"] is passed
    refusal = f"{config.GATE_METRIC} {gate['score']:.4f}: {champion['verdict']}"
    assert gate["reason"] == (gate["line"] if passed else refusal)


@pytest.mark.parametrize("problem", ["missing", "unreadable"])
def test_a_champion_that_cannot_be_read_fails_the_step(
    contenders: tuple[Path, Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    problem: str,
) -> None:
    """Never a silent "no champion": the step stops, naming the version and the model data."""
    folder, _, _ = contenders
    champion = tmp_path / "model.tar.gz"
    if problem == "unreadable":
        champion.write_bytes(b"not a gzip archive")
    copy = tmp_path / "splits"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("evaluation"))
    options = ("--champion-model-data", str(champion), "--champion-version", "7")
    assert run(copy, TARGET, config.TASK, config.GATE_METRIC, 0.5, *options) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: champion version 7: its model data {champion} cannot be read")
    assert not (copy / "evaluation" / "evaluation.json").exists()
