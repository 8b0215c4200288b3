"""Report step: the evaluation as an approver reads it, report.md and the plots.

Runs as a SageMaker processing job after the Evaluate step, on its output: reads
evaluation/evaluation.json under /opt/ml/processing (the metrics, the training scores, the class
balance, the gate and the champion) and writes to its report/ folder report.md and the plots
(confusion_matrix.png, and roc_curve.png for a binary task, the champion's curve overlaid) when
matplotlib is there. The pipeline's gate waits for it, so a refused model has its report too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn import metrics as sk

# The container's /opt/ml/processing. Outside a container, SAGEMAKER_BASE_DIR says where /opt/ml
# is (the variable SageMaker's own toolkits read); the offline pipeline executor sets it.
PROCESSING = Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")) / "processing"
USAGE_ERROR = 2
BINARY = "binary_classification_metrics"
BEST_CONSTANT = "_best_constant_classifier"
# evaluation.json's objects beside the metrics, as the Evaluate step writes them.
CHAMPION, GATE, TRAINING, CLASS_BALANCE = "champion", "gate", "training", "class_balance"


def _challenger(evaluation: dict) -> tuple[str, dict]:
    """(the metrics key, the challenger's metrics) of an evaluation.json."""
    return next((k, v) for k, v in evaluation.items() if k.endswith("_classification_metrics"))


def champion_table(champion: dict, metrics: dict, key: str, field: str) -> list[str]:
    """The report's side-by-side table: each metric of both models on the same rows."""
    if key not in champion:
        return ["", "## Champion", "", "No champion to compare with."]
    theirs, version = champion[key], champion["version"]
    lines = ["", f"## Against the champion (version {version}), on the same test rows", ""]
    lines += ["| metric | challenger | champion | difference |", "| --- " * 4 + "|"]
    for name, value in metrics.items():
        if name.endswith(BEST_CONSTANT) or name not in theirs or "value" not in value:
            continue
        shown = f"**{name}** (gate)" if name == field else name
        ours, other = value["value"], theirs[name]["value"]
        lines.append(f"| {shown} | {ours:.4f} | {other:.4f} | {ours - other:+.4f} |")
    return lines


def class_names(evaluation: dict, target: str) -> dict[str, str]:
    """How the report and the plots name each label: a binary task's 0 and 1 after the target."""
    key, metrics = _challenger(evaluation)
    if key == BINARY:
        return {"0": f"not {target} (0)", "1": f"{target} (1)"}
    return {label: label for label in metrics["confusion_matrix"]}


def render_report(evaluation: dict, plots: list[str], target: str = "positive") -> str:
    """The Markdown report: verdict, class balance, metrics, the champion, per-class report and
    confusion matrix, from an evaluation.json."""
    key, metrics = _challenger(evaluation)
    gate, training, balance = evaluation[GATE], evaluation[TRAINING], evaluation[CLASS_BALANCE]
    field, names, champion = gate["field"], class_names(evaluation, target), evaluation[CHAMPION]
    verdict = "PASS" if gate["passed"] else "FAIL"
    test_rows = sum(rows["test"] for rows in balance.values())
    train_rows = sum(rows["train"] for rows in balance.values())
    positive = f", positive class {names['1']}" if key == BINARY else ""
    lines = [
        "# Model evaluation",
        "",
        f"**Verdict: {verdict}**: {gate['line']}; {champion['verdict']}.",
        "",
        f"{key.split('_')[0].capitalize()} classification{positive}; held-out test set: "
        f"{test_rows} rows, training set: {train_rows} rows.",
        "",
        "## Class balance",
        "",
        "| class | train rows | test rows | share |",
        "| --- | --- | --- | --- |",
        *(
            f"| {names[label]} | {n['train']} | {n['test']} | {n['test'] / test_rows:.1%} |"
            for label, n in balance.items()
        ),
        "",
        "## Metrics",
        "",
        "| metric | test | train | best constant classifier (test) |",
        "| --- | --- | --- | --- |",
    ]
    for name, value in metrics.items():
        if name.endswith(BEST_CONSTANT) or name not in training:
            continue
        shown = f"**{name}** (gate)" if name == field else name
        best = metrics.get(name + BEST_CONSTANT, {}).get("value")
        lines.append(
            f"| {shown} | {value['value']:.4f} | {training[name]:.4f} | "
            f"{'-' if best is None else f'{best:.4f}'} |"
        )
    matrix = metrics["confusion_matrix"]
    labels = list(matrix)
    counts = np.array([[matrix[a][p] for p in labels] for a in labels])
    actual, predicted = np.nonzero(counts)
    cells, weight = np.asarray(labels), counts[actual, predicted]
    per_class = sk.precision_recall_fscore_support(
        cells[actual], cells[predicted], labels=labels, sample_weight=weight, zero_division=0
    )
    lines += [
        "",
        "A training score well above the test score: the model learnt rows, not the pattern.",
        *champion_table(champion, metrics, key, field),
        "",
        "## Per class (test)",
        "",
        "| class | precision | recall | f1 | rows |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {names[label]} | {precision:.4f} | {recall:.4f} | {f1:.4f} | {int(rows)} |"
            for label, precision, recall, f1, rows in zip(labels, *per_class, strict=True)
        ),
        "",
        "## Confusion matrix (test; rows: actual class, columns: predicted class)",
        "",
        "| actual \\ predicted | " + " | ".join(names[p] for p in labels) + " |",
        "| --- |" + " --- |" * len(labels),
        *(
            f"| {names[a]} | " + " | ".join(str(matrix[a][p]) for p in labels) + " |"
            for a in labels
        ),
        "",
    ]
    if plots:
        lines += [f"![{Path(name).stem}]({name})" for name in plots]
    else:
        lines.append("Plots skipped: matplotlib is not installed in this environment.")
    return "\n".join(lines) + "\n"


