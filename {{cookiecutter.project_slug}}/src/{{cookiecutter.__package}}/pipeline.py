"""The SageMaker pipeline: Preprocess -> Train -> Evaluate -> accuracy gate -> Register | Fail.

This is the only module that imports the SageMaker SDK (about 3 s and most of the install), and it
does so inside the functions that build the pipeline, so `pipeline start` and the promotion
commands never pay for it. The step code is the package's `steps/` directory, the same scripts
`run-local` runs; every name comes from config.py.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shlex
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode

if TYPE_CHECKING:
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.mlops.workflow.pipeline import Pipeline

STEPS_DIR = Path(__file__).resolve().parent / "steps"

# Step names: ListPipelineExecutionSteps reports these, and the tests and docs name them.
PREPROCESS, TRAIN, EVALUATE, GATE, REGISTER, FAIL = (
    "Preprocess",
    "Train",
    "Evaluate",
    "AccuracyGate",
    "Register",
    "AccuracyBelowThreshold",
)
EVALUATION_REPORT = "EvaluationReport"  # the PropertyFile the gate reads evaluation.json through
DESCRIPTION = f"{config.PROJECT}: preprocess, train, evaluate, gate on accuracy, register"
NO_COMMIT = "unknown"

# Pipeline parameters and their defaults: what a run can override (`pipeline start` and the
# console), without a new definition.
PARAMETERS: dict[str, str | int | float] = {
    "InputDataUri": f"s3://{config.ARTIFACT_BUCKET}/{config.INPUT_DATA_KEY}",
    "ProcessingInstanceType": config.TRAINING_INSTANCE_TYPE,
    "ProcessingInstanceCount": 1,
    "TrainingInstanceType": config.TRAINING_INSTANCE_TYPE,
    "TrainingInstanceCount": 1,
    "MinAccuracy": config.ACCURACY_THRESHOLD,
    "ModelApprovalStatus": config.REGISTRATION_STATUS,
    "CommitSha": NO_COMMIT,
}

# The SDK reads this from the environment; the execution role is the stack's own, and its
# permissions are proven when the jobs run, not by IAM simulation calls at build time.
SDK_ENVIRONMENT = {"SAGEMAKER_VALIDATE_ROLE": "false"}
# No usage reporting to AWS: `pipeline definition` must not touch the network at all.
SDK_CONFIG = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}

# Job names (and the S3 keys the SDK derives from them) carry the build time; the code's S3 keys
# carry a content hash, which only changes with the code.
_TIMESTAMP = re.compile(r"(?<=-)\d{14}(?=/|$)")

POLL_FIRST_SECONDS = 5.0
POLL_MAX_SECONDS = 60.0
WAIT_TIMEOUT_SECONDS = 4 * 3600.0
_DONE = {"Succeeded", "Failed", "Stopped"}


def _prepare_sdk_environment() -> None:
    """Set what the SDK needs before it is imported: it creates boto3 clients at import time."""
    os.environ.setdefault("AWS_DEFAULT_REGION", config.AWS_REGION)
    for name, value in SDK_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    _quiet_sdk()


def _validate_sdk_config_once() -> None:
    """Make the SDK validate a given config once, not on every one of its ~45 lookups per build."""
    # It checks the config (and the JSON schema itself) against the schema at each lookup:
    # about 0.2 s each, 8 s of a 10 s build. The config is ours and constant; once is enough.
    from sagemaker.core.config.config_manager import SageMakerConfig

    validate = SageMakerConfig.validate_sagemaker_config
    if getattr(validate, "validates_once", False):
        return
    valid: set[str] = set()

    def validate_once(sagemaker_config: dict | None = None) -> None:
        key = json.dumps(sagemaker_config, sort_keys=True, default=str)
        if key not in valid:
            validate(sagemaker_config)
            valid.add(key)

    validate_once.validates_once = True  # type: ignore[attr-defined]
    SageMakerConfig.validate_sagemaker_config = staticmethod(validate_once)


def _quiet_sdk() -> None:
    """Keep the SDK's chatter (INFO logs, expected warnings) out of the command's output."""
    # The SDK calls logging.basicConfig(level=INFO) when parts of it are imported, and sets its
    # own loggers' levels; a root handler installed first makes basicConfig a no-op.
    if not logging.root.handlers:
        handler = logging.StreamHandler()
        handler.setLevel(logging.ERROR)
        logging.root.addHandler(handler)
    warnings.filterwarnings("ignore", message="Running within a PipelineSession")


def make_session(*, upload: bool) -> PipelineSession:
    """A pipeline session on the stack's artifact bucket; with upload=False, S3 is never called."""
    _prepare_sdk_environment()
    _validate_sdk_config_once()
    import boto3
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    class ProjectSession(PipelineSession):
        """The artifact bucket belongs to the CloudFormation stack: never create or probe it."""

        def default_bucket(self) -> str:
            return config.ARTIFACT_BUCKET

    class OfflineSession(ProjectSession):
        """Names the S3 objects the SDK would upload (the step code) without uploading them."""

        def upload_data(
            self, path: str, bucket: str | None = None, key_prefix: str = "data", **_: Any
        ) -> str:
            uri = f"s3://{bucket or self.default_bucket()}/{key_prefix}"
            return uri if os.path.isdir(path) else f"{uri}/{os.path.basename(path)}"

        def upload_string_as_file_body(
            self, body: str, bucket: str, key: str, kms_key: str | None = None
        ) -> str:
            return f"s3://{bucket}/{key}"

    session_class = ProjectSession if upload else OfflineSession
    return session_class(
        boto_session=boto3.Session(region_name=config.AWS_REGION),
        default_bucket=config.ARTIFACT_BUCKET,
        sagemaker_config=SDK_CONFIG,
    )


