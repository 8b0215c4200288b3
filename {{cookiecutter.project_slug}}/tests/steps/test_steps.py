"""The steps' contract with the containers they run in and with config.py.

`make test-compat` runs this file on the SageMaker container's scikit-learn as well, so it imports
only the standard library, pytest and the step scripts.
"""

import ast
import sys

import pytest

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.steps import baseline, evaluate, inference, preprocess, train

ROOT = config.REPO_ROOT
STEPS = ROOT / "src" / "{{ cookiecutter.__package }}" / "steps"

ALLOWED_IMPORTS = {"numpy", "pandas", "sklearn", "joblib", "__future__"}
# inference.py answers a bad request with a 4xx response object, and the image's request handler
# is a Flask application: Werkzeug, Flask's own dependency, is in the serving image.
SERVING_IMPORTS = {"werkzeug"}


@pytest.mark.parametrize("name", ["preprocess", "train", "baseline", "evaluate", "inference"])
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


def test_steps_take_config_options_and_agree_on_names() -> None:
    """The options config.py passes parse, and the steps name their files and fields alike."""
    pre = preprocess.parse_args(config.command_line(config.PREPROCESS_OPTIONS))
    assert (pre.target, pre.task, pre.test_size, pre.seed) == (
        config.TARGET_COLUMN,
        config.TASK,
        config.TEST_SIZE,
        config.RANDOM_SEED,
    )
    assert tuple(name for name in pre.drop.split(",") if name) == config.DROP_COLUMNS
    assert pre.positive_class == config.POSITIVE_CLASS
    fit = train.parse_args(config.command_line(config.TRAIN_OPTIONS))
    assert (fit.target, fit.seed) == (config.TARGET_COLUMN, config.RANDOM_SEED)
    assert {"c": fit.c, "max-iter": fit.max_iter} == config.HYPERPARAMETERS
    judge = evaluate.parse_args(
        [*config.command_line(config.EVALUATE_OPTIONS), "--threshold", "0.5"]
    )
    assert (judge.target, judge.task, judge.gate_metric) == (
        config.TARGET_COLUMN,
        config.TASK,
        config.GATE_METRIC,
    )
    assert inference.MODEL_FILE == train.MODEL_FILE == evaluate.MODEL_FILE
    assert preprocess.TRAIN_FILE == train.TRAIN_FILE == evaluate.TRAIN_FILE
    assert preprocess.TEST_FILE == evaluate.TEST_FILE
    assert preprocess.TRAIN_FILE == baseline.TRAIN_FILE
    assert (baseline.STATISTICS, baseline.CONSTRAINTS) == (
        config.BASELINE_STATISTICS,
        config.BASELINE_CONSTRAINTS,
    )
    base = baseline.parse_args(config.command_line(config.BASELINE_OPTIONS))
    assert (base.target, base.drift_threshold) == (config.TARGET_COLUMN, config.DRIFT_THRESHOLD)
    assert preprocess.TASKS == evaluate.TASKS
    assert config.GATE_METRICS == evaluate.GATE_METRICS
    assert evaluate.metrics_key(config.TASK) == config.METRICS_KEY


def test_compat_pins_are_the_containers() -> None:
    """`make test-compat` installs the scikit-learn that config.py says the image ships."""
    pins = (ROOT / "compat-requirements.txt").read_text(encoding="utf-8").splitlines()
    assert f"scikit-learn=={config.SKLEARN_CONTAINER_VERSION}" in pins
    major_minor = ".".join(config.SKLEARN_CONTAINER_VERSION.split(".")[:2])
    assert config.SKLEARN_FRAMEWORK_VERSION.startswith(f"{major_minor}-")
