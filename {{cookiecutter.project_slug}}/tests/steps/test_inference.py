"""The serving hooks, loaded from a real model.tar.gz as the scikit-learn container loads them.

`make test-compat` runs this file on the SageMaker container's libraries as well, so it imports
only the standard library, pytest, numpy, pandas, scikit-learn and the step scripts.
"""

import csv
import importlib.util
import io
import json
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
import tables

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.dev.archive import unpack
from {{ cookiecutter.__package }}.steps import preprocess, train

Served = tuple[ModuleType, object]


def serve(root: Path, table: pd.DataFrame, target: str) -> Served:
    """Train on `table`, pack model.tar.gz, and load it as the container does."""
    model_dir = root / "trained"
    train.save(tables.fit(table, target), model_dir)
    tar = tables.pack(model_dir, root / "model.tar.gz")
    # What the container does: unpack to /opt/ml/model, import code/inference.py, call model_fn.
    unpacked = root / "opt" / "ml" / "model"
    unpack(tar, unpacked)
    spec = importlib.util.spec_from_file_location("inference", unpacked / "code" / "inference.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.model_fn(str(unpacked))


def invoke(served: Served, body: str | bytes, content_type: str, accept: str) -> tuple[str, str]:
    """One invocation, as the container calls the hook (a 200: body and content type)."""
    module, model = served
    answer = module.transform_fn(model, body, content_type, accept)
    assert isinstance(answer, tuple), answer.get_data(as_text=True)
    return answer


def predictions(served: Served, body: str | bytes, content_type: str = "text/csv") -> list[dict]:
    response, returned = invoke(served, body, content_type, "application/json")
    assert returned == "application/json"
    return json.loads(response)["predictions"]


@pytest.fixture(scope="module")
def data_set(tmp_path_factory: pytest.TempPathFactory) -> Served:
    """A model of the configured data set."""
    return serve(tmp_path_factory.mktemp("data-set"), tables.data_set(), tables.TARGET)


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Served:
    """A model of the messy table: gaps, text categories, a yes/no target (the ID dropped)."""
    table, _, _ = preprocess.prepare(
        tables.messy(), Path("c.csv"), target="churned", task="binary", drop=("customer_id",)
    )
    return serve(tmp_path_factory.mktemp("messy"), table, "churned")


@pytest.fixture(scope="module")
def species(tmp_path_factory: pytest.TempPathFactory) -> Served:
    """A model of three classes named by text."""
    return serve(tmp_path_factory.mktemp("multiclass"), tables.multiclass(), "species")


def raw_rows(path: Path, leave_out: set[str], limit: int) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a CSV file as a client would send them: text, without some columns."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        keep = [i for i, name in enumerate(header) if name not in leave_out]
        rows = [[row[i] for i in keep] for row, _ in zip(reader, range(limit), strict=False)]
    return [header[i] for i in keep], rows


def csv_text(rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


# --- the configured data set's own rows ---------------------------------------------------------


def test_the_data_sets_rows_are_served_as_the_model_predicts(data_set: Served) -> None:
    """The first rows of config.DATA_FILE, as text, without the target and the dropped columns."""
    _, model = data_set
    _, rows = raw_rows(config.DATA_FILE, {config.TARGET_COLUMN, *config.DROP_COLUMNS}, 8)
    served = predictions(data_set, csv_text(rows))
    assert len(served) == len(rows)
    table = tables.data_set().head(len(rows)).drop(columns=[config.TARGET_COLUMN])
    expected = model.predict(train.as_categories(table, list(table.select_dtypes(object))))
    assert [p["label"] for p in served] == expected.tolist()
    for p in served:
        assert set(p["probabilities"]) == {str(c) for c in model.classes_}
        assert sum(p["probabilities"].values()) == pytest.approx(1)


def test_the_training_csv_with_its_header_is_served(data_set: Served) -> None:
    """The same table as the training CSV: header, target and dropped columns included."""
    header, rows = raw_rows(config.DATA_FILE, set(), 4)
    served = predictions(data_set, csv_text([header, *rows]))
    assert len(served) == 4
    reordered = [list(reversed(header)), *(list(reversed(row)) for row in rows)]
    assert predictions(data_set, csv_text(reordered)) == served


@pytest.mark.parametrize("content_type", config.CONTENT_TYPES)
def test_every_registered_content_type_is_served(data_set: Served, content_type: str) -> None:
    """The types every model package declares (config.CONTENT_TYPES) go in and come out."""
    header, rows = raw_rows(config.DATA_FILE, {config.TARGET_COLUMN, *config.DROP_COLUMNS}, 3)
    body = (
        csv_text(rows)
        if content_type == "text/csv"
        else json.dumps({"instances": [dict(zip(header, row, strict=True)) for row in rows]})
    )
    response, returned = invoke(data_set, body, content_type, content_type)
    assert returned == content_type
    assert len(response.strip().splitlines()) == 3 or len(json.loads(response)["predictions"]) == 3


# --- real tables: text, gaps, records ------------------------------------------------------------

RECORD = {"tenure": 12, "plan": "premium", "region": "north", "monthly_charges": 70.5}


@pytest.mark.parametrize(
    ("payload", "count"),
    [
        pytest.param([12, "premium", "north", 70.5], 1, id="one-row"),
        pytest.param([[12, "premium", "north", 70.5], [3, "basic", "west", None]], 2, id="rows"),
        pytest.param({"instances": [[12, "plus", "east", 50]]}, 1, id="instances"),
        pytest.param(RECORD, 1, id="one-record"),
        pytest.param([RECORD, {**RECORD, "plan": None}], 2, id="records"),
        pytest.param({"instances": [RECORD, RECORD]}, 2, id="instances-of-records"),
        pytest.param([{**RECORD, "customer_id": "C1", "churned": "yes"}], 1, id="extra-names"),
    ],
)
def test_json_rows_and_records(messy: Served, payload: object, count: int) -> None:
    served = predictions(messy, json.dumps(payload), "application/json; charset=utf-8")
    assert len(served) == count
    for p in served:
        assert p["label"] in (0, 1)
        assert p["probability"] == p["probabilities"]["1"]


def test_text_empty_cells_and_unseen_categories_are_served(messy: Served) -> None:
    body = "12,premium,north,70.5\n,,,\n 7 , basic ,atlantis,\n"
    served = predictions(messy, body)
    assert len(served) == 3
    # The same rows as records give the same answers: one reading of a table, whatever its form.
    records = [
        {"tenure": 12, "plan": "premium", "region": "north", "monthly_charges": 70.5},
        {"tenure": None, "plan": "", "region": None, "monthly_charges": ""},
        {"tenure": "7", "plan": "basic", "region": "atlantis", "monthly_charges": None},
    ]
    assert predictions(messy, json.dumps(records), "application/json") == served


def test_a_multiclass_model_answers_every_class(species: Served) -> None:
    _, model = species
    body = json.dumps([[0.1, 0.2], [6.0, -6.1]])
    served = predictions(species, body, "application/json")
    assert [p["label"] for p in served] == ["setosa", "virginica"]
    for p in served:
        assert "probability" not in p
        assert list(p["probabilities"]) == ["setosa", "versicolor", "virginica"]
    response, _ = invoke(species, body, "application/json", "text/csv")
    first = next(csv.reader(io.StringIO(response)))
    assert first[0] == "setosa"
    assert len(first) == 1 + len(model.classes_)


def test_csv_out_is_label_and_probability(messy: Served) -> None:
    response, content_type = invoke(
        messy, "12,premium,north,70.5\n3,basic,west,\n", "text/csv", "text/csv"
    )
    assert content_type == "text/csv"
    lines = response.splitlines()
    assert len(lines) == 2
    for line in lines:
        label, probability = line.split(",")
        assert label in {"0", "1"}
        assert 0 <= float(probability) <= 1


# --- malformed requests: a clear ValueError ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        pytest.param("", "text/csv", "the request body is empty", id="empty"),
        pytest.param("  \n", "application/json", "the request body is empty", id="blank"),
        pytest.param(
            "1,basic,north,2\n3\n", "text/csv", "row 2 has 1 values; the model takes 4", id="ragged"
        ),
        pytest.param(
            "abc,basic,north,2\n",
            "text/csv",
            "row 1, column 'tenure': 'abc' is not a number",
            id="text",
        ),
        pytest.param("1,basic,north,inf\n", "text/csv", "'inf' is not a finite number", id="inf"),
        pytest.param(
            '[1, "basic", "north", true]', "application/json", "True is not a number", id="bool"
        ),
        pytest.param('[1, "2"', "application/json", "not valid JSON", id="bad-json"),
        pytest.param(
            '{"rows": [1]}', "application/json", "record 1 has no 'tenure'", id="no-column"
        ),
        pytest.param("[[1], 2]", "application/json", "mixes rows", id="mixed"),
        pytest.param(
            '[[1, "a", "b", 2], {"tenure": 1}]', "application/json", "mixes rows", id="mixed-kinds"
        ),
        pytest.param("[]", "application/json", "non-empty list", id="empty-list"),
        pytest.param(
            "tenure,plan,region,monthly_charges\n",
            "text/csv",
            "a header line but no rows",
            id="header-only",
        ),
        pytest.param("1,2", "application/x-npy", "unsupported content type", id="npy"),
        pytest.param(b"\xff\xfe", "text/csv", "not UTF-8", id="binary"),
    ],
)
def test_malformed_requests_are_clear_value_errors(
    messy: Served, body: str | bytes, content_type: str, message: str
) -> None:
    module, model = messy
    with pytest.raises(ValueError, match=re.escape(message)):
        module.model_input(module.decode(body, content_type), model)


