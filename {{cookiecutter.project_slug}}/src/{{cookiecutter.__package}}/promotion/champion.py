"""The champion: the latest Approved version in the model package group, the model a new one
must not fall behind.

`pipeline start` (and so the retrain build, whose buildspec runs it) passes the champion to the
SageMaker pipeline as two parameters, its model data and its version; the evaluate step scores it
beside the new model on the same test rows, and the gate compares them. Plain boto3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.promotion import registry

MODEL_DATA, VERSION = "ChampionModelData", "ChampionVersion"


@dataclass(frozen=True)
class Champion:
    """The version in production and where its model artifact is."""

    version: int
    arn: str
    model_data: str


def find(sm: Any) -> Champion | None:
    """The latest Approved version, or None when nothing was ever approved."""
    latest = registry.latest_approved(sm)
    if latest is None:
        return None
    package = sm.describe_model_package(ModelPackageName=latest["ModelPackageArn"])
    containers = package.get("InferenceSpecification", {}).get("Containers", [])
    model_data = containers[0].get("ModelDataUrl", "") if containers else ""
    if not model_data.startswith("s3://"):
        # Never judged against nothing: a champion without model data is an error to fix.
        raise CliError(
            f"champion {package['ModelPackageArn']} (the latest Approved version) has no S3 "
            "model data to compare a new model with; reject it or approve another version",
            ExitCode.REFUSED,
        )
    return Champion(package.get("ModelPackageVersion", 0), package["ModelPackageArn"], model_data)


def parameters(champion: Champion | None) -> list[dict[str, str]]:
    """The pipeline parameters naming the champion; empty values when there is none."""
    if champion is None:
        return [{"Name": MODEL_DATA, "Value": ""}, {"Name": VERSION, "Value": ""}]
    return [
        {"Name": MODEL_DATA, "Value": champion.model_data},
        {"Name": VERSION, "Value": str(champion.version)},
    ]


def describe(champion: Champion | None) -> str:
    """One line for the log: which version the new model is compared with."""
    if champion is None:
        return "no champion (nothing Approved yet): judged by the threshold alone"
    return f"champion version {champion.version} ({champion.model_data})"
