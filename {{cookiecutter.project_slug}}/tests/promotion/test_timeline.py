"""A deployment's timeline: the plan's steps laid over what the endpoint did, and its picture."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from {{ cookiecutter.__package }}.promotion import shift, timeline
from {{ cookiecutter.__package }}.promotion.timeline import Sample

NEW, OLD = "ep-new", "ep-old"


def policy(strategy: str, count: int = 4, wait: int = 300) -> dict:
    settings = shift.Settings(wait_seconds=wait)
    return shift.deployment_config(strategy, count, settings, ["a-5xx"])


@pytest.mark.parametrize(
    ("strategy", "count", "shares"),
    [
        ("all-at-once", 2, [100.0]),
        ("canary", 4, [25.0, 100.0]),
        ("linear", 4, [25.0, 50.0, 75.0, 100.0]),
        ("rolling", 4, [25.0, 50.0, 75.0, 100.0]),
    ],
)
def test_plan_steps_follow_the_deployment_config(
    strategy: str, count: int, shares: list[float]
) -> None:
    assert timeline.plan_steps(policy(strategy, count), count) == (shares, 300.0)


def test_a_first_deployment_goes_all_at_once() -> None:
    assert timeline.plan_steps({}, 2) == ([100.0], 0.0)


def test_a_canary_that_an_alarm_rolls_back() -> None:
    samples = [
        Sample(0, "Updating", OLD, ("Creating",), {"5xx": "OK"}),
        Sample(60, "Updating", OLD, ("Baking",), {"5xx": "OK"}),
        Sample(200, "Updating", OLD, ("Baking",), {"5xx": "ALARM"}),
        Sample(210, "RollingBack", OLD, (), {"5xx": "ALARM"}),
        Sample(400, "InService", OLD, (), {"5xx": "ALARM"}),
    ]
    shares = timeline.new_fleet_share(samples, NEW, policy("canary"), 4)
    # Nothing until the new fleet takes traffic, the canary while it bakes, none after.
    assert shares == [0.0, 25.0, 25.0, 0.0, 0.0]


def test_a_linear_shift_that_succeeds() -> None:
    samples = [
        Sample(0, "Updating", OLD, ("ActivatingTraffic",)),
        Sample(310, "Updating", OLD, ("Baking",)),
        Sample(650, "Updating", OLD, ("Baking",)),
        Sample(1300, "InService", NEW),
    ]
    assert timeline.new_fleet_share(samples, NEW, policy("linear"), 4) == [25.0, 50.0, 75.0, 100.0]


def test_without_variant_statuses_the_shift_starts_when_the_endpoint_updates() -> None:
    """The local emulator, like a terse API answer, reports no VariantStatus."""
    samples = [Sample(0, "Updating", OLD), Sample(1, "InService", NEW)]
    assert timeline.new_fleet_share(samples, NEW, policy("canary"), 4) == [25.0, 100.0]


def test_the_picture_is_a_png(tmp_path: Path) -> None:
    samples = [
        Sample(0, "Updating", OLD, (), {"5xx": "OK", "latency": "INSUFFICIENT_DATA"}),
        Sample(2, "RollingBack", OLD, (), {"5xx": "ALARM", "latency": "OK"}),
        Sample(3, "InService", OLD, (), {"5xx": "ALARM", "latency": "OK"}),
    ]
    path = tmp_path / "deep" / "timeline.png"
    drawn = timeline.draw(samples, NEW, policy("canary"), 4, "prod: version 2", path)
    assert drawn == path
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_an_alarm_is_one_span_for_each_run_of_one_state() -> None:
    """However many polls saw a state, it is one shape; the spans cover the whole deployment."""
    states = ["OK"] * 30 + ["ALARM"] * 20 + [None] * 10
    samples = [
        Sample(i, "Updating", OLD, (), {} if state is None else {"5xx": state})
        for i, state in enumerate(states)
    ]
    spans, colours = timeline.alarm_spans(samples, "5xx", 62.5)
    assert spans == [(0, 30), (30, 20), (50, 12.5)]
    grey = timeline.STATE_COLOURS[timeline.NO_DATA]
    assert colours == [timeline.STATE_COLOURS["OK"], timeline.STATE_COLOURS["ALARM"], grey]


def test_nothing_is_drawn_without_samples_or_matplotlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "timeline.png"
    assert timeline.draw([], NEW, {}, 2, "t", path) is None
    # As without matplotlib installed: its modules, imported already by other tests, are gone.
    for name in [name for name in sys.modules if name.partition(".")[0] == "matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert timeline.draw([Sample(0, "Updating", OLD)], NEW, {}, 2, "t", path) is None
    assert not path.exists()
