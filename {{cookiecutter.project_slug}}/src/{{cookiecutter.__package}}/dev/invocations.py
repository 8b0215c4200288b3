"""InvokeEndpoint in the local emulator: a model answers with the status codes the endpoint gives.

The scikit-learn image serves a model through sagemaker-containers 2.8.6, whose Flask
application calls the model's `transform_fn` (steps/inference.py). `make test-compat` runs that
file inside that very library, and this module mirrors what the library does around the hook, so
that both answer the shared request table (tests/serving_cases.py) with the same codes:

- its Request hands the hook the body as text for exactly text/csv or application/json, a
  missing content type as application/json, a missing or */* accept as application/json
  (sagemaker_containers/_worker.py);
- its Transformer answers a (body, content type) tuple with 200 and passes a response object
  through with its own status (_transformer.py); any exception from the hook is re-raised as a
  ClientError (_functions.py, error_wrapper), which Flask answers with 500.

SageMaker answers the caller of InvokeEndpoint with a ModelError (HTTP 424) whenever the
container answers 4xx or 5xx, and counts the request in Invocation4XXErrors or
Invocation5XXErrors by the container's status.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from werkzeug.exceptions import InternalServerError
from werkzeug.wrappers import Request, Response

JSON = "application/json"
TEXT_TYPES = (JSON, "text/csv")  # sagemaker_containers' _content_types.UTF8_TYPES
_log = logging.getLogger(__name__)


def answer(hooks: Any, model: Any, request: Request) -> tuple[int, bytes, str]:
    """(status, body, content type): what the container answers this request with."""
    content_type = request.headers.get("Content-Type") or JSON
    accept = request.headers.get("Accept")
    if not accept or accept == "*/*":
        accept = JSON
    body = request.get_data(as_text=content_type in TEXT_TYPES)
    try:
        result = hooks.transform_fn(model, body, content_type, accept)
    except Exception:  # the container's catch-all: whatever the hook raises is a 500
        _log.exception("InvokeEndpoint: the serving code raised")
        return 500, InternalServerError().get_body().encode(), "text/html"
    if isinstance(result, tuple):
        text, media = result
        return 200, text.encode() if isinstance(text, str) else text, media
    return result.status_code, result.get_data(), result.mimetype


def model_error(status: int, body: bytes, endpoint: str, account: str, region: str) -> Response:
    """SageMaker's answer to a container's 4xx or 5xx: a ModelError, HTTP 424.

    The shape (OriginalStatusCode, OriginalMessage) is botocore's sagemaker-runtime model; the
    message is worded as SageMaker words it: 'Received client error (400) from primary with
    message "..."', or 'server error (500)', then where the endpoint's logs are.
    """
    kind = "client" if status < 500 else "server"
    original = body.decode("utf-8", errors="replace")
    logs = (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#logEventViewer:group=/aws/sagemaker/Endpoints/{endpoint}"
    )
    payload = {
        "__type": "ModelError",
        "message": f'Received {kind} error ({status}) from primary with message "{original}". '
        f"See {logs} in account {account} for more information.",
        "OriginalStatusCode": status,
        "OriginalMessage": original,
    }
    return Response(json.dumps(payload), status=424, content_type="application/x-amz-json-1.1")