def image_uri() -> str:
    """The SageMaker scikit-learn image every step runs in, at config.SKLEARN_FRAMEWORK_VERSION."""
    _prepare_sdk_environment()
    from sagemaker.core import image_uris

    return image_uris.retrieve(
        framework="sklearn",
        region=config.AWS_REGION,
        version=config.SKLEARN_FRAMEWORK_VERSION,
        py_version="py3",
        instance_type=config.TRAINING_INSTANCE_TYPE,
        image_scope="training",
    )


def build_pipeline(session: PipelineSession) -> Pipeline:
    """The pipeline object: parameters, the four steps, the gate and its two branches."""
    _prepare_sdk_environment()
    from sagemaker.core.metadata_properties import MetadataProperties
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import (
        ProcessingInput,
        ProcessingOutput,
        ProcessingS3Input,
        ProcessingS3Output,
    )
    from sagemaker.core.training.configs import Compute, InputData, SourceCode
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import (
        ParameterFloat,
        ParameterInteger,
        ParameterString,
    )
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train.model_trainer import ModelTrainer

    class Trainer(ModelTrainer):
        """Stages the training code in the artifact bucket, which the execution role can write."""

        def _resolve_staging_bucket(self) -> tuple[str, None]:
            # The SDK would ask IAM (SimulatePrincipalPolicy) whether the role may write there;
            # the stack grants exactly that, and the definition must build with no network.
            return self.sagemaker_session.default_bucket(), None

    kinds = {str: ParameterString, int: ParameterInteger, float: ParameterFloat}
    p = {
        name: kinds[type(value)](name=name, default_value=value)
        for name, value in PARAMETERS.items()
    }
    role = config.role_arn(config.SAGEMAKER_EXECUTION_ROLE)
    image = image_uri()

    def output_uri(step: str, output: str) -> Join:
        # One prefix per execution, so runs never overwrite each other's data or reports.
        return Join(
            on="/",
            values=[
                f"s3://{config.ARTIFACT_BUCKET}",
                config.SAGEMAKER_PIPELINE,
                ExecutionVariables.PIPELINE_EXECUTION_ID,
                step,
                output,
            ],
        )

    def s3_input(name: str, uri: Any, local_path: str) -> ProcessingInput:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=uri, local_path=local_path, s3_data_type="S3Prefix", s3_input_mode="File"
            ),
        )

    def s3_output(step: str, name: str) -> ProcessingOutput:
        return ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(
                s3_uri=output_uri(step, name),
                local_path=f"/opt/ml/processing/{name}",
                s3_upload_mode="EndOfJob",
            ),
        )

    def processor(step: str) -> ScriptProcessor:
        return ScriptProcessor(
            image_uri=image,
            command=["python3"],
            instance_type=p["ProcessingInstanceType"],
            instance_count=p["ProcessingInstanceCount"],
            role=role,
            base_job_name=f"{config.PROJECT}-{step.lower()}",
            sagemaker_session=session,
        )

    preprocess = ProcessingStep(
        name=PREPROCESS,
        step_args=processor(PREPROCESS).run(
            code=str(STEPS_DIR / "preprocess.py"),
            inputs=[s3_input("input", p["InputDataUri"], "/opt/ml/processing/input")],
            outputs=[s3_output(PREPROCESS, "train"), s3_output(PREPROCESS, "test")],
            arguments=config.command_line(config.PREPROCESS_OPTIONS),
        ),
    )
    splits = preprocess.properties.ProcessingOutputConfig.Outputs

    trainer = Trainer(
        training_image=image,
        # The whole steps/ directory travels, so train.py finds inference.py next to it and
        # copies it into the model artifact (model.tar.gz: code/inference.py).
        source_code=SourceCode(source_dir=str(STEPS_DIR), entry_script="train.py"),
        compute=Compute(
            instance_type=p["TrainingInstanceType"], instance_count=p["TrainingInstanceCount"]
        ),
        role=role,
        base_job_name=f"{config.PROJECT}-{TRAIN.lower()}",
        input_s3_key_prefix=config.SAGEMAKER_PIPELINE,
        # Hyperparameters reach train.py as `--name value` options.
        hyperparameters=dict(config.TRAIN_OPTIONS),
        input_data_config=[
            InputData(channel_name="train", data_source=splits["train"].S3Output.S3Uri)
        ],
        sagemaker_session=session,
    )
    train = TrainingStep(name=TRAIN, step_args=trainer.train())
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts

    report = PropertyFile(name=EVALUATION_REPORT, output_name="evaluation", path="evaluation.json")
    evaluate = ProcessingStep(
        name=EVALUATE,
        step_args=processor(EVALUATE).run(
            code=str(STEPS_DIR / "evaluate.py"),
            inputs=[
                s3_input("model", model_data, "/opt/ml/processing/model"),
                s3_input("test", splits["test"].S3Output.S3Uri, "/opt/ml/processing/test"),
            ],
            outputs=[s3_output(EVALUATE, "evaluation")],
            arguments=[
                "--target",
                config.TARGET_COLUMN,
                # Container arguments are strings; Join turns the float parameter into one.
                "--threshold",
                Join(on="", values=[p["MinAccuracy"]]),
            ],
        ),
        property_files=[report],
    )
    accuracy = JsonGet(
        step_name=EVALUATE, property_file=report, json_path=config.ACCURACY_JSON_PATH
    )
    evaluation_json = Join(
        on="/",
        values=[
            evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri,
            "evaluation.json",
        ],
    )

    model = ModelBuilder(
        s3_model_data_url=model_data,
        image_uri=image,
        role_arn=role,
        env_vars=dict(config.SERVING_ENVIRONMENT),
        sagemaker_session=session,
    )
    register = ModelStep(
        name=REGISTER,
        step_args=model.register(
            model_package_group_name=config.MODEL_PACKAGE_GROUP,
            content_types=list(config.CONTENT_TYPES),
            response_types=list(config.CONTENT_TYPES),
            inference_instances=[config.ENDPOINT_INSTANCE_TYPE],
            approval_status=p["ModelApprovalStatus"],
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(
                    s3_uri=evaluation_json, content_type="application/json"
                )
            ),
            # The commit twice: CommitId is SageMaker's lineage field; the customer metadata is
            # what the registry commands print next to the accuracy (both must be strings).
            metadata_properties=MetadataProperties(commit_id=p["CommitSha"]),
            customer_metadata_properties={
                "commit": p["CommitSha"],
                "accuracy": Join(on="", values=[accuracy]),
            },
            description=f"trained by pipeline {config.SAGEMAKER_PIPELINE}",
        ),
    )
    fail = FailStep(
        name=FAIL,
        error_message=Join(
            on=" ",
            values=["accuracy", accuracy, "is below MinAccuracy", p["MinAccuracy"]],
        ),
    )
    gate = ConditionStep(
        name=GATE,
        conditions=[ConditionGreaterThanOrEqualTo(left=accuracy, right=p["MinAccuracy"])],
        if_steps=[register],
        else_steps=[fail],
    )
    return Pipeline(
        name=config.SAGEMAKER_PIPELINE,
        parameters=list(p.values()),
        steps=[preprocess, train, evaluate, gate],
        # No automatic Experiments trial per run: the SDK's default depends on the region (the
        # definition would too), and the execution role is not granted the Experiments APIs.
        pipeline_experiment_config=None,
        sagemaker_session=session,
    )


