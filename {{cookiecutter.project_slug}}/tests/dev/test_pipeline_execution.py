"""The emulator runs the upserted pipeline definition itself, so the definition's wiring is tested.

The definition is built and upserted once, by the SDK, as `pipeline upsert` does; each test then
runs it (or a copy broken in one place) with `pipeline start --wait`. The step scripts are the
same in every run: whatever fails, fails because of the definition. Every run trains on a table
any model learns (tests/learnable.py, through `--input-data`), whatever the configured data set.
"""

from __future__ import annotations

import copy
import io
import json
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import joblib
import learnable
import pytest

from {{ cookiecutter.__package }} import cli, config
from {{ cookiecutter.__package }}.dev import emulator
from {{ cookiecutter.__package }}.errors import ExitCode
from {{ cookiecutter.__package }}.training import definition as pipeline_definition
from {{ cookiecutter.__package }}.training import interface as step

COMMIT = "0123456789abcdef0123456789abcdef01234567"
Definition = dict[str, Any]


@dataclass(frozen=True)
class Emulated:
    """The emulator, and the definition as `pipeline upsert` left it there."""

    url: str
    upserted: Definition
    data: str  # the learnable table's s3:// URI


@pytest.fixture(scope="module")
def emulated() -> Iterator[Emulated]:
    """One emulator for the module, with the pipeline upserted by the SDK (code in its S3)."""
    with pytest.MonkeyPatch.context() as mp, emulator.running() as url:
        mp.setenv("AWS_ENDPOINT_URL", url)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", config.AWS_REGION)
        mp.setenv("NO_PROXY", "127.0.0.1")
        emulator.seed(url)
        pipeline_definition.upsert_pipeline()
        described = boto3.client("sagemaker").describe_pipeline(
            PipelineName=config.SAGEMAKER_PIPELINE
        )
        yield Emulated(url, json.loads(described["PipelineDefinition"]), learnable.upload())


@pytest.fixture
def aws(emulated: Emulated, monkeypatch: pytest.MonkeyPatch) -> Emulated:
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulated.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    return emulated


@dataclass
class Run:
    """What `pipeline start --wait` said, and what the execution recorded."""

    code: int
    out: str
    err: str
    steps: list[dict[str, Any]]
    described: dict[str, Any]

    def step(self, name: str) -> dict[str, Any]:
        return next(s for s in self.steps if s["StepName"] == name)

    def failed(self) -> list[str]:
        return [s["StepName"] for s in self.steps if s["StepStatus"] == "Failed"]

    def gate_agrees(self) -> bool:
        """The Evaluate step's verdict (what report.md and run-local show) is the one the
        pipeline's condition step reached on the same numbers; return it."""
        execution_id = self.described["PipelineExecutionArn"].rsplit("/", 1)[1]
        written = s3_object(
            f"s3://{config.ARTIFACT_BUCKET}/{config.SAGEMAKER_PIPELINE}/{execution_id}/"
            f"{step.EVALUATE}/evaluation/evaluation.json"
        )
        passed = json.loads(written)[config.GATE_KEY]["passed"]
        outcome = self.step(step.GATE)["Metadata"]["Condition"]["Outcome"]
        assert outcome == str(passed), (outcome, passed)
        return passed


def run(
    definition: Definition, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> Run:
    """Upsert this definition text and run it to the end, on the learnable table."""
    sm = boto3.client("sagemaker")
    sm.update_pipeline(
        PipelineName=config.SAGEMAKER_PIPELINE, PipelineDefinition=json.dumps(definition)
    )
    outputs = tmp_path / "pipeline.env"
    capsys.readouterr()
    code = cli.main(
        [
            "pipeline", "start", "--wait", "--commit", COMMIT, "--poll-seconds", "0.05",
            "--timeout-seconds", "120", "--outputs", str(outputs),
            "--input-data", learnable.upload(), *extra,
        ]
    )  # fmt: skip
    printed = capsys.readouterr()
    exported = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    arn = exported["PIPELINE_EXECUTION_ARN"]
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, SortOrder="Ascending")
    described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    return Run(code, printed.out, printed.err, steps["PipelineExecutionSteps"], described)


