"""What the emulator's handlers share: AWS's error answer, who signed a request, JSON answers.

Development tooling (emulator.py serves the requests).
"""

from __future__ import annotations

import json
import os
from typing import Any

from moto.iam.models import get_account_id_from
from moto.sagemaker.models import sagemaker_backends
from werkzeug.wrappers import Request, Response

# What the emulator's clients sign with; moto maps this access key to its default account.
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class AwsError(Exception):
    """An error AWS would answer with: its code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status = code, status


def scope(request: Request) -> tuple[str, str]:
    """(account, region) of a SigV4-signed request, as moto derives them."""
    auth = request.headers.get("Authorization", "")
    try:
        credential = auth.split("Credential=", 1)[1].split(",", 1)[0]
        access_key, _, region = credential.split("/")[:3]
    except IndexError:
        raise AwsError("MissingAuthenticationToken", "the request is not signed") from None
    # moto's own precedence: MOTO_ACCOUNT_ID first, then the account of the access key.
    return os.environ.get("MOTO_ACCOUNT_ID") or get_account_id_from(access_key), region


def sagemaker(request: Request) -> Any:
    """moto's SageMaker backend for the request's account and region."""
    account, region = scope(request)
    return sagemaker_backends[account][region]


def params(request: Request) -> dict[str, Any]:
    """The JSON body of a request to a JSON-protocol API."""
    return json.loads(request.get_data() or b"{}")


def json_response(payload: dict[str, Any]) -> Response:
    """A JSON-protocol answer."""
    # The JSON protocol sends timestamps as seconds since the epoch.
    body = json.dumps(payload, default=lambda value: value.timestamp())
    return Response(body, status=200, content_type="application/x-amz-json-1.1")


def access_key(request: Request) -> str:
    """The access key that signed a request (its account is the resources' account)."""
    auth = request.headers.get("Authorization", "")
    return auth.split("Credential=", 1)[-1].split("/", 1)[0]
