"""The test harness's own guards: a run under pytest-xdist that would lose its groups or their
order stops, and a failed baked suite's report keeps the reasons."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest
from conftest import OTHER_COMBINATIONS, TEMPLATE, why
from conftest import pytest_xdist_node_collection_finished as collected


def worker(dist: str, *, reorder: bool = False) -> SimpleNamespace:
    """A stand-in for pytest-xdist's node: only its config's options are read."""
    options = {"dist": dist, "loadscopereorder": reorder}
    return SimpleNamespace(config=SimpleNamespace(getvalue=options.__getitem__))


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


def test_a_grouped_run_that_would_reorder_the_groups_stops() -> None:
    grouped = ["tests/test_a.py::test_one@combination"]
    with pytest.raises(pytest.exit.Exception, match=r"needs --no-loadscope-reorder") as stopped:
        collected(worker("loadgroup", reorder=True), grouped)
    assert stopped.value.returncode == pytest.ExitCode.USAGE_ERROR


def test_make_test_keeps_the_order() -> None:
    """`make test` runs the groups in the order conftest.py sorts them (longest first)."""
    makefile = (TEMPLATE / "Makefile").read_text(encoding="utf-8")
    assert "pytest -n auto --dist loadgroup --no-loadscope-reorder\n" in makefile


def test_the_longest_groups_come_first() -> None:
    """`make demo`, then each baked suite's group, then each story's, before anything else."""
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=TEMPLATE,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    groups: list[str] = []
    for nodeid in (line for line in listed.splitlines() if "::" in line):
        module = nodeid.split("::")[0]
        ids = [c.id for c in OTHER_COMBINATIONS if nodeid.endswith(f"[{c.id}]")]
        group = f"{module}[{ids[0]}]" if ids else module
        if group not in groups:
            groups.append(group)
    expected = [
        "tests/test_demo.py",
        *(f"tests/test_bake.py[{c.id}]" for c in OTHER_COMBINATIONS),
        *(f"tests/test_demo.py[{c.id}]" for c in OTHER_COMBINATIONS),
    ]
    assert groups[: len(expected)] == expected


def test_a_failed_suites_reasons_survive_a_long_warnings_summary() -> None:
    reasons = "=" * 20 + " FAILURES " + "=" * 20 + "\nE   AssertionError: the step that failed\n"
    warnings = "=" * 20 + " warnings summary " + "=" * 20 + "\n" + "a warning\n" * 2000
    shown = why("collected 600 items\n" + reasons + warnings + "1 failed, 599 passed\n")
    assert "E   AssertionError: the step that failed" in shown
    assert shown.endswith("1 failed, 599 passed\n")
    # A short report, or one without the section, is only its tail.
    assert why(reasons + "1 failed\n") == reasons + "1 failed\n"
    assert why("x" * 7000) == "x" * 6000
