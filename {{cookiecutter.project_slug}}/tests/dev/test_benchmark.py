"""`make benchmark`'s table: the size asked for, seeded, and a target worth learning."""

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