def mask_volatile(definition: str) -> str:
    """The definition with build timestamps masked: the same code gives the same text."""
    return _TIMESTAMP.sub("<timestamp>", definition)


def definition() -> dict[str, Any]:
    """The pipeline definition, built offline (nothing uploaded, no AWS call), timestamps masked."""
    text = build_pipeline(make_session(upload=False)).definition()
    return json.loads(mask_volatile(text))


def cmd_definition(args: argparse.Namespace) -> int:
    """Print the pipeline definition JSON, built offline."""
    json.dump(definition(), sys.stdout, indent=2, sort_keys=True)
    print()
    return ExitCode.OK


def cmd_upsert(args: argparse.Namespace) -> int:
    """Upload the step code, then create or update the pipeline in SageMaker."""
    try:
        _seed_input_data()
        # Built once with the real session: this uploads the step code to the artifact bucket.
        text = build_pipeline(make_session(upload=True)).definition()
        arn = upsert(aws.client("sagemaker"), text)
    except aws.ClientError as error:
        raise CliError(f"upsert of pipeline {config.SAGEMAKER_PIPELINE} failed: {error}") from error
    print(f"upsert: {arn}")
    return ExitCode.OK


def upsert(sm: Any, definition_text: str) -> str:
    """Create the pipeline, or update it when it exists; return its ARN."""
    request = {
        "PipelineName": config.SAGEMAKER_PIPELINE,
        "PipelineDefinition": definition_text,
        "PipelineDescription": DESCRIPTION,
        "RoleArn": config.role_arn(config.SAGEMAKER_EXECUTION_ROLE),
    }
    if not _pipeline_exists(sm):
        # The token makes botocore's own retries of this call create one pipeline, not two.
        token = str(uuid.uuid4())
        return sm.create_pipeline(**request, ClientRequestToken=token)["PipelineArn"]
    return sm.update_pipeline(**request)["PipelineArn"]


