"""inference.py behind the scikit-learn image's own request handler: the codes the endpoint returns.

The image (SKLEARN_FRAMEWORK_VERSION in config.py) serves models with sagemaker-containers, the
Flask application its serving code builds (aws/sagemaker-scikit-learn-container, tag v1.4-2-py312,
src/sagemaker_sklearn_container/serving.py): a `Transformer` over the module's hooks, inside a
`Worker`, served by gunicorn. This test builds the same two objects from the same library,
installed from PyPI at the image's version (compat-requirements.txt), and sends each request of
the shared table (tests/serving_cases.py) through Flask's test client.

Those pins (Flask 1.1.1, Werkzeug 2.0.3) cannot live beside the emulator's moto, so this file
runs in `make test-compat` alone; tests/conftest.py keeps the main suite from collecting it.
"""

import collections
import collections.abc
import importlib
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import joblib
import pytest
import tables
from serving_cases import BROKEN, CASES, TRAINED, BrokenModel, Case, predictions, sample_row

from {{ cookiecutter.__package }}.steps import train

HOOKS = ("input_fn", "predict_fn", "output_fn")
# The image's stack is old (sagemaker-containers is deprecated, Flask 1.1.1 on Werkzeug 2.0.3 and
# setuptools' pkg_resources): its own deprecation notices are not this project's to act on.
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:pkg_resources is deprecated:UserWarning"),
]


@pytest.fixture(scope="module")
def framework(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """sagemaker_containers.beta.framework, imported as the image's container starts it."""
    base = tmp_path_factory.mktemp("opt-ml")
    with pytest.MonkeyPatch.context() as patch:
        # The image rewrites collections.Mapping to collections.abc.Mapping in the library's
        # _mapping.py for Python 3.10+ (docker/1.4-2-py312/final/Dockerfile.cpu); same here.
        patch.setattr(collections, "Mapping", collections.abc.Mapping, raising=False)
        # Its _env module reads /opt/ml at import (and makes folders there): point it here.
        patch.setenv("SAGEMAKER_BASE_DIR", str(base))
        return importlib.import_module("sagemaker_containers.beta.framework")


def model_dir(root: Path, broken: bool) -> Path:
    """/opt/ml/model as the container unpacks model.tar.gz: model.joblib, code/inference.py."""
    train_set, _ = tables.splits(tables.data_set())
    model = tables.fit(train_set)
    train.save(model, root)
    if broken:
        joblib.dump(BrokenModel(model), root / train.MODEL_FILE)
    return root


def user_module(directory: Path) -> ModuleType:
    """code/inference.py, imported as the container imports SAGEMAKER_PROGRAM."""
    spec = importlib.util.spec_from_file_location("inference", directory / "code" / "inference.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def clients(framework: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A test client of the container's Flask application, per model of the table."""
    apps = {}
    for name in (TRAINED, BROKEN):
        directory = model_dir(tmp_path_factory.mktemp(name), broken=name == BROKEN)
        module = user_module(directory)
        # serving.py: Transformer(model_fn, transform_fn) when the module defines transform_fn.
        transformer = framework.transformer.Transformer(
            model_fn=module.model_fn, transform_fn=module.transform_fn
        )
        # initialize() loads the model from the library's model_dir (/opt/ml/model).
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(framework.env, "model_dir", str(directory))
            transformer.initialize()
        app = framework.worker.Worker(transform_fn=transformer.transform, module_name="inference")
        # Not app.testing: that would raise a hook's exception here instead of answering 500.
        apps[name] = app.test_client()
    return apps


def test_the_image_accepts_the_module(tmp_path: Path) -> None:
    """serving.py refuses to start with transform_fn beside input_fn, predict_fn or output_fn."""
    module = user_module(model_dir(tmp_path, broken=False))
    assert callable(module.model_fn)
    assert callable(module.transform_fn)
    assert [hook for hook in HOOKS if hasattr(module, hook)] == []


def test_ping_answers_200(clients: dict[str, Any]) -> None:
    """SageMaker's health check: the container is ready once /ping answers 200."""
    assert clients[TRAINED].get("/ping").status_code == 200


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_status_codes_are_the_tables(clients: dict[str, Any], case: Case) -> None:
    row = sample_row()
    headers = {"Content-Type": case.content_type}
    if case.accept is not None:
        headers["Accept"] = case.accept
    response = clients[case.model].post("/invocations", data=case.body(row), headers=headers)
    assert response.status_code == case.status, response.get_data(as_text=True)
    if case.returns is not None:
        content_type, count = case.returns
        assert response.mimetype == content_type
        assert len(predictions(content_type, response.get_data())) == count
    elif case.status < 500:
        # The client is told what to fix, in a JSON body.
        assert response.mimetype == "application/json"
        assert json.loads(response.get_data(as_text=True))["error"]
