"""The offline executor on small definitions: its expressions, its checks, its scheduling."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.dev import containers, emulator, executor, expressions
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.training import execution

ROLE = config.role_arn(config.SAGEMAKER_EXECUTION_ROLE)


def scope(**files: Any) -> expressions.Scope:
    properties = {
        "Prep": {
            "ProcessingOutputConfig": {
                "Outputs": [
                    {"OutputName": "train", "S3Output": {"S3Uri": "s3://b/train"}},
                    {"OutputName": "test", "S3Output": {"S3Uri": "s3://b/test"}},
                ]
            }
        }
    }
    return expressions.Scope(
        parameters={"Threshold": 0.8, "Name": "model", "Flag": True},
        execution=lambda name: {"PipelineExecutionId": "abc123"}[name],
        step=lambda name: properties[name],
        property_file=lambda step, name: files[f"{step}.{name}"],
        json_at=lambda uri: {"uri": uri},
    )


def _get(reference: str) -> dict[str, str]:
    return {"Get": reference}


def test_values_resolve_as_the_definition_says() -> None:
    values = {
        "uri": {
            "Std:Join": {
                "On": "/",
                "Values": ["s3://b", _get("Execution.PipelineExecutionId"), "out"],
            }
        },
        "test": _get("Steps.Prep.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"),
        "first": _get("Steps.Prep.ProcessingOutputConfig.Outputs[0].S3Output.S3Uri"),
        "text": {"Std:Join": {"On": " ", "Values": [_get("Parameters.Threshold"), True, 3]}},
        "nested": [{"Name": _get("Parameters.Name")}],
        "score": {
            "Std:JsonGet": {
                "PropertyFile": _get("Steps.Eval.PropertyFiles.Report"),
                "Path": "metrics.scores[1].value",
            }
        },
        "read": {"Std:JsonGet": {"S3Uri": "s3://b/report.json", "Path": "uri"}},
    }
    report = {"metrics": {"scores": [{"value": 0.1}, {"value": 0.9}]}}
    assert expressions.resolve(values, scope(**{"Eval.Report": report})) == {
        "uri": "s3://b/abc123/out",
        "test": "s3://b/test",
        "first": "s3://b/train",
        "text": "0.8 true 3",
        "nested": [{"Name": "model"}],
        "score": 0.9,
        "read": "s3://b/report.json",
    }


def test_a_missing_property_or_json_path_says_where() -> None:
    with pytest.raises(expressions.EvaluationError, match=r"step Prep has no 'valid'"):
        expressions.resolve(_get("Steps.Prep.ProcessingOutputConfig.Outputs['valid']"), scope())
    get = {"Std:JsonGet": {"PropertyFile": _get("Steps.E.PropertyFiles.R"), "Path": "a.b"}}
    with pytest.raises(expressions.EvaluationError, match=r"property file R of E has no 'b'"):
        expressions.resolve(get, scope(**{"E.R": {"a": {"c": 1}}}))


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ({"Type": "GreaterThanOrEqualTo", "LeftValue": 0.8, "RightValue": 0.8}, True),
        ({"Type": "GreaterThan", "LeftValue": 0.8, "RightValue": 0.8}, False),
        ({"Type": "LessThan", "LeftValue": 1, "RightValue": _get("Parameters.Threshold")}, False),
        ({"Type": "LessThanOrEqualTo", "LeftValue": 0.5, "RightValue": 0.8}, True),
        ({"Type": "Equals", "LeftValue": _get("Parameters.Name"), "RightValue": "model"}, True),
        ({"Type": "In", "QueryValue": "b", "Values": ["a", "b"]}, True),
        ({"Type": "Not", "Condition": {"Type": "Equals", "LeftValue": 1, "RightValue": 1}}, False),
        (
            {
                "Type": "Or",
                "Conditions": [
                    {"Type": "Equals", "LeftValue": 1, "RightValue": 2},
                    {"Type": "Equals", "LeftValue": 2, "RightValue": 2},
                ],
            },
            True,
        ),
    ],
)
def test_conditions(condition: dict[str, Any], holds: bool) -> None:
    assert expressions.evaluate(condition, scope()) is holds


def test_comparing_a_number_with_text_is_an_error_not_an_answer() -> None:
    condition = {"Type": "GreaterThan", "LeftValue": "0.9", "RightValue": 0.8}
    with pytest.raises(expressions.EvaluationError, match="cannot compare"):
        expressions.evaluate(condition, scope())


def test_check_names_what_cannot_run_offline() -> None:
    definition = {
        "Parameters": [{"Name": "Known", "Type": "String", "DefaultValue": "x"}],
        "Steps": [
            {"Name": "Score", "Type": "Transform", "Arguments": {}},
            {
                "Name": "Stop",
                "Type": "Fail",
                "DependsOn": ["Nowhere"],
                "Arguments": {
                    "ErrorMessage": {
                        "Std:Join": {
                            "On": " ",
                            "Values": [
                                {"Std:Select": {"Array": [], "Index": 0}},
                                _get("Parameters.Unknown"),
                                _get("Steps.Ghost.Outcome"),
                            ],
                        }
                    }
                },
            },
        ],
    }
    assert executor.check(definition) == [
        ("Score", "step type 'Transform' is not supported offline"),
        ("Stop", "function Std:Select is not supported offline"),
        ("Stop", "Get Parameters.Unknown: no parameter 'Unknown' is not supported offline"),
        ("Stop", "Get Steps.Ghost.Outcome: no step 'Ghost' is not supported offline"),
        ("Stop", "DependsOn names no step 'Nowhere'"),
    ]


def test_check_refuses_a_dependency_cycle() -> None:
    definition = {
        "Steps": [
            {"Name": "A", "Type": "Fail", "DependsOn": ["B"], "Arguments": {}},
            {"Name": "B", "Type": "Fail", "DependsOn": ["A"], "Arguments": {}},
        ]
    }
    assert executor.check(definition) == [
        (None, "the steps depend on each other in a cycle: A -> B -> A")
    ]


def test_parameters_take_the_request_over_the_default_typed() -> None:
    definition = {
        "Parameters": [
            {"Name": "Count", "Type": "Integer", "DefaultValue": 1},
            {"Name": "Rate", "Type": "Float", "DefaultValue": 0.5},
            {"Name": "On", "Type": "Boolean", "DefaultValue": False},
            {"Name": "Text", "Type": "String", "DefaultValue": "a"},
        ]
    }
    given = [{"Name": "Count", "Value": "3"}, {"Name": "On", "Value": "true"}]
    assert executor.parameter_values(definition, given) == {
        "Count": 3,
        "Rate": 0.5,
        "On": True,
        "Text": "a",
    }
    with pytest.raises(executor.DefinitionError, match=r"\['Other'\] are not defined"):
        executor.parameter_values(definition, [{"Name": "Other", "Value": "1"}])
    with pytest.raises(executor.DefinitionError, match="Rate: 'fast' is not a Float"):
        executor.parameter_values(definition, [{"Name": "Rate", "Value": "fast"}])


def test_container_paths_stay_inside_the_jobs_directory(tmp_path: Path) -> None:
    container = containers.Container(tmp_path)
    assert container.path("/opt/ml/processing/input") == tmp_path / "opt/ml/processing/input"
    assert container.mapped("/opt/ml/model") == str(tmp_path / "opt/ml/model")
    assert container.mapped("--flag") == "--flag"
    for escaping in ("/opt/ml/../../etc", "relative/path"):
        with pytest.raises(containers.JobFailed, match="not an absolute container path"):
            container.path(escaping)


def test_a_jobs_environment_carries_its_aws_access_and_where_opt_ml_is(tmp_path: Path) -> None:
    """A job that calls AWS itself (the evaluate step reading the champion) reaches the
    emulator as the pipeline's caller; nothing of the developer's environment leaks in."""
    aws = {"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "caller"}
    env = containers.Container(tmp_path, aws).environment({"DATA": "/opt/ml/processing/x"})
    assert env == {
        "DATA": str(tmp_path / "opt/ml/processing/x"),
        **aws,
        "SAGEMAKER_BASE_DIR": str(tmp_path / "opt/ml"),
    }
    assert "AWS_ENDPOINT_URL" not in containers.Container(tmp_path).environment({})


# ---- small pipelines in the emulator ---------------------------------------------------------

# A processing script: wait, then write its name and an environment variable to its output.
SLEEPER = """\
import os, pathlib, sys, time
time.sleep(float(sys.argv[2]))
out = pathlib.Path(sys.argv[1])
(out / "done.txt").write_text(sys.argv[3] + " " + os.environ["GREETING"])
"""
# Reads what both sleepers wrote, from its own inputs.
GATHER = """\
import pathlib, sys
parts = [(pathlib.Path(p) / "done.txt").read_text() for p in sys.argv[1:]]
print(" | ".join(parts))
if parts != ["A hello", "B hello"]:
    sys.exit(f"unexpected inputs: {parts}")
