"""AWS clients for the promotion path: plain boto3 with botocore's standard retry mode.

Throttling and transient errors are retried by botocore (standard mode: exponential backoff
with jitter, a retry quota), never by hand. AWS_ENDPOINT_URL, when set, points every client at
the local emulator instead of AWS.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from {{ cookiecutter.__package }} import config

__all__ = ["RETRY_CONFIG", "ClientError", "backoff", "caller_arn", "client"]

# Standard mode retries throttling (ThrottlingException, 429) and 5xx errors; 5 attempts keeps a
# stuck call under a minute.
RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


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
