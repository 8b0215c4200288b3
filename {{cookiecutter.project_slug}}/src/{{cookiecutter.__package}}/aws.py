"""AWS clients for the promotion path: plain boto3 with botocore's standard retry mode.

Throttling and transient errors are retried by botocore (standard mode: exponential backoff
with jitter, a retry quota), never by hand. AWS_ENDPOINT_URL, when set, points every client at
the local emulator instead of AWS.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from {{ cookiecutter.__package }} import config

__all__ = [
    "MAX_ATTEMPTS",
    "RETRY_CONFIG",
    "ClientError",
    "backoff",
    "caller_arn",
    "client",
    "region_text",
]

# Standard mode retries throttling (ThrottlingException, 429) and 5xx errors; 5 attempts keeps a
# stuck call under a minute. `total_max_attempts` counts the first try too (`max_attempts` would
# count retries only: botocore.config.Config's documentation).
MAX_ATTEMPTS = 5
RETRY_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS})


def client(service: str) -> Any:
    """A boto3 client for `service` in the project's region, with the standard retry mode."""
    # Every name in config.py is derived for this one region, so the clients are pinned to it.
    return boto3.client(service, region_name=config.AWS_REGION, config=RETRY_CONFIG)


def caller_arn(sts: Any | None = None) -> str:
    """The ARN of whoever runs this command (recorded on approvals)."""
    return (sts or client("sts")).get_caller_identity()["Arn"]


def backoff(first: float, cap: float) -> Iterator[float]:
    """Poll intervals for a long-running operation: `first`, then 1.5 times longer up to `cap`."""
    delay = first
    while True:
        yield delay
        delay = min(cap, delay * 1.5)


def region_text() -> str:
    """The project's region for messages, noting a shell that names another (it is not used)."""
    shell = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if shell and shell != config.AWS_REGION:
        return (
            f"{config.AWS_REGION} (the project's region, config.py; AWS_REGION={shell} is not used)"
        )
    return config.AWS_REGION
