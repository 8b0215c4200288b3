"""The SageMaker pipeline: its definition (built with no network), snapshot, upsert and waiting."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import socket
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from {{ cookiecutter.__package }} import cli, config
from {{ cookiecutter.__package }}.dev import emulated_stack
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.steps import evaluate, preprocess, train
from {{ cookiecutter.__package }}.training import definition as pipeline_definition
from {{ cookiecutter.__package }}.training import execution, interface, upsert

SNAPSHOT = Path(__file__).parent / "snapshots" / "pipeline-definition.json"
EXECUTION_ARN = (
    f"arn:aws:sagemaker:{config.AWS_REGION}:{config.AWS_ACCOUNT_ID}:pipeline/"
    f"{config.SAGEMAKER_PIPELINE}/execution/abc123"
)
_ARN_PREFIX = f"arn:aws:sagemaker:{config.AWS_REGION}:{config.AWS_ACCOUNT_ID}"
PACKAGE_ARN = f"{_ARN_PREFIX}:model-package/{config.MODEL_PACKAGE_GROUP}/4"
GROUP_ARN = f"{_ARN_PREFIX}:model-package-group/{config.MODEL_PACKAGE_GROUP}"
CHAMPION_DATA = f"s3://{config.ARTIFACT_BUCKET}/{config.SAGEMAKER_PIPELINE}/job/output/model.tar.gz"
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def _dead_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def connections() -> list[Any]:
    """Every connection attempted while the definition was built."""
    return []


@pytest.fixture(scope="module")
def definition(connections: list[Any]) -> dict[str, Any]:
    """The definition, built once with every socket refused and AWS pointed at a dead port."""
    dead = f"http://127.0.0.1:{_dead_port()}"

    def refuse(sock: socket.socket, address: Any) -> None:
        connections.append(address)
        raise ConnectionRefusedError(f"no network while building the definition: {address}")

    with pytest.MonkeyPatch.context() as mp:
        for name in ("AWS_ENDPOINT_URL", "HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
            mp.setenv(name, dead)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        mp.delenv("AWS_PROFILE", raising=False)
        mp.setattr(socket.socket, "connect", refuse)
        return pipeline_definition.definition()


def processing_inputs(step: dict[str, Any], field: str = "S3Uri") -> dict[str, Any]:
    """A processing step's inputs by name: where each comes from (or `LocalPath`, where it goes)."""
    return {i["InputName"]: i["S3Input"][field] for i in step["Arguments"]["ProcessingInputs"]}


