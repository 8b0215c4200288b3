"""Preprocess step: check the raw CSVs and split them into a stratified train and test set.

Runs as a SageMaker processing job (input in /opt/ml/processing/input, outputs in
/opt/ml/processing/train and /opt/ml/processing/test) and, unchanged, as a local process.
A bad input stops the step with one line naming the file and the problem, and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

# The container's /opt/ml/processing. Outside a container, SAGEMAKER_BASE_DIR says where /opt/ml
# is (the variable SageMaker's own toolkits read); the offline pipeline executor sets it.
PROCESSING = Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")) / "processing"
USAGE_ERROR = 2


class DataError(ValueError):
    """The input data cannot be used; the message names the file and the problem."""


def read_input(input_dir: Path, target: str) -> pd.DataFrame:
    """Every CSV in input_dir, checked and concatenated (numeric features, a 0/1 target)."""
    if not input_dir.is_dir():
        raise DataError(f"{input_dir}: input directory not found")
    files = sorted(input_dir.glob("*.csv"))
    if not files:
        raise DataError(f"{input_dir}: no .csv file in the input directory")
    frames = [_read_csv(path, target) for path in files]
    columns = list(frames[0].columns)
    for path, frame in zip(files[1:], frames[1:], strict=True):
        if list(frame.columns) != columns:
            raise DataError(f"{path}: columns differ from those of {files[0].name}")
    data = pd.concat(frames, ignore_index=True)
    classes = sorted(data[target].unique().tolist())
    if len(classes) < 2:
        raise DataError(
            f"{input_dir}: target column {target!r} holds one class only ({classes[0]}); "
            "a classifier needs both 0 and 1"
        )
    return data


def _read_csv(path: Path, target: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable CSV ({error})") from None
    if frame.empty:
        raise DataError(f"{path}: a header but no rows")
    if target not in frame.columns:
        raise DataError(
            f"{path}: no target column {target!r} (columns: {', '.join(frame.columns)})"
        )
    if frame.shape[1] < 2:
        raise DataError(f"{path}: no feature column besides the target {target!r}")
    for column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() | ~np.isfinite(values)
        if bad.any():
            row = int(bad.idxmax())
            raise DataError(
                f"{path}: column {column!r}, data row {row + 1}: "
                f"{frame[column].iloc[row]!r} is not a finite number"
            )
        frame[column] = values
    labels = set(frame[target].unique().tolist())
    if not labels <= {0, 1}:
        odd = sorted(labels - {0, 1})
        raise DataError(f"{path}: target column {target!r} must hold 0 or 1, found {odd[0]!r}")
    frame[target] = frame[target].astype("int64")
    return frame


def split(
    data: pd.DataFrame, target: str, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded split that keeps each class's share the same in train and test."""
    if not 0 < test_size < 1:
        raise DataError(f"test size {test_size} must be between 0 and 1")
    # numpy rather than scikit-learn's train_test_split: this step then never imports
    # scikit-learn, which is most of a step's start-up time.
    rng = np.random.default_rng(seed)
    test_rows: list[int] = []
    for label, rows in sorted(data.groupby(target).groups.items()):
        count = round(len(rows) * test_size)
        if count < 1 or count >= len(rows):
            raise DataError(
                f"class {label} of {target!r} has {len(rows)} rows: too few to split "
                f"with test size {test_size}"
            )
        test_rows.extend(rng.choice(np.asarray(rows), size=count, replace=False).tolist())
    is_test = data.index.isin(test_rows)
    return data[~is_test].reset_index(drop=True), data[is_test].reset_index(drop=True)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a CSV atomically: a reader never sees half a file under the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    frame.to_csv(partial, index=False)
    os.replace(partial, path)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The step's options; the pipeline and run-local pass the values from config.py."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input-dir", type=Path, default=PROCESSING / "input")
    p.add_argument("--train-dir", type=Path, default=PROCESSING / "train")
    p.add_argument("--test-dir", type=Path, default=PROCESSING / "test")
    p.add_argument("--target", default="malignant", help="name of the 0/1 target column")
    p.add_argument("--test-size", type=float, default=0.2, help="share of rows held out")
    p.add_argument("--seed", type=int, default=42)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Read, check, split and write; exit 2 with one line on bad input."""
    args = parse_args(argv)
    try:
        data = read_input(args.input_dir, args.target)
        train, test = split(data, args.target, args.test_size, args.seed)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    write_csv(train, args.train_dir / "train.csv")
    write_csv(test, args.test_dir / "test.csv")
    print(
        f"preprocess: {len(data)} rows, {data.shape[1] - 1} features -> "
        f"{len(train)} train, {len(test)} test"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
