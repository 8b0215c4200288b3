"""The model registry: list, approve, reject, and find the latest Approved version.

The pipeline's Register step creates the versions. Plain boto3: the promotion path never imports
the SageMaker SDK.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode

APPROVED = "Approved"
REJECTED = "Rejected"
PENDING = "PendingManualApproval"
# ApprovalDescription holds at most 1,024 characters.
DESCRIPTION_MAX = 1024


def gate_score(metrics: dict[str, Any]) -> float | None:
    """The gate metric's score in a version's evaluation.json (where the pipeline's gate read
    it), if any."""
    value: Any = metrics
    try:
        for key in config.GATE_JSON_PATH.split("."):
            value = value[key]
        return float(value)
    except (KeyError, TypeError, ValueError):
        return None


def split_s3_uri(uri: str) -> tuple[str, str]:
    """("bucket", "key") of an s3://bucket/key URI."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise CliError(f"not an S3 object URI: {uri!r}", ExitCode.USAGE)
    bucket, key = uri[5:].split("/", 1)
    return bucket, key


def summaries(sm: Any, status: str | None = None) -> list[dict[str, Any]]:
    """Every version in the group (optionally of one approval status), newest first."""
    request: dict[str, Any] = {
        "ModelPackageGroupName": config.MODEL_PACKAGE_GROUP,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
    }
    if status:
        request["ModelApprovalStatus"] = status
    found = [
        item
        for page in sm.get_paginator("list_model_packages").paginate(**request)
        for item in page["ModelPackageSummaryList"]
    ]
    if not found:
        # AWS lists nothing for a group that does not exist: say so, rather than "no versions".
        require_group(sm)
    # Versions only grow; sort by them rather than trust creation-time ties.
    return sorted(found, key=lambda s: s.get("ModelPackageVersion", 0), reverse=True)


def require_group(sm: Any) -> None:
    """Stop with NOT_SET_UP when the model package group does not exist (the stack creates it)."""
    try:
        sm.describe_model_package_group(ModelPackageGroupName=config.MODEL_PACKAGE_GROUP)
    except aws.ClientError as error:
        if error.response["Error"]["Code"] not in ("ValidationException", "ResourceNotFound"):
            raise
        raise CliError(
            f"model package group {config.MODEL_PACKAGE_GROUP} does not exist in "
            f"{aws.region_text()}: `make bootstrap` creates it",
            ExitCode.NOT_SET_UP,
        ) from error


def describe(sm: Any, version: int | None = None, arn: str | None = None) -> dict[str, Any]:
    """The package for --version / --arn, or the newest version when neither is given."""
    if arn is None:
        versions = summaries(sm)
        if not versions:
            raise CliError(
                f"model package group {config.MODEL_PACKAGE_GROUP} has no versions",
                ExitCode.REFUSED,
            )
        if version is None:
            arn = versions[0]["ModelPackageArn"]
        else:
            matches = [s for s in versions if s.get("ModelPackageVersion") == version]
            if not matches:
                raise CliError(
                    f"version {version} does not exist in {config.MODEL_PACKAGE_GROUP} "
                    f"(versions: {', '.join(str(s['ModelPackageVersion']) for s in versions)})",
                    ExitCode.REFUSED,
                )
            arn = matches[0]["ModelPackageArn"]
    try:
        return sm.describe_model_package(ModelPackageName=arn)
    except aws.ClientError as error:
        # A malformed or unknown ARN; anything else (access, throttling) is the CLI's to explain.
        if error.response["Error"]["Code"] not in ("ValidationException", "ResourceNotFound"):
            raise
        raise CliError(f"model package {arn} not found: {error}", ExitCode.REFUSED) from error


def latest_approved(sm: Any) -> dict[str, Any] | None:
    """The newest Approved version's summary, or None."""
    approved = summaries(sm, APPROVED)
    return approved[0] if approved else None


def resolve_package(sm: Any, version: int | None, arn: str | None) -> dict[str, Any]:
    """The package to deploy: the one named, else the latest Approved; refuse anything else."""
    if version is None and arn is None:
        latest = latest_approved(sm)
        if latest is None:
            raise CliError(
                f"no Approved version in {config.MODEL_PACKAGE_GROUP}; approve one first",
                ExitCode.REFUSED,
            )
        arn = latest["ModelPackageArn"]
    package = describe(sm, version, arn)
    if package["ModelApprovalStatus"] != APPROVED:
        raise CliError(
            f"version {package.get('ModelPackageVersion')} is "
            f"{package['ModelApprovalStatus']}, not Approved; refusing to deploy it",
            ExitCode.REFUSED,
        )
    return package


