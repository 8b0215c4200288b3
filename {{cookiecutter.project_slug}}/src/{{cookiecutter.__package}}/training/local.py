"""`run-local`: the pipeline's three steps as local processes, with SageMaker's path layout.

Each step script runs unchanged, in its own Python process (forked from a warm interpreter:
processes.py), against a scratch tree that mirrors the containers
(<workdir>/opt/ml/processing/..., SM_CHANNEL_TRAIN, SM_MODEL_DIR). Between train and evaluate
this module packs model.tar.gz, as SageMaker does after a training job.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from {{ cookiecutter.__package }} import config, processes
from {{ cookiecutter.__package }}.errors import CliError, ExitCode

STEPS_DIR = Path(__file__).resolve().parents[1] / "steps"
DEFAULT_WORKDIR = Path("build/local")
# The step scripts exit 2 on bad input, with one "error: ..." line on stderr; they name doubtful
# data in "warning: ..." lines and go on.
STEP_USAGE_ERROR = 2
WARNING = "warning: "
BEST_CONSTANT = "_best_constant_classifier"
TRAIN_FILE = "train.parquet"


@dataclass(frozen=True)
class Layout:
    """The container paths of one run, under <workdir>/opt/ml."""

    root: Path

    @property
    def processing(self) -> Path:
        return self.root / "opt" / "ml" / "processing"

    @property
    def input_dir(self) -> Path:
        return self.processing / "input"

    @property
    def train_dir(self) -> Path:
        return self.processing / "train"

    @property
    def test_dir(self) -> Path:
        return self.processing / "test"

    @property
    def train_channel(self) -> Path:
        return self.root / "opt" / "ml" / "input" / "data" / "train"

    @property
    def model_dir(self) -> Path:
        return self.root / "opt" / "ml" / "model"

    @property
    def model_tar(self) -> Path:
        return self.processing / "model" / "model.tar.gz"

    @property
    def evaluation_dir(self) -> Path:
        return self.processing / "evaluation"

    @property
    def report_dir(self) -> Path:
        return self.processing / "report"


@dataclass(frozen=True)
class LocalResult:
    """What a local run produced, and the verdict of the gate."""

    workdir: Path
    model_tar: Path
    evaluation: Path
    report: Path
    plots: list[Path]
    # The test set's metrics, each with the best constant classifier's score beside it.
    metrics: dict[str, tuple[float, float]]
    metric: str
    field: str  # the gate metric's name in `metrics` (SageMaker's model-quality name)
    score: float
    baseline: float
    threshold: float
    # The Evaluate step's verdict (the pipeline's gate on the same numbers), its line, and the
    # reason for it (for a refused model, the bar it missed first).
    passed: bool
    gate_line: str
    reason: str
    # The champion's bar (its score minus the tolerance; 0 without one) and its sentence.
    champion_bar: float = 0.0
    champion_verdict: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    # Each step process's largest resident memory (None where it is not known: processes.py).
    peak_bytes: dict[str, int | None] = field(default_factory=dict)


def step_options(
    target: str | None = None,
    drop: tuple[str, ...] | None = None,
    positive_class: str | None = None,
) -> dict[str, dict[str, object]]:
    """Each step's options: config.py's data set, with run-local's overrides for this run."""
    options = {
        "preprocess": dict(config.PREPROCESS_OPTIONS),
        "train": dict(config.TRAIN_OPTIONS),
        "evaluate": dict(config.EVALUATE_OPTIONS),
    }
    if target:
        for step in options.values():
            step["target"] = target
    if drop is not None:
        options["preprocess"].pop("drop", None)
        if drop:
            options["preprocess"]["drop"] = ",".join(drop)
    if positive_class is not None:
        options["preprocess"].pop("positive-class", None)
        if positive_class:
            options["preprocess"]["positive-class"] = positive_class
    return options


