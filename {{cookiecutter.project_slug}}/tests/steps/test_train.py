"""The train step: the whole preparation inside the saved model, seeded, on SageMaker's paths.

`make test-compat` runs this file on the SageMaker container's libraries as well, so it imports
only the standard library, pytest, numpy, pandas, scikit-learn, joblib and the step scripts.
"""

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import tables

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.steps import preprocess, train

TARGET = tables.TARGET
STEPS = config.REPO_ROOT / "src" / config.PACKAGE / "steps"


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return tables.data_set()


@pytest.fixture(scope="module")
def messy() -> pd.DataFrame:
    """The messy table as preprocess hands it over (the ID dropped), via Parquet."""
    table, _, _ = preprocess.prepare(
        tables.messy(), Path("c.csv"), target="churned", task="binary", drop=("customer_id",)
    )
    return table


def test_training_is_seeded_and_takes_its_hyperparameters(table: pd.DataFrame) -> None:
    first = train.train(table, TARGET, 0.5, 200, seed=1)
    second = train.train(table, TARGET, 0.5, 200, seed=1)
    assert [name for name, _ in first.steps] == ["prepare", "classify"]
    assert first.named_steps["classify"].C == 0.5
    assert first.named_steps["classify"].max_iter == 200
    np.testing.assert_array_equal(
        first.named_steps["classify"].coef_, second.named_steps["classify"].coef_
    )
    assert list(first.feature_names_in_) == [c for c in table.columns if c != TARGET]


def test_the_model_stores_its_column_lists(messy: pd.DataFrame) -> None:
    """Serving reads which columns are numbers and which are categories from the model itself."""
    model = tables.fit(messy, "churned")
    lists = {name: list(cols) for name, _, cols in model.named_steps["prepare"].transformers_}
    assert lists["numeric"] == ["tenure", "monthly_charges"]
    assert lists["categorical"] == ["plan", "region"]
    assert list(model.classes_) == [0, 1]


def test_gaps_and_unseen_categories_are_served_not_refused(
    tmp_path: Path, messy: pd.DataFrame
) -> None:
    """Imputation and encoding were fitted on the training rows; new rows may hold anything."""
    messy.to_parquet(tmp_path / "train.parquet", index=False)
    model = tables.fit(pd.read_parquet(tmp_path / "train.parquet"), "churned")
    rows = pd.DataFrame(
        {
            "tenure": [np.nan, 12.0],
            "plan": pd.Series([None, "platinum"], dtype=object),
            "region": pd.Series(["north", np.nan], dtype=object),
            "monthly_charges": [50.0, np.nan],
        }
    )
    probabilities = model.predict_proba(train.as_categories(rows, ["plan", "region"]))
    assert probabilities.shape == (2, 2)
    assert np.isfinite(probabilities).all()


def test_the_model_learns_the_messy_table(messy: pd.DataFrame) -> None:
    train_set, test_set = tables.splits(messy, "churned")
    model = tables.fit(train_set, "churned")
    features = train.as_categories(test_set.drop(columns=["churned"]), ["plan", "region"])
    accuracy = float((model.predict(features) == test_set["churned"]).mean())
    majority = float(test_set["churned"].value_counts(normalize=True).max())
    assert accuracy > majority


def test_train_main_follows_sagemaker_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: pd.DataFrame
) -> None:
    channel = tmp_path / "input" / "data" / "train"
    channel.mkdir(parents=True)
    table.to_parquet(channel / train.TRAIN_FILE, index=False)
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(channel))
    monkeypatch.setenv("SM_MODEL_DIR", str(tmp_path / "model"))
    assert train.main(["--target", TARGET, "--c", "2.0", "--max-iter", "500"]) == 0
    model = joblib.load(tmp_path / "model" / "model.joblib")
    assert model.named_steps["classify"].C == 2.0
    served = tmp_path / "model" / "code" / "inference.py"
    assert served.read_bytes() == (STEPS / "inference.py").read_bytes()
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["code", "model.joblib"]


def test_train_main_refuses_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = train.main(
        ["--train-dir", str(tmp_path), "--model-dir", str(tmp_path / "model"), "--target", TARGET]
    )
    assert code == 2
    assert train.TRAIN_FILE in capsys.readouterr().err
    assert not (tmp_path / "model").exists()


def test_the_target_has_no_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        train.parse_args([])
    assert "--target" in capsys.readouterr().err
