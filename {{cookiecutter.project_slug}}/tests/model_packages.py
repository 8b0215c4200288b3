"""Model package versions for the promotion tests, made as the pipeline's Register step makes them.

The pipeline registers versions (tests/dev/test_pipeline_execution.py runs it); the registry,
deploy and rollback tests need versions without training one each time. This creates the same
CreateModelPackage request the definition's Register step sends, with the evaluation report in
S3 where its ModelQuality statistics point, and optionally a data-quality baseline.
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import boto3
import joblib

from {{ cookiecutter.__package }} import config

INFERENCE = config.REPO_ROOT / "src" / config.PACKAGE / "steps" / "inference.py"


def upload_model(model: object, key: str) -> str:
    """A model.tar.gz laid out as SageMaker packs it (the model and code/inference.py), put in
    the artifact bucket under `key`; its S3 URI."""
    weights = io.BytesIO()
    joblib.dump(model, weights)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, data in (
            ("model.joblib", weights.getvalue()),
            ("code/inference.py", INFERENCE.read_bytes()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    boto3.client("s3").put_object(Bucket=config.ARTIFACT_BUCKET, Key=key, Body=archive.getvalue())
    return f"s3://{config.ARTIFACT_BUCKET}/{key}"


def register(
    model_data_url: str,
    score: float,
    commit: str,
    status: str = config.REGISTRATION_STATUS,
    *,
    image_uri: str = "image:1",
    baseline: dict[str, str] | None = None,
    champion: tuple[str, str] = ("none", "none"),
) -> str:
    """Create a version in the group with its metrics, commit and status, compared with
    `champion` (its version, the gate metric's difference); its ARN."""
    report: dict[str, Any] = {}
    *parents, leaf = config.GATE_JSON_PATH.split(".")  # where the gate reads its metric
    node = report
    for name in parents:
        node = node.setdefault(name, {})
    node[leaf] = score
    version, change = champion
    report[config.CHAMPION_KEY] = {"version": version, "change": change}
    bucket, key = model_data_url.removeprefix("s3://").split("/", 1)
    metrics_key = f"{key.rsplit('/', 1)[0]}/evaluation.json"
    boto3.client("s3").put_object(Bucket=bucket, Key=metrics_key, Body=json.dumps(report).encode())
    request: dict[str, Any] = {
        "ModelPackageGroupName": config.MODEL_PACKAGE_GROUP,
        "ModelPackageDescription": f"commit {commit}",
        "ModelApprovalStatus": status,
        "InferenceSpecification": {
            "Containers": [
                {
                    "Image": image_uri,
                    "ModelDataUrl": model_data_url,
                    "Environment": dict(config.SERVING_ENVIRONMENT),
                }
            ],
            "SupportedContentTypes": list(config.CONTENT_TYPES),
            "SupportedResponseMIMETypes": list(config.CONTENT_TYPES),
        },
        "MetadataProperties": {"CommitId": commit},
        "CustomerMetadataProperties": {
            "commit": commit,
            config.GATE_METRIC: str(score),
            "champion": version,
            "vs_champion": change,
        },
        "ModelMetrics": {
            "ModelQuality": {
                "Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": f"s3://{bucket}/{metrics_key}",
                }
            }
        },
    }
    if baseline is not None:
        # As the Register step attaches the Baseline step's files: {"Statistics": uri, ...}.
        request["DriftCheckBaselines"] = {
            "ModelDataQuality": {
                kind: {"ContentType": "application/json", "S3Uri": uri}
                for kind, uri in baseline.items()
            }
        }
    return boto3.client("sagemaker").create_model_package(**request)["ModelPackageArn"]
