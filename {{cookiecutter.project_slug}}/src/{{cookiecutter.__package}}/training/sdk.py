"""Workarounds for the SageMaker Python SDK, in one place, with the version they were checked on.

Each one leans on the SDK's behaviour (some on private names), so each says why it exists.
Checked against sagemaker 3.27.0 (the `pipeline` group in pyproject.toml); a test fails
when the installed SDK is another version, so an upgrade re-checks them on purpose.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from typing import TYPE_CHECKING, Any

from {{ cookiecutter.__package }} import config

if TYPE_CHECKING:
    from sagemaker.core.workflow.pipeline_context import PipelineSession

SDK_VERSION = "3.27.0"
# The SDK reads this from the environment; the execution role is the stack's own, and its
# permissions are proven when the jobs run, not by IAM simulation calls at build time.
SDK_ENVIRONMENT = {"SAGEMAKER_VALIDATE_ROLE": "false"}
# No usage reporting to AWS: `pipeline definition` must not touch the network at all.
SDK_CONFIG = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


def prepare_environment() -> None:
    """Set what the SDK needs before it is imported: it creates boto3 clients at import time."""
    os.environ.setdefault("AWS_DEFAULT_REGION", config.AWS_REGION)
    for name, value in SDK_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    _quiet_sdk()


def _validate_config_once() -> None:
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
    prepare_environment()
    _validate_config_once()
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


def trainer_class() -> type:
    """ModelTrainer, staging the training code in the artifact bucket without asking IAM."""
    from sagemaker.train.model_trainer import ModelTrainer

    class Trainer(ModelTrainer):
        """Stages the training code in the artifact bucket, which the execution role can write."""

        def _resolve_staging_bucket(self) -> tuple[str, None]:
            # The SDK would ask IAM (SimulatePrincipalPolicy) whether the role may write there;
            # the stack grants exactly that, and the definition must build with no network.
            return self.sagemaker_session.default_bucket(), None

    return Trainer