def _pipeline_exists(sm: Any) -> bool:
    try:
        sm.describe_pipeline(PipelineName=config.SAGEMAKER_PIPELINE)
    except aws.ClientError as error:
        # AWS says ResourceNotFound; moto (the local emulator) says ValidationException.
        if error.response["Error"]["Code"] in ("ResourceNotFound", "ValidationException"):
            return False
        raise
    return True


def _seed_input_data() -> None:
    """Upload the bundled sample data as the default input, once, so a first run has data."""
    if not config.SAMPLE_DATA.is_file():
        return
    s3 = aws.client("s3")
    try:
        s3.head_object(Bucket=config.ARTIFACT_BUCKET, Key=config.INPUT_DATA_KEY)
        return
    except aws.ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.upload_file(str(config.SAMPLE_DATA), config.ARTIFACT_BUCKET, config.INPUT_DATA_KEY)
    print(f"upsert: seeded {PARAMETERS['InputDataUri']} with {config.SAMPLE_DATA.name}")


def cmd_start(args: argparse.Namespace) -> int:
    """Start an execution recording the commit; with --wait, follow it to the end."""
    sm = aws.client("sagemaker")
    commit = args.commit or NO_COMMIT
    try:
        arn = start_execution(sm, commit)
    except aws.ClientError as error:
        raise CliError(f"could not start pipeline {config.SAGEMAKER_PIPELINE}: {error}") from error
    print(f"start: {arn} (commit {commit})")
    outputs = {"PIPELINE_EXECUTION_ARN": arn}
    _write_outputs(args.outputs, outputs)
    if not args.wait:
        return ExitCode.OK
    try:
        status, steps = wait(sm, arn, timeout=args.timeout)
    finally:
        # The registered package is worth exporting even when a later step failed.
        package = registered_package(sm, arn)
        if package:
            outputs["MODEL_PACKAGE_ARN"] = package
            print(f"registered: {package}")
        _write_outputs(args.outputs, outputs)
    return outcome(status, steps)


