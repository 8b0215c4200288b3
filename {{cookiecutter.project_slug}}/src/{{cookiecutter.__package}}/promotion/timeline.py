"""A deployment as a picture: the new fleet's share of traffic and each alarm's state over time.

`watch` (endpoint.py) records what it saw at every poll; this module turns those samples into
a PNG beside the job summary. SageMaker does not report the traffic split of a blue/green
shift, so the share is the plan's (the DeploymentConfig's steps and wait interval) laid over
what was seen: zero until the shift starts (the new variant is ActivatingTraffic or Baking, or
the endpoint Updating when SageMaker gives no variant status), 100% once the endpoint is
InService on the new config, and zero again once it rolls back.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# PendingProductionVariantSummary.VariantStatus values once the new fleet takes traffic.
SHIFTING = {"ActivatingTraffic", "Baking"}
NO_DATA = "INSUFFICIENT_DATA"  # an alarm's state before it has data, and grey for any other
STATE_COLOURS = {"OK": "#2e7d32", "ALARM": "#c62828", NO_DATA: "#9e9e9e"}


@dataclass(frozen=True)
class Sample:
    """One poll of the endpoint: when, its status and config, its new variant, its alarms."""

    seconds: float
    status: str
    config_name: str
    variant_statuses: tuple[str, ...] = ()
    alarms: dict[str, str] = field(default_factory=dict)


def plan_steps(policy: dict[str, Any], count: int) -> tuple[list[float], float]:
    """(the new fleet's share in percent after each step, seconds between steps) of a plan."""
    rolling = policy.get("RollingUpdatePolicy")
    if rolling:
        batch = rolling["MaximumBatchSize"]["Value"]
        steps = math.ceil(count / batch)
        shares = [min(100.0, 100.0 * batch * (i + 1) / count) for i in range(steps)]
        return shares, float(rolling["WaitIntervalInSeconds"])
    routing = policy.get("BlueGreenUpdatePolicy", {}).get("TrafficRoutingConfiguration", {})
    wait = float(routing.get("WaitIntervalInSeconds", 0))
    if routing.get("Type") == "CANARY":
        return [float(routing["CanarySize"]["Value"]), 100.0], wait
    if routing.get("Type") == "LINEAR":
        step = float(routing["LinearStepSize"]["Value"])
        return [min(100.0, step * (i + 1)) for i in range(math.ceil(100 / step))], wait
    return [100.0], wait  # all at once, or a first deployment (CreateEndpoint)


def new_fleet_share(
    samples: list[Sample], new_config: str, policy: dict[str, Any], count: int
) -> list[float]:
    """The new fleet's share of traffic, in percent, at each sample."""
    shares, wait = plan_steps(policy, count)
    start = next((s.seconds for s in samples if SHIFTING & set(s.variant_statuses)), None)
    if start is None:
        start = next((s.seconds for s in samples if s.status != "InService"), None)
    result, rolled_back = [], False
    for sample in samples:
        rolled_back = rolled_back or sample.status == "RollingBack"
        if sample.status == "InService" and sample.config_name == new_config:
            share = 100.0
        elif rolled_back or start is None or sample.seconds < start:
            share = 0.0
        else:
            step = len(shares) - 1 if wait <= 0 else int((sample.seconds - start) // wait)
            share = shares[min(step, len(shares) - 1)]
        result.append(share)
    return result


def alarm_spans(
    samples: list[Sample], alarm: str, end: float
) -> tuple[list[tuple[float, float]], list[str]]:
    """An alarm's (start, width) spans and colours, one span for each run of one state: one
    shape for a state however many polls saw it (the drawing's time grew with the polls)."""
    spans: list[tuple[float, float]] = []
    colours: list[str] = []
    for sample, until in zip(samples, [*(s.seconds for s in samples[1:]), end], strict=True):
        state = sample.alarms.get(alarm, NO_DATA)
        colour = STATE_COLOURS.get(state, STATE_COLOURS[NO_DATA])
        if colours and colours[-1] == colour:
            spans[-1] = (spans[-1][0], until - spans[-1][0])
        else:
            spans.append((sample.seconds, until - sample.seconds))
            colours.append(colour)
    return spans, colours


def draw(
    samples: list[Sample],
    new_config: str,
    policy: dict[str, Any],
    count: int,
    title: str,
    path: Path,
) -> Path | None:
    """Write the timeline PNG to `path`; None when there is nothing to draw or no matplotlib."""
    if not samples:
        return None
    try:
        # A Figure of its own, not pyplot's: pyplot keeps every figure until it is closed and
        # picks a GUI backend (there is no display on CI or in CodeBuild). matplotlib's gallery,
        # "Embed in a web application server (Flask)", recommends exactly this outside pyplot.
        from matplotlib.figure import Figure
    except ImportError:
        return None
    times = [s.seconds for s in samples]
    # The last state holds a little past the last poll, so that it shows.
    end = times[-1] + max(0.05 * (times[-1] - times[0]), 0.05)
    alarms = sorted({name for s in samples for name in s.alarms})
    fig = Figure(figsize=(8, 2.5 + 0.4 * len(alarms)))
    share_ax, alarm_ax = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1 + len(alarms)])
    shares = new_fleet_share(samples, new_config, policy, count)
    share_ax.step([*times, end], [*shares, shares[-1]], where="post", color="#1565c0")
    share_ax.set(ylim=(-5, 105), ylabel="traffic on new fleet (%)", title=title)
    for previous, sample in itertools.pairwise(samples):
        if sample.status != previous.status:
            share_ax.axvline(sample.seconds, color="grey", linestyle=":")
            share_ax.annotate(sample.status, (sample.seconds, 102), fontsize=7, rotation=0)
    for row, name in enumerate(alarms):
        spans, colours = alarm_spans(samples, name, end)
        alarm_ax.broken_barh(spans, (row - 0.4, 0.8), facecolors=colours)
    alarm_ax.set(
        yticks=range(len(alarms)),
        yticklabels=alarms,
        ylim=(-0.6, max(len(alarms), 1) - 0.4),
        xlabel="seconds since the deployment was submitted",
    )
    alarm_ax.set_title("alarms: green OK, red ALARM, grey no data", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Cropped to what is drawn while saving, so long alarm names keep their margin.
    # tight_layout would draw the figure once more first: a quarter of the drawing's time.
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path