"""


@pytest.fixture(scope="module")
def small_emulator() -> Iterator[str]:
    """One emulator for the small pipelines, with their scripts in its S3."""
    with pytest.MonkeyPatch.context() as mp, emulator.running() as url:
        # Module-scoped: the per-test fake credentials (conftest.py) are not set yet.
        for name, value in {**emulator.FAKE_CREDENTIALS, "aws_endpoint_url": url}.items():
            mp.setenv(name.upper(), value)
        mp.setenv("AWS_DEFAULT_REGION", config.AWS_REGION)
        emulator.seed(url)
        s3 = boto3.client("s3")
        for name, body in (("sleeper.py", SLEEPER), ("gather.py", GATHER)):
            s3.put_object(Bucket=config.ARTIFACT_BUCKET, Key=f"code/{name}", Body=body.encode())
        yield url


@dataclass(frozen=True)
class Small:
    """The emulator's SageMaker, and the name of this test's own pipeline."""

    sm: Any
    name: str


@pytest.fixture
def small(
    small_emulator: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Small:
    monkeypatch.setenv("AWS_ENDPOINT_URL", small_emulator)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    return Small(boto3.client("sagemaker"), request.node.name.replace("_", "-")[:80])


def _processing(name: str, script: str, args: list[Any], inputs: dict[str, Any]) -> dict:
    bucket = f"s3://{config.ARTIFACT_BUCKET}"
    code = {"InputName": "code", "S3Input": _s3_input(f"{bucket}/code/{script}", "code")}
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "AppSpecification": {
                "ImageUri": "image:1",
                "ContainerEntrypoint": ["python3", f"/opt/ml/processing/code/{script}"],
                "ContainerArguments": args,
            },
            "Environment": {"GREETING": "hello"},
            "ProcessingInputs": [
                code,
                *({"InputName": k, "S3Input": _s3_input(v, k)} for k, v in inputs.items()),
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "out",
                        "S3Output": {
                            "S3Uri": {
                                "Std:Join": {
                                    "On": "/",
                                    "Values": [bucket, _get("Execution.PipelineExecutionId"), name],
                                }
                            },
                            "LocalPath": "/opt/ml/processing/out",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "VolumeSizeInGB": 1,
                }
            },
            "RoleArn": ROLE,
        },
    }


def _s3_input(uri: Any, name: str) -> dict[str, Any]:
    return {"S3Uri": uri, "LocalPath": f"/opt/ml/processing/{name}", "S3DataType": "S3Prefix"}


def _output_of(step: str) -> dict[str, str]:
    return _get(f"Steps.{step}.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri")


def _start(small: Small, definition: dict[str, Any], **request: Any) -> tuple[str, list[dict]]:
    """Create the pipeline, run it to its end; its status and steps, oldest first."""
    sm = small.sm
    sm.create_pipeline(
        PipelineName=small.name, PipelineDefinition=json.dumps(definition), RoleArn=ROLE
    )
    arn = sm.start_pipeline_execution(PipelineName=small.name, **request)["PipelineExecutionArn"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        if status["PipelineExecutionStatus"] != "Executing":
            break
        time.sleep(0.05)
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, SortOrder="Ascending")
    return status["PipelineExecutionStatus"], steps["PipelineExecutionSteps"]


def test_independent_steps_run_at_the_same_time_and_feed_the_next(small: Small) -> None:
    definition = {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "Nap", "Type": "String", "DefaultValue": "0.8"}],
        "Steps": [
            _processing(
                name, "sleeper.py", ["/opt/ml/processing/out", _get("Parameters.Nap"), name], {}
            )
            for name in ("A", "B")
        ]
        + [
            _processing(
                "Gather",
                "gather.py",
                ["/opt/ml/processing/a", "/opt/ml/processing/b"],
                {"a": _output_of("A"), "b": _output_of("B")},
            )
        ],
    }
    status, steps = _start(small, definition)
    by_name = {s["StepName"]: s for s in steps}
    assert status == "Succeeded", [s.get("FailureReason") for s in steps]
    a, b, gather = by_name["A"], by_name["B"], by_name["Gather"]
    # They overlapped: each started before the other ended.
    assert a["StartTime"] < b["EndTime"]
    assert b["StartTime"] < a["EndTime"]
    assert gather["StartTime"] >= max(a["EndTime"], b["EndTime"])
    assert gather["Metadata"]["ProcessingJob"]["Arn"].startswith(
        f"arn:aws:sagemaker:{config.AWS_REGION}:"
    )


def test_a_failing_script_fails_its_step_with_the_end_of_its_stderr(small: Small) -> None:
    definition = {
        "Version": "2020-12-01",
        "Steps": [_processing("A", "sleeper.py", ["/opt/ml/processing/out", "zero", "A"], {})],
    }
    status, steps = _start(small, definition)
    assert status == "Failed"
    (step,) = steps
    assert step["StepStatus"] == "Failed"
    assert step["FailureReason"].startswith("AlgorithmError: sleeper.py exited 1\n")
    assert "ValueError: could not convert string to float: 'zero'" in step["FailureReason"]
    assert "/opt/ml/processing/code/sleeper.py" in step["FailureReason"]


def test_an_unsupported_step_fails_the_execution_naming_it(small: Small) -> None:
    definition = {
        "Version": "2020-12-01",
        "Steps": [{"Name": "Score", "Type": "Transform", "Arguments": {}}],
    }
    status, steps = _start(small, definition)
    assert status == "Failed"
    assert [(s["StepName"], s["StepStatus"]) for s in steps] == [("Score", "Failed")]
    (summary,) = small.sm.list_pipeline_executions(PipelineName=small.name)[
        "PipelineExecutionSummaries"
    ]
    described = small.sm.describe_pipeline_execution(
        PipelineExecutionArn=summary["PipelineExecutionArn"]
    )
    reason = "step Score: step type 'Transform' is not supported offline"
    assert described["FailureReason"] == reason
    # What `pipeline start --wait` says of it, and its exit code.
    with pytest.raises(CliError, match="step Score failed: step type 'Transform'") as error:
        execution.outcome("Failed", steps, described["FailureReason"])
    assert error.value.code == ExitCode.FAILED


def test_a_parameter_the_pipeline_does_not_declare_is_refused(small: Small) -> None:
    definition = {"Version": "2020-12-01", "Steps": []}
    with pytest.raises(ClientError, match="are not defined in the pipeline") as error:
        _start(small, definition, PipelineParameters=[{"Name": "Nope", "Value": "1"}])
    assert error.value.response["Error"]["Code"] == "ValidationException"


def test_a_retried_start_request_starts_one_execution(small: Small) -> None:
    definition = {"Version": "2020-12-01", "Steps": []}
    sm, name = small.sm, small.name
    sm.create_pipeline(PipelineName=name, PipelineDefinition=json.dumps(definition), RoleArn=ROLE)
    token = "retry-" + "0" * 30
    first = sm.start_pipeline_execution(PipelineName=name, ClientRequestToken=token)
    again = sm.start_pipeline_execution(PipelineName=name, ClientRequestToken=token)
    assert first["PipelineExecutionArn"] == again["PipelineExecutionArn"]
    listed = sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"]
    assert len(listed) == 1
    assert dt.datetime.now(dt.UTC) >= listed[0]["StartTime"]


def test_jobs_keep_their_files_under_the_emulators_workdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`story --workdir` may be relative: the jobs change directory, their files stay put."""
    monkeypatch.chdir(tmp_path)
    with emulator.running(workdir=Path("jobs")) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        emulator.seed(url)
        code = {"Bucket": config.ARTIFACT_BUCKET, "Key": "code/sleeper.py"}
        boto3.client("s3").put_object(**code, Body=SLEEPER.encode())
        definition = {
            "Version": "2020-12-01",
            "Steps": [_processing("A", "sleeper.py", ["/opt/ml/processing/out", "0", "A"], {})],
        }
        status, (step,) = _start(Small(boto3.client("sagemaker"), "kept"), definition)
    assert status == "Succeeded", step.get("FailureReason")
    (execution,) = (tmp_path / "jobs").iterdir()
    job = execution / "A"
    assert (job / "opt/ml/processing/out/done.txt").read_text() == "A hello"
    assert (job / "opt/ml/processing/code/sleeper.py").read_text() == SLEEPER
    assert (job / "stderr.log").read_text() == ""
