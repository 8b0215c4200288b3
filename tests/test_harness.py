"""The test harness's own guard: a run under pytest-xdist whose groups were lost stops."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from conftest import pytest_xdist_node_collection_finished as collected


def worker(dist: str) -> SimpleNamespace:
    """A stand-in for pytest-xdist's node: only its config's `dist` is read."""
    return SimpleNamespace(config=SimpleNamespace(getvalue={"dist": dist}.__getitem__))


def test_a_run_whose_groups_were_lost_stops_with_a_usage_error() -> None:
    ids = ["tests/test_a.py::test_one@tests/test_a.py", "tests/test_b.py::test_two[x]"]
    with pytest.raises(pytest.exit.Exception, match=r"did not group 1 of 2 tests") as stopped:
        collected(worker("loadgroup"), ids)
    assert stopped.value.returncode == pytest.ExitCode.USAGE_ERROR
    assert "tests/test_b.py::test_two[x]" in str(stopped.value)


def test_grouped_ids_and_other_distributions_go_on() -> None:
    # A parameter that contains "@" is not a group: the suffix comes after the last "]".
    grouped = ["tests/test_a.py::test_one[a@b]@combination", "tests/test_b.py::t@tests/test_b.py"]
    collected(worker("loadgroup"), grouped)
    collected(worker("load"), ["tests/test_a.py::test_one"])
