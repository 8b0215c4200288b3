"""`make benchmark`: its table (the size asked for, seeded, a target worth learning) and what a
run prints."""

import re

import pytest

from {{ cookiecutter.__package }} import processes
from {{ cookiecutter.__package }}.dev import benchmark


def test_the_table_has_the_size_asked_for_and_two_classes() -> None:
    frame = benchmark.table(rows=500, columns=7)
    assert frame.shape == (500, 8)
    assert list(frame.columns)[-1] == benchmark.TARGET
    share = frame[benchmark.TARGET].mean()
    assert 0.2 < share < 0.8
    assert frame.equals(benchmark.table(rows=500, columns=7))
    # The target follows the features (a linear rule plus noise), so a model has work to do.
    assert frame.drop(columns=benchmark.TARGET).corrwith(frame[benchmark.TARGET]).abs().max() > 0.1


def test_a_small_run_prints_each_step_and_the_largest_peak(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert benchmark.main(["--rows", "400", "--columns", "3"]) == 0
    out = capsys.readouterr().out
    steps = [line.split()[0] for line in out.splitlines() if not line.startswith(" ")]
    assert steps == ["table:", "preprocess", "train", "evaluate", "report", "run-local:"]
    last = out.splitlines()[-1]
    if processes.warm():
        assert re.fullmatch(r"run-local: [\d.]+ s, peak memory \d+ MiB \(\w+\)", last), last
    else:
        assert last.endswith("peak memory not known on this platform"), last
