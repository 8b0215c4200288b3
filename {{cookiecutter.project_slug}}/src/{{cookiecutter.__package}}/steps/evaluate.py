"""Evaluate step: score the trained model on the held-out test set.

Runs as a SageMaker processing job: reads /opt/ml/processing/model/model.tar.gz and
/opt/ml/processing/test/test.csv, and writes to /opt/ml/processing/evaluation:
- evaluation.json, in SageMaker's model-quality metrics format (the pipeline's accuracy gate and
  the model registry read it);
- report.md, the metrics as a table and the verdict against the accuracy threshold;
- confusion_matrix.png and roc_curve.png, when matplotlib is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tarfile
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

# The container's /opt/ml/processing. Outside a container, SAGEMAKER_BASE_DIR says where /opt/ml
# is (the variable SageMaker's own toolkits read); the offline pipeline executor sets it.
PROCESSING = Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")) / "processing"
MODEL_FILE = "model.joblib"
USAGE_ERROR = 2
# The per-metric entries SageMaker's model-quality format carries; the standard deviation is
# "NaN" because it is computed from one held-out set, not resampled.
SCALARS = ("accuracy", "precision", "recall", "f1", "auc")
LABELS = (0, 1)


def load_model(model_tar: Path) -> Any:
    """The fitted pipeline inside model.tar.gz, read without unpacking the archive to disk."""
    with tarfile.open(model_tar, "r:gz") as archive:
        try:
            member = archive.extractfile(MODEL_FILE)
        except KeyError:
            raise ValueError(f"{model_tar}: no {MODEL_FILE} inside") from None
        if member is None:
            raise ValueError(f"{model_tar}: {MODEL_FILE} is not a regular file")
        with member:
            return joblib.load(member)


def compute_metrics(y_true: np.ndarray, y_pred: np.ndarray, y_score: np.ndarray) -> dict:
    """Binary classification metrics in SageMaker's model-quality JSON format."""
    matrix = confusion_matrix(y_true, y_pred, labels=list(LABELS))
    fpr, tpr, _ = roc_curve(y_true, y_score)
    values = {
        "accuracy": accuracy_score(y_true, y_pred),
        "precision": precision_score(y_true, y_pred, zero_division=0),
        "recall": recall_score(y_true, y_pred, zero_division=0),
        "f1": f1_score(y_true, y_pred, zero_division=0),
        "auc": roc_auc_score(y_true, y_score),
    }
    metrics: dict[str, Any] = {
        name: {"value": float(values[name]), "standard_deviation": "NaN"} for name in SCALARS
    }
    # Outer key: the actual label; inner key: the predicted label (SageMaker's layout).
    metrics["confusion_matrix"] = {
        str(actual): {str(predicted): int(matrix[i, j]) for j, predicted in enumerate(LABELS)}
        for i, actual in enumerate(LABELS)
    }
    metrics["receiver_operating_characteristic_curve"] = {
        "false_positive_rates": [float(x) for x in fpr],
        "true_positive_rates": [float(x) for x in tpr],
    }
    return {"binary_classification_metrics": metrics}


def class_names(target: str) -> tuple[str, str]:
    """How the report and the plots name label 0 and label 1 (the positive class, the target)."""
    return f"not {target} (0)", f"{target} (1)"


def render_report(
    evaluation: dict, threshold: float, rows: int, plots: list[str], target: str = "positive"
) -> str:
    """The Markdown summary: the metrics table, the confusion matrix and the verdict."""
    names = class_names(target)
    metrics = evaluation["binary_classification_metrics"]
    accuracy = metrics["accuracy"]["value"]
    passed = accuracy >= threshold
    verdict = "PASS" if passed else "FAIL"
    relation = ">=" if passed else "<"
    matrix = metrics["confusion_matrix"]
    lines = [
        "# Model evaluation",
        "",
        f"Held-out test set: {rows} rows.",
        "",
        f"**Verdict: {verdict}**: accuracy {accuracy:.4f} {relation} threshold {threshold:.4f}.",
        "",
        "| Metric | Value |",
        "| --- | --- |",
        *(f"| {name} | {metrics[name]['value']:.4f} |" for name in SCALARS),
        "",
        f"Positive class: {names[1]}. Confusion matrix (rows: actual, columns: predicted):",
        "",
        f"| actual \\ predicted | {names[0]} | {names[1]} |",
        "| --- | --- | --- |",
        *(f"| {names[i]} | {matrix[a]['0']} | {matrix[a]['1']} |" for i, a in enumerate("01")),
        "",
    ]
    if plots:
        lines += [f"![{Path(name).stem}]({name})" for name in plots]
    else:
        lines.append("Plots skipped: matplotlib is not installed in this environment.")
    return "\n".join(lines) + "\n"


