"""Preprocess step: check the raw table, map the target's labels, split it train/test.

Runs as a SageMaker processing job (input in /opt/ml/processing/input, outputs in
/opt/ml/processing/train and /opt/ml/processing/test) and, unchanged, as a local process.
Every CSV in the input directory is read; the excluded columns are dropped, the target is
checked and its labels mapped (binary: 1 for the positive class, 0 for the other), and the rows
are split, stratified and seeded. The splits are Parquet: column types survive the trip to the
next steps, and writing them takes a fraction of the time CSV does.

A bad input stops the step with one line naming the file and the problem, and exit status 2.
Doubtful columns (an ID, a leftover index, numbers with stray text) are named in one
`warning:` line each on stderr, and the step goes on: excluding them is the user's choice.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

# The container's /opt/ml/processing. Outside a container, SAGEMAKER_BASE_DIR says where /opt/ml
# is (the variable SageMaker's own toolkits read); the offline pipeline executor sets it.
PROCESSING = Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")) / "processing"
USAGE_ERROR = 2
TASKS = ("binary", "multiclass")
TRAIN_FILE, TEST_FILE = "train.parquet", "test.parquet"
# A binary target's positive class when none is named: the second label of these pairs
# (compared in lower case).
KNOWN_PAIRS = {
    frozenset({"0", "1"}): "1",
    frozenset({"no", "yes"}): "yes",
    frozenset({"false", "true"}): "true",
    frozenset({"n", "y"}): "y",
    frozenset({"negative", "positive"}): "positive",
}
# Uniqueness says little about a table this small; the ID checks start here.
ID_CHECK_MIN_ROWS = 20
# pandas names a saved index column "Unnamed: 0"; other tools call it index or id.
INDEX_NAME = re.compile(r"unnamed: ?\d+|index|id", re.IGNORECASE)
# A text column whose values are at least this share numbers is probably a numeric column
# with a few stray strings ("n/a", "?"), which would make it categorical.
MOSTLY_NUMERIC = 0.9


class DataError(ValueError):
    """The input data cannot be used; the message names the file and the problem."""


def read_input(input_dir: Path) -> pd.DataFrame:
    """Every CSV in input_dir, each checked to be a table, concatenated (same columns in each)."""
    if not input_dir.is_dir():
        raise DataError(f"{input_dir}: input directory not found")
    files = sorted(input_dir.glob("*.csv"))
    if not files:
        found = ", ".join(sorted(p.name for p in input_dir.iterdir())[:5]) or "nothing"
        raise DataError(f"{input_dir}: no .csv file in the input directory (found: {found})")
    frames = [read_table(path) for path in files]
    columns = list(frames[0].columns)
    for path, frame in zip(files[1:], frames[1:], strict=True):
        if list(frame.columns) != columns:
            raise DataError(f"{path}: columns differ from those of {files[0].name}")
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def read_table(path: Path) -> pd.DataFrame:
    """One CSV file, checked to be a table: a header row, two columns or more, some rows."""
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(f"{path}: not a readable CSV table ({reason})") from None
    if frame.shape[1] < 2:
        raise DataError(
            f"{path}: one column only, so not a table of features and a target: "
            "the step reads comma-separated values with a header row"
        )
    if frame.empty:
        raise DataError(f"{path}: a header but no rows")
    return frame


def prepare(
    data: pd.DataFrame,
    source: Path,
    *,
    target: str,
    task: str,
    positive_class: str = "",
    drop: tuple[str, ...] = (),
) -> tuple[pd.DataFrame, str, list[str]]:
    """The table the model learns from: checked features and the mapped target.

    Returns the table, a line describing the label mapping, and warnings about doubtful columns.
    """
    if task not in TASKS:
        raise DataError(f"task {task!r} must be one of: {', '.join(TASKS)}")
    if target not in data.columns:
        raise DataError(f"{source}: no target column {target!r} (columns: {_names(data.columns)})")
    unknown = [name for name in drop if name not in data.columns]
    if unknown:
        raise DataError(
            f"{source}: cannot drop {_names(unknown)}: no such column "
            f"(columns: {_names(data.columns)})"
        )
    if target in drop:
        raise DataError(f"{source}: the target column {target!r} is also among the dropped ones")
    warnings: list[str] = []
    data = data.drop(columns=list(drop))
    labels = _label_text(data[target])
    missing = int(labels.isna().sum())
    if missing == len(labels):
        raise DataError(f"{source}: target column {target!r} is empty")
    if missing:
        warnings.append(f"{missing} row(s) without a {target!r} value are left out")
        data, labels = data[labels.notna()], labels[labels.notna()]
    features = data.drop(columns=[target])
    if features.shape[1] == 0:
        raise DataError(f"{source}: no feature column besides the target {target!r}")
    features, notes = _checked_features(features, source)
    warnings += notes
    encoded, mapping = _encode_target(labels, source, target, task, positive_class)
    table = features.assign(**{target: encoded.to_numpy()}).reset_index(drop=True)
    return table, mapping, warnings


def _label_text(series: pd.Series) -> pd.Series:
    """The target's labels as text: whole-number floats (from a column with gaps) lose ".0"."""
    values = series
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if (whole == np.floor(whole)).all():
            values = values.astype("Int64")
    if values.dtype != object and not values.isna().any():
        return values.astype(str)  # numbers or booleans, no gaps: one vectorised conversion
    return (
        values.astype(object)
        .where(values.notna(), None)
        .map(lambda v: None if v is None else str(v).strip(), na_action="ignore")
    )


