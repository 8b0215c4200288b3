"""Data capture in the local emulator: each invocation as SageMaker records it, in its S3.

An endpoint config with a DataCaptureConfig makes SageMaker write the sampled requests and
responses as JSON Lines under `<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/` (SageMaker
developer guide, "Capture data from real-time endpoint": "View Captured Data"). Each line is one
invocation:

    {"captureData": {"endpointInput": {"observedContentType": ..., "mode": "INPUT",
                                       "data": ..., "encoding": "CSV" | "JSON" | "BASE64"},
                     "endpointOutput": {... "mode": "OUTPUT" ...}},
     "eventMetadata": {"eventId": ..., "inferenceTime": ...}, "eventVersion": "0"}

Bodies of the content types CaptureContentTypeHeader names are written as text (CSV or JSON);
anything else is base64, as the API reference says of a config that names none. SageMaker
gathers several invocations into one file; here each invocation is its own file, which reads
the same. Only invocations the model answered (2xx) are written here; a refused request is in
the endpoint's 4xx/5xx metrics instead.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import uuid
from typing import Any

# CaptureContentTypeHeader's defaults when the config names none: everything is base64.
CSV, JSON, BASE64 = "CSV", "JSON", "BASE64"


def sampled(capture: dict[str, Any], draw: float | None = None) -> bool:
    """Whether this invocation is captured: capture on, and within its sampling percentage."""
    if not capture or not capture.get("EnableCapture", True):
        return False
    percent = int(capture.get("InitialSamplingPercentage", 0))
    # A draw in [0, 100): 100 captures every request, 0 none.
    return (random.random() * 100 if draw is None else draw) < percent  # noqa: S311 - sampling


def encoding(capture: dict[str, Any], content_type: str) -> str:
    """How a body of this content type is written: as CSV or JSON text, else base64."""
    header = capture.get("CaptureContentTypeHeader", {})
    media = content_type.split(";", 1)[0].strip().lower()
    if media in [t.lower() for t in header.get("CsvContentTypes", [])]:
        return CSV
    if media in [t.lower() for t in header.get("JsonContentTypes", [])]:
        return JSON
    return BASE64


def _part(capture: dict[str, Any], mode: str, body: bytes, content_type: str) -> dict[str, Any]:
    kind = encoding(capture, content_type)
    data = body.decode("utf-8") if kind != BASE64 else base64.b64encode(body).decode("ascii")
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": kind}


def record(
    capture: dict[str, Any],
    request: tuple[bytes, str],
    response: tuple[bytes, str],
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """One invocation's capture record: the modes the config asks for, and its metadata."""
    modes = {o["CaptureMode"] for o in capture.get("CaptureOptions", [])}
    data: dict[str, Any] = {}
    if modes & {"Input", "InputAndOutput"}:
        data["endpointInput"] = _part(capture, "INPUT", *request)
    if modes & {"Output", "InputAndOutput"}:
        data["endpointOutput"] = _part(capture, "OUTPUT", *response)
    when = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "captureData": data,
        "eventMetadata": {"eventId": str(uuid.uuid4()), "inferenceTime": when},
        "eventVersion": "0",
    }


def location(
    capture: dict[str, Any], endpoint: str, variant: str, now: dt.datetime
) -> tuple[str, str]:
    """(bucket, key) of one capture file: <prefix>/<endpoint>/<variant>/yyyy/mm/dd/hh/<name>."""
    uri = capture["DestinationS3Uri"].removeprefix("s3://")
    bucket, _, prefix = uri.partition("/")
    name = f"{now:%M-%S-%f}-{uuid.uuid4()}.jsonl"
    parts = [p for p in (prefix.strip("/"), endpoint, variant, f"{now:%Y/%m/%d/%H}", name) if p]
    return bucket, "/".join(parts)


def write(
    s3_backend: Any,
    capture: dict[str, Any],
    endpoint: str,
    variant: str,
    request: tuple[bytes, str],
    response: tuple[bytes, str],
) -> str | None:
    """Write one sampled invocation to the emulated S3; its key, or None when not sampled."""
    if not sampled(capture):
        return None
    now = dt.datetime.now(dt.UTC)
    bucket, key = location(capture, endpoint, variant, now)
    line = json.dumps(record(capture, request, response, now)) + "\n"
    s3_backend.put_object(bucket, key, line.encode("utf-8"))
    return key
