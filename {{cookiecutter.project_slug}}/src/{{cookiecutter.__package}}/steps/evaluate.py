"""Evaluate step: score the trained model on the held-out test set, against a constant baseline
and against the champion (the model in production) when there is one.

Runs as a SageMaker processing job: reads model/model.tar.gz, test/test.parquet and (for the
training score) train/train.parquet under /opt/ml/processing, and the champion's model.tar.gz
from --champion-model-data (S3, with the job's role; or a local file). Writes to its evaluation/
folder evaluation.json (SageMaker's model-quality metrics for the task, each beside
`<metric>_best_constant_classifier`, and a `champion` object: its version, its metrics on the
same rows, and the bar the challenger must reach; the pipeline's gate and the registry read it),
with the gate (its bars, verdict and one-line reason: what report.md and run-local show), the
training scores and the class balance, which the Report step (report.py) turns into report.md
and the plots.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn import metrics as sk

# The container's /opt/ml/processing. Outside a container, SAGEMAKER_BASE_DIR says where /opt/ml
# is (the variable SageMaker's own toolkits read); the offline pipeline executor sets it.
PROCESSING = Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")) / "processing"
MODEL_FILE = "model.joblib"
TRAIN_FILE, TEST_FILE = "train.parquet", "test.parquet"
USAGE_ERROR = 2
TASKS = ("binary", "multiclass")
# The evaluation.json field holding each gate metric: SageMaker's model-quality name where the
# format has one (binary "auc", multiclass "weighted_f1"), else the scikit-learn name.
GATE_FIELDS = {
    "binary": {"balanced_accuracy": "balanced_accuracy", "accuracy": "accuracy", "f1": "f1",
               "roc_auc": "auc"},
    "multiclass": {"balanced_accuracy": "balanced_accuracy", "accuracy": "accuracy",
                   "f1": "weighted_f1", "roc_auc": "auc"},
}  # fmt: skip
GATE_METRICS = tuple(GATE_FIELDS["binary"])
BEST_CONSTANT = "_best_constant_classifier"
# SageMaker's format has a standard deviation per metric: "NaN", one held-out set, no resampling.
NO_SPREAD = "NaN"
# evaluation.json's objects beside the challenger's metrics (SageMaker's reader looks only at
# `<task>_classification_metrics`): the champion (NO_CHAMPION when there is none), and what the
# Report step shows (report.py).
CHAMPION, NO_CHAMPION = "champion", "none"
GATE, TRAINING, CLASS_BALANCE = "gate", "training", "class_balance"


def metrics_key(task: str) -> str:
    """The top-level key of SageMaker's model-quality JSON for the task."""
    return f"{task}_classification_metrics"


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


def _scalars(
    task: str, y_true: np.ndarray, y_pred: np.ndarray, weight: np.ndarray
) -> dict[str, float]:
    """The label-based metrics of SageMaker's format for the task (no scores needed)."""
    w = {"sample_weight": weight}
    values = {
        "accuracy": sk.accuracy_score(y_true, y_pred, **w),
        "balanced_accuracy": sk.balanced_accuracy_score(y_true, y_pred, **w),
    }
    # Binary: about class 1, the positive class. Multiclass: each class, weighted by its rows.
    average = "binary" if task == "binary" else "weighted"
    prefix = "" if task == "binary" else "weighted_"
    values[prefix + "precision"] = sk.precision_score(
        y_true, y_pred, average=average, zero_division=0, **w
    )
    values[prefix + "recall"] = sk.recall_score(
        y_true, y_pred, average=average, zero_division=0, **w
    )
    for name, beta in (("f0_5", 0.5), ("f1", 1.0), ("f2", 2.0)):
        values[prefix + name] = sk.fbeta_score(
            y_true, y_pred, beta=beta, average=average, zero_division=0, **w
        )
    return values


def label_metrics(
    task: str, y_true: np.ndarray, y_pred: np.ndarray, classes: list[Any]
) -> tuple[dict[str, float], dict[str, float], np.ndarray]:
    """(the model's label-based metrics, the best constant classifier's, the confusion matrix).

    Computed on the matrix's non-empty cells, each weighted by its count: the same numbers as on
    every row, without sorting all the labels again for each metric and each constant.
    """
    matrix = sk.confusion_matrix(y_true, y_pred, labels=classes)
    labels = np.asarray(classes)
    actual, predicted = np.nonzero(matrix)
    model = _scalars(task, labels[actual], labels[predicted], matrix[actual, predicted])
    # The best constant classifier of each metric: every row given the same class, the best
    # class for that metric.
    support = matrix.sum(axis=1)
    present = np.nonzero(support)[0]
    constants = [
        _scalars(task, labels[present], np.full(len(present), c), support[present]) for c in labels
    ]
    best = {name: max(found[name] for found in constants) for name in model}
    return model, best, matrix


def _auc(y_true: np.ndarray, scores: np.ndarray, classes: list[Any]) -> float:
    # Two classes (a binary task, or a multiclass one that met two): the second class's score;
    # more: each class against the rest, averaged.
    if len(classes) == 2:
        return float(sk.roc_auc_score(y_true == classes[1], scores[:, 1]))
    return float(sk.roc_auc_score(y_true, scores, multi_class="ovr", labels=classes))


