"""The serving hooks, loaded from a real model.tar.gz as the scikit-learn container loads them.

`make test-compat` runs this file on the SageMaker container's scikit-learn as well, so it imports
only the standard library, pytest, numpy, pandas, scikit-learn and the step scripts.
"""

import importlib.util
import json
import re
import tarfile
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.dev.archive import unpack
from {{ cookiecutter.__package }}.steps import preprocess, train

ROOT = config.REPO_ROOT
TARGET = config.TARGET_COLUMN


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, object, pd.DataFrame]:
    """The unpacked model.tar.gz: its own inference.py, the loaded model, and test rows."""
    root = tmp_path_factory.mktemp("serve")
    sample = preprocess.read_input((ROOT / config.SAMPLE_DATA).parent, TARGET)
    train_set, test_set = preprocess.split(sample, TARGET, config.TEST_SIZE, config.RANDOM_SEED)
    model_dir = root / "trained"
    model = train.train(
        train_set,
        TARGET,
        config.HYPERPARAMETERS["c"],
        config.HYPERPARAMETERS["max-iter"],
        config.RANDOM_SEED,
    )
    train.save(model, model_dir)
    tar = root / "model.tar.gz"
    with tarfile.open(tar, "w:gz") as archive:
        for path in sorted(model_dir.rglob("*")):
            archive.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    # What the container does: unpack to /opt/ml/model, import code/inference.py, call model_fn.
    unpacked = root / "opt" / "ml" / "model"
    unpack(tar, unpacked)
    spec = importlib.util.spec_from_file_location("inference", unpacked / "code" / "inference.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.model_fn(str(unpacked)), test_set.drop(columns=[TARGET])


def invoke(served, body: str | bytes, content_type: str, accept: str) -> tuple[str, str]:
    """One invocation, as the container calls the hook (a 200: body and content type)."""
    module, model, _ = served
    return module.transform_fn(model, body, content_type, accept)


def test_csv_in_json_out_matches_the_model(served) -> None:
    _, model, rows = served
    body = rows.head(5).to_csv(header=False, index=False)
    response, content_type = invoke(served, body, "text/csv", "application/json")
    assert content_type == "application/json"
    predictions = json.loads(response)["predictions"]
    assert [p["label"] for p in predictions] == model.predict(rows.head(5)).tolist()
    expected = model.predict_proba(rows.head(5))[:, 1]
    np.testing.assert_allclose([p["probability"] for p in predictions], expected)


def test_accuracy_through_the_hooks_clears_the_threshold(served) -> None:
    """The whole test set through the serving path scores like the evaluate step."""
    module, model, rows = served
    sample = preprocess.read_input((ROOT / config.SAMPLE_DATA).parent, TARGET)
    _, test_set = preprocess.split(sample, TARGET, config.TEST_SIZE, config.RANDOM_SEED)
    data = module.decode(rows.to_csv(header=False, index=False).encode(), "text/csv")
    labels = module.predict(data, model)["labels"]
    accuracy = float(np.mean(np.array(labels) == test_set[TARGET].to_numpy()))
    assert accuracy >= 0.85


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param(lambda r: r[0], id="one-row"),
        pytest.param(lambda r: r, id="list-of-rows"),
        pytest.param(lambda r: {"instances": r}, id="instances"),
    ],
)
def test_json_requests(served, shape) -> None:
    _, _, rows = served
    values = rows.head(2).to_numpy().tolist()
    payload = shape(values)
    expected = 1 if isinstance(payload, list) and not isinstance(payload[0], list) else 2
    response, _ = invoke(served, json.dumps(payload), "application/json; charset=utf-8", "*/*")
    assert len(json.loads(response)["predictions"]) == expected


def test_csv_out(served) -> None:
    _, _, rows = served
    body = rows.head(3).to_csv(header=False, index=False)
    response, content_type = invoke(served, body, "text/csv", "text/csv")
    assert content_type == "text/csv"
    lines = response.splitlines()
    assert len(lines) == 3
    for line in lines:
        label, probability = line.split(",")
        assert label in {"0", "1"}
        assert 0 <= float(probability) <= 1


def row_csv(served, values: int) -> str:
    _, _, rows = served
    return ",".join(str(v) for v in rows.iloc[0].tolist()[:values])


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        pytest.param("", "text/csv", "the request body is empty", id="empty"),
        pytest.param("  \n", "application/json", "the request body is empty", id="blank"),
        pytest.param("1,2\n3\n", "text/csv", "row 2 has 1 values; row 1 has 2", id="ragged"),
        pytest.param("1,abc\n", "text/csv", "row 1, column 2: 'abc' is not a number", id="text"),
        pytest.param("1,nan\n", "text/csv", "'nan' is not a finite number", id="nan"),
        pytest.param("[1, true]", "application/json", "True is not a number", id="bool"),
        pytest.param('[1, "2"', "application/json", "not valid JSON", id="bad-json"),
        pytest.param('{"rows": [1]}', "application/json", '"instances" list', id="no-instances"),
        pytest.param("[[1], 2]", "application/json", "mixes rows", id="mixed"),
        pytest.param("[]", "application/json", "non-empty list", id="empty-list"),
        pytest.param("1,2", "application/x-npy", "unsupported content type", id="npy"),
        pytest.param(b"\xff\xfe", "text/csv", "not UTF-8", id="binary"),
    ],
)
def test_malformed_requests_are_clear_value_errors(
    served, body: str | bytes, content_type: str, message: str
) -> None:
    module, _, _ = served
    with pytest.raises(ValueError, match=re.escape(message)):
        module.decode(body, content_type)


def test_wrong_column_count_names_both_counts(served) -> None:
    module, model, _ = served
    width = model.n_features_in_
    short = module.decode(row_csv(served, width - 1), "text/csv")
    with pytest.raises(ValueError, match=f"each row needs {width} values, got {width - 1}"):
        module.check_width(short, model)


def test_unsupported_types_carry_their_status(served) -> None:
    module, _, _ = served
    with pytest.raises(module.UnsupportedType, match="accept type 'application/xml'") as accept:
        module.response_type("application/xml")
    assert accept.value.status == 406
    with pytest.raises(module.UnsupportedType, match="content type 'application/x-npy'") as body:
        module.decode("1,2", "application/x-npy")
    assert body.value.status == 415


@pytest.mark.parametrize("content_type", config.CONTENT_TYPES)
def test_every_registered_content_type_is_served(served, content_type: str) -> None:
    """The types every model package declares (config.CONTENT_TYPES) go in and come out."""
    rows = pd.read_csv(ROOT / config.SAMPLE_DATA).drop(columns=[config.TARGET_COLUMN]).head(3)
    body = (
        rows.to_csv(header=False, index=False)
        if content_type == "text/csv"
        else json.dumps({"instances": rows.to_numpy().tolist()})
    )
    response, returned = invoke(served, body, content_type, content_type)
    assert returned == content_type
    assert response
