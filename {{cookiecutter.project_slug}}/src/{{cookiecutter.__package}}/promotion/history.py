"""What an endpoint served, kept in tags: the current deployment and the versions before it.

The endpoint's tags say what it serves now and which versions it served (newest first): that is
where `rollback` finds the previous known-good version. The package gets tags per environment.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

TAG_VERSION = "deploy:version"
TAG_PACKAGE = "deploy:package-arn"
TAG_CONFIG = "deploy:endpoint-config"
TAG_STRATEGY = "deploy:strategy"
TAG_COMMIT = "deploy:commit"
TAG_TIME = "deploy:time"
TAG_HISTORY = "deploy:history"
TAG_VALUE_MAX = 256


def tag_verified(env: str) -> str:
    """The package tag saying the version passed its smoke test on `env` (and when)."""
    return f"deploy:{env}:verified"


def history_value(previous: str, version: int) -> str:
    """The history tag with `version` first, trimmed to a tag value's 256 characters."""
    versions = [str(version)] + [v for v in previous.split() if v != str(version)]
    while len(" ".join(versions)) > TAG_VALUE_MAX:
        versions.pop()
    return " ".join(versions)


def record(
    sm: Any,
    endpoint_arn: str,
    package: dict[str, Any],
    env: str,
    strategy: str,
    config_name: str,
    previous_history: str,
    now: dt.datetime,
) -> dict[str, str]:
    """Tag the endpoint and the package with what was deployed, how and when."""
    stamp = f"{now:%Y-%m-%dT%H:%M:%SZ}"
    version = int(package["ModelPackageVersion"])
    commit = package.get("MetadataProperties", {}).get("CommitId", "unknown")
    tags = {
        TAG_VERSION: str(version),
        TAG_PACKAGE: package["ModelPackageArn"],
        TAG_CONFIG: config_name,
        TAG_STRATEGY: strategy,
        TAG_COMMIT: commit[:TAG_VALUE_MAX],
        TAG_TIME: stamp,
        TAG_HISTORY: history_value(previous_history, version),
    }
    sm.add_tags(ResourceArn=endpoint_arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    sm.add_tags(
        ResourceArn=package["ModelPackageArn"],
        Tags=[
            {"Key": f"deploy:{env}:time", "Value": stamp},
            {"Key": f"deploy:{env}:strategy", "Value": strategy},
            {"Key": f"deploy:{env}:endpoint-config", "Value": config_name},
        ],
    )
    return tags


def mark_verified(sm: Any, package_arn: str, env: str, now: dt.datetime) -> None:
    """Record on the package that it is InService on `env` and passed the smoke test there."""
    sm.add_tags(
        ResourceArn=package_arn,
        Tags=[{"Key": tag_verified(env), "Value": f"{now:%Y-%m-%dT%H:%M:%SZ}"}],
    )


def verified(sm: Any, package_arn: str, env: str) -> bool:
    """Whether the package was verified on `env` (see mark_verified)."""
    pages = sm.get_paginator("list_tags").paginate(ResourceArn=package_arn)
    return any(tag["Key"] == tag_verified(env) for page in pages for tag in page["Tags"])
