"""Tables for the tests: the configured data set, and small generated ones of each kind.

The tests never assume the bundled sample: counts, classes and splits come from the data set
config.py names, so they pass unchanged when a user swaps in their own data. The generated
tables cover what the configured one may not: gaps, text categories, an ID, several classes.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pandas as pd

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.steps import preprocess, train

TARGET = config.TARGET_COLUMN


def data_set() -> pd.DataFrame:
    """The configured data set, as the preprocess step prepares it (features and mapped target)."""
    table, _, _ = preprocess.prepare(
        preprocess.read_table(config.DATA_FILE),
        config.DATA_FILE,
        target=TARGET,
        task=config.TASK,
        positive_class=config.POSITIVE_CLASS,
        drop=config.DROP_COLUMNS,
    )
    return table


def splits(table: pd.DataFrame, target: str = TARGET) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) as the pipeline splits them."""
    return preprocess.split(table, target, config.TEST_SIZE, config.RANDOM_SEED)


def fit(table: pd.DataFrame, target: str = TARGET) -> object:
    """A model trained as the train step trains it, with config.py's hyperparameters."""
    return train.train(
        table,
        target,
        config.HYPERPARAMETERS["c"],
        config.HYPERPARAMETERS["max-iter"],
        config.RANDOM_SEED,
    )


def messy(rows: int = 160, seed: int = 0) -> pd.DataFrame:
    """A realistic raw table: gaps, two text categories, an ID column and a yes/no target."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows).astype(float)
    plan = rng.choice(["basic", "plus", "premium"], rows)
    region = rng.choice(["north", "south", "east", "west"], rows)
    charges = rng.normal(60, 20, rows).round(2)
    score = -0.05 * tenure + (plan == "basic") * 1.5 + rng.normal(0, 0.5, rows)
    churned = np.where(score > np.median(score), "yes", "no")
    tenure[rng.random(rows) < 0.1] = np.nan
    charges[rng.random(rows) < 0.1] = np.nan
    plan = np.where(rng.random(rows) < 0.05, None, plan)
    return pd.DataFrame(
        {
            "customer_id": [f"C{100000 + i}" for i in range(rows)],
            "tenure": tenure,
            "plan": plan,
            "region": region,
            "monthly_charges": charges,
            "churned": churned,
        }
    )


def multiclass(rows: int = 150, seed: int = 0) -> pd.DataFrame:
    """Three well-separated classes named by text, in two numeric columns."""
    rng = np.random.default_rng(seed)
    label = rng.choice(["setosa", "versicolor", "virginica"], rows)
    centre = pd.Series(label).map({"setosa": 0.0, "versicolor": 3.0, "virginica": 6.0}).to_numpy()
    return pd.DataFrame(
        {
            "length": centre + rng.normal(0, 0.7, rows),
            "width": -centre + rng.normal(0, 0.7, rows),
            "species": label,
        }
    )


def write_csv(folder: Path, name: str, frame: pd.DataFrame) -> Path:
    """A processing input directory holding one CSV of this table."""
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / name, index=False)
    return folder


def pack(model_dir: Path, tar: Path) -> Path:
    """model.tar.gz laid out as SageMaker packs it after the train step."""
    tar.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tar, "w:gz") as archive:
        for path in sorted(model_dir.rglob("*")):
            archive.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    return tar
