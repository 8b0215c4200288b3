"""The data-quality baseline of a version: where the pipeline put it, and what it says.

The pipeline's Baseline step writes Model Monitor's statistics.json and constraints.json of the
training rows, and the Register step attaches them to the version as
DriftCheckBaselines.ModelDataQuality (CreateModelPackage). An endpoint's tags name the version it
serves (promotion/history.py), so the baseline to compare its traffic with is one lookup away.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.promotion import history
from {{ cookiecutter.__package }}.promotion.endpoint import describe_endpoint, endpoint_tags


@dataclass
class Baseline:
    """A version's baseline files, by S3 URI."""

    version: int
    package_arn: str
    statistics_uri: str
    constraints_uri: str


def of_package(package: dict[str, Any]) -> Baseline | None:
    """The baseline a model package carries, or None (registered before baselines existed)."""
    quality = package.get("DriftCheckBaselines", {}).get("ModelDataQuality", {})
    statistics = quality.get("Statistics", {}).get("S3Uri")
    constraints = quality.get("Constraints", {}).get("S3Uri")
    if not statistics or not constraints:
        return None
    version = int(package["ModelPackageVersion"])
    return Baseline(version, package["ModelPackageArn"], statistics, constraints)


def served(sm: Any, env: str) -> Baseline:
    """The baseline of the version `env`'s endpoint serves; a clear error when there is none."""
    name = config.endpoint_name(env)
    endpoint = describe_endpoint(sm, name)
    if endpoint is None:
        raise CliError(
            f"endpoint {name} does not exist in {aws.region_text()}: "
            f"`python -m {config.PACKAGE} deploy --env {env}` creates it",
            ExitCode.NOT_SET_UP,
        )
    arn = endpoint_tags(sm, endpoint["EndpointArn"]).get(history.TAG_PACKAGE)
    if not arn:
        raise CliError(
            f"endpoint {name} has no {history.TAG_PACKAGE} tag, so the version it serves is "
            f"unknown: deploy it with `python -m {config.PACKAGE} deploy --env {env}`",
            ExitCode.NOTHING_TO_CHECK,
        )
    package = sm.describe_model_package(ModelPackageName=arn)
    found = of_package(package)
    if found is None:
        raise CliError(
            f"version {package['ModelPackageVersion']} (served by {name}) has no data-quality "
            "baseline (DriftCheckBaselines.ModelDataQuality): it was registered before the "
            "pipeline's Baseline step; retrain, approve and deploy a version that has one",
            ExitCode.NOTHING_TO_CHECK,
        )
    return found


def read_json(s3: Any, uri: str) -> dict[str, Any]:
    """One baseline file, parsed; a clear error when it is gone or not JSON."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return json.loads(body)
    except aws.ClientError as error:
        if error.response["Error"]["Code"] not in ("NoSuchKey", "404"):
            raise
        problem = "is missing"
    except ValueError:
        problem = "is not JSON"
    raise CliError(f"the baseline file {uri} {problem}", ExitCode.NOTHING_TO_CHECK)