def compute_metrics(
    task: str, y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray, classes: list[Any]
) -> dict:
    """The task's metrics in SageMaker's model-quality JSON format, with the constant baselines
    (`scores`: a probability column per class, in `classes` order; binary: 1 is the positive)."""
    values, best, matrix = label_metrics(task, y_true, y_pred, classes)
    values["auc"] = _auc(y_true, scores, classes)
    best["auc"] = 0.5  # a constant score ranks no pair of rows
    metrics: dict[str, Any] = {}
    for name, value in values.items():
        metrics[name] = _entry(value)
        metrics[name + BEST_CONSTANT] = _entry(best[name])
    # Outer key: the actual label; inner key: the predicted label (SageMaker's layout).
    metrics["confusion_matrix"] = {
        str(actual): {str(predicted): int(matrix[i, j]) for j, predicted in enumerate(classes)}
        for i, actual in enumerate(classes)
    }
    if task == "binary":
        fpr, tpr, _ = sk.roc_curve(y_true, scores[:, 1])
        tn, fp, fn, tp = (int(x) for x in matrix.ravel())
        rates = {"true_positive": (tp, fn), "true_negative": (tn, fp)}
        rates |= {"false_positive": (fp, tn), "false_negative": (fn, tp)}
        for name, (hit, miss) in rates.items():
            metrics[f"{name}_rate"] = _entry(hit / max(hit + miss, 1))
        curve = {"false_positive_rates": fpr.tolist(), "true_positive_rates": tpr.tolist()}
        metrics["receiver_operating_characteristic_curve"] = curve
        precisions, recalls, _ = sk.precision_recall_curve(
            y_true, scores[:, 1], drop_intermediate=True
        )
        curve = {"precisions": precisions.tolist(), "recalls": recalls.tolist()}
        metrics["precision_recall_curve"] = curve
    return {metrics_key(task): metrics}


def _entry(value: float) -> dict[str, Any]:
    return {"value": float(value), "standard_deviation": NO_SPREAD}


