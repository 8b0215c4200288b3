"""The SageMaker pipeline: Preprocess -> Train, Baseline -> Evaluate -> gate -> Register | Fail.

The only module that imports the SageMaker SDK (about 3 s and most of the install), inside the
functions that build the pipeline. The step code is the package's `steps/` directory, the same
scripts `run-local` runs; every name comes from config.py, and the SDK's quirks are handled in
sdk.py. Starting and following executions is execution.py's job, with boto3 alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.training import sdk, upsert
from {{ cookiecutter.__package }}.training.interface import (
    BASELINE,
    EVALUATE,
    EVALUATION_REPORT,
    FAIL,
    GATE,
    PARAMETERS,
    PREPROCESS,
    REGISTER,
    REPORT,
    TRAIN,
    hyperparameter_parameter,
)

if TYPE_CHECKING:
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.mlops.workflow.pipeline import Pipeline

STEPS_DIR = Path(__file__).resolve().parents[1] / "steps"

# Job names (and the S3 keys the SDK derives from them) carry the build time; the code's S3 keys
# carry a content hash, which only changes with the code.
_TIMESTAMP = re.compile(r"(?<=-)\d{14}(?=/|$)")


def image_uri() -> str:
    """The SageMaker scikit-learn image every step runs in, at config.SKLEARN_FRAMEWORK_VERSION."""
    sdk.prepare_environment()
    from sagemaker.core import image_uris

    return image_uris.retrieve(
        framework="sklearn",
        region=config.AWS_REGION,
        version=config.SKLEARN_FRAMEWORK_VERSION,
        py_version="py3",
        instance_type=config.TRAINING_INSTANCE_TYPE,
        image_scope="training",
    )


def monitor_image_uri() -> str:
    """SageMaker Model Monitor's analyzer image in this region (what a data-quality job runs)."""
    sdk.prepare_environment()
    from sagemaker.core import image_uris

    return image_uris.retrieve(framework="model-monitor", region=config.AWS_REGION)


