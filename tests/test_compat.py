"""`make test-compat` in the default bake: the step and serving tests on the SageMaker image's
scikit-learn, pyarrow and request handler, each at the image's version.

`make local` runs in every combination, each on its own table (test_bake.py); the install from
the shipped lock into the bake's own `.venv` is `make demo`'s (test_demo.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import BakedProject, bake, uv


@pytest.fixture(scope="module")
def default_bake(tmp_path_factory: pytest.TempPathFactory, shared_venv: Path) -> BakedProject:
    project = bake(tmp_path_factory.mktemp("compat"))
    project.venv = shared_venv
    return project


def test_make_test_compat_in_the_default_bake(default_bake: BakedProject) -> None:
    result = default_bake.run("make", "test-compat", f"UV={uv()}", timeout=900)
    assert "test-compat: scikit-learn 1.4.2 " in result.stdout
    # The image's own request handler, at the image's versions, runs the serving hooks.
    assert "sagemaker-containers 2.8.6.post2 flask 1.1.1 werkzeug 2.0.3 " in result.stdout
    assert "tests/steps/test_serving_stack.py " in result.stdout
    # Parquet between the steps: the pyarrow the image ships.
    assert " pyarrow 17.0.0 " in result.stdout
    # pytest's closing line (a parent make may print "Leaving directory" after it).
    (summary,) = [line for line in result.stdout.splitlines() if re.search(r"\d+ passed", line)]
    assert " failed" not in summary
    assert " error" not in summary
