"""The preprocess step: reading tables, mapping labels, warnings, the split and its outputs.

`make test-compat` runs this file on the SageMaker container's libraries as well, so it imports
only the standard library, pytest, numpy, pandas and the step scripts (with tests/tables.py).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tables

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.steps import preprocess

TARGET = tables.TARGET


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return tables.data_set()


def run(folder: Path, out: Path, *options: str) -> int:
    """preprocess.main on one input folder, writing both splits under `out`."""
    return preprocess.main(
        [
            *("--input-dir", str(folder)),
            *("--train-dir", str(out / "train")),
            *("--test-dir", str(out / "test")),
            *options,
        ]
    )


# --- the configured data set --------------------------------------------------------------------


def test_the_data_set_is_a_usable_table(table: pd.DataFrame) -> None:
    raw = preprocess.read_table(config.DATA_FILE)
    assert len(table) == raw[TARGET].notna().sum()
    assert table.shape[1] == raw.shape[1] - len(config.DROP_COLUMNS)
    assert not set(config.DROP_COLUMNS) & set(table.columns)
    classes = set(table[TARGET].unique().tolist())
    assert len(classes) >= 2
    if config.TASK == "binary":
        assert classes == {0, 1}


def test_split_is_stratified_seeded_and_disjoint(table: pd.DataFrame) -> None:
    train_set, test_set = preprocess.split(table, TARGET, 0.2, seed=7)
    counts = table[TARGET].value_counts()
    # Stratified: each class gives its own share of rows to the test set, rounded.
    assert test_set[TARGET].value_counts().to_dict() == {
        label: round(count * 0.2) for label, count in counts.items()
    }
    assert len(train_set) + len(test_set) == len(table)
    # Disjoint and complete: together they are the input, row for row.
    columns = list(table.columns)
    together = pd.concat([train_set, test_set]).astype(str).sort_values(columns)
    assert together.reset_index(drop=True).equals(
        table.astype(str).sort_values(columns).reset_index(drop=True)
    )
    again, _ = preprocess.split(table, TARGET, 0.2, seed=7)
    other, _ = preprocess.split(table, TARGET, 0.2, seed=8)
    assert again.equals(train_set)
    assert not other.equals(train_set)


def test_preprocess_main_writes_parquet_splits(tmp_path: Path, table: pd.DataFrame) -> None:
    folder = tmp_path / "input"
    folder.mkdir()
    (folder / config.DATA_FILE.name).write_bytes(config.DATA_FILE.read_bytes())
    assert run(folder, tmp_path, *config.command_line(config.PREPROCESS_OPTIONS)) == 0
    train_set = pd.read_parquet(tmp_path / "train" / preprocess.TRAIN_FILE)
    test_set = pd.read_parquet(tmp_path / "test" / preprocess.TEST_FILE)
    expected_test = sum(round(n * config.TEST_SIZE) for n in table[TARGET].value_counts())
    assert (len(train_set), len(test_set)) == (len(table) - expected_test, expected_test)
    assert list(train_set.columns) == list(test_set.columns) == list(table.columns)
    assert not list(tmp_path.rglob(".*partial"))


def test_only_the_csv_files_of_the_input_directory_are_read(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": [1, 2, 3], TARGET: [0, 1, 0]})
    folder = tables.write_csv(tmp_path / "in", "a.csv", frame)
    tables.write_csv(folder, "b.csv", frame.head(1))
    (folder / "notes.txt").write_text("not data", encoding="utf-8")
    assert len(preprocess.read_input(folder)) == 4
    (folder / "c.csv").write_text(f"x,other,{TARGET}\n1,2,0\n", encoding="utf-8")
    with pytest.raises(preprocess.DataError, match=r"c\.csv: columns differ from those of a\.csv"):
        preprocess.read_input(folder)


def test_a_folder_without_csv_says_what_it_found(tmp_path: Path) -> None:
    (tmp_path / "data.xlsx").write_bytes(b"PK\x03\x04")
    with pytest.raises(preprocess.DataError, match=r"no \.csv file .*\(found: data\.xlsx\)"):
        preprocess.read_input(tmp_path)


# --- bad input: one line naming the file, exit 2, nothing written -------------------------------

# Built from the configured target's name, so they hold whatever the data set is.
HEADER = f"feature_a,feature_b,{TARGET}\n"
BAD_INPUTS = [
    pytest.param("", "the file is empty", (), id="empty-file"),
    pytest.param(HEADER, "a header but no rows", (), id="header-only"),
    pytest.param('{"id": 1}\n{"id": 2}\n', "one column only, so not a table", (), id="not-a-table"),
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not a readable CSV table", (), id="binary"),
    pytest.param(
        "feature_a,feature_b,label\n1,2,0\n", f"no target column {TARGET!r}", (), id="no-target"
    ),
    pytest.param(HEADER + "1,2,1\n3,4,1\n", "holds one class only ('1')", (), id="one-class"),
    pytest.param(
        HEADER + "1,2,0\n3,4,1\n5,6,2\n", "holds 3 classes ('0', '1', '2')", (), id="3-classes"
    ),
    pytest.param(
        HEADER + "1,2,red\n3,4,blue\n", "name the positive class", (), id="unknown-labels"
    ),
    pytest.param(
        HEADER + "1,2,red\n3,4,blue\n",
        "positive class 'green' is not a label",
        ("--positive-class", "green"),
        id="wrong-positive",
    ),
    pytest.param(HEADER + "1,inf,0\n3,4,1\n", "column 'feature_b', data row 1", (), id="inf"),
    pytest.param(HEADER + ",,\n,,\n", f"target column {TARGET!r} is empty", (), id="no-labels"),
    pytest.param(
        HEADER + "1,2,0\n3,4,1\n", "cannot drop id: no such column", ("--drop", "id"), id="drop"
    ),
    pytest.param(HEADER + "1,2,0\n3,4,1\n", "too few to split", (), id="too-few-rows"),
]


@pytest.mark.parametrize(("text", "message", "options"), BAD_INPUTS)
def test_bad_input_is_one_clear_error_and_no_output(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str | bytes,
    message: str,
    options: tuple[str, ...],
) -> None:
    folder = tmp_path / "input"
    folder.mkdir()
    path = folder / "customers.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    out = tmp_path / "out"
    code = run(folder, out, "--target", TARGET, "--task", "binary", *options)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ")
    assert err.count("\n") == 1, err
    assert message in err
    assert str(folder) in err
    assert not out.exists()


def test_the_target_and_task_have_no_default(capsys: pytest.CaptureFixture[str]) -> None:
    """No step carries a data set of its own: the pipeline and run-local pass config.py's."""
    with pytest.raises(SystemExit):
        preprocess.parse_args([])
    assert "--target" in capsys.readouterr().err