def score_of(package: dict[str, Any], s3: Any | None = None) -> float | None:
    """The package's gate score: its metadata property, else its ModelQuality statistics JSON."""
    recorded = package.get("CustomerMetadataProperties", {}).get(config.GATE_METRIC)
    if recorded is not None:
        return float(recorded)
    return gate_score(_statistics(package, s3) or {})


def comparison_of(package: dict[str, Any], s3: Any | None = None) -> tuple[str, str]:
    """(the champion version the package was compared with, the gate metric's difference):
    its metadata, else its statistics JSON; "none" when it had no champion, "-" when unknown."""
    metadata = package.get("CustomerMetadataProperties", {})
    if "champion" in metadata:
        return metadata["champion"], metadata.get("vs_champion", "-")
    champion = (_statistics(package, s3) or {}).get(config.CHAMPION_KEY)
    if not isinstance(champion, dict):
        return "-", "-"  # registered before the champion gate existed
    return str(champion.get("version", "-")), str(champion.get("change", "-"))


def _statistics(package: dict[str, Any], s3: Any | None) -> dict[str, Any] | None:
    """The package's ModelQuality statistics JSON (evaluation.json), or None."""
    # Moto's UpdateModelPackage drops CustomerMetadataProperties (AWS keeps them), and packages
    # registered by other tools may lack them: the statistics JSON is the source of truth.
    statistics = package.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {})
    uri = statistics.get("S3Uri")
    if not uri:
        return None
    try:
        bucket, key = split_s3_uri(uri)
        body = (s3 or aws.client("s3")).get_object(Bucket=bucket, Key=key)["Body"].read()
        document = json.loads(body)
    except (CliError, ValueError, aws.ClientError):
        return None
    return document if isinstance(document, dict) else None


def set_status(
    sm: Any, package: dict[str, Any], status: str, reason: str, who: str, now: dt.datetime
) -> None:
    """Move a package to `status`, recording who did it, when and why."""
    verb = "approved" if status == APPROVED else "rejected"
    description = f"{verb} by {who} at {now:%Y-%m-%dT%H:%M:%SZ}: {reason}"
    sm.update_model_package(
        ModelPackageArn=package["ModelPackageArn"],
        ModelApprovalStatus=status,
        ApprovalDescription=description[:DESCRIPTION_MAX],
    )


def _label(package: dict[str, Any]) -> str:
    return f"version {package.get('ModelPackageVersion', '?')} ({package['ModelPackageArn']})"


def table(sm: Any, s3: Any) -> str:
    """A table of the versions, newest first: version, status, created, gate score, the champion
    it was compared with and the difference, commit."""
    rows = []
    for summary in summaries(sm):
        package = sm.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
        score = score_of(package, s3)
        rows.append(
            (
                str(package.get("ModelPackageVersion", "")),
                package["ModelApprovalStatus"],
                f"{package['CreationTime']:%Y-%m-%d %H:%M}",
                "-" if score is None else f"{score:.3f}",
                *comparison_of(package, s3),
                package.get("MetadataProperties", {}).get("CommitId", "-")[:12],
            )
        )
    if not rows:
        return f"no versions in {config.MODEL_PACKAGE_GROUP}"
    metric = config.GATE_METRIC.upper()
    header = ("VERSION", "STATUS", "CREATED (UTC)", metric, "CHAMPION", "VS CHAMPION", "COMMIT")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def move_to(
    sm: Any,
    status: str,
    reason: str,
    *,
    version: int | None = None,
    arn: str | None = None,
    force: bool = False,
    who: str | None = None,
) -> str:
    """Set a version's status with who and why (a no-op when it is there); say what happened."""
    package = describe(sm, version, arn)
    current = package["ModelApprovalStatus"]
    if current == status:
        return f"{_label(package)} is already {status}; nothing to do"
    # A Rejected version was judged bad on purpose: undoing that must be deliberate.
    if status == APPROVED and current == REJECTED and not force:
        raise CliError(
            f"{_label(package)} is Rejected; approving it needs --force", ExitCode.REFUSED
        )
    set_status(sm, package, status, reason, who or aws.caller_arn(), _now())
    return f"{status.lower()} {_label(package)} (was {current})"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