def model_input(model: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """The model's feature columns of `frame`, in its order, empty categorical cells as NaN."""
    columns = {name: list(cols) for name, _, cols in model.named_steps["prepare"].transformers_}
    frame = frame[list(model.feature_names_in_)].copy()
    for name in columns.get("categorical", []):
        column = frame[name].astype(object)
        frame[name] = column.where(column.notna(), np.nan)
    return frame


def predict(
    model: Any, data: pd.DataFrame, target: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(actual labels, predicted labels, class probabilities) of a labelled table."""
    if target not in data.columns:
        raise ValueError(f"no target column {target!r} in the data")
    features = model_input(model, data)
    return data[target].to_numpy(), model.predict(features), model.predict_proba(features)


def load_champion(uri: str) -> Any:
    """The champion's fitted model from its model data: an s3:// URI or a local model.tar.gz."""
    if not uri.startswith("s3://"):
        return load_model(Path(uri))
    # boto3 is in the SageMaker scikit-learn image (its requirements.txt); the job's role reads.
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, key = uri[len("s3://") :].partition("/")
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(scratch) / "model.tar.gz"
        try:
            boto3.client("s3").download_file(bucket, key, str(local))
        except (BotoCoreError, ClientError) as error:
            raise OSError(str(error)) from None
        return load_model(local)


def champion_entry(
    version: str, uri: str, field: str, score: float, tolerance: float, metrics: dict | None
) -> dict:
    """evaluation.json's `champion`: what the gate compares, and the champion's own metrics."""
    if metrics is None:
        return {
            "version": NO_CHAMPION, "model_data": "", "tolerance": tolerance, "value": None,
            "bar": 0.0, "difference": None, "change": NO_CHAMPION,
            "verdict": "no champion: judged by the threshold and the constant baseline alone",
        }  # fmt: skip
    ((key, values),) = metrics.items()
    value = values[field]["value"]
    bar, difference = value - tolerance, score - value
    verdict = "clears" if score >= bar else "is below"
    return {
        "version": version, "model_data": uri, "tolerance": tolerance, "value": value,
        "bar": bar, "difference": difference, "change": f"{difference:+.4f}",
        "verdict": f"champion version {version} scored {value:.4f}; the challenger's "
        f"{score:.4f} {verdict} its bar {bar:.4f} (tolerance {tolerance:.4f})",
        key: values,
    }  # fmt: skip


def passes(score: float, baseline: float, threshold: float, champion_bar: float = 0.0) -> bool:
    """The gate, as the pipeline's condition step decides it: at least the threshold, better than
    the best constant classifier, and at least the champion's score minus the tolerance (0
    without a champion: nothing to beat)."""
    return score >= threshold and score > baseline and score >= champion_bar


def gate_line(metric: str, score: float, baseline: float, threshold: float) -> str:
    """One line saying whether the model clears the threshold and the constant, naming both."""
    scored, bar = f"{metric} {score:.4f}", f"the threshold {threshold:.4f}"
    constant = f"the best constant classifier ({baseline:.4f})"
    if score >= threshold and score > baseline:
        return f"{scored} clears {bar} and beats {constant}"
    if score > baseline:
        return f"{scored} is below {bar}, though it beats {constant}"
    if score >= threshold:
        return f"{scored} clears {bar} but does not beat {constant}"
    return f"{scored} is below {bar} and does not beat {constant}"


def gate_entry(
    metric: str, field: str, threshold: float, metrics: dict, champion: dict
) -> dict[str, Any]:
    """The gate as the Report step and run-local show it: the bars, the verdict, its line, and
    the reason for it in one line (for a refused model, the bar it missed first). The pipeline
    decides with its own condition step, on the same numbers (JsonGet)."""
    score, baseline = metrics[field]["value"], metrics[field + BEST_CONSTANT]["value"]
    line = gate_line(metric, score, baseline, threshold)
    missed_champion = passes(score, baseline, threshold) and score < champion["bar"]
    return {
        "metric": metric, "field": field, "threshold": threshold, "score": score,
        "baseline": baseline, "passed": passes(score, baseline, threshold, champion["bar"]),
        "line": line,
        "reason": f"{metric} {score:.4f}: {champion['verdict']}" if missed_champion else line,
    }  # fmt: skip


def write_text(path: Path, text: str) -> None:
    """Write a file atomically: a reader never sees half a file under the final name."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The step's options; the pipeline and run-local pass the values from config.py."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-dir", type=Path, default=PROCESSING / "model")
    p.add_argument("--train-dir", type=Path, default=PROCESSING / "train")
    p.add_argument("--test-dir", type=Path, default=PROCESSING / "test")
    p.add_argument("--output-dir", type=Path, default=PROCESSING / "evaluation")
    p.add_argument("--target", required=True, help="name of the target column")
    p.add_argument("--task", required=True, choices=TASKS)
    p.add_argument("--gate-metric", required=True, choices=GATE_METRICS)
    p.add_argument("--threshold", type=float, required=True, help="score the verdict needs")
    p.add_argument("--champion-model-data", default="", help="the champion's model.tar.gz")
    p.add_argument("--champion-version", default="", help="the champion's version, to report")
    p.add_argument("--champion-tolerance", type=float, default=0.0, help="how far below it")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Score the model (and the champion) and write evaluation.json."""
    args = parse_args(argv)
    field = GATE_FIELDS[args.task][args.gate_metric]
    try:
        model = load_model(args.model_dir / "model.tar.gz")
        test = pd.read_parquet(args.test_dir / TEST_FILE)
        train = pd.read_parquet(args.train_dir / TRAIN_FILE)
        evaluation = compute_metrics(
            args.task, *predict(model, test, args.target), list(model.classes_)
        )
        y_true, y_pred, scores = predict(model, train, args.target)
    except (OSError, ValueError, tarfile.TarError) as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    score = evaluation[metrics_key(args.task)][field]["value"]
    theirs = None
    if args.champion_model_data:
        # Never a silent "no champion": a champion named but unreadable fails the step.
        try:
            champion = load_champion(args.champion_model_data)
            theirs = compute_metrics(
                args.task, *predict(champion, test, args.target), list(champion.classes_)
            )
        except (OSError, ValueError, KeyError, tarfile.TarError) as error:
            print(
                f"error: champion version {args.champion_version or '?'}: its model data "
                f"{args.champion_model_data} cannot be read or scored: {error}",
                file=sys.stderr,
            )
            return USAGE_ERROR
    evaluation[CHAMPION] = champion_entry(
        args.champion_version, args.champion_model_data, field, score,
        args.champion_tolerance, theirs,
    )  # fmt: skip
    classes = list(model.classes_)
    training, _, _ = label_metrics(args.task, y_true, y_pred, classes)
    training["auc"] = _auc(y_true, scores, classes)
    # What the Report step and run-local show beside the metrics: the gate's verdict, the
    # training scores (a training score well above the test's means the model learnt rows), and
    # each class's rows.
    evaluation[GATE] = gate_entry(
        args.gate_metric, field, args.threshold, evaluation[metrics_key(args.task)],
        evaluation[CHAMPION],
    )  # fmt: skip
    evaluation[TRAINING] = {name: float(value) for name, value in training.items()}
    evaluation[CLASS_BALANCE] = {
        str(label): {
            split: int((table[args.target] == label).sum())
            for split, table in (("train", train), ("test", test))
        }
        for label in classes
    }
    args.output_dir.mkdir(parents=True, exist_ok=True)
    write_text(args.output_dir / "evaluation.json", json.dumps(evaluation, indent=2) + "\n")
    baseline = evaluation[metrics_key(args.task)][field + BEST_CONSTANT]["value"]
    print(
        f"evaluate: {args.gate_metric} {score:.4f} on {len(test)} test rows (training rows "
        f"{training[field]:.4f}, best constant classifier {baseline:.4f}) -> {args.output_dir}"
    )
    print(f"evaluate: {evaluation[CHAMPION]['verdict']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