# --- label mapping ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "positive", "expected"),
    [
        pytest.param(["yes", "no", "yes"], "", [1, 0, 1], id="yes-no"),
        pytest.param(["True", "False", "True"], "", [1, 0, 1], id="true-false"),
        pytest.param([1.0, 0.0, np.nan, 1.0], "", [1, 0, 1], id="floats-with-a-gap"),
        pytest.param(["stayed", "churned", "stayed"], "churned", [0, 1, 0], id="named"),
        pytest.param([2, 1, 1], "2", [1, 0, 0], id="named-number"),
    ],
)
def test_binary_labels_map_to_1_for_the_positive_class(
    labels: list[object], positive: str, expected: list[int]
) -> None:
    frame = pd.DataFrame({"x": range(len(labels)), "y": labels})
    table, mapping, warnings = preprocess.prepare(
        frame, Path("t.csv"), target="y", task="binary", positive_class=positive
    )
    assert table["y"].tolist() == expected
    assert "(positive class)" in mapping
    assert [w for w in warnings if "without a 'y' value" in w] == (
        ["1 row(s) without a 'y' value are left out"] if len(labels) > len(expected) else []
    )


def test_multiclass_keeps_the_labels_as_text() -> None:
    frame = tables.multiclass(rows=30)
    table, mapping, _ = preprocess.prepare(
        frame, Path("t.csv"), target="species", task="multiclass"
    )
    assert sorted(table["species"].unique()) == ["setosa", "versicolor", "virginica"]
    assert mapping.startswith("target 'species': 3 classes")


# --- real tables: gaps, text, IDs ----------------------------------------------------------------


def test_a_messy_table_is_prepared_with_warnings_not_errors() -> None:
    raw = tables.messy()
    raw.insert(0, "Unnamed: 0", range(len(raw)))
    raw["account_number"] = np.arange(len(raw)) * 7 + 1000
    raw["rating"] = ["4"] * (len(raw) - 1) + ["n/a"]
    table, mapping, warnings = preprocess.prepare(
        raw, Path("c.csv"), target="churned", task="binary", drop=("region",)
    )
    assert "region" not in table.columns
    assert mapping == "target 'churned': 1 = 'yes' (positive class), 0 = 'no'"
    text = "\n".join(warnings)
    assert "column 'Unnamed: 0' looks like a leftover index" in text
    assert "column 'customer_id' has a different value in every row, like an ID" in text
    assert "column 'account_number' holds a different whole number in every row" in text
    assert "column 'rating' is numbers but for values such as 'n/a'" in text
    # Measurements with a value per row are features, not IDs.
    assert "'monthly_charges'" not in text
    assert "'tenure'" not in text
    # Numbers stay numbers (gaps and all), anything else is text with gaps as missing.
    assert table["tenure"].dtype == np.float64
    assert table["tenure"].isna().any()
    assert table["plan"].dtype == object
    assert table["plan"].isna().any()


def test_an_empty_column_is_left_out_with_a_warning() -> None:
    frame = pd.DataFrame({"x": [1, 2, 3], "blank": [np.nan] * 3, "y": [0, 1, 0]})
    table, _, warnings = preprocess.prepare(frame, Path("t.csv"), target="y", task="binary")
    assert list(table.columns) == ["x", "y"]
    assert warnings == ["column 'blank' is empty: left out"]


def test_warnings_go_to_stderr_and_the_step_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tables.write_csv(tmp_path / "in", "customers.csv", tables.messy())
    code = run(folder, tmp_path / "out", "--target", "churned", "--task", "binary")
    out, err = capsys.readouterr()
    assert code == 0
    assert err.splitlines() == [
        "warning: column 'customer_id' has a different value in every row, like an ID: add it "
        "to DROP_COLUMNS in config.py (or --drop) unless it truly predicts"
    ]
    assert "1 = 'yes' (positive class)" in out
    code = run(
        folder,
        tmp_path / "out2",
        "--target",
        "churned",
        "--task",
        "binary",
        "--drop",
        "customer_id",
    )
    assert code == 0
    assert capsys.readouterr().err == ""