def start_execution(sm: Any, commit: str) -> str:
    """Start one execution with the commit as a parameter and in its display name."""
    response = sm.start_pipeline_execution(
        PipelineName=config.SAGEMAKER_PIPELINE,
        PipelineExecutionDisplayName=f"commit-{commit[:12]}",
        PipelineExecutionDescription=f"commit {commit}",
        PipelineParameters=[{"Name": "CommitSha", "Value": commit}],
        # Retries of this call (botocore's) start one execution, not several.
        ClientRequestToken=str(uuid.uuid4()),
    )
    return response["PipelineExecutionArn"]


def step_states(sm: Any, arn: str) -> list[dict[str, Any]]:
    """Every step of the execution, oldest first."""
    paginator = sm.get_paginator("list_pipeline_execution_steps")
    steps = [
        step
        for page in paginator.paginate(PipelineExecutionArn=arn, SortOrder="Ascending")
        for step in page["PipelineExecutionSteps"]
    ]
    return steps


def wait(
    sm: Any,
    arn: str,
    *,
    timeout: float = WAIT_TIMEOUT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    delays: Iterator[float] | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """Follow the execution to its end, printing one line per step state change."""
    deadline = clock() + timeout
    seen: dict[str, str] = {}
    delays = delays or aws.backoff(POLL_FIRST_SECONDS, POLL_MAX_SECONDS)
    while True:
        status = sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        steps = step_states(sm, arn)
        for step in steps:
            name, state = step["StepName"], step.get("StepStatus", "Unknown")
            if seen.get(name) != state:
                seen[name] = state
                print(f"step {name}: {state}", flush=True)
        if status in _DONE:
            print(f"execution: {status}", flush=True)
            return status, steps
        delay = next(delays)
        if clock() + delay > deadline:
            raise CliError(
                f"execution {arn} still {status} after {timeout:.0f} s; it keeps running in "
                "SageMaker",
                ExitCode.TIMED_OUT,
            )
        sleep(delay)


def outcome(status: str, steps: list[dict[str, Any]]) -> int:
    """The exit code for a finished execution; raise with the failing step's reason if any."""
    if status == "Succeeded":
        return ExitCode.OK
    failed = [s for s in steps if s.get("StepStatus") == "Failed"]
    if failed:
        step = failed[-1]
        reason = step.get("FailureReason", "no reason given")
        code = ExitCode.BELOW_THRESHOLD if step["StepName"] == FAIL else ExitCode.FAILED
        raise CliError(f"step {step['StepName']} failed: {reason}", code)
    raise CliError(f"execution ended {status}", ExitCode.FAILED)


def registered_package(sm: Any, arn: str) -> str | None:
    """The model package ARN the Register step created in this execution, if it did."""
    try:
        steps = step_states(sm, arn)
    except aws.ClientError:  # a best-effort lookup, maybe while another failure is reported
        return None
    for step in steps:
        if step["StepName"] == REGISTER and step.get("StepStatus") == "Succeeded":
            return step.get("Metadata", {}).get("RegisterModel", {}).get("Arn")
    return None


def _write_outputs(path: str | None, outputs: dict[str, str]) -> None:
    """Write KEY=value lines a shell can source (CodeBuild exports them from the build)."""
    if not path:
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in outputs.items()))
    os.replace(partial, target)