def save_plots(evaluation: dict, output_dir: Path, target: str = "positive") -> list[str]:
    """Write the confusion matrix and ROC curve as PNGs; none when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display in a container or on CI
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    metrics = evaluation["binary_classification_metrics"]
    matrix = np.array([[metrics["confusion_matrix"][a][p] for p in "01"] for a in "01"])
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        color = "white" if count > matrix.max() / 2 else "black"
        ax.text(j, i, str(count), ha="center", va="center", color=color)
    names = class_names(target)
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=names, yticklabels=names)
    ax.set(xlabel="predicted", ylabel="actual")
    ax.set_title(f"Confusion matrix (positive: {target})")
    _save_figure(fig, output_dir / "confusion_matrix.png")
    curve = metrics["receiver_operating_characteristic_curve"]
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot(curve["false_positive_rates"], curve["true_positive_rates"], label="model")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    auc = metrics["auc"]["value"]
    ax.set(
        xlabel=f"false positive rate ({names[0]} called {target})",
        ylabel=f"true positive rate ({target} found)",
    )
    ax.set_title(f"ROC curve, {target} vs not (AUC {auc:.3f})")
    ax.legend(loc="lower right")
    _save_figure(fig, output_dir / "roc_curve.png")
    plt.close("all")
    return ["confusion_matrix.png", "roc_curve.png"]


def _save_figure(fig: Any, path: Path) -> None:
    partial = path.with_name(f".{path.stem}.partial.png")
    fig.tight_layout()
    fig.savefig(partial, dpi=100)
    os.replace(partial, path)


def write_text(path: Path, text: str) -> None:
    """Write a file atomically: a reader never sees half a file under the final name."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def evaluate(model: Any, test: pd.DataFrame, target: str) -> dict:
    """Predict the test set and compute the metrics."""
    if target not in test.columns:
        raise ValueError(f"no target column {target!r} in the test data")
    features = test.drop(columns=[target])
    return compute_metrics(
        test[target].to_numpy(), model.predict(features), model.predict_proba(features)[:, 1]
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The step's options; the pipeline and run-local pass the values from config.py."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-dir", type=Path, default=PROCESSING / "model")
    p.add_argument("--test-dir", type=Path, default=PROCESSING / "test")
    p.add_argument("--output-dir", type=Path, default=PROCESSING / "evaluation")
    p.add_argument("--target", default="malignant", help="name of the 0/1 target column")
    p.add_argument(
        "--threshold",
        type=float,
        default={{ cookiecutter.accuracy_threshold | float }},
        help="accuracy the verdict needs",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Score the model and write evaluation.json, report.md and the plots."""
    args = parse_args(argv)
    test_csv = args.test_dir / "test.csv"
    try:
        model = load_model(args.model_dir / "model.tar.gz")
        test = pd.read_csv(test_csv)
        evaluation = evaluate(model, test, args.target)
    except (OSError, ValueError, tarfile.TarError) as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    args.output_dir.mkdir(parents=True, exist_ok=True)
    plots = save_plots(evaluation, args.output_dir, args.target)
    report = render_report(evaluation, args.threshold, len(test), plots, args.target)
    write_text(args.output_dir / "report.md", report)
    # evaluation.json last: its presence means the whole evaluation finished.
    write_text(args.output_dir / "evaluation.json", json.dumps(evaluation, indent=2) + "\n")
    accuracy = evaluation["binary_classification_metrics"]["accuracy"]["value"]
    print(f"evaluate: accuracy {accuracy:.4f} on {len(test)} rows -> {args.output_dir}")
    if not plots:
        print("evaluate: plots skipped (matplotlib is not installed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
