"""The baked repository works on the oldest Python it claims, not only on the one CI prefers.

The baked `requires-python` says >=3.11, and 3.11.4 added APIs that later interpreters have and
earlier 3.11 releases lack (tarfile's extraction filters, `extractall(filter=...)`). Debian 12's
python3 is 3.11.2, a common fresh machine. So the baked suite runs again, whole, on an
interpreter older than 3.11.4: the machine's own (uv cannot download one without network; on
GitHub's runners the template's CI installs 3.11.3 first). Missing, it is a skip on a laptop and a
failure under CI, where it must be there.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import BakedProject, bake, clean_env, uv

# Every 3.11 release before the one that added tarfile's extraction filters.
BEFORE_3_11_4 = ">=3.11,<3.11.4"


def oldest_python() -> str | None:
    """An interpreter older than 3.11.4: $OLDEST_PYTHON, else the one uv finds, else None."""
    given = os.environ.get("OLDEST_PYTHON")
    if given:
        return given
    # `uv python find` looks at uv's managed interpreters and those on PATH (/usr/bin/python3.11
    # on Debian 12), and never downloads.
    found = subprocess.run(
        [uv(), "python", "find", BEFORE_3_11_4],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
    )
    if found.returncode != 0 or not found.stdout.strip():
        return None
    return found.stdout.strip()


@pytest.fixture(scope="module")
def old_python() -> str:
    python = oldest_python()
    if python is None:
        message = (
            f"no Python {BEFORE_3_11_4} on this machine: install one (Debian 12: apt-get install "
            "python3.11; elsewhere `uv python install 3.11.3`) or set OLDEST_PYTHON"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return python


@pytest.fixture(scope="module")
def old_bake(old_python: str, tmp_path_factory: pytest.TempPathFactory) -> BakedProject:
    """The default bake with its own environment on the old interpreter, from its uv.lock."""
    project = bake(tmp_path_factory.mktemp("oldest"))
    venv = project.path.parent / "venv-oldest"
    subprocess.run(
        [uv(), "sync", "--locked", "--all-groups", "--quiet", "--python", old_python],
        cwd=project.path,
        env=clean_env(UV_PROJECT_ENVIRONMENT=str(venv)),
        check=True,
        timeout=900,
    )
    project.venv = venv
    return project


def test_the_environment_runs_the_old_interpreter(old_bake: BakedProject) -> None:
    version = old_bake.run("python", "-c", "import sys; print(*sys.version_info[:3])")
    major, minor, micro = (int(part) for part in version.stdout.split())
    assert (major, minor) == (3, 11)
    assert micro < 4, f"3.11.{micro} already has the 3.11.4 APIs this run is meant to miss"


def test_baked_suite_passes_on_the_oldest_python(old_bake: BakedProject) -> None:
    """Every baked test, the emulator's and the model archive's included, on 3.11.<4."""
    result = old_bake.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    assert " passed" in result.stdout