def test_a_bad_request_is_a_400_naming_the_problem(messy: Served) -> None:
    """The container turns an exception into a 500; a client's mistake is answered, not raised."""
    module, model = messy
    answer = module.transform_fn(model, "12,platinum,north,abc\n", "text/csv", "application/json")
    assert answer.status_code == 400
    assert json.loads(answer.get_data()) == {
        "error": "row 1, column 'monthly_charges': 'abc' is not a number"
    }


def test_unsupported_types_carry_their_status(messy: Served) -> None:
    module, _ = messy
    with pytest.raises(module.UnsupportedType, match="accept type 'application/xml'") as accept:
        module.response_type("application/xml")
    assert accept.value.status == 406
    with pytest.raises(module.UnsupportedType, match="content type 'application/x-npy'") as body:
        module.decode("1,2", "application/x-npy")
    assert body.value.status == 415


def test_the_model_tar_holds_what_serving_needs(tmp_path: Path) -> None:
    """The column lists and classes serving reads are the model's own attributes."""
    module, model = serve(tmp_path, tables.multiclass(rows=60), "species")
    frame = module.model_input([[1.0, 2.0]], model)
    assert list(frame.columns) == list(model.feature_names_in_) == ["length", "width"]
    assert np.issubdtype(frame["length"].dtype, np.floating)