def build_pipeline(session: PipelineSession) -> Pipeline:
    """The pipeline object: parameters, the four steps, the gate and its two branches."""
    sdk.prepare_environment()
    from sagemaker.core.drift_check_baselines import DriftCheckBaselines
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
    from sagemaker.core.workflow.conditions import (
        ConditionGreaterThan,
        ConditionGreaterThanOrEqualTo,
    )
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

    Trainer = sdk.trainer_class()

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
        # Hyperparameters reach train.py as `--name value` options; each of config.HYPERPARAMETERS
        # is a pipeline parameter a run can override.
        hyperparameters={
            **config.TRAIN_OPTIONS,
            **{name: p[hyperparameter_parameter(name)] for name in config.HYPERPARAMETERS},
        },
        input_data_config=[
            InputData(channel_name="train", data_source=splits["train"].S3Output.S3Uri)
        ],
        sagemaker_session=session,
    )
    train = TrainingStep(name=TRAIN, step_args=trainer.train())
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts

    # Model Monitor's statistics.json and constraints.json of the training rows, attached to the
    # registered version below, so that monitoring compares live traffic with what this very
    # model learnt from (a plain processing step: see docs/design-decisions.md, "Monitoring").
    data_baseline = ProcessingStep(
        name=BASELINE,
        step_args=processor(BASELINE).run(
            code=str(STEPS_DIR / "baseline.py"),
            inputs=[s3_input("train", splits["train"].S3Output.S3Uri, "/opt/ml/processing/train")],
            outputs=[s3_output(BASELINE, "baseline")],
            arguments=config.command_line(config.BASELINE_OPTIONS),
        ),
    )
    baseline_outputs = data_baseline.properties.ProcessingOutputConfig.Outputs
    baseline_uri = baseline_outputs["baseline"].S3Output.S3Uri

    def baseline_file(name: str) -> MetricsSource:
        return MetricsSource(
            s3_uri=Join(on="/", values=[baseline_uri, name]), content_type="application/json"
        )

    evaluation_file = PropertyFile(
        name=EVALUATION_REPORT, output_name="evaluation", path="evaluation.json"
    )
    evaluate = ProcessingStep(
        name=EVALUATE,
        step_args=processor(EVALUATE).run(
            code=str(STEPS_DIR / "evaluate.py"),
            inputs=[
                s3_input("model", model_data, "/opt/ml/processing/model"),
                # The training rows too: the report puts the training score beside the test's.
                s3_input("train", splits["train"].S3Output.S3Uri, "/opt/ml/processing/train"),
                s3_input("test", splits["test"].S3Output.S3Uri, "/opt/ml/processing/test"),
            ],
            outputs=[s3_output(EVALUATE, "evaluation")],
            arguments=[
                *config.command_line(config.EVALUATE_OPTIONS),
                # Container arguments are strings; Join turns the float parameter into one.
                "--threshold",
                Join(on="", values=[p["GateThreshold"]]),
                # The champion (empty: none), scored by the step itself on the same test rows:
                # a processing input cannot be optional, so the step reads the model data from
                # S3 with the job's role. `--name=value`: one argument even when empty.
                Join(on="", values=["--champion-model-data=", p["ChampionModelData"]]),
                Join(on="", values=["--champion-version=", p["ChampionVersion"]]),
                Join(on="", values=["--champion-tolerance=", p["ChampionTolerance"]]),
            ],
        ),
        property_files=[evaluation_file],
    )
    score = JsonGet(
        step_name=EVALUATE, property_file=evaluation_file, json_path=config.GATE_JSON_PATH
    )
    baseline = JsonGet(
        step_name=EVALUATE, property_file=evaluation_file, json_path=config.BASELINE_JSON_PATH
    )
    champion = {
        path: JsonGet(step_name=EVALUATE, property_file=evaluation_file, json_path=path)
        for path in (
            config.CHAMPION_BAR_JSON_PATH,
            config.CHAMPION_VERSION_JSON_PATH,
            config.CHAMPION_CHANGE_JSON_PATH,
            config.CHAMPION_VERDICT_JSON_PATH,
        )
    }
    evaluation_uri = evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri
    evaluation_json = Join(on="/", values=[evaluation_uri, "evaluation.json"])

    # The evaluation as an approver reads it (report.md and the plots), in a step of its own so
    # that a job's one script stays small; the gate waits for it, so a refused model has one too.
    report = ProcessingStep(
        name=REPORT,
        step_args=processor(REPORT).run(
            code=str(STEPS_DIR / "report.py"),
            inputs=[s3_input("evaluation", evaluation_uri, "/opt/ml/processing/evaluation")],
            outputs=[s3_output(REPORT, "report")],
            arguments=config.command_line(config.REPORT_OPTIONS),
        ),
    )
    report_uri = report.properties.ProcessingOutputConfig.Outputs["report"].S3Output.S3Uri

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
            drift_check_baselines=DriftCheckBaselines(
                model_data_statistics=baseline_file(config.BASELINE_STATISTICS),
                model_data_constraints=baseline_file(config.BASELINE_CONSTRAINTS),
            ),
            # The commit twice: CommitId is SageMaker's lineage field; the customer metadata is
            # what the registry commands print next to the gate score (both must be strings).
            metadata_properties=MetadataProperties(commit_id=p["CommitSha"]),
            # The comparison too, where an approver looks: the champion's version, the gate
            # metric's difference, and the report (Markdown, the plots beside it).
            customer_metadata_properties={
                "commit": p["CommitSha"],
                config.GATE_METRIC: Join(on="", values=[score]),
                "champion": Join(on="", values=[champion[config.CHAMPION_VERSION_JSON_PATH]]),
                "vs_champion": Join(on="", values=[champion[config.CHAMPION_CHANGE_JSON_PATH]]),
                "report": Join(on="/", values=[report_uri, "report.md"]),
            },
            description=Join(
                on=" ",
                values=[
                    f"trained by pipeline {config.SAGEMAKER_PIPELINE};",
                    champion[config.CHAMPION_VERDICT_JSON_PATH],
                ],
            ),
        ),
    )
    fail = FailStep(
        name=FAIL,
        error_message=Join(
            on=" ",
            values=[
                config.GATE_METRIC,
                score,
                "must be at least GateThreshold",
                p["GateThreshold"],
                "and above the best constant classifier's",
                baseline,
                "and at least the champion's minus ChampionTolerance",
                champion[config.CHAMPION_BAR_JSON_PATH],
                "|",
                champion[config.CHAMPION_VERDICT_JSON_PATH],
            ],
        ),
    )
    # All must hold ("if all the conditions in the condition list evaluate to True": the SDK's
    # ConditionStep): the threshold, better than always predicting the same class, so a model
    # that learnt nothing never passes, and no worse than the champion beyond the tolerance
    # (Pipelines have no arithmetic: the evaluate step writes the champion's score minus it).
    gate = ConditionStep(
        name=GATE,
        conditions=[
            ConditionGreaterThanOrEqualTo(left=score, right=p["GateThreshold"]),
            ConditionGreaterThan(left=score, right=baseline),
            ConditionGreaterThanOrEqualTo(
                left=score, right=champion[config.CHAMPION_BAR_JSON_PATH]
            ),
        ],
        if_steps=[register],
        else_steps=[fail],
        # The gate reads nothing of Report's: a custom dependency (SageMaker Developer Guide,
        # "Pipelines steps", "Custom dependency between steps") makes it wait for the report.
        depends_on=[report],
    )
    return Pipeline(
        name=config.SAGEMAKER_PIPELINE,
        parameters=list(p.values()),
        steps=[preprocess, train, data_baseline, evaluate, report, gate],
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
    text = build_pipeline(sdk.make_session(upload=False)).definition()
    return json.loads(mask_volatile(text))


def upsert_pipeline() -> str:
    """Upload the step code and the data set, then create or update the pipeline."""
    upsert.seed_input_data()
    # Built once with the real session: this uploads the step code to the artifact bucket.
    text = build_pipeline(sdk.make_session(upload=True)).definition()
    return upsert.upsert(aws.client("sagemaker"), text)