def steps_of(definition: Definition) -> dict[str, dict[str, Any]]:
    """Every step by name, the gate's branches included."""
    found: dict[str, dict[str, Any]] = {}
    pending = list(definition["Steps"])
    while pending:
        node = pending.pop()
        found[node["Name"]] = node
        pending += node.get("Arguments", {}).get("IfSteps", [])
        pending += node.get("Arguments", {}).get("ElseSteps", [])
    return found


def s3_object(uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def versions() -> int:
    listed = boto3.client("sagemaker").list_model_packages(
        ModelPackageGroupName=config.MODEL_PACKAGE_GROUP
    )
    return len(listed["ModelPackageSummaryList"])


def test_an_execution_runs_every_step_and_registers_what_the_definition_names(
    aws: Emulated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(aws.upserted, tmp_path, capsys)
    assert result.code == ExitCode.OK, result.err
    assert result.described["PipelineExecutionStatus"] == "Succeeded"
    names = [s["StepName"] for s in result.steps]
    # Train and Baseline both need only Preprocess: they start together, in either order.
    assert [names[0], sorted(names[1:3]), *names[3:]] == [
        step.PREPROCESS, sorted([step.TRAIN, step.BASELINE]),
        step.EVALUATE, step.REPORT, step.GATE, step.REGISTER,
    ]  # fmt: skip
    for ran in result.steps:
        assert ran["StepStatus"] == "Succeeded"
        assert ran["StartTime"] <= ran["EndTime"]
    needs = [(step.PREPROCESS, step.TRAIN), (step.PREPROCESS, step.BASELINE),
             (step.TRAIN, step.EVALUATE), (step.EVALUATE, step.REPORT), (step.REPORT, step.GATE),
             (step.GATE, step.REGISTER), (step.BASELINE, step.REGISTER)]  # fmt: skip
    for earlier, later in needs:
        assert result.step(earlier)["EndTime"] <= result.step(later)["StartTime"]
    assert result.step(step.GATE)["Metadata"] == {"Condition": {"Outcome": "True"}}
    assert "step Register: Succeeded" in result.out

    # The package is the one the Register step describes, with this run's artifacts.
    arn = result.step(step.REGISTER)["Metadata"]["RegisterModel"]["Arn"]
    assert f"registered: {arn}" in result.out
    package = boto3.client("sagemaker").describe_model_package(ModelPackageName=arn)
    assert package["ModelApprovalStatus"] == config.REGISTRATION_STATUS
    assert package["MetadataProperties"]["CommitId"] == COMMIT
    (container,) = package["InferenceSpecification"]["Containers"]
    register = steps_of(aws.upserted)[step.REGISTER]["Arguments"]
    assert container["Image"] == register["InferenceSpecification"]["Containers"][0]["Image"]
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    job = result.step(step.TRAIN)["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[1]
    train = steps_of(aws.upserted)[step.TRAIN]["Arguments"]
    output_path = train["OutputDataConfig"]["S3OutputPath"]
    assert container["ModelDataUrl"].lower() == f"{output_path}/{job}/output/model.tar.gz".lower()
    with tarfile.open(fileobj=io.BytesIO(s3_object(container["ModelDataUrl"]))) as model:
        assert {"model.joblib", "code/inference.py"} <= set(model.getnames())
        trained = joblib.load(io.BytesIO(model.extractfile("model.joblib").read()))
    # It trained on the table `--input-data` named, not the configured data set.
    assert list(trained.feature_names_in_) == ["learnable_signal", "learnable_noise"]
    statistics = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    execution_id = result.described["PipelineExecutionArn"].rsplit("/", 1)[1]
    assert f"/{execution_id}/{step.EVALUATE}/evaluation/evaluation.json" in statistics
    report = json.loads(s3_object(statistics))
    score: Any = report
    for key in config.GATE_JSON_PATH.split("."):
        score = score[key]
    # No champion yet: judged by the threshold and the constant baseline alone, and it says so.
    assert report[config.CHAMPION_KEY]["version"] == "none"
    assert package["CustomerMetadataProperties"] == {
        "commit": COMMIT,
        config.GATE_METRIC: str(score),
        "champion": "none",
        "vs_champion": "none",
        # The Report step's output (its own job, before the gate).
        "report": statistics.replace(
            f"/{step.EVALUATE}/evaluation/evaluation.json", f"/{step.REPORT}/report/report.md"
        ),
    }
    # The version carries its own data-quality baseline: this run's Baseline job's files, of
    # the features the model was trained on.
    quality = package["DriftCheckBaselines"]["ModelDataQuality"]
    for kind, name in (("Statistics", config.BASELINE_STATISTICS),
                       ("Constraints", config.BASELINE_CONSTRAINTS)):  # fmt: skip
        assert quality[kind]["ContentType"] == "application/json"
        assert quality[kind]["S3Uri"].endswith(f"/{execution_id}/{step.BASELINE}/baseline/{name}")
    constraints = json.loads(s3_object(quality["Constraints"]["S3Uri"]))
    assert [f["name"] for f in constraints["features"]] == list(trained.feature_names_in_)
    assert "no champion" in package["ModelPackageDescription"]


def approve_newest() -> dict[str, Any]:
    """Approve the newest version, making it the champion; its description."""
    sm = boto3.client("sagemaker")
    newest = sm.list_model_packages(
        ModelPackageGroupName=config.MODEL_PACKAGE_GROUP, SortOrder="Descending"
    )["ModelPackageSummaryList"][0]
    sm.update_model_package(
        ModelPackageArn=newest["ModelPackageArn"], ModelApprovalStatus="Approved"
    )
    return sm.describe_model_package(ModelPackageName=newest["ModelPackageArn"])


def test_the_latest_approved_version_is_the_champion_scored_on_the_same_rows(
    aws: Emulated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    champion = approve_newest()
    version = str(champion["ModelPackageVersion"])
    model_data = champion["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    result = run(aws.upserted, tmp_path, capsys)
    assert result.code == ExitCode.OK, result.err
    assert result.gate_agrees()
    assert f"compared with champion version {version} ({model_data})" in result.out
    arn = result.step(step.REGISTER)["Metadata"]["RegisterModel"]["Arn"]
    package = boto3.client("sagemaker").describe_model_package(ModelPackageName=arn)
    statistics = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    compared = json.loads(s3_object(statistics))[config.CHAMPION_KEY]
    # The same code on the same rows: the champion scores exactly what the challenger does.
    assert compared["version"] == version
    assert compared["model_data"] == model_data
    assert compared["difference"] == 0.0
    assert compared[config.METRICS_KEY]["confusion_matrix"]
    metadata = package["CustomerMetadataProperties"]
    assert (metadata["champion"], metadata["vs_champion"]) == (version, "+0.0000")
    assert f"champion version {version} scored" in package["ModelPackageDescription"]


def test_a_challenger_behind_the_champion_beyond_the_tolerance_is_refused(
    aws: Emulated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An equal challenger, made worse than the champion by a tolerance below zero."""
    demanding = copy.deepcopy(aws.upserted)
    for parameter in demanding["Parameters"]:
        if parameter["Name"] == "ChampionTolerance":
            parameter["DefaultValue"] = -0.5  # the bar: the champion's score plus 0.5
    champion = approve_newest()
    before = versions()
    result = run(demanding, tmp_path, capsys)
    assert result.code == ExitCode.BELOW_THRESHOLD, result.err
    assert result.failed() == [step.FAIL]
    assert not result.gate_agrees()
    message = result.step(step.FAIL)["FailureReason"]
    version = champion["ModelPackageVersion"]
    assert "and at least the champion's minus ChampionTolerance " in message
    assert f"| champion version {version} scored " in message
    assert "is below its bar" in message
    assert "(tolerance -0.5000)" in message
    assert versions() == before


def test_a_champion_whose_model_data_is_missing_fails_the_evaluate_step(
    aws: Emulated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Never a silent "no champion": the step fails, naming the version and the URI."""
    sm = boto3.client("sagemaker")
    champion = approve_newest()
    container = champion["InferenceSpecification"]["Containers"][0]
    missing = f"s3://{config.ARTIFACT_BUCKET}/gone/model.tar.gz"
    broken = sm.create_model_package(
        ModelPackageGroupName=config.MODEL_PACKAGE_GROUP,
        InferenceSpecification={
            "Containers": [{"Image": container["Image"], "ModelDataUrl": missing}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelApprovalStatus="Approved",
    )["ModelPackageArn"]
    try:
        before = versions()
        result = run(aws.upserted, tmp_path, capsys)
        assert result.code == ExitCode.FAILED, result.err
        assert result.failed() == [step.EVALUATE]
        reason = result.step(step.EVALUATE)["FailureReason"]
        version = sm.describe_model_package(ModelPackageName=broken)["ModelPackageVersion"]
        assert f"error: champion version {version}: its model data {missing} cannot be read" in (
            reason
        )
        assert versions() == before
    finally:
        # The next tests' champion is the good one again.
        sm.update_model_package(ModelPackageArn=broken, ModelApprovalStatus="Rejected")


def test_a_model_below_the_threshold_ends_in_the_fail_step_with_its_message(
    aws: Emulated, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    strict = copy.deepcopy(aws.upserted)
    for parameter in strict["Parameters"]:
        if parameter["Name"] == "GateThreshold":
            parameter["DefaultValue"] = 1.5  # beyond any score
    before = versions()
    result = run(strict, tmp_path, capsys)
    assert result.code == ExitCode.BELOW_THRESHOLD
    assert result.failed() == [step.FAIL]
    assert result.step(step.GATE)["Metadata"] == {"Condition": {"Outcome": "False"}}
    assert not result.gate_agrees()
    message = result.step(step.FAIL)["FailureReason"]
    assert message.startswith(f"{config.GATE_METRIC} ")
    assert (
        " must be at least GateThreshold 1.5 and above the best constant classifier's " in message
    )
    assert result.step(step.FAIL)["Metadata"] == {"Fail": {"ErrorMessage": message}}
    assert f"error: step {step.FAIL} failed: {message}" in result.err
    assert step.REGISTER not in [s["StepName"] for s in result.steps]
    assert result.described["PipelineExecutionStatus"] == "Failed"
    assert versions() == before


def _property_file_path(definition: Definition) -> None:
    (report,) = steps_of(definition)[step.EVALUATE]["PropertyFiles"]
    report["FilePath"] = "metrics.json"


def _gate_json_path(definition: Definition) -> None:
    threshold, *_ = steps_of(definition)[step.GATE]["Arguments"]["Conditions"]
    threshold["LeftValue"]["Std:JsonGet"]["Path"] = f"{config.METRICS_KEY}.acc.value"


def _champion_bar_path(definition: Definition) -> None:
    *_, champion = steps_of(definition)[step.GATE]["Arguments"]["Conditions"]
    champion["RightValue"]["Std:JsonGet"]["Path"] = f"{config.CHAMPION_KEY}.value.bar"


def _model_input_from_preprocess(definition: Definition) -> None:
    inputs = steps_of(definition)[step.EVALUATE]["Arguments"]["ProcessingInputs"]
    model = next(i for i in inputs if i["InputName"] == "model")
    model["S3Input"]["S3Uri"] = {
        "Get": f"Steps.{step.PREPROCESS}.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    }


@pytest.mark.parametrize(
    ("mutate", "step", "reason"),
    [
        pytest.param(
            _property_file_path,
            step.EVALUATE,
            f"property file {step.EVALUATION_REPORT}: output 'evaluation' holds no 'metrics.json'",
            id="property-file-path",
        ),
        pytest.param(
            _gate_json_path,
            step.GATE,
            f"property file {step.EVALUATION_REPORT} of {step.EVALUATE} has no 'acc'",
            id="gate-json-path",
        ),
        pytest.param(
            _champion_bar_path,
            step.GATE,
            f"property file {step.EVALUATION_REPORT} of {step.EVALUATE} has no 'bar'",
            id="champion-bar-json-path",
        ),
        pytest.param(
            _model_input_from_preprocess,
            step.EVALUATE,
            "evaluate.py exited 2\nerror: [Errno 2] No such file or directory: "
            "'/opt/ml/processing/model/model.tar.gz'",
            id="evaluate-model-from-preprocess",
        ),
    ],
)
def test_wiring_the_step_code_cannot_see_fails_the_step_that_uses_it(
    aws: Emulated,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    mutate: Callable[[Definition], None],
    step: str,
    reason: str,
) -> None:
    """Each of these passes `make local` (it wires the steps itself); the definition is wrong."""
    broken = copy.deepcopy(aws.upserted)
    mutate(broken)
    before = versions()
    result = run(broken, tmp_path, capsys)
    assert result.code == ExitCode.FAILED
    # Should another step fail too, say why (it did once: tests/test_processes.py).
    reasons = {name: result.step(name).get("FailureReason") for name in result.failed()}
    assert result.failed() == [step], reasons
    assert reason in result.step(step)["FailureReason"]
    assert f"error: step {step} failed: " in result.err
    assert result.described["PipelineExecutionStatus"] == "Failed"
    assert versions() == before
