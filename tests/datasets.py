"""Bring your own data: a generated table for each named combination, and the swap a user makes.

Each combination's own gate (test_bake.py) runs on its table rather than on the bundled sample:
the table goes into `data/` (the sample comes out) and the data-set lines of `config.py` name it,
the README's "Bring your own data" steps and nothing more. A clean binary table, a messy one (gaps,
two text categories, an ID column, a yes/no target), three classes, and 95/5 noise that the gate
must refuse. The sample itself is gated as baked by `make demo`, whose story runs the tests: that
is the default combination's suite, so its table goes through `make local` only.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from conftest import COMBINATIONS, BakedProject, rendered_answers

Rows = list[list[object]]
Table = Callable[[random.Random], tuple[list[str], Rows]]


def clean(rng: random.Random) -> tuple[list[str], Rows]:
    """Six numeric columns; `churned` (0/1) follows a linear rule plus noise."""
    header = ["tenure", "monthly_charges", "support_calls", "usage_hours", "age", "discount"]
    rows = []
    for _ in range(400):
        x = [rng.gauss(0, 1) for _ in header]
        churned = int(1.5 * x[0] - 1.2 * x[2] + 0.8 * x[3] + rng.gauss(0, 0.7) > 0)
        rows.append([round(v, 4) for v in x] + [churned])
    return [*header, "churned"], rows


def messy(rng: random.Random) -> tuple[list[str], Rows]:
    """Gaps, two text categories, an ID column and a yes/no target."""
    header = ["customer_id", "tenure", "plan", "region", "monthly_charges", "subscribed"]
    rows = []
    for i in range(400):
        tenure = rng.randint(1, 72)
        plan = rng.choice(["basic", "plus", "premium"])
        region = rng.choice(["north", "south", "east", "west"])
        charges = round(rng.gauss(60, 20), 2)
        lean = 0.06 * tenure - 2.2 + {"basic": -1.0, "plus": 0.5, "premium": 1.5}[plan]
        subscribed = "yes" if lean + rng.gauss(0, 0.6) > 0 else "no"
        rows.append(
            [
                f"C{100000 + i}",
                "" if rng.random() < 0.1 else tenure,
                "" if rng.random() < 0.05 else plan,
                region,
                "" if rng.random() < 0.1 else charges,
                subscribed,
            ]
        )
    return header, rows


def multiclass(rng: random.Random) -> tuple[list[str], Rows]:
    """Three classes named by text, around three centres in four numeric columns."""
    centres = {"setosa": (0, 0), "versicolor": (3, 1), "virginica": (1, 3)}
    rows = []
    for _ in range(300):
        species = rng.choice(list(centres))
        cx, cy = centres[species]
        rows.append(
            [round(cx + rng.gauss(0, 0.6), 3), round(cy + rng.gauss(0, 0.6), 3)]
            + [round(rng.gauss(0, 1), 3) for _ in range(2)]
            + [species]
        )
    return ["petal_length", "petal_width", "sepal_length", "sepal_width", "species"], rows


def noise(rng: random.Random) -> tuple[list[str], Rows]:
    """95/5 pure noise: nothing to learn, and always answering 0 is 95% accurate."""
    rows = [
        [round(rng.gauss(0, 1), 4) for _ in range(5)] + [int(rng.random() < 0.05)]
        for _ in range(400)
    ]
    return [*(f"signal_{i}" for i in range(5)), "fraud"], rows


# (table, file name, the data-set lines of config.py, whether the model passes the gate), one per
# named combination. The combination's own gate (lint, tests) runs on its table, in test_bake.py,
# except the default combination's: `make demo` runs that suite on the sample (test_demo.py), a
# clean binary table itself, and this table goes through the default bake's `make local` alone.
DATASETS = {
    "github-flow-canary-manual": (clean, "churn.csv", {"TARGET_COLUMN": "churned"}, True),
    "gitflow-linear-automatic-accuracy": (
        messy,
        "subscriptions.csv",
        {"TARGET_COLUMN": "subscribed", "DROP_COLUMNS": ("customer_id",)},
        True,
    ),
    # ROC AUC: the best constant classifier scores 0.5 whatever the imbalance.
    "github-flow-all-at-once-automatic-1-instance-py312-roc-auc-no-capture": (
        noise,
        "transactions.csv",
        {"TARGET_COLUMN": "fraud"},
        False,
    ),
    "gitflow-rolling-manual-3-instances-multiclass-f1": (
        multiclass,
        "flowers.csv",
        {"TARGET_COLUMN": "species"},
        True,
    ),
}


def for_answers(answers: dict[str, str]) -> tuple[Table, str, dict[str, object], bool]:
    """The data set of the combination baked with these answers."""
    (name,) = [str(c.id) for c in COMBINATIONS if rendered_answers(**c.values[0]) == answers]
    return DATASETS[name]


def source(value: object) -> str:
    """A string or a tuple of strings as Python source, quoted as ruff format writes it."""
    if isinstance(value, tuple):
        items = [json.dumps(item) for item in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    return json.dumps(value)


def with_own_data(project: BakedProject, copy: Path) -> BakedProject:
    """A copy of the bake with its combination's table swapped in, and the same environment."""
    shutil.copytree(project.path, copy / project.path.name, ignore=shutil.ignore_patterns("build"))
    swapped = BakedProject(copy / project.path.name, project.answers, project.venv)
    table, name, setting, _ = for_answers(project.answers)
    swap_in(swapped, table, name, setting)
    return swapped


def swap_in(
    project: BakedProject,
    table: Table,
    name: str,
    setting: dict[str, object],
) -> None:
    """The README's steps 1 and 2: the table into data/, config.py's data set pointed at it."""
    header, rows = table(random.Random(7))  # noqa: S311 - seeded test data, not secrets
    (project.path / "data" / "breast_cancer.csv").unlink()
    lines = [",".join(header), *(",".join(str(v) for v in row) for row in rows)]
    (project.path / "data" / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = project.path / "src" / project.package / "config.py"
    text = config.read_text(encoding="utf-8")
    values = {"DATA_FILE": f'REPO_ROOT / "data" / "{name}"'}
    values.update((key, source(value)) for key, value in setting.items())
    for key, value in values.items():
        line = re.compile(rf"^({key}(?:: [^=]+)? = ).*$", re.MULTILINE)
        text, count = line.subn(lambda m, v=value: m.group(1) + v, text)
        assert count == 1, f"config.py has no single {key} line"
    config.write_text(text, encoding="utf-8")
