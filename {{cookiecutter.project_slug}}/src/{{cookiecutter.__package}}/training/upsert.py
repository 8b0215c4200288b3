"""Create or update the SageMaker pipeline from a built definition, with boto3 alone, and put the
data set where its InputDataUri default points (training/definition.py builds the definition).
"""

from __future__ import annotations

import uuid
from typing import Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode

DESCRIPTION = (
    f"{config.PROJECT}: preprocess, train, evaluate, gate on {config.GATE_METRIC} and the "
    "champion, register"
)


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


def seed_input_data() -> None:
    """Upload config.DATA_FILE under its content-hash key, unless that exact file is there."""
    if config.DATA_URI:
        return  # the data set lives in S3 already
    if not config.DATA_FILE.is_file():
        raise CliError(
            f"{config.DATA_FILE}: the data set's file (config.DATA_FILE) is missing; "
            "restore it or set config.DATA_URI",
            ExitCode.USAGE,
        )
    key = config.input_data_key()
    s3 = aws.client("s3")
    try:
        # A one-byte GET, not HEAD: S3 answers a failed HEAD with a bare status and no error
        # code, so an expired token or a missing bucket would read as a plain 400 or 404.
        s3.get_object(Bucket=config.ARTIFACT_BUCKET, Key=key, Range="bytes=0-0")
        return  # same content, same key: already uploaded
    except aws.ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.upload_file(str(config.DATA_FILE), config.ARTIFACT_BUCKET, key)
    print(f"upsert: uploaded {config.DATA_FILE.name} to s3://{config.ARTIFACT_BUCKET}/{key}")