def _encode_target(
    labels: pd.Series, source: Path, target: str, task: str, positive_class: str
) -> tuple[pd.Series, str]:
    classes = sorted(labels.unique().tolist())
    shown = ", ".join(repr(c) for c in classes[:10]) + (", ..." if len(classes) > 10 else "")
    if len(classes) < 2:
        raise DataError(
            f"{source}: target column {target!r} holds one class only ({shown}); "
            "a classifier needs at least two"
        )
    if task == "multiclass":
        return labels, f"target {target!r}: {len(classes)} classes ({shown})"
    if len(classes) > 2:
        raise DataError(
            f"{source}: target column {target!r} holds {len(classes)} classes ({shown}); "
            'this project is binary (TASK in config.py): set TASK = "multiclass" to learn them all'
        )
    positive = positive_class.strip() or KNOWN_PAIRS.get(frozenset(c.lower() for c in classes))
    if positive is None:
        raise DataError(
            f"{source}: target column {target!r} holds {shown}: name the positive class "
            "(POSITIVE_CLASS in config.py, or --positive-class)"
        )
    matches = [c for c in classes if c.lower() == positive.lower()]
    if not matches:
        raise DataError(
            f"{source}: positive class {positive!r} is not a label of {target!r} ({shown})"
        )
    (negative,) = [c for c in classes if c != matches[0]]
    encoded = (labels == matches[0]).astype("int64")
    return encoded, f"target {target!r}: 1 = {matches[0]!r} (positive class), 0 = {negative!r}"


def _checked_features(features: pd.DataFrame, source: Path) -> tuple[pd.DataFrame, list[str]]:
    """Numeric columns as floats (finite), every other column as text; warnings on the way."""
    warnings: list[str] = []
    columns: dict[str, pd.Series] = {}
    for name in features.columns:
        column = features[name]
        if column.isna().all():
            warnings.append(f"column {name!r} is empty: left out")
            continue
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            values = column.astype("float64")
            infinite = np.isinf(values.to_numpy())
            if infinite.any():
                row = int(np.argmax(infinite))
                raise DataError(
                    f"{source}: column {name!r}, data row {row + 1}: "
                    f"{column.iloc[row]!r} is not a finite number"
                )
            columns[name] = values
        else:
            text = column.astype(object).where(column.notna(), None)
            text = text.map(lambda v: str(v).strip(), na_action="ignore")
            text = text.where(text != "", None)  # a cell of spaces is an empty cell
            numbers = pd.to_numeric(text, errors="coerce")
            if text.notna().any() and numbers.notna().sum() >= MOSTLY_NUMERIC * text.notna().sum():
                stray = text[numbers.isna() & text.notna()].iloc[0]
                warnings.append(
                    f"column {name!r} is numbers but for values such as {stray!r}, so it is "
                    "treated as categories: clean it, or leave such cells empty"
                )
            columns[name] = text.astype(object)
        warnings += _id_like(name, columns[name])
    if not columns:
        raise DataError(f"{source}: every feature column is empty")
    return pd.DataFrame(columns, index=features.index), warnings


