"""`pipeline definition` builds offline and carries the answers: the default answers', and a bake
that changes every answer the definition carries."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest
from conftest import COMBINATIONS, BakedProject

# The default answers, and a combination that moves every answer the definition carries away
# from its default. The other combinations' stories build and run theirs (tests/test_demo.py:
# `pipeline upsert`, then executions whose Register step records the score under the answered
# metric, with the answered approval status), and their baked suites hold the evaluate step's
# options to config.py: building them here again would add no check.
PIPELINE_COMBINATIONS = [
    COMBINATIONS[0],
    pytest.param(
        {
            "project_name": "Churn Model",
            "aws_region": "eu-west-1",
            "aws_account_id": "210987654321",
            "approval_mode": "automatic",
            "task": "multiclass",
            "gate_metric": "f1",
            "gate_threshold": "0.9",
            "champion_tolerance": "0.02",
            "training_instance_type": "ml.c5.xlarge",
            "endpoint_instance_type": "ml.t2.medium",
        },
        id="every-pipeline-answer-changed",
    ),
]


def _dead_endpoint() -> str:
    """A loopback URL nothing listens on: any AWS call or proxied request fails at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


# The shared bake (conftest.py's `bake_only`, under `baked`), over these combinations instead:
# parametrizing `baked` itself would leave bake_only's own parameters in place (twenty
# products of which five differ, none of them the one below).
pytestmark = pytest.mark.parametrize(
    "bake_only", PIPELINE_COMBINATIONS, indirect=True, scope="module"
)


@pytest.fixture(scope="module")
def definition(baked: BakedProject) -> dict[str, Any]:
    dead = _dead_endpoint()
    started = time.perf_counter()
    result = baked.run(
        "python",
        "-m",
        baked.package,
        "pipeline",
        "definition",
        AWS_ENDPOINT_URL=dead,
        HTTPS_PROXY=dead,
        HTTP_PROXY=dead,
    )
    elapsed = time.perf_counter() - started
    # The goal is 5 s on a quiet machine; the bound leaves room for a loaded CI runner.
    assert elapsed < 30, f"pipeline definition took {elapsed:.1f} s"
    assert result.stderr == ""
    return json.loads(result.stdout)


def _steps(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    pending = list(definition["Steps"])
    while pending:
        step = pending.pop()
        found[step["Name"]] = step
        pending += step["Arguments"].get("IfSteps", []) + step["Arguments"].get("ElseSteps", [])
    return found


def test_definition_carries_the_answers(baked: BakedProject, definition: dict[str, Any]) -> None:
    answers = baked.answers
    slug = answers["project_slug"]
    defaults = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    expected_status = {"manual": "PendingManualApproval", "automatic": "Approved"}
    assert defaults["ModelApprovalStatus"] == expected_status[answers["approval_mode"]]
    assert defaults["GateThreshold"] == float(answers["gate_threshold"])
    assert defaults["ChampionTolerance"] == float(answers["champion_tolerance"])
    # No champion unless `pipeline start` finds one in the registry.
    assert defaults["ChampionModelData"] == defaults["ChampionVersion"] == ""
    assert defaults["TrainingInstanceType"] == answers["training_instance_type"]
    assert defaults["ProcessingInstanceType"] == answers["training_instance_type"]
    bucket = f"{slug}-artifacts-{answers['aws_account_id']}"
    assert defaults["InputDataUri"].startswith(f"s3://{bucket}/")
    register = _steps(definition)["Register"]["Arguments"]
    assert register["ModelPackageGroupName"] == f"{slug}-models"
    specification = register["InferenceSpecification"]
    assert specification["SupportedRealtimeInferenceInstanceTypes"] == [
        answers["endpoint_instance_type"]
    ]
    image = specification["Containers"][0]["Image"]
    assert f".dkr.ecr.{answers['aws_region']}.amazonaws.com/sagemaker-scikit-learn:" in image
    role = f"arn:aws:iam::{answers['aws_account_id']}:role/{slug}-sagemaker-execution"
    assert _steps(definition)["Train"]["Arguments"]["RoleArn"] == role


def test_gate_reads_the_answered_metric(baked: BakedProject, definition: dict[str, Any]) -> None:
    """The task and gate metric answers reach the evaluate step, and the gate's conditions read
    what it writes: the gate metric's score and baseline (which field of SageMaker's format holds
    them is the step's to say, tested in the baked suite), and the champion's bar."""
    task, metric = baked.answers["task"], baked.answers["gate_metric"]
    steps = _steps(definition)
    arguments = steps["Evaluate"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    # The champion's `--name=value` options are joins of parameters: not pairs of strings.
    strings = [argument for argument in arguments if isinstance(argument, str)]
    pairs = dict(zip(strings[::2], strings[1::2], strict=False))
    assert (pairs["--task"], pairs["--gate-metric"]) == (task, metric)
    paths = [
        side["Std:JsonGet"]["Path"]
        for condition in steps["QualityGate"]["Arguments"]["Conditions"]
        for side in (condition["LeftValue"], condition["RightValue"])
        if isinstance(side, dict) and "Std:JsonGet" in side
    ]
    assert set(paths) == {"gate.score", "gate.baseline", "champion.bar"}