def steps_by_name(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every step, nested ones (the gate's branches) included, by name."""
    found: dict[str, dict[str, Any]] = {}

    def walk(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            found[step["Name"]] = step
            walk(step.get("Arguments", {}).get("IfSteps", []))
            walk(step.get("Arguments", {}).get("ElseSteps", []))

    walk(definition["Steps"])
    return found


def _get(name: str) -> dict[str, str]:
    return {"Get": f"Parameters.{name}"}


def test_definition_builds_with_no_network(
    definition: dict[str, Any], connections: list[Any]
) -> None:
    assert connections == []
    assert definition["Version"] == "2020-12-01"


def test_step_graph(definition: dict[str, Any]) -> None:
    assert [s["Name"] for s in definition["Steps"]] == [
        interface.PREPROCESS,
        interface.TRAIN,
        interface.BASELINE,
        interface.EVALUATE,
        interface.REPORT,
        interface.GATE,
    ]
    steps = steps_by_name(definition)
    # The report is of Evaluate's evaluation.json, and the gate waits for it, so a refused
    # model's report exists too; the registered version points at it.
    report_inputs = processing_inputs(steps[interface.REPORT])
    assert report_inputs["evaluation"] == {
        "Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"
    }
    assert report_inputs["code"].endswith("/report.py")
    assert steps[interface.GATE]["DependsOn"] == [interface.REPORT]
    report_uri = {"Get": "Steps.Report.ProcessingOutputConfig.Outputs['report'].S3Output.S3Uri"}
    metadata = steps[interface.REGISTER]["Arguments"]["CustomerMetadataProperties"]
    assert metadata["report"] == {"Std:Join": {"On": "/", "Values": [report_uri, "report.md"]}}
    # The baseline is of the training rows, and the registered version carries it.
    baseline_inputs = processing_inputs(steps[interface.BASELINE])
    assert baseline_inputs["train"] == {
        "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    }
    assert baseline_inputs["code"].endswith("/baseline.py")
    quality = steps[interface.REGISTER]["Arguments"]["DriftCheckBaselines"]["ModelDataQuality"]
    baseline_uri = {
        "Get": "Steps.Baseline.ProcessingOutputConfig.Outputs['baseline'].S3Output.S3Uri"
    }
    for kind, name in (("Statistics", "statistics.json"), ("Constraints", "constraints.json")):
        assert quality[kind]["S3Uri"] == {"Std:Join": {"On": "/", "Values": [baseline_uri, name]}}
    channels = {
        c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
        for c in steps[interface.TRAIN]["Arguments"]["InputDataConfig"]
    }
    assert channels["train"] == {
        "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    }
    inputs = processing_inputs(steps[interface.EVALUATE])
    assert inputs["model"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert inputs["test"] == {
        "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"
    }
    preprocess_inputs = processing_inputs(steps[interface.PREPROCESS])
    assert preprocess_inputs["input"] == _get("InputDataUri")
    gate = steps[interface.GATE]["Arguments"]
    assert [s["Name"] for s in gate["IfSteps"]] == [interface.REGISTER]
    assert [s["Name"] for s in gate["ElseSteps"]] == [interface.FAIL]
    assert steps[interface.REGISTER]["Type"] == "RegisterModel"
    assert steps[interface.FAIL]["Type"] == "Fail"


def test_gate_needs_the_threshold_and_to_beat_the_constant_baseline(
    definition: dict[str, Any],
) -> None:
    steps = steps_by_name(definition)
    assert steps[interface.EVALUATE]["PropertyFiles"] == [
        {
            "PropertyFileName": interface.EVALUATION_REPORT,
            "OutputName": "evaluation",
            "FilePath": "evaluation.json",
        }
    ]

    def read(path: str) -> dict[str, Any]:
        return {
            "Std:JsonGet": {
                "PropertyFile": {
                    "Get": f"Steps.Evaluate.PropertyFiles.{interface.EVALUATION_REPORT}"
                },
                "Path": path,
            }
        }

    score, baseline = read(config.GATE_JSON_PATH), read(config.BASELINE_JSON_PATH)
    champion = read(config.CHAMPION_BAR_JSON_PATH)
    assert steps[interface.GATE]["Arguments"]["Conditions"] == [
        {
            "Type": "GreaterThanOrEqualTo",
            "LeftValue": score,
            "RightValue": _get("GateThreshold"),
        },
        {"Type": "GreaterThan", "LeftValue": score, "RightValue": baseline},
        # The champion's score minus the tolerance, worked out by the evaluate step.
        {"Type": "GreaterThanOrEqualTo", "LeftValue": score, "RightValue": champion},
    ]
    message = steps[interface.FAIL]["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert message[0] == config.GATE_METRIC
    assert score in message
    assert baseline in message
    assert _get("GateThreshold") in message
    assert "best constant classifier" in " ".join(v for v in message if isinstance(v, str))
    # Both scores and the champion's version: its sentence names them.
    assert champion in message
    assert read(config.CHAMPION_VERDICT_JSON_PATH) in message


def test_the_champion_reaches_the_evaluate_step_and_the_registered_version(
    definition: dict[str, Any],
) -> None:
    steps = steps_by_name(definition)
    arguments = steps[interface.EVALUATE]["Arguments"]["AppSpecification"]["ContainerArguments"]
    for option, parameter in [
        ("--champion-model-data=", "ChampionModelData"),
        ("--champion-version=", "ChampionVersion"),
        ("--champion-tolerance=", "ChampionTolerance"),
    ]:
        assert {"Std:Join": {"On": "", "Values": [option, _get(parameter)]}} in arguments
    register = steps[interface.REGISTER]["Arguments"]
    metadata = register["CustomerMetadataProperties"]
    paths = {
        "champion": config.CHAMPION_VERSION_JSON_PATH,
        "vs_champion": config.CHAMPION_CHANGE_JSON_PATH,
    }
    for key, path in paths.items():
        (value,) = metadata[key]["Std:Join"]["Values"]
        assert value["Std:JsonGet"]["Path"] == path
    assert metadata["report"]["Std:Join"]["Values"][-1] == "report.md"
    description = register["ModelPackageDescription"]["Std:Join"]["Values"]
    assert description[-1]["Std:JsonGet"]["Path"] == config.CHAMPION_VERDICT_JSON_PATH


def test_parameters_and_defaults(definition: dict[str, Any]) -> None:
    parameters = {p["Name"]: (p["Type"], p["DefaultValue"]) for p in definition["Parameters"]}
    assert parameters == {
        "InputDataUri": ("String", config.input_data_uri()),
        "ProcessingInstanceType": ("String", config.TRAINING_INSTANCE_TYPE),
        "ProcessingInstanceCount": ("Integer", 1),
        "TrainingInstanceType": ("String", config.TRAINING_INSTANCE_TYPE),
        "TrainingInstanceCount": ("Integer", 1),
        "GateThreshold": ("Float", config.GATE_THRESHOLD),
        "ModelApprovalStatus": ("String", config.REGISTRATION_STATUS),
        "CommitSha": ("String", interface.NO_COMMIT),
        "ChampionModelData": ("String", ""),
        "ChampionVersion": ("String", ""),
        "ChampionTolerance": ("Float", config.CHAMPION_TOLERANCE),
        **{
            interface.hyperparameter_parameter(name): ("String", str(value))
            for name, value in config.HYPERPARAMETERS.items()
        },
    }
    steps = steps_by_name(definition)
    resources = steps[interface.TRAIN]["Arguments"]["ResourceConfig"]
    assert resources["InstanceType"] == _get("TrainingInstanceType")
    assert resources["InstanceCount"] == _get("TrainingInstanceCount")
    cluster = steps[interface.PREPROCESS]["Arguments"]["ProcessingResources"]["ClusterConfig"]
    assert cluster["InstanceType"] == _get("ProcessingInstanceType")


def test_registration_status_metrics_commit_and_serving(definition: dict[str, Any]) -> None:
    register = steps_by_name(definition)[interface.REGISTER]["Arguments"]
    assert register["ModelPackageGroupName"] == config.MODEL_PACKAGE_GROUP
    assert register["ModelApprovalStatus"] == _get("ModelApprovalStatus")
    statistics = register["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["ContentType"] == "application/json"
    assert statistics["S3Uri"]["Std:Join"]["Values"] == [
        {"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},
        "evaluation.json",
    ]
    assert register["MetadataProperties"] == {"CommitId": _get("CommitSha")}
    assert register["CustomerMetadataProperties"]["commit"] == _get("CommitSha")
    assert "Std:Join" in register["CustomerMetadataProperties"][config.GATE_METRIC]  # a string
    (container,) = register["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    assert container["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == "/opt/ml/model/code"
    specification = register["InferenceSpecification"]
    assert specification["SupportedRealtimeInferenceInstanceTypes"] == [
        config.ENDPOINT_INSTANCE_TYPE
    ]


def test_every_step_runs_the_pinned_scikit_learn_image(definition: dict[str, Any]) -> None:
    steps = steps_by_name(definition)
    images = [
        steps[interface.PREPROCESS]["Arguments"]["AppSpecification"]["ImageUri"],
        steps[interface.TRAIN]["Arguments"]["AlgorithmSpecification"]["TrainingImage"],
        steps[interface.EVALUATE]["Arguments"]["AppSpecification"]["ImageUri"],
        steps[interface.REGISTER]["Arguments"]["InferenceSpecification"]["Containers"][0]["Image"],
    ]
    pattern = re.compile(
        rf"\d+\.dkr\.ecr\.{re.escape(config.AWS_REGION)}\.amazonaws\.com(\.cn)?/"
        rf"sagemaker-scikit-learn:{re.escape(config.SKLEARN_FRAMEWORK_VERSION)}-cpu-py3"
    )
    for image in images:
        assert pattern.fullmatch(image), image


def _options(arguments: list[Any]) -> list[str]:
    """Container arguments with pipeline expressions replaced by a plausible value."""
    return [a if isinstance(a, str) else _plausible(a) for a in arguments]


def _plausible(expression: dict[str, Any]) -> str:
    # `--name=` joined with a parameter stays one `--name=value` option.
    values = expression.get("Std:Join", {}).get("Values", [])
    prefix = values[0] if values and isinstance(values[0], str) else ""
    return f"{prefix}0.5"


def test_step_arguments_are_the_scripts_own_options(definition: dict[str, Any]) -> None:
    steps = steps_by_name(definition)
    arguments = steps[interface.PREPROCESS]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert arguments == config.command_line(config.PREPROCESS_OPTIONS)
    pre = preprocess.parse_args(arguments)
    assert (pre.target, pre.task, pre.test_size, pre.seed) == (
        config.TARGET_COLUMN,
        config.TASK,
        config.TEST_SIZE,
        config.RANDOM_SEED,
    )
    hyperparameters = steps[interface.TRAIN]["Arguments"]["HyperParameters"]
    # ModelTrainer passes each hyperparameter to train.py as `--name value`.
    # A parameter's default is what a run without an override passes.
    defaults = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    given = {
        k: defaults[v["Get"].split(".")[1]] if isinstance(v, dict) else v
        for k, v in hyperparameters.items()
    }
    fit = train.parse_args([part for k, v in given.items() for part in (f"--{k}", v)])
    # Each hyperparameter is a pipeline parameter a run can override.
    for name in config.HYPERPARAMETERS:
        parameter = interface.hyperparameter_parameter(name)
        assert hyperparameters[name] == _get(parameter)
    assert fit.target == config.TARGET_COLUMN
    assert fit.seed == config.RANDOM_SEED
    arguments = steps[interface.EVALUATE]["Arguments"]["AppSpecification"]["ContainerArguments"]
    judge = evaluate.parse_args(_options(arguments))
    assert (judge.champion_model_data, judge.champion_tolerance) == ("0.5", 0.5)
    assert (judge.target, judge.task, judge.gate_metric) == (
        config.TARGET_COLUMN,
        config.TASK,
        config.GATE_METRIC,
    )
    assert arguments[arguments.index("--threshold") + 1] == {
        "Std:Join": {"On": "", "Values": [_get("GateThreshold")]}
    }
    inputs = processing_inputs(steps[interface.EVALUATE], "LocalPath")
    # The evaluate step's default paths: the training rows go in beside the test rows.
    assert inputs["train"] == str(judge.train_dir)
    assert inputs["test"] == str(judge.test_dir)


def test_training_ships_the_steps_directory_with_train_py(definition: dict[str, Any]) -> None:
    text = json.dumps(steps_by_name(definition)[interface.TRAIN])
    assert "/input/code" in text
    assert (pipeline_definition.STEPS_DIR / "train.py").is_file()
    assert (pipeline_definition.STEPS_DIR / "inference.py").is_file()


def test_build_timestamps_are_masked(definition: dict[str, Any]) -> None:
    text = json.dumps(definition)
    assert "<timestamp>" in text
    assert not re.search(r"-20\d+(/|\")", text)
    assert pipeline_definition.mask_volatile("s3://b/p/train-20260101120000/input") == (
        "s3://b/p/train-<timestamp>/input"
    )


# ---- snapshot --------------------------------------------------------------------------------

# The snapshot is the same for every set of template answers: each answer-derived value is
# replaced by a placeholder (the tests above check the values themselves), so one file serves
# every bake and a diff shows only changes to the pipeline's shape.
_HASH = re.compile(r"\b" + "[0-9a-f]" * 64 + r"\b")  # a SHA-256 in hex
_REGISTRY = re.compile(r"\d+\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")


def normalised(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with answer-derived values and code hashes replaced by placeholders."""
    view = json.loads(json.dumps(definition))
    for parameter in view["Parameters"]:
        parameter["DefaultValue"] = f"<{parameter['Name']} default>"
    # The data set's optional options (a positive class, columns to drop) come and go with it.
    preprocess_step = steps_by_name(view)[interface.PREPROCESS]["Arguments"]["AppSpecification"]
    arguments = preprocess_step["ContainerArguments"]
    kept: list[Any] = []
    for flag, value in zip(arguments[::2], arguments[1::2], strict=True):
        if flag not in ("--positive-class", "--drop"):
            kept += [flag, value]
    preprocess_step["ContainerArguments"] = kept
    register = steps_by_name(view)[interface.REGISTER]["Arguments"]
    specification = register["InferenceSpecification"]
    specification["SupportedRealtimeInferenceInstanceTypes"] = ["<endpoint-instance-type>"]
    specification["Containers"][0]["Environment"]["SAGEMAKER_REGION"] = "<region>"
    text = json.dumps(view, indent=2, sort_keys=True)
    # The data set and the gate, as whole JSON strings (a target may be a common word).
    for value, placeholder in (
        (config.TARGET_COLUMN, "<target>"),
        (config.TASK, "<task>"),
        (config.GATE_METRIC, "<gate-metric>"),
    ):
        text = text.replace(json.dumps(value), json.dumps(placeholder))
    for value, placeholder in (
        (config.ARTIFACT_BUCKET, "<artifact-bucket>"),
        (config.role_arn(config.SAGEMAKER_EXECUTION_ROLE), "<execution-role-arn>"),
        (config.MODEL_PACKAGE_GROUP, "<model-package-group>"),
        (config.SAGEMAKER_PIPELINE, "<pipeline>"),
        *(
            (f"{config.PROJECT}-{s.lower()}", f"<project>-{s.lower()}")
            for s in ("Preprocess", "Train", "Baseline", "Evaluate")
        ),
    ):
        text = text.replace(value, placeholder)
    text = _REGISTRY.sub("<ecr-registry>", text)
    return json.loads(_HASH.sub("<sha256>", text))


def test_definition_matches_the_snapshot(definition: dict[str, Any]) -> None:
    """Reviewers see every change to the definition; UPDATE_SNAPSHOTS=1 rewrites the file."""
    current = json.dumps(normalised(definition), indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(current, encoding="utf-8")
    assert current == SNAPSHOT.read_text(encoding="utf-8"), (
        "the pipeline definition changed: review it, then run UPDATE_SNAPSHOTS=1 pytest "
        "tests/training/test_pipeline.py and commit the snapshot"
    )


def test_snapshot_carries_no_answer_values() -> None:
    """Nor the data set's: swapping the data leaves the snapshot as it is."""
    text = SNAPSHOT.read_text(encoding="utf-8")
    for value in (config.PROJECT, config.AWS_ACCOUNT_ID, config.REGISTRATION_STATUS):
        assert value not in text
    for value in (config.TARGET_COLUMN, config.TASK, config.GATE_METRIC):
        assert json.dumps(value) not in text


# ---- upsert, start, wait ---------------------------------------------------------------------


@pytest.fixture
def sm() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sagemaker", region_name=config.AWS_REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _pipeline_arn() -> str:
    return f"arn:aws:sagemaker:{config.AWS_REGION}:{config.AWS_ACCOUNT_ID}:pipeline/x"


def test_upsert_creates_a_missing_pipeline(sm: tuple[Any, Stubber]) -> None:
    client, stubber = sm
    stubber.add_client_error("describe_pipeline", "ResourceNotFound")
    request = {
        "PipelineName": config.SAGEMAKER_PIPELINE,
        "PipelineDefinition": "{}",
        "PipelineDescription": upsert.DESCRIPTION,
        "RoleArn": config.role_arn(config.SAGEMAKER_EXECUTION_ROLE),
        "ClientRequestToken": ANY,
    }
    stubber.add_response("create_pipeline", {"PipelineArn": _pipeline_arn()}, request)
    assert upsert.upsert(client, "{}") == _pipeline_arn()


def test_upsert_updates_an_existing_pipeline(sm: tuple[Any, Stubber]) -> None:
    client, stubber = sm
    stubber.add_response("describe_pipeline", {"PipelineArn": _pipeline_arn()})
    stubber.add_response("update_pipeline", {"PipelineArn": _pipeline_arn()})
    assert upsert.upsert(client, "{}") == _pipeline_arn()


def test_start_records_the_commit(sm: tuple[Any, Stubber]) -> None:
    client, stubber = sm
    stubber.add_response(
        "start_pipeline_execution",
        {"PipelineExecutionArn": EXECUTION_ARN},
        {
            "PipelineName": config.SAGEMAKER_PIPELINE,
            "PipelineExecutionDisplayName": "commit-0123456789ab",
            "PipelineExecutionDescription": "commit 0123456789abcdef",
            "PipelineParameters": [
                {"Name": "CommitSha", "Value": "0123456789abcdef"},
                # No champion: empty, and the step judges by the threshold alone.
                {"Name": "ChampionModelData", "Value": ""},
                {"Name": "ChampionVersion", "Value": ""},
            ],
            "ClientRequestToken": ANY,
        },
    )
    assert execution.start_execution(client, "0123456789abcdef") == EXECUTION_ARN


def _champion_lookup(stubber: Stubber, version: int | None) -> None:
    """ListModelPackages (Approved, newest first) and, for a champion, DescribeModelPackage."""
    listed = {
        "ModelPackageGroupName": config.MODEL_PACKAGE_GROUP,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "ModelApprovalStatus": "Approved",
    }
    if version is None:
        stubber.add_response("list_model_packages", {"ModelPackageSummaryList": []}, listed)
        stubber.add_response(
            "describe_model_package_group",
            {
                "ModelPackageGroupName": config.MODEL_PACKAGE_GROUP,
                "ModelPackageGroupArn": GROUP_ARN,
                "CreationTime": NOW,
                "CreatedBy": {},
                "ModelPackageGroupStatus": "Completed",
            },
        )
        return
    summary = {
        "ModelPackageArn": PACKAGE_ARN,
        "ModelPackageVersion": version,
        "CreationTime": NOW,
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": "Approved",
    }
    stubber.add_response("list_model_packages", {"ModelPackageSummaryList": [summary]}, listed)
    described = {
        **summary,
        "ModelPackageName": config.MODEL_PACKAGE_GROUP,
        "ModelPackageStatusDetails": {"ValidationStatuses": []},
        "InferenceSpecification": {
            "Containers": [{"Image": "image", "ModelDataUrl": CHAMPION_DATA}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    }
    stubber.add_response("describe_model_package", described, {"ModelPackageName": PACKAGE_ARN})


def test_start_passes_the_latest_approved_version_as_the_champion(
    sm: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    client, stubber = sm
    _champion_lookup(stubber, 4)
    stubber.add_response(
        "start_pipeline_execution",
        {"PipelineExecutionArn": EXECUTION_ARN},
        {
            "PipelineName": config.SAGEMAKER_PIPELINE,
            "PipelineExecutionDisplayName": ANY,
            "PipelineExecutionDescription": ANY,
            "PipelineParameters": [
                {"Name": "CommitSha", "Value": "0123456789abcdef"},
                {"Name": "ChampionModelData", "Value": CHAMPION_DATA},
                {"Name": "ChampionVersion", "Value": "4"},
                {"Name": interface.hyperparameter_parameter("c"), "Value": "0.001"},
            ],
            "ClientRequestToken": ANY,
        },
    )
    code = execution.start("0123456789abcdef", hyperparameters=["c=0.001"], sm=client)
    assert code == ExitCode.OK
    assert f"compared with champion version 4 ({CHAMPION_DATA})" in capsys.readouterr().out


@pytest.mark.parametrize("pair", ["c", "gamma=1", "c=", "=1"])
def test_a_hyperparameter_override_must_name_one_of_config(pair: str) -> None:
    with pytest.raises(CliError, match="must be NAME=VALUE with NAME one of: c, max-iter") as error:
        execution.checked_hyperparameters([pair])
    assert error.value.code == ExitCode.USAGE


def test_start_can_name_the_input_data(sm: tuple[Any, Stubber]) -> None:
    client, stubber = sm
    uri = "s3://other-bucket/exports/2026-12/churn.csv"
    _champion_lookup(stubber, None)
    stubber.add_response(
        "start_pipeline_execution",
        {"PipelineExecutionArn": EXECUTION_ARN},
        {
            "PipelineName": config.SAGEMAKER_PIPELINE,
            "PipelineExecutionDisplayName": ANY,
            "PipelineExecutionDescription": ANY,
            "PipelineParameters": [
                {"Name": "CommitSha", "Value": "0123456789abcdef"},
                {"Name": "ChampionModelData", "Value": ""},
                {"Name": "ChampionVersion", "Value": ""},
                {"Name": "InputDataUri", "Value": uri},
            ],
            "ClientRequestToken": ANY,
        },
    )
    assert execution.start("0123456789abcdef", input_data=uri, sm=client) == ExitCode.OK


@pytest.mark.parametrize("uri", ["churn.csv", "s3://", "https://bucket/churn.csv"])
def test_input_data_must_be_an_s3_uri(uri: str) -> None:
    with pytest.raises(CliError, match="must be an s3:// URI") as error:
        execution.checked_input_data(uri)
    assert error.value.code == ExitCode.USAGE
    # The buildspec passes the CodePipeline variable's default: keep the pipeline's own input.
    assert execution.checked_input_data(config.DEFAULT_INPUT_DATA) is None


def test_upsert_uploads_the_data_set_under_its_content_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A changed file is a new key, so a retrain after a data change trains on the new data."""
    from moto import mock_aws

    data = tmp_path / "churn.csv"
    data.write_text("x,y\n1,0\n2,1\n", encoding="utf-8")
    monkeypatch.setattr(config, "DATA_FILE", data)
    with mock_aws():
        s3 = boto3.client("s3", region_name=config.AWS_REGION)
        emulated_stack.create_bucket(s3, config.ARTIFACT_BUCKET)
        out = io.StringIO()
        with redirect_stdout(out):
            upsert.seed_input_data()
            first = config.input_data_key(data)
            upsert.seed_input_data()  # the same file: nothing to do
            data.write_text("x,y\n1,0\n2,1\n3,1\n", encoding="utf-8")
            upsert.seed_input_data()
            second = config.input_data_key(data)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=config.ARTIFACT_BUCKET)["Contents"]]
    assert first != second
    assert sorted(keys) == sorted([first, second])
    assert out.getvalue().count("upsert: uploaded churn.csv") == 2
    assert first.startswith("input/")
    assert first.endswith("/churn.csv")


def test_upsert_refuses_a_missing_data_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "DATA_FILE", tmp_path / "gone.csv")
    monkeypatch.setattr(config, "DATA_URI", "")
    with pytest.raises(CliError, match=r"gone\.csv: the data set's file") as error:
        upsert.seed_input_data()
    assert error.value.code == ExitCode.USAGE


def _poll(stubber: Stubber, status: str, steps: list[tuple[str, str, str | None]]) -> None:
    stubber.add_response(
        "describe_pipeline_execution",
        {"PipelineExecutionStatus": status},
        {"PipelineExecutionArn": EXECUTION_ARN},
    )
    entries = []
    for name, state, reason in steps:
        entry: dict[str, Any] = {"StepName": name, "StepStatus": state}
        if reason:
            entry["FailureReason"] = reason
        entries.append(entry)
    stubber.add_response(
        "list_pipeline_execution_steps",
        {"PipelineExecutionSteps": entries},
        {"PipelineExecutionArn": EXECUTION_ARN, "SortOrder": "Ascending"},
    )


def _wait(client: Any, slept: list[float] | None = None, **kwargs: Any) -> tuple[int, str]:
    out = io.StringIO()
    slept = [] if slept is None else slept
    with redirect_stdout(out):
        status, steps, reason = execution.wait(client, EXECUTION_ARN, sleep=slept.append, **kwargs)
    return execution.outcome(status, steps, reason), out.getvalue()


def test_wait_prints_one_line_per_step_state_change(sm: tuple[Any, Stubber]) -> None:
    client, stubber = sm
    _poll(stubber, "Executing", [("Preprocess", "Executing", None)])
    _poll(stubber, "Executing", [("Preprocess", "Executing", None)])
    _poll(stubber, "Executing", [("Preprocess", "Succeeded", None), ("Train", "Executing", None)])
    _poll(stubber, "Succeeded", [("Preprocess", "Succeeded", None), ("Train", "Succeeded", None)])
    code, printed = _wait(client)
    assert code == ExitCode.OK
    assert printed.splitlines() == [
        "step Preprocess: Executing",
        "step Preprocess: Succeeded",
        "step Train: Executing",
        "step Train: Succeeded",
        "execution: Succeeded",
    ]


def test_polling_backs_off_and_starts_again_when_a_step_moves(sm: tuple[Any, Stubber]) -> None:
    client, stubber = sm
    _poll(stubber, "Executing", [("Preprocess", "Executing", None)])
    _poll(stubber, "Executing", [("Preprocess", "Executing", None)])
    _poll(stubber, "Executing", [("Preprocess", "Executing", None)])
    _poll(stubber, "Executing", [("Preprocess", "Succeeded", None)])
    _poll(stubber, "Succeeded", [("Preprocess", "Succeeded", None)])
    slept: list[float] = []
    assert _wait(client, slept, first_poll=0.5)[0] == ExitCode.OK
    assert slept == [0.5, 0.75, 1.125, 0.5]


def test_polling_backs_off_to_twelve_times_the_first_interval(sm: tuple[Any, Stubber]) -> None:
    """A minute for the default 5 s; a fast poll (the story's) stays fast."""
    client, stubber = sm
    for _ in range(9):
        _poll(stubber, "Executing", [("Train", "Executing", None)])
    _poll(stubber, "Succeeded", [("Train", "Succeeded", None)])
    slept: list[float] = []
    assert _wait(client, slept, first_poll=0.05)[0] == ExitCode.OK
    assert slept[:3] == pytest.approx([0.05, 0.075, 0.1125])
    assert max(slept) == slept[-1] == pytest.approx(0.6)


def test_a_failure_outside_any_step_says_the_executions_reason(sm: tuple[Any, Stubber]) -> None:
    client, stubber = sm
    reason = "step Transform: step type 'Transform' is not supported offline"
    stubber.add_response(
        "describe_pipeline_execution",
        {"PipelineExecutionStatus": "Failed", "FailureReason": reason},
        {"PipelineExecutionArn": EXECUTION_ARN},
    )
    stubber.add_response(
        "list_pipeline_execution_steps",
        {"PipelineExecutionSteps": []},
        {"PipelineExecutionArn": EXECUTION_ARN, "SortOrder": "Ascending"},
    )
    with pytest.raises(CliError, match=f"execution ended Failed: {reason}") as error:
        _wait(client)
    assert error.value.code == ExitCode.FAILED


def test_a_failed_step_fails_with_its_reason(sm: tuple[Any, Stubber]) -> None:
    client, stubber = sm
    _poll(stubber, "Failed", [("Train", "Failed", "AlgorithmError: bad input")])
    with pytest.raises(CliError, match="step Train failed: AlgorithmError: bad input") as error:
        _wait(client)
    assert error.value.code == ExitCode.FAILED


def test_missing_the_threshold_is_its_own_exit_code(sm: tuple[Any, Stubber]) -> None:
    client, stubber = sm
    reason = "f1 0.61 must be at least GateThreshold 0.85 and above the best constant ..."
    _poll(stubber, "Failed", [(interface.FAIL, "Failed", reason)])
    with pytest.raises(CliError, match=reason) as error:
        _wait(client)
    assert error.value.code == ExitCode.BELOW_THRESHOLD


def test_wait_gives_up_at_the_timeout(sm: tuple[Any, Stubber]) -> None:
    client, stubber = sm
    _poll(stubber, "Executing", [("Preprocess", "Executing", None)])
    with pytest.raises(CliError, match="still Executing") as error:
        _wait(client, timeout=0.5, clock=lambda: 0.0)
    assert error.value.code == ExitCode.TIMED_OUT


@pytest.mark.parametrize("seconds", ["0", "-1", "nan"])
def test_a_poll_interval_that_is_not_positive_is_refused(
    seconds: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["pipeline", "start", "--wait", "--poll-seconds", seconds]) == ExitCode.USAGE
    assert capsys.readouterr().err == f"error: --poll-seconds {float(seconds)} is not positive\n"


def test_outputs_file_is_shell_sourceable(tmp_path: Path) -> None:
    target = tmp_path / "build" / "pipeline.env"
    execution.write_outputs(str(target), {"PIPELINE_EXECUTION_ARN": EXECUTION_ARN})
    assert target.read_text() == f"PIPELINE_EXECUTION_ARN={EXECUTION_ARN}\n"
    assert not list(target.parent.glob(".*partial"))