def _id_like(name: str, column: pd.Series) -> list[str]:
    """A warning when a column looks like an identifier rather than a feature."""
    rows = len(column)
    if rows < ID_CHECK_MIN_ROWS:
        return []
    advice = "add it to DROP_COLUMNS in config.py (or --drop) unless it truly predicts"
    if INDEX_NAME.fullmatch(str(name)):
        return [f"column {name!r} looks like a leftover index: {advice}"]
    if column.dtype == object:
        if column.nunique() == rows:
            return [f"column {name!r} has a different value in every row, like an ID: {advice}"]
        return []
    values = column.to_numpy()
    # Whole numbers, one per row: a record number, not a measurement. (Checked in that order:
    # counting distinct values is the costly part, and measurements are rarely whole.)
    if np.array_equal(values, np.floor(values)) and column.nunique() == rows:
        return [
            f"column {name!r} holds a different whole number in every row, like an ID: {advice}"
        ]
    return []


def _names(names: object) -> str:
    listed = [str(n) for n in names]  # type: ignore[attr-defined]
    return ", ".join(listed[:12]) + (f", ... ({len(listed)} in all)" if len(listed) > 12 else "")


def split(
    data: pd.DataFrame, target: str, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded split that keeps each class's share the same in train and test."""
    if not 0 < test_size < 1:
        raise DataError(f"test size {test_size} must be between 0 and 1")
    # numpy rather than scikit-learn's train_test_split: this step then never imports
    # scikit-learn, which is most of a step's start-up time.
    rng = np.random.default_rng(seed)
    test_rows: list[np.ndarray] = []
    for label, rows in sorted(data.groupby(target).indices.items()):
        count = round(len(rows) * test_size)
        if count < 1 or count >= len(rows):
            raise DataError(
                f"class {str(label)!r} of {target!r} has {len(rows)} row(s): too few to split "
                f"with test size {test_size}"
            )
        test_rows.append(rng.choice(rows, size=count, replace=False))
    is_test = np.zeros(len(data), dtype=bool)
    is_test[np.concatenate(test_rows)] = True
    return data[~is_test].reset_index(drop=True), data[is_test].reset_index(drop=True)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a Parquet file atomically: a reader never sees half a file under the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    # Dictionary encoding for the text columns only: tried on 160,000 distinct floats per
    # column, it is ten times the cost of the write and then abandoned.
    text = [str(name) for name in frame.columns if frame[name].dtype == object]
    frame.to_parquet(partial, index=False, use_dictionary=text)
    os.replace(partial, path)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The step's options; the pipeline and run-local pass the data set's from config.py."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input-dir", type=Path, default=PROCESSING / "input")
    p.add_argument("--train-dir", type=Path, default=PROCESSING / "train")
    p.add_argument("--test-dir", type=Path, default=PROCESSING / "test")
    p.add_argument("--target", required=True, help="name of the target column")
    p.add_argument("--task", required=True, choices=TASKS)
    p.add_argument(
        "--positive-class", default="", help="binary: the positive label (default: 1, yes, true)"
    )
    p.add_argument("--drop", default="", help="comma-separated columns to leave out (IDs, leaks)")
    p.add_argument("--test-size", type=float, default=0.2, help="share of rows held out")
    p.add_argument("--seed", type=int, default=42)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Read, check, split and write; exit 2 with one line on bad input."""
    args = parse_args(argv)
    drop = tuple(name.strip() for name in args.drop.split(",") if name.strip())
    try:
        raw = read_input(args.input_dir)
        data, mapping, warnings = prepare(
            raw,
            args.input_dir,
            target=args.target,
            task=args.task,
            positive_class=args.positive_class,
            drop=drop,
        )
        try:
            train, test = split(data, args.target, args.test_size, args.seed)
        except DataError as error:
            raise DataError(f"{args.input_dir}: {error}") from None
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    write_table(train, args.train_dir / TRAIN_FILE)
    write_table(test, args.test_dir / TEST_FILE)
    dropped = f", {len(drop)} dropped" if drop else ""
    print(
        f"preprocess: {len(data)} rows, {data.shape[1] - 1} features{dropped} -> "
        f"{len(train)} train, {len(test)} test"
    )
    print(f"preprocess: {mapping}")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
