"""The DataCaptureConfig every endpoint config carries (config.DATA_CAPTURE_PERCENT)."""

from __future__ import annotations

from typing import Any

from {{ cookiecutter.__package }} import config


def capture_config(percent: int = config.DATA_CAPTURE_PERCENT) -> dict[str, Any]:
    """CreateEndpointConfig's DataCaptureConfig argument, or nothing when capture is off (0).

    Requests and responses, to the artifact bucket (SageMaker adds <endpoint>/<variant>/
    yyyy/mm/dd/hh/); CSV and JSON bodies are kept as text, which Model Monitor's analyzer reads
    (API reference, DataCaptureConfig and CaptureContentTypeHeader: without it, base64).
    """
    if percent <= 0:
        return {}
    return {
        "DataCaptureConfig": {
            "EnableCapture": True,
            "InitialSamplingPercentage": percent,
            "DestinationS3Uri": config.data_capture_uri(),
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {
                "CsvContentTypes": ["text/csv"],
                "JsonContentTypes": ["application/json"],
            },
        }
    }
