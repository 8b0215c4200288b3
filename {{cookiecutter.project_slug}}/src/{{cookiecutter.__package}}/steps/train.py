"""Train step: fit a scaler + logistic regression pipeline and save it as the model artifact.

Runs as a SageMaker training job: reads train.csv from SM_CHANNEL_TRAIN, takes the
hyperparameters as options, writes model.joblib to SM_MODEL_DIR, and copies inference.py into
SM_MODEL_DIR/code so that model.tar.gz carries its own serving code.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

MODEL_FILE = "model.joblib"
# The serving container runs SAGEMAKER_PROGRAM from SAGEMAKER_SUBMIT_DIRECTORY, which the
# pipeline points at /opt/ml/model/code: the file must travel inside the model artifact.
INFERENCE_SCRIPT = Path(__file__).with_name("inference.py")
USAGE_ERROR = 2


def build_model(c: float, max_iter: int, seed: int) -> Pipeline:
    """The untrained model: features standardised, then a seeded logistic regression."""
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(C=c, max_iter=max_iter, random_state=seed)),
        ]
    )


def train(data: pd.DataFrame, target: str, c: float, max_iter: int, seed: int) -> Pipeline:
    """Fit the model on every column but the target."""
    if target not in data.columns:
        raise ValueError(f"no target column {target!r} in the training data")
    model = build_model(c, max_iter, seed)
    model.fit(data.drop(columns=[target]), data[target])
    return model


def save(model: Pipeline, model_dir: Path) -> Path:
    """Write model.joblib and code/inference.py into model_dir, each atomically."""
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / MODEL_FILE
    partial = model_dir / f".{MODEL_FILE}.partial"
    joblib.dump(model, partial)
    os.replace(partial, path)
    code = model_dir / "code"
    code.mkdir(exist_ok=True)
    shutil.copyfile(INFERENCE_SCRIPT, code / ".inference.py.partial")
    os.replace(code / ".inference.py.partial", code / INFERENCE_SCRIPT.name)
    return path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The step's options: SageMaker's paths from the environment, hyperparameters as options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--train-dir",
        type=Path,
        default=Path(os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")),
    )
    p.add_argument(
        "--model-dir", type=Path, default=Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    )
    p.add_argument("--target", default="malignant", help="name of the 0/1 target column")
    p.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    p.add_argument("--max-iter", type=int, default=1000, help="solver iteration limit")
    p.add_argument("--seed", type=int, default=42)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Train on train.csv and save the model; exit 2 with one line on bad input."""
    args = parse_args(argv)
    source = args.train_dir / "train.csv"
    try:
        if args.c <= 0:
            raise ValueError(f"--c must be positive, got {args.c}")
        model = train(pd.read_csv(source), args.target, args.c, args.max_iter, args.seed)
    except (OSError, ValueError) as error:
        print(f"error: {source}: {error}", file=sys.stderr)
        return USAGE_ERROR
    path = save(model, args.model_dir)
    print(f"train: {model.n_features_in_} features, C={args.c} -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