def save_plots(evaluation: dict, output_dir: Path, target: str = "positive") -> list[str]:
    """The confusion matrix (and a binary task's ROC curve) as PNGs; none without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display in a container or on CI
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    key, metrics = _challenger(evaluation)
    labels = list(metrics["confusion_matrix"])
    matrix = np.array([[metrics["confusion_matrix"][a][p] for p in labels] for a in labels])
    size = max(4, 0.6 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        color = "white" if count > matrix.max() / 2 else "black"
        ax.text(j, i, str(count), ha="center", va="center", color=color)
    ticks = list(range(len(labels)))
    names = [class_names(evaluation, target)[label] for label in labels]
    ax.set(xticks=ticks, yticks=ticks, xticklabels=names, yticklabels=names)
    binary = key == BINARY
    title = f"Confusion matrix (positive: {target})" if binary else "Confusion matrix"
    ax.set(xlabel="predicted", ylabel="actual", title=title)
    _save_figure(fig, output_dir / "confusion_matrix.png")
    plots = ["confusion_matrix.png"]
    if binary:
        fig, ax = plt.subplots(figsize=(5, 5))  # the axis label names both classes
        champion = evaluation.get(CHAMPION, {})
        drawn = [
            ("challenger", metrics),
            (f"champion v{champion.get('version')}", champion.get(key)),
        ]
        for label, found in drawn:
            if found:
                curve = found["receiver_operating_characteristic_curve"]
                label += f" (AUC {found['auc']['value']:.3f})"
                ax.plot(curve["false_positive_rates"], curve["true_positive_rates"], label=label)
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
        ax.set(
            xlabel=f"false positive rate ({names[0]} called {target})",
            ylabel=f"true positive rate ({target} found)",
        )
        ax.set_title(f"ROC curve, {target} vs not")
        ax.legend(loc="lower right", fontsize="small")
        _save_figure(fig, output_dir / "roc_curve.png")
        plots.append("roc_curve.png")
    plt.close("all")
    return plots


def _save_figure(fig: Any, path: Path) -> None:
    fig.tight_layout()
    publish(path, lambda partial: fig.savefig(partial, dpi=100))


def publish(path: Path, write: Callable[[Path], object]) -> None:
    """Write a file atomically: `write` fills a partial file beside it, which then takes the
    final name, so a reader never sees half a file. The partial keeps the suffix (matplotlib
    picks the image format by it)."""
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    write(partial)
    os.replace(partial, path)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The step's options; the pipeline and run-local pass the values from config.py."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--evaluation-dir", type=Path, default=PROCESSING / "evaluation")
    p.add_argument("--output-dir", type=Path, default=PROCESSING / "report")
    p.add_argument("--target", required=True, help="name of the target column")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Write report.md and the plots of an evaluation.json."""
    args = parse_args(argv)
    try:
        evaluation = json.loads((args.evaluation_dir / "evaluation.json").read_text("utf-8"))
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    args.output_dir.mkdir(parents=True, exist_ok=True)
    plots = save_plots(evaluation, args.output_dir, args.target)
    text = render_report(evaluation, plots, args.target)
    publish(args.output_dir / "report.md", lambda partial: partial.write_text(text, "utf-8"))
    print(f"report: {args.output_dir / 'report.md'}")
    if not plots:
        print("report: plots skipped (matplotlib is not installed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
