"""The emulator's endpoints: deployments with traffic shifts and alarm rollbacks, and predictions.

Development tooling (emulator.py routes the requests here):

- UpdateEndpoint: the endpoint goes Updating; after `shift_seconds` it is InService on the new
  config, unless one of the request's AutoRollbackConfiguration alarms is in ALARM during the
  shift: then it goes RollingBack and, after `rollback_seconds`, InService on the old config. An
  armed alarm (`emulator.fire_alarm_on_next_shift`) fires once the deployer has seen the shift
  begin, as a bad new model would.
- InvokeEndpoint: loads the model.tar.gz the endpoint's model names from the emulated S3 and
  answers through its serving hooks, with the scikit-learn image's status codes
  (invocations.py); an answered request is captured as the endpoint config asks (capture.py).
- CreateModel and CreateEndpointConfig refuse a name in use, as SageMaker does.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import io
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.s3.models import s3_backends
from werkzeug.wrappers import Request, Response

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.dev import archive, capture, invocations, protocol
from {{ cookiecutter.__package }}.dev.protocol import AwsError, json_response

# Long enough for a deploy to see the endpoint Updating, short enough for a story in seconds.
SHIFT_SECONDS = 0.3
ROLLBACK_SECONDS = 0.3
# How often a shift looks at its alarms.
ALARM_CHECK_SECONDS = 0.02
# The longest an armed shift waits for the deployer to watch before its alarm fires anyway.
ARMED_MAX_SECONDS = 30.0


class Endpoints:
    """Endpoint behaviour moto lacks, and the state it keeps between requests."""

    def __init__(self, shift_seconds: float, rollback_seconds: float) -> None:
        self.shift_seconds = shift_seconds
        self.rollback_seconds = rollback_seconds
        self.lock = threading.Lock()
        self.models: dict[tuple[str, str], Any] = {}  # (ModelDataUrl, ETag) -> loaded model
        # The unpacked models, kept while the emulator serves: SageMaker untars a gzip model
        # "during model deployment", its files under /opt/ml/model "for use by your inference
        # code" (SageMaker API Reference, S3ModelDataSource, CompressionType), which may read
        # them after model_fn. Removed by close() when the emulator stops.
        self.model_dirs = tempfile.TemporaryDirectory(prefix="emulated-models-")
        self.armed_alarms: dict[str, str] = {}  # endpoint name -> alarm its next shift fires
        self.polls: dict[str, int] = {}  # endpoint name -> DescribeEndpoint calls in its shift

    def close(self) -> None:
        """Remove the unpacked models (the emulator has stopped serving them)."""
        self.model_dirs.cleanup()

    def refuse_an_existing_name(self, request: Request) -> Response | None:
        """CreateModel and CreateEndpointConfig refuse a name in use, as SageMaker does.

        moto would replace the existing one, so two deployments that named their resources
        alike would pass here and fail in AWS.
        """
        backend = protocol.sagemaker(request)
        params = protocol.params(request)
        if "ModelName" in params and "ProductionVariants" not in params:
            kind, name, existing = "model", params["ModelName"], backend._models
        else:
            kind, name = "endpoint configuration", params["EndpointConfigName"]
            existing = backend.endpoint_configs
        if name not in existing:
            return None
        # moto keeps an endpoint config's ARN in endpoint_config_arn (its `arn` is a tuple).
        arn = getattr(existing[name], "endpoint_config_arn", None) or existing[name].arn
        raise AwsError("ValidationException", f'Cannot create already existing {kind} "{arn}".')

    def update_endpoint(self, request: Request) -> Response:
        """Start a deployment: Updating now, then the new config or a rollback."""
        backend = protocol.sagemaker(request)
        account, region = protocol.scope(request)
        params = protocol.params(request)
        name, new_config = params["EndpointName"], params["EndpointConfigName"]
        with self.lock:
            endpoint = backend.endpoints.get(name)
            if endpoint is None:
                raise AwsError("ValidationException", f"Could not find endpoint '{name}'.")
            if endpoint.endpoint_status != "InService":
                raise AwsError(
                    "ValidationException",
                    f"Cannot update in-progress endpoint '{endpoint.arn}'.",
                )
            if new_config not in backend.endpoint_configs:
                raise AwsError(
                    "ValidationException", f"Could not find endpoint configuration '{new_config}'."
                )
            deployment = params.get("DeploymentConfig", {})
            alarms = [
                a["AlarmName"]
                for a in deployment.get("AutoRollbackConfiguration", {}).get("Alarms", [])
            ]
            # moto serialises an endpoint's attributes, so these appear in DescribeEndpoint.
            endpoint.endpoint_status = "Updating"
            endpoint.pending_deployment_summary = {
                "EndpointConfigName": new_config,
                "StartTime": time.time(),
            }
            endpoint.last_deployment_config = deployment or None
            armed = self.armed_alarms.pop(name, None)
            self.polls[name] = 0
        threading.Thread(
            target=self._shift,
            args=(backend, cloudwatch_backends[account][region], name, new_config, alarms, armed),
            daemon=True,
        ).start()
        return json_response({"EndpointArn": endpoint.arn})

    def _shift(
        self,
        backend: Any,
        cloudwatch: Any,
        name: str,
        new_config: str,
        alarms: list[str],
        armed: str | None,
    ) -> None:
        if armed is not None:
            # The new fleet errs once it takes traffic: once the deployer has seen the shift
            # begin (two polls, so its timeline shows the shift, then the rollback), or after
            # ARMED_MAX_SECONDS when nobody watches. The shift cannot end before it fires.
            give_up = time.monotonic() + ARMED_MAX_SECONDS
            while self.polls.get(name, 0) < 2 and time.monotonic() < give_up:
                time.sleep(ALARM_CHECK_SECONDS)
            cloudwatch.set_alarm_state(armed, "emulator: errors during the shift", None, "ALARM")
        deadline = time.monotonic() + self.shift_seconds
        while time.monotonic() < deadline:
            fired = [a for a in alarms if _alarm_state(cloudwatch, a) == "ALARM"]
            if fired:
                with self.lock:
                    backend.endpoints[name].endpoint_status = "RollingBack"
                time.sleep(self.rollback_seconds)
                with self.lock:
                    endpoint = backend.endpoints[name]
                    endpoint.endpoint_status = "InService"
                    endpoint.pending_deployment_summary = None
                return
            time.sleep(ALARM_CHECK_SECONDS)
        with self.lock:
            endpoint = backend.endpoints[name]
            variants = backend.endpoint_configs[new_config].production_variants
            endpoint.endpoint_config_name = new_config
            endpoint.production_variants = endpoint._process_production_variants(variants)
            endpoint.endpoint_status = "InService"
            endpoint.pending_deployment_summary = None
            endpoint.last_modified_time = dt.datetime.now(dt.UTC)

    def count_poll(self, environ: dict[str, Any]) -> None:
        """Count a DescribeEndpoint of an endpoint during its shift; moto still answers it."""
        request = Request(environ)
        body = request.get_data(cache=True)
        environ["wsgi.input"] = io.BytesIO(body)
        name = json.loads(body or b"{}").get("EndpointName", "")
        with self.lock:
            if name in self.polls:
                self.polls[name] += 1

    def arm_alarm(self, request: Request) -> Response:
        """Make the next UpdateEndpoint of an endpoint set an alarm to ALARM as its shift starts."""
        params = protocol.params(request)
        with self.lock:
            self.armed_alarms[params["EndpointName"]] = params["AlarmName"]
        return json_response({})

    def invoke_endpoint(self, request: Request) -> Response | None:
        """Serve a prediction from the endpoint's model.tar.gz, as the scikit-learn image does."""
        account, region = protocol.scope(request)
        backend = protocol.sagemaker(request)
        name = request.path.split("/")[2]
        with self.lock:
            endpoint = backend.endpoints.get(name)
            if endpoint is None:
                raise AwsError(
                    "ValidationException", f"Endpoint {name} of account {account} not found."
                )
            endpoint_config = backend.endpoint_configs[endpoint.endpoint_config_name]
            variants = endpoint_config.production_variants
            model = backend._models.get(variants[0]["ModelName"])
        url = (model.primary_container or {}).get("ModelDataUrl", "") if model else ""
        loaded = self._load(account, url)
        if loaded is None:
            return None  # not a model in the emulated S3: moto's canned answer
        status, body, content_type = invocations.answer(*loaded, request)
        if status >= 400:
            return invocations.model_error(status, body, name, account, region)
        # The answered request, as the endpoint config's DataCaptureConfig asks (capture.py).
        capture.write(
            s3_backends[account]["aws"],
            endpoint_config.data_capture_config,
            name,
            variants[0]["VariantName"],
            (request.get_data(), request.headers.get("Content-Type") or invocations.JSON),
            (body, content_type),
        )
        return Response(
            body,
            status=status,
            content_type=content_type,
            headers={"x-Amzn-Invoked-Production-Variant": variants[0]["VariantName"]},
        )

    def _load(self, account: str, url: str) -> tuple[Any, Any] | None:
        if not url.startswith("s3://"):
            return None
        bucket_name, key = url[5:].split("/", 1)
        try:
            stored = s3_backends[account]["aws"].get_object(bucket_name, key)
        except Exception:  # any miss means "not in the emulated S3"
            return None
        if stored is None:
            return None
        cache_key = (url, stored.etag)
        with self.lock:
            if cache_key in self.models:
                return self.models[cache_key]
        model_dir = Path(tempfile.mkdtemp(dir=self.model_dirs.name))
        archive.unpack(io.BytesIO(stored.value), model_dir)
        hooks = _hooks(model_dir)
        loaded = (hooks, hooks.model_fn(str(model_dir)))
        with self.lock:
            self.models[cache_key] = loaded
        return loaded


def _hooks(model_dir: Path) -> Any:
    """The serving hooks the container would use: code/inference.py in the model, else ours."""
    script = model_dir / "code" / "inference.py"
    if script.is_file():
        spec = importlib.util.spec_from_file_location(f"emulated_inference_{id(model_dir)}", script)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {script}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(f"{config.PACKAGE}.steps.inference")


def _alarm_state(cloudwatch: Any, name: str) -> str | None:
    alarm = cloudwatch.alarms.get(name)
    return alarm.state_value if alarm is not None else None
