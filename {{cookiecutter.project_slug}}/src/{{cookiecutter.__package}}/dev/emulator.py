"""A local AWS emulator for development and tests: a moto server on 127.0.0.1, extended.

Development and test tooling, never used against AWS. It serves every AWS API this project
calls on your machine, with no account, so the registry -> deploy -> rollback story runs
offline in seconds: `python -m {{ cookiecutter.__package }}.dev.emulator`, then point boto3 at it
with AWS_ENDPOINT_URL.

moto emulates the registry, models, endpoint configs, endpoints, pipelines, S3, CloudWatch
alarms, STS and IAM. A small WSGI layer in front of moto's own server application adds what
moto lacks, reading and changing moto's backend objects for the account and region of each
request:

- UpdateEndpoint: the endpoint goes Updating; after `shift_seconds` it is InService on the new
  config, unless one of the request's AutoRollbackConfiguration alarms is in ALARM during the
  shift: then it goes RollingBack and, after `rollback_seconds`, InService on the old config
  (endpoints.py). `fire_alarm_on_next_shift` makes the next shift of an endpoint set an alarm to
  ALARM once the deployer has seen it begin, as a bad new model would, so a test or the story
  sees a rollback every time.
- StartPipelineExecution runs the upserted definition step by step, offline (pipelines.py):
  processing and training jobs as local processes, conditions, registration, Fail steps; then
  DescribePipelineExecution and ListPipelineExecutionSteps report what really happened.
- InvokeEndpoint, for an endpoint whose model's ModelDataUrl is in the emulated S3: loads that
  model.tar.gz and answers through the serving hooks (model_fn, transform_fn) of its
  code/inference.py, else this package's steps/inference.py, with the status codes the
  scikit-learn image gives (endpoints.py, invocations.py); a 4xx or 5xx reaches the client as
  a ModelError.
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
import functools
import http.client
import io
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.dev import protocol
from {{ cookiecutter.__package }}.dev.emulated_stack import seed
from {{ cookiecutter.__package }}.dev.endpoints import ROLLBACK_SECONDS, SHIFT_SECONDS, Endpoints
from {{ cookiecutter.__package }}.dev.pipelines import PipelineExecutions
from {{ cookiecutter.__package }}.dev.protocol import (
    FAKE_CREDENTIALS,
    AwsError,
    access_key,
    json_response,
)
from {{ cookiecutter.__package }}.dev.schedules import MonitoringSchedules

__all__ = ["FAKE_CREDENTIALS", "fire_alarm_on_next_shift", "running", "seed"]

HOST = "127.0.0.1"
# The emulator's own request (not an AWS API): fire an alarm during an endpoint's next shift.
ARM_PATH = "/_emulator/fire-alarm-on-next-shift"


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
        self.endpoints = Endpoints(shift_seconds, rollback_seconds)
        self.lock = threading.Lock()
        self.package_tags: dict[str, dict[str, str]] = {}
        self.pipelines = PipelineExecutions(FAKE_CREDENTIALS["aws_secret_access_key"], workdir)
        self.schedules = MonitoringSchedules()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        path = environ.get("PATH_INFO", "")
        handler: Callable[[Request], Response | None] | None = {
            "SageMaker.UpdateEndpoint": self.endpoints.update_endpoint,
            "SageMaker.StartPipelineExecution": self.start_pipeline_execution,
            "SageMaker.DescribePipelineExecution": self.describe_pipeline_execution,
            "SageMaker.ListPipelineExecutionSteps": self.list_pipeline_execution_steps,
            "SageMaker.AddTags": self.add_package_tags,
            "SageMaker.ListTags": self.list_package_tags,
            "SageMaker.DeleteModelPackage": self.delete_model_package,
            "SageMaker.CreateModel": self.endpoints.refuse_an_existing_name,
            "SageMaker.CreateEndpointConfig": self.endpoints.refuse_an_existing_name,
            **dict.fromkeys(
                (f"SageMaker.{op}" for op in MonitoringSchedules.OPERATIONS),
                self.monitoring_schedules,
            ),
        }.get(target)
        if target == "SageMaker.DescribeEndpoint":
            self.endpoints.count_poll(environ)
        if handler is None and path == ARM_PATH:
            handler = self.endpoints.arm_alarm
        if handler is None and path.startswith("/endpoints/") and path.endswith("/invocations"):
            handler = self.endpoints.invoke_endpoint
        if handler is not None:
            request = Request(environ)
            # Read the body once; moto reads it again if the request falls through.
            body = request.get_data(cache=True)
            environ["wsgi.input"] = io.BytesIO(body)
            try:
                response = handler(request)
            except AwsError as error:
                response = Response(
                    json.dumps({"__type": error.code, "message": str(error)}),
                    status=error.status,
                    content_type="application/x-amz-json-1.1",
                )
            if response is not None:
                return response(environ, start_response)
        return self.moto_app(environ, start_response)

    # ---- pipeline executions ---------------------------------------------------------------

    def start_pipeline_execution(self, request: Request) -> Response | None:
        """Run the pipeline's definition, offline, in the background."""
        params = protocol.params(request)
        try:
            started = self.pipelines.start(
                protocol.sagemaker(request),
                request.host_url.rstrip("/"),
                access_key(request),
                params,
            )
        except ValueError as error:
            raise AwsError("ValidationException", str(error)) from None
        return None if started is None else json_response(started)

    def describe_pipeline_execution(self, request: Request) -> Response | None:
        """The execution's real status and failure reason (moto's for executions not run here)."""
        params = protocol.params(request)
        described = self.pipelines.describe(protocol.sagemaker(request), params)
        return None if described is None else json_response(described)

    def list_pipeline_execution_steps(self, request: Request) -> Response:
        """The steps of an execution: status, times, failure reason, metadata."""
        params = protocol.params(request)
        try:
            return json_response(self.pipelines.list_steps(params))
        except LookupError as error:
            raise AwsError("ResourceNotFound", str(error)) from None

    # ---- monitoring schedules ----------------------------------------------------------------

    def monitoring_schedules(self, request: Request) -> Response:
        """The monitoring-schedule operations, which moto lacks (schedules.py)."""
        account, region = protocol.scope(request)
        operation = request.headers.get("X-Amz-Target", "").split(".", 1)[1]
        params = protocol.params(request)
        try:
            return json_response(self.schedules.call(operation, params, account, region))
        except LookupError as error:
            raise AwsError("ResourceNotFound", str(error.args[0])) from None
        except ValueError as error:
            raise AwsError("ValidationException", str(error)) from None

    # ---- tags on versioned model packages ---------------------------------------------------

    def add_package_tags(self, request: Request) -> Response | None:
        """AddTags on a versioned model package ARN (moto cannot parse those)."""
        params = protocol.params(request)
        arn = params["ResourceArn"]
        if ":model-package/" not in arn or arn.count("/") < 2:
            return None
        self._package(request, arn)
        with self.lock:
            tags = self.package_tags.setdefault(arn, {})
            tags.update({tag["Key"]: tag["Value"] for tag in params.get("Tags", [])})
            listed = [{"Key": k, "Value": v} for k, v in tags.items()]
        return json_response({"Tags": listed})

    def list_package_tags(self, request: Request) -> Response | None:
        """ListTags on a versioned model package ARN."""
        arn = protocol.params(request)["ResourceArn"]
        if ":model-package/" not in arn or arn.count("/") < 2:
            return None
        self._package(request, arn)
        with self.lock:
            tags = dict(self.package_tags.get(arn, {}))
        return json_response({"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]})

    def delete_model_package(self, request: Request) -> Response:
        """DeleteModelPackage, which moto lacks (teardown deletes the versions)."""
        backend = protocol.sagemaker(request)
        arn = protocol.params(request)["ModelPackageName"]
        package = self._package(request, arn)
        with self.lock:
            del backend.model_packages[package.arn]
            for name in [n for n, a in backend.model_package_name_mapping.items() if a == arn]:
                del backend.model_package_name_mapping[name]
            self.package_tags.pop(package.arn, None)
        return json_response({})

    def _package(self, request: Request, arn: str) -> Any:
        package = protocol.sagemaker(request).model_packages.get(arn)
        if package is None:
            raise AwsError("ValidationException", f"Model package {arn} not found")
        return package


class _MotoApplication(DomainDispatcherApplication):
    """moto's server application, remembering which of its backends serves each host name.

    On every request moto finds out by listing its own package directory and trying its URL
    patterns (over a millisecond, moto 5.2); the answer depends on the host name alone.
    """

    def __init__(self) -> None:
        super().__init__(create_backend_app)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        """moto's answer for this host, found once (moto calls this holding its lock)."""
        if host not in self._backends:
            self._backends[host] = super().get_backend_for_host(host)
        return self._backends[host]


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
    app = Extensions(_moto(), shift_seconds, rollback_seconds, workdir)
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
        app.endpoints.close()


@functools.cache
def _moto() -> _MotoApplication:
    """moto's server application, one per process: it builds a Flask application for each
    service on first use (a tenth of a short test's time), and keeps no AWS state itself (the
    backends are the process's, and each server resets them)."""
    return _MotoApplication()


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
        prog=f"python -m {config.PACKAGE}.dev.emulator",
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