def run_local(
    data: Path,
    workdir: Path,
    threshold: float,
    log: Callable[[str], None] = print,
    options: dict[str, dict[str, object]] | None = None,
    champion: Path | None = None,
) -> LocalResult:
    """Run preprocess -> train -> evaluate on `data` under `workdir` and judge the model
    (against `champion`, a model.tar.gz, when given)."""
    check_threshold(threshold)
    if not data.is_file():
        raise CliError(f"{data}: input CSV not found", ExitCode.USAGE)
    options = options or step_options()
    if champion is not None:
        if not champion.is_file():
            raise CliError(f"{champion}: champion model.tar.gz not found", ExitCode.USAGE)
        compared = {
            "champion-model-data": champion.resolve(),
            "champion-version": "local",
            "champion-tolerance": config.CHAMPION_TOLERANCE,
        }
        options = {**options, "evaluate": {**options["evaluate"], **compared}}
    layout = Layout(workdir.resolve())
    # A previous run's model must never pass for this run's: start from an empty tree.
    shutil.rmtree(layout.root / "opt", ignore_errors=True)
    try:
        return _run(data, layout, threshold, log, options)
    except BaseException:
        # Nothing half-made may be left looking like a result.
        shutil.rmtree(layout.root / "opt", ignore_errors=True)
        raise


def check_threshold(threshold: float) -> None:
    """Refuse a threshold outside (0, 1]: no model could miss (or meet) it meaningfully."""
    if math.isnan(threshold) or not 0 < threshold <= 1:
        raise CliError(f"threshold {threshold} is outside (0, 1]", ExitCode.USAGE)


def _run(
    data: Path,
    layout: Layout,
    threshold: float,
    log: Callable[[str], None],
    options: dict[str, dict[str, object]],
) -> LocalResult:
    layout.input_dir.mkdir(parents=True)
    shutil.copyfile(data, layout.input_dir / data.name)
    # The libraries every step imports, once, before the first step's clock starts.
    processes.warm_up(wait=True)
    seconds: dict[str, float] = {}
    peaks: dict[str, int | None] = {}

    seconds["preprocess"], peaks["preprocess"] = _step(
        "preprocess",
        [
            *("--input-dir", str(layout.input_dir)),
            *("--train-dir", str(layout.train_dir)),
            *("--test-dir", str(layout.test_dir)),
            *config.command_line(options["preprocess"]),
        ],
        env={},
        # The step names its scratch copy of the data; the user knows the original.
        aliases={str(layout.input_dir / data.name): str(data), str(layout.input_dir): str(data)},
        log=log,
    )

    # SageMaker downloads the train output into the training channel; a copy does the same.
    layout.train_channel.mkdir(parents=True)
    shutil.copyfile(layout.train_dir / TRAIN_FILE, layout.train_channel / TRAIN_FILE)
    seconds["train"], peaks["train"] = _step(
        "train",
        config.command_line(options["train"]),
        env={"SM_CHANNEL_TRAIN": str(layout.train_channel), "SM_MODEL_DIR": str(layout.model_dir)},
        log=log,
    )
    pack_model(layout.model_dir, layout.model_tar)

    seconds["evaluate"], peaks["evaluate"] = _step(
        "evaluate",
        [
            *("--model-dir", str(layout.model_tar.parent)),
            *("--train-dir", str(layout.train_dir)),
            *("--test-dir", str(layout.test_dir)),
            *("--output-dir", str(layout.evaluation_dir)),
            *config.command_line(options["evaluate"]),
            *("--threshold", str(threshold)),
        ],
        env={},
        log=log,
    )

    seconds["report"], peaks["report"] = _step(
        "report",
        [
            *("--evaluation-dir", str(layout.evaluation_dir)),
            *("--output-dir", str(layout.report_dir)),
            *config.command_line(config.REPORT_OPTIONS),
        ],
        env={},
        log=log,
    )

    evaluation = layout.evaluation_dir / "evaluation.json"
    document = json.loads(evaluation.read_text(encoding="utf-8"))
    score, baseline = gate_scores(document)
    champion = document.get(config.CHAMPION_KEY, {})
    bar = float(champion.get("bar", 0.0))
    return LocalResult(
        workdir=layout.root,
        model_tar=layout.model_tar,
        evaluation=evaluation,
        report=layout.report_dir / "report.md",
        plots=sorted(layout.report_dir.glob("*.png")),
        metrics=scalar_metrics(document),
        metric=config.GATE_METRIC,
        field=str(document[config.GATE_KEY]["field"]),
        score=score,
        baseline=baseline,
        threshold=threshold,
        passed=bool(document[config.GATE_KEY]["passed"]),
        gate_line=str(document[config.GATE_KEY]["line"]),
        reason=str(document[config.GATE_KEY]["reason"]),
        champion_bar=bar,
        champion_verdict=champion.get("verdict", ""),
        seconds=seconds,
        peak_bytes=peaks,
    )


