"""A local AWS emulator for development and tests: a moto server on 127.0.0.1, extended.

Development and test tooling, never used against AWS. It serves every AWS API this project
calls on your machine, with no account, so the registry -> deploy -> rollback story runs
offline in seconds: `python -m {{ cookiecutter.__package }}.emulator`, then point boto3 at it
with AWS_ENDPOINT_URL.

moto emulates the registry, models, endpoint configs, endpoints, pipelines, S3, CloudWatch
alarms, STS and IAM. A small WSGI layer in front of moto's own server application adds what
moto lacks, reading and changing moto's backend objects for the account and region of each
request:

- UpdateEndpoint: the endpoint goes Updating; after `shift_seconds` it is InService on the new
  config, unless one of the request's AutoRollbackConfiguration alarms is in ALARM during the
  shift: then it goes RollingBack and, after `rollback_seconds`, InService on the old config.
  `fire_alarm_on_next_shift` makes the next shift of an endpoint set an alarm to ALARM once the
  deployer has seen it begin, as a bad new model would, so a test or the story sees a rollback
  every time.
- StartPipelineExecution runs the upserted definition step by step, offline (pipelines.py):
  processing and training jobs as local processes, conditions, registration, Fail steps; then
  DescribePipelineExecution and ListPipelineExecutionSteps report what really happened.
- InvokeEndpoint, for an endpoint whose model's ModelDataUrl is in the emulated S3: loads that
  model.tar.gz and answers through the serving hooks (model_fn, transform_fn) of its
  code/inference.py, else this package's steps/inference.py, with the status codes the
  scikit-learn image gives (invocations.py); a 4xx or 5xx reaches the client as a ModelError.
- Data capture: an answered invocation of an endpoint whose config has a DataCaptureConfig is
  written to the emulated S3 in SageMaker's JSON Lines format and layout (capture.py).
- Monitoring schedules (Create, Describe, Update, Delete, List executions), which moto lacks:
  kept as SageMaker describes them; no job runs on the hour (schedules.py).
- AddTags / ListTags on versioned model packages, whose ARNs moto cannot parse, and
  DeleteModelPackage, which moto lacks.

Everything else goes to moto unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import http.client
import importlib.util
import io
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.iam.models import get_account_id_from
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.s3.models import s3_backends
from moto.sagemaker.models import sagemaker_backends
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.dev import archive, capture, emulated_stack, invocations
from {{ cookiecutter.__package }}.dev.pipelines import PipelineExecutions
from {{ cookiecutter.__package }}.dev.schedules import MonitoringSchedules

HOST = "127.0.0.1"
# Long enough for a deploy to see the endpoint Updating, short enough for a story in seconds.
SHIFT_SECONDS = 0.3
ROLLBACK_SECONDS = 0.3
# How often a shift looks at its alarms.
ALARM_CHECK_SECONDS = 0.02
# The longest an armed shift waits for the deployer to watch before its alarm fires anyway.
ARMED_MAX_SECONDS = 30.0
# The emulator's own request (not an AWS API): fire an alarm during an endpoint's next shift.
ARM_PATH = "/_emulator/fire-alarm-on-next-shift"
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class _AwsError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status = code, status


class Extensions:
    """The WSGI layer that serves what moto lacks and passes everything else to moto."""

    def __init__(
        self,
        moto_app: Callable,
        shift_seconds: float,
        rollback_seconds: float,
        workdir: Path | None = None,
    ) -> None:
        self.moto_app = moto_app
        self.shift_seconds = shift_seconds
        self.rollback_seconds = rollback_seconds
        self.lock = threading.Lock()
        self.models: dict[tuple[str, str], Any] = {}  # (ModelDataUrl, ETag) -> loaded model
        self.package_tags: dict[str, dict[str, str]] = {}
        self.armed_alarms: dict[str, str] = {}  # endpoint name -> alarm its next shift fires
        self.polls: dict[str, int] = {}  # endpoint name -> DescribeEndpoint calls in its shift
        self.pipelines = PipelineExecutions(FAKE_CREDENTIALS["aws_secret_access_key"], workdir)
        self.schedules = MonitoringSchedules()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        path = environ.get("PATH_INFO", "")
        handler: Callable[[Request], Response | None] | None = {
            "SageMaker.UpdateEndpoint": self.update_endpoint,
            "SageMaker.StartPipelineExecution": self.start_pipeline_execution,
            "SageMaker.DescribePipelineExecution": self.describe_pipeline_execution,
            "SageMaker.ListPipelineExecutionSteps": self.list_pipeline_execution_steps,
            "SageMaker.AddTags": self.add_package_tags,
            "SageMaker.ListTags": self.list_package_tags,
            "SageMaker.DeleteModelPackage": self.delete_model_package,
            "SageMaker.CreateModel": self.refuse_an_existing_name,
            "SageMaker.CreateEndpointConfig": self.refuse_an_existing_name,
            **dict.fromkeys(
                (f"SageMaker.{op}" for op in MonitoringSchedules.OPERATIONS),
                self.monitoring_schedules,
            ),
        }.get(target)
        if target == "SageMaker.DescribeEndpoint":
            self._count_poll(environ)
        if handler is None and path == ARM_PATH:
            handler = self.arm_alarm
        if handler is None and path.startswith("/endpoints/") and path.endswith("/invocations"):
            handler = self.invoke_endpoint
        if handler is not None:
            request = Request(environ)
            # Read the body once; moto reads it again if the request falls through.
            body = request.get_data(cache=True)
            environ["wsgi.input"] = io.BytesIO(body)
            try:
                response = handler(request)
            except _AwsError as error:
                response = Response(
                    json.dumps({"__type": error.code, "message": str(error)}),
                    status=error.status,
                    content_type="application/x-amz-json-1.1",
                )
            if response is not None:
                return response(environ, start_response)
        return self.moto_app(environ, start_response)

    # ---- request context -------------------------------------------------------------------

    @staticmethod
    def _scope(request: Request) -> tuple[str, str]:
        """(account, region) of a SigV4-signed request, as moto derives them."""
        auth = request.headers.get("Authorization", "")
        try:
            credential = auth.split("Credential=", 1)[1].split(",", 1)[0]
            access_key, _, region = credential.split("/")[:3]
        except IndexError:
            raise _AwsError("MissingAuthenticationToken", "the request is not signed") from None
        # moto's own precedence: MOTO_ACCOUNT_ID first, then the account of the access key.
        return os.environ.get("MOTO_ACCOUNT_ID") or get_account_id_from(access_key), region

    def _sagemaker(self, request: Request) -> Any:
        account, region = self._scope(request)
        return sagemaker_backends[account][region]

    # ---- UpdateEndpoint --------------------------------------------------------------------

    def refuse_an_existing_name(self, request: Request) -> Response | None:
        """CreateModel and CreateEndpointConfig refuse a name in use, as SageMaker does.

        moto would replace the existing one, so two deployments that named their resources
        alike would pass here and fail in AWS.
        """
        backend = self._sagemaker(request)
        params = json.loads(request.get_data() or b"{}")
        if "ModelName" in params and "ProductionVariants" not in params:
            kind, name, existing = "model", params["ModelName"], backend._models
        else:
            kind, name = "endpoint configuration", params["EndpointConfigName"]
            existing = backend.endpoint_configs
        if name not in existing:
            return None
        # moto keeps an endpoint config's ARN in endpoint_config_arn (its `arn` is a tuple).
        arn = getattr(existing[name], "endpoint_config_arn", None) or existing[name].arn
        raise _AwsError("ValidationException", f'Cannot create already existing {kind} "{arn}".')

    def update_endpoint(self, request: Request) -> Response:
        """Start a deployment: Updating now, then the new config or a rollback."""
        backend = self._sagemaker(request)
        account, region = self._scope(request)
        params = json.loads(request.get_data() or b"{}")
        name, new_config = params["EndpointName"], params["EndpointConfigName"]
        with self.lock:
            endpoint = backend.endpoints.get(name)
            if endpoint is None:
                raise _AwsError("ValidationException", f"Could not find endpoint '{name}'.")
            if endpoint.endpoint_status != "InService":
                raise _AwsError(
                    "ValidationException",
                    f"Cannot update in-progress endpoint '{endpoint.arn}'.",
                )
            if new_config not in backend.endpoint_configs:
                raise _AwsError(
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
        return _json({"EndpointArn": endpoint.arn})

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

    def _count_poll(self, environ: dict[str, Any]) -> None:
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
        params = json.loads(request.get_data() or b"{}")
        with self.lock:
            self.armed_alarms[params["EndpointName"]] = params["AlarmName"]
        return _json({})

    # ---- pipeline executions ---------------------------------------------------------------

    def start_pipeline_execution(self, request: Request) -> Response | None:
        """Run the pipeline's definition, offline, in the background."""
        params = json.loads(request.get_data() or b"{}")
        try:
            started = self.pipelines.start(
                self._sagemaker(request), request.host_url.rstrip("/"), _access_key(request), params
            )
        except ValueError as error:
            raise _AwsError("ValidationException", str(error)) from None
        return None if started is None else _json(started)

    def describe_pipeline_execution(self, request: Request) -> Response | None:
        """The execution's real status and failure reason (moto's for executions not run here)."""
        params = json.loads(request.get_data() or b"{}")
        described = self.pipelines.describe(self._sagemaker(request), params)
        return None if described is None else _json(described)

    def list_pipeline_execution_steps(self, request: Request) -> Response:
        """The steps of an execution: status, times, failure reason, metadata."""
        params = json.loads(request.get_data() or b"{}")
        try:
            return _json(self.pipelines.list_steps(params))
        except LookupError as error:
            raise _AwsError("ResourceNotFound", str(error)) from None

    # ---- monitoring schedules ----------------------------------------------------------------

    def monitoring_schedules(self, request: Request) -> Response:
        """The monitoring-schedule operations, which moto lacks (schedules.py)."""
        account, region = self._scope(request)
        operation = request.headers.get("X-Amz-Target", "").split(".", 1)[1]
        params = json.loads(request.get_data() or b"{}")
        try:
            return _json(self.schedules.call(operation, params, account, region))
        except LookupError as error:
            raise _AwsError("ResourceNotFound", str(error.args[0])) from None
        except ValueError as error:
            raise _AwsError("ValidationException", str(error)) from None

    # ---- tags on versioned model packages ---------------------------------------------------

    def add_package_tags(self, request: Request) -> Response | None:
        """AddTags on a versioned model package ARN (moto cannot parse those)."""
        params = json.loads(request.get_data() or b"{}")
        arn = params["ResourceArn"]
        if ":model-package/" not in arn or arn.count("/") < 2:
            return None
        self._package(request, arn)
        with self.lock:
            tags = self.package_tags.setdefault(arn, {})
            tags.update({tag["Key"]: tag["Value"] for tag in params.get("Tags", [])})
            listed = [{"Key": k, "Value": v} for k, v in tags.items()]
        return _json({"Tags": listed})

    def list_package_tags(self, request: Request) -> Response | None:
        """ListTags on a versioned model package ARN."""
        arn = json.loads(request.get_data() or b"{}")["ResourceArn"]
        if ":model-package/" not in arn or arn.count("/") < 2:
            return None
        self._package(request, arn)
        with self.lock:
            tags = dict(self.package_tags.get(arn, {}))
        return _json({"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]})

    def delete_model_package(self, request: Request) -> Response:
        """DeleteModelPackage, which moto lacks (teardown deletes the versions)."""
        backend = self._sagemaker(request)
        arn = json.loads(request.get_data() or b"{}")["ModelPackageName"]
        package = self._package(request, arn)
        with self.lock:
            del backend.model_packages[package.arn]
            for name in [n for n, a in backend.model_package_name_mapping.items() if a == arn]:
                del backend.model_package_name_mapping[name]
            self.package_tags.pop(package.arn, None)
        return _json({})

    def _package(self, request: Request, arn: str) -> Any:
        package = self._sagemaker(request).model_packages.get(arn)
        if package is None:
            raise _AwsError("ValidationException", f"Model package {arn} not found")
        return package

    # ---- InvokeEndpoint ---------------------------------------------------------------------

    def invoke_endpoint(self, request: Request) -> Response | None:
        """Serve a prediction from the endpoint's model.tar.gz, as the scikit-learn image does."""
        account, region = self._scope(request)
        backend = sagemaker_backends[account][region]
        name = request.path.split("/")[2]
        with self.lock:
            endpoint = backend.endpoints.get(name)
            if endpoint is None:
                raise _AwsError(
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
        model_dir = Path(tempfile.mkdtemp(prefix="emulated-model-"))
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


def _json(payload: dict[str, Any]) -> Response:
    # The JSON protocol sends timestamps as seconds since the epoch.
    body = json.dumps(payload, default=lambda value: value.timestamp())
    return Response(body, status=200, content_type="application/x-amz-json-1.1")


def _access_key(request: Request) -> str:
    """The access key that signed a request (its account is the resources' account)."""
    auth = request.headers.get("Authorization", "")
    return auth.split("Credential=", 1)[-1].split("/", 1)[0]


class _QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without a log line per request (they drown the progress lines)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing for successful requests."""


@contextlib.contextmanager
def running(
    port: int = 0,
    *,
    shift_seconds: float = SHIFT_SECONDS,
    rollback_seconds: float = ROLLBACK_SECONDS,
    workdir: Path | None = None,
) -> Iterator[str]:
    """Run the emulator on 127.0.0.1 (port 0: a free one); yield its URL; stop it on exit.

    Pipeline executions run their jobs under `workdir` and leave them there to look at; without
    it, in a temporary directory that each execution removes when it ends.
    """
    moto_app = DomainDispatcherApplication(create_backend_app)
    app = Extensions(moto_app, shift_seconds, rollback_seconds, workdir)
    server = make_server(HOST, port, app, threaded=True, request_handler=_QuietRequestHandler)
    url = f"http://{HOST}:{server.server_port}"
    # A short poll interval: shutdown() waits for it, and tests start many servers.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        _reset(url)
        yield url
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def _reset(url: str) -> None:
    """Start from empty state: moto's backends live in this process and outlive a server."""
    _post(url, "/moto-api/reset", {})


def _post(url: str, path: str, payload: dict[str, Any]) -> None:
    """POST JSON to one of the emulator's own (unsigned) paths on 127.0.0.1."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("POST", path, body=json.dumps(payload))
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"emulator {path}: HTTP {response.status}")


@functools.cache
def _seed_session() -> Any:
    """One session per process: each new one loads botocore's service models again (~1 s)."""
    import boto3

    return boto3.session.Session(region_name=config.AWS_REGION, **FAKE_CREDENTIALS)


def seed(endpoint_url: str, *, whole_stack: bool = False) -> None:
    """Create what the CloudFormation stack would: buckets, package group, alarms, role.

    With `whole_stack`, the rest too (what `doctor` and `teardown` read; the story does not):
    the GitHub side, builds, pipelines and a stand-in stack, from emulated_stack.py, which says
    why moto's CloudFormation cannot create the real one.
    """
    session = _seed_session()

    @functools.cache
    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url)

    s3 = client("s3")
    location = (
        {}
        if config.AWS_REGION == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": config.AWS_REGION}}
    )
    for bucket in (config.SOURCE_BUCKET, config.ARTIFACT_BUCKET):
        s3.create_bucket(Bucket=bucket, **location)
    s3.put_bucket_versioning(
        Bucket=config.SOURCE_BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )
    client("sagemaker").create_model_package_group(
        ModelPackageGroupName=config.MODEL_PACKAGE_GROUP,
        ModelPackageGroupDescription=f"{config.PROJECT} models",
    )
    cloudwatch = client("cloudwatch")
    for env in config.ENVIRONMENTS:
        for kind, name in config.alarm_names(env).items():
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="AWS/SageMaker",
                MetricName=config.ALARM_METRICS[kind],
                Dimensions=[
                    {"Name": "EndpointName", "Value": config.endpoint_name(env)},
                    {"Name": "VariantName", "Value": config.VARIANT_NAME},
                ],
                Statistic="Average" if kind == "latency" else "Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=1_000_000 if kind == "latency" else 1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
                TreatMissingData="notBreaching",
            )
    client("iam").create_role(
        RoleName=config.SAGEMAKER_EXECUTION_ROLE,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "sagemaker.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    if whole_stack:
        emulated_stack.seed(client)


def fire_alarm_on_next_shift(endpoint_url: str, endpoint: str, alarm: str) -> None:
    """Make the next deployment to `endpoint` set `alarm` to ALARM during its traffic shift.

    The emulator fires it itself, in the shift UpdateEndpoint starts: after the deploy's
    pre-flight checks (which refuse an alarm already firing), once the deployer has polled the
    shift twice, and before the shift can end, however slow the machine. A client that polled
    for Updating and then set the alarm could miss the window.
    """
    _post(endpoint_url, ARM_PATH, {"EndpointName": endpoint, "AlarmName": alarm})


def main(argv: list[str] | None = None) -> int:
    """Run the emulator in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {config.PACKAGE}.emulator",
        description="Local AWS emulator for development and tests (never AWS).",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: free)")
    parser.add_argument("--no-seed", action="store_true", help="start empty (no stack resources)")
    args = parser.parse_args(argv)
    # Answer as the account config.py names, so `doctor` against the emulator checks the names
    # it would check in AWS (moto reads MOTO_ACCOUNT_ID for every request).
    os.environ.setdefault("MOTO_ACCOUNT_ID", config.AWS_ACCOUNT_ID)
    with running(args.port) as url:
        if not args.no_seed:
            seed(url, whole_stack=True)
        # The seeded resources belong to the fake credentials' account: export those too.
        exports = " ".join(
            [
                f"AWS_ENDPOINT_URL={url}",
                f"AWS_ACCESS_KEY_ID={FAKE_CREDENTIALS['aws_access_key_id']}",
                f"AWS_SECRET_ACCESS_KEY={FAKE_CREDENTIALS['aws_secret_access_key']}",
            ]
        )
        print(f"emulator on {url}; in another shell: export {exports}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