def _step(
    name: str,
    args: list[str],
    env: dict[str, str],
    log: Callable[[str], None],
    aliases: dict[str, str] | None = None,
) -> tuple[float, int | None]:
    """Run one step script in its own process; one progress line; CliError on failure.
    Its wall time and its peak memory."""
    script = STEPS_DIR / f"{name}.py"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"{name}-") as logs:
        out, err = Path(logs, "stdout"), Path(logs, "stderr")
        finished = processes.run_python(
            script, args, env={**os.environ, **env}, cwd=Path.cwd(), stdout=out, stderr=err
        )
        stdout, stderr = out.read_text(errors="replace"), err.read_text(errors="replace")
    elapsed = time.perf_counter() - started
    if finished.status != 0:
        message = _last_error(stderr)
        for scratch, original in (aliases or {}).items():
            message = message.replace(scratch, original)
        if finished.status == STEP_USAGE_ERROR and message:
            raise CliError(f"{name}: {message}", ExitCode.USAGE)
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise CliError(f"{name} step failed (exit {finished.status}):\n{tail}", ExitCode.ERROR)
    # The steps print absolute paths; shown relative, as in the closing artifacts list.
    summary = stdout.replace(f"{Path.cwd().as_posix()}/", "").strip().splitlines()
    detail = summary[0].split(": ", 1)[-1] if summary else ""
    log(f"{name:<10} {elapsed:5.1f} s  {detail}")
    for extra in summary[1:]:
        log(f"{'':<10}         {extra.split(': ', 1)[-1]}")
    for line in stderr.splitlines():
        if line.startswith(WARNING):
            log(f"{'':<10}         {line}")
    return elapsed, finished.peak_bytes


def _last_error(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.startswith("error: ")]
    return lines[-1].removeprefix("error: ") if lines else ""


def pack_model(model_dir: Path, model_tar: Path) -> None:
    """Pack model_dir into model.tar.gz, as SageMaker does when a training job ends."""
    model_tar.parent.mkdir(parents=True, exist_ok=True)
    partial = model_tar.with_name(f".{model_tar.name}.partial")
    with tarfile.open(partial, "w:gz") as archive:
        for path in sorted(model_dir.rglob("*")):
            if path.is_file():
                archive.add(path, arcname=path.relative_to(model_dir).as_posix())
    os.replace(partial, model_tar)


def scalar_metrics(evaluation: dict) -> dict[str, tuple[float, float]]:
    """(test score, best constant classifier's score) of every metric that has both, by name."""
    metrics = evaluation[config.METRICS_KEY]
    return {
        name: (float(entry["value"]), float(metrics[name + BEST_CONSTANT]["value"]))
        for name, entry in metrics.items()
        if name + BEST_CONSTANT in metrics
    }


def gate_scores(evaluation: dict) -> tuple[float, float]:
    """(gate metric, best constant classifier's score on it) of an evaluation.json."""
    found = []
    for path in (config.GATE_JSON_PATH, config.BASELINE_JSON_PATH):
        value: Any = evaluation
        for key in path.split("."):
            value = value[key]
        found.append(float(value))
    return found[0], found[1]


def format_summary(result: LocalResult) -> str:
    """The metrics table, where the artifacts are, and the verdict."""
    width = max(len(name) for name in result.metrics)
    rows = [
        f"  {name:<{width}}  {value:.4f}  {best:.4f}"
        + ("  <- gate" if name == result.field else "")
        for name, (value, best) in result.metrics.items()
    ]
    artifacts = [result.model_tar, result.evaluation, result.report, *result.plots]
    verdict = "PASS" if result.passed else "FAIL"
    return "\n".join(
        [
            "",
            f"  {'metric':<{width}}  test    best constant classifier",
            *rows,
            "",
            "artifacts:",
            *(f"  {_shown(path)}" for path in artifacts),
            "",
            f"verdict: {verdict}: {result.gate_line}",
            *([f"champion: {result.champion_verdict}"] if result.champion_verdict else []),
        ]
    )


def _shown(path: Path) -> str:
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)
