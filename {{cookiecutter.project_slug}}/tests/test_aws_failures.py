"""Every command that talks to AWS, under every way AWS can fail: one line, a documented code.

The failures are real ones, with botocore doing what it does in the field (signing, retrying,
parsing the error): no credentials and an expired SSO session come from the environment; an
unreachable endpoint and a dead proxy are closed ports on 127.0.0.1; expired and invalid tokens,
access denied and throttling come from a local server that answers every request the way AWS
does (its protocols' error bodies); missing resources and a shell set to another region come
from the local AWS emulator with nothing set up.
"""

from __future__ import annotations

import functools
import json
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3
import botocore.session
import pytest
from botocore import exceptions as botocore_errors
from test_cli import _runnable

from {{ cookiecutter.__package }} import cli, config
from {{ cookiecutter.__package }}.aws_failures import explain
from {{ cookiecutter.__package }}.dev import emulator
from {{ cookiecutter.__package }}.errors import ExitCode

ACCOUNT = config.AWS_ACCOUNT_ID
ROLE = config.github_deploy_role("staging")
SESSION_ARN = f"arn:{config.PARTITION}:sts::{ACCOUNT}:assumed-role/{ROLE}/GitHubActions"
COMMIT = "a" * 40  # replaced by the test repository's commit

# Every command that reaches AWS, with the arguments that get it there.
AWS_COMMANDS = {
    "pipeline upsert": ["pipeline", "upsert"],
    "pipeline start": ["pipeline", "start"],
    "retrain": ["retrain", "--commit", COMMIT],
    "registry list": ["registry", "list"],
    "registry latest-approved": ["registry", "latest-approved"],
    "registry approve": ["registry", "approve", "--version", "1", "--reason", "test"],
    "registry reject": ["registry", "reject", "--version", "1", "--reason", "test"],
    "deploy": ["deploy", "--env", "staging", "--poll-seconds", "0.01"],
    "rollback": ["rollback", "--env", "staging", "--poll-seconds", "0.01"],
    "teardown": ["teardown", "--yes"],
    "monitor schedule": ["monitor", "schedule", "--env", "prod"],
    "monitor status": ["monitor", "status", "--env", "prod"],
    "monitor check": ["monitor", "check", "--env", "prod"],
}
# doctor reports every failure on its own check's line (test_doctor_says_each_failure_once).
REPORTS = {"doctor"}
# Commands that never reach AWS: the local steps, the offline definition, the offline story.
OFFLINE = {"run-local", "pipeline definition", "story"}


def test_every_command_is_offline_or_tested_here() -> None:
    commands = {" ".join(words) for words, _ in _runnable(cli.build_parser())}
    assert commands == set(AWS_COMMANDS) | OFFLINE | REPORTS


# ---- a server that fails every request as AWS would -------------------------------------------


def _denial(action: str) -> str:
    return (
        f"User: {SESSION_ARN} is not authorized to perform: {action} on resource: "
        f"arn:{config.PARTITION}:sagemaker:{config.AWS_REGION}:{ACCOUNT}:x because no "
        f"identity-based policy allows the {action} action"
    )


EXPIRED = "The security token included in the request is expired"
INVALID = "The security token included in the request is invalid."
NO_KEY = "The AWS Access Key Id you provided does not exist in our records."
# scenario -> protocol -> (HTTP status, error code, message); "{denial}" is IAM's own wording.
ANSWERS: dict[str, dict[str, tuple[int, str, str]]] = {
    "expired": {
        "json": (400, "ExpiredTokenException", EXPIRED),
        "query": (403, "ExpiredToken", EXPIRED),
        "s3": (400, "ExpiredToken", "The provided token has expired."),
    },
    "invalid": {
        "json": (400, "UnrecognizedClientException", INVALID),
        "query": (403, "InvalidClientTokenId", INVALID),
        "s3": (403, "InvalidAccessKeyId", NO_KEY),
    },
    "denied": {
        "json": (400, "AccessDeniedException", "{denial}"),
        # S3's older wording names nobody: the message then asks STS who the caller is.
        "s3": (403, "AccessDenied", "Access Denied"),
    },
    "throttled": {
        "json": (400, "ThrottlingException", "Rate exceeded"),
        "query": (400, "Throttling", "Rate exceeded"),
        "s3": (503, "SlowDown", "Please reduce your request rate."),
    },
}


class FailingAws:
    """What the local server saw: operations by name."""

    def __init__(self, scenario: str) -> None:
        self.scenario = scenario
        self.calls: Counter[str] = Counter()

    def answer(self, protocol: str, operation: str) -> tuple[int, str, str] | None:
        """The error for one request, or None to answer it (STS GetCallerIdentity)."""
        self.calls[operation] += 1
        if operation == "GetCallerIdentity" and protocol not in ANSWERS[self.scenario]:
            return None
        status, code, message = ANSWERS[self.scenario].get(protocol, ANSWERS[self.scenario]["json"])
        service = "s3" if protocol == "s3" else "sagemaker"
        return status, code, message.replace("{denial}", _denial(f"{service}:{operation}"))


def _handler(aws: FailingAws) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1 answers S3's "Expect: 100-continue" at once (1.0 makes botocore wait 1 s).
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            """Quiet."""

        def _respond(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            target = self.headers.get("X-Amz-Target")
            form = parse_qs(body.decode(errors="replace")) if b"Action=" in body else {}
            if target:
                protocol, operation = "json", target.split(".")[-1]
            elif form:
                protocol, operation = "query", form["Action"][0]
            else:
                protocol, operation = "s3", f"{method} {self.path.split('?')[0]}"
            answer = aws.answer(protocol, operation)
            if answer is None:
                payload = (
                    "<GetCallerIdentityResponse><GetCallerIdentityResult>"
                    f"<Arn>{SESSION_ARN}</Arn><UserId>AROA:GitHubActions</UserId>"
                    f"<Account>{ACCOUNT}</Account></GetCallerIdentityResult>"
                    "</GetCallerIdentityResponse>"
                ).encode()
                self._send(200, payload, "text/xml")
                return
            status, code, message = answer
            if protocol == "json":
                payload = json.dumps({"__type": code, "message": message}).encode()
                self._send(status, payload, "application/x-amz-json-1.1")
            elif protocol == "query":
                payload = (
                    f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                    f"<Message>{message}</Message></Error><RequestId>1</RequestId></ErrorResponse>"
                ).encode()
                self._send(status, payload, "text/xml")
            else:
                payload = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
                self._send(status, b"" if method == "HEAD" else payload, "application/xml")

        def _send(self, status: int, payload: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            self._respond("POST")

        def do_PUT(self) -> None:
            self._respond("PUT")

        def do_GET(self) -> None:
            self._respond("GET")

        def do_HEAD(self) -> None:
            self._respond("HEAD")

    return Handler


@pytest.fixture
def failing_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], FailingAws]]:
    """Start a local server failing every request with a scenario's errors."""
    servers: list[ThreadingHTTPServer] = []

    def start(scenario: str) -> FailingAws:
        aws = FailingAws(scenario)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(aws))
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_port}")
        return aws

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---- running a command as a user would ---------------------------------------------------------


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository with one commit: what `retrain` packages."""
    repo = tmp_path_factory.mktemp("repo")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", str(repo)]
    subprocess.run([*git, "init", "--quiet"], check=True)
    (repo / "README.md").write_text("x\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "x"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    AWS_COMMANDS["retrain"][-1] = head.stdout.strip()
    return repo


@pytest.fixture(autouse=True)
def fresh_aws_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, repository: Path) -> None:
    """No profile or proxy from this machine, no waits between botocore's retries, and the
    commit's repository as the working directory."""
    # botocore's standard retries sleep between attempts: all of them happen, without the wait.
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(repository)


@functools.cache
def _service_models() -> Any:
    """botocore's loader of service models and endpoint data, read from disk once."""
    return boto3.Session()._loader


@pytest.fixture
def new_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """A boto3 session that has not resolved credentials yet (a session caches them).

    It reuses one loader: credentials and configuration are read afresh, while the service
    models, the same files, are not read again (about 0.15 s a client).
    """
    loader = _service_models()
    folders = list(loader.search_paths)
    botocore_session = botocore.session.Session()
    botocore_session.register_component("data_loader", loader)
    session = boto3.Session(botocore_session=botocore_session)
    loader.search_paths[:] = folders  # boto3 adds its own folder again; the loader has it
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", session)


def run(command: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run one command in this process; return its exit code and its one error line."""
    code = cli.main(AWS_COMMANDS[command])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return code, lines[0]


# ---- the failures -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", AWS_COMMANDS)
def test_no_credentials(
    command: str,
    new_session: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    code, line = run(command, capsys)
    assert code == ExitCode.AWS_ACCESS
    assert "no AWS credentials found: sign in" in line


@pytest.mark.parametrize("command", AWS_COMMANDS)
def test_expired_sso_session(
    command: str,
    new_session: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A profile signed in through IAM Identity Center whose cached token is gone or expired."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    profile = tmp_path / "config"
    profile.write_text(
        "[profile dev]\n"
        "sso_start_url = https://example.invalid/start\n"
        "sso_region = us-east-1\n"
        f"sso_account_id = {ACCOUNT}\n"
        "sso_role_name = Developer\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(profile))
    monkeypatch.setenv("AWS_PROFILE", "dev")
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.aws/sso/cache
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    code, line = run(command, capsys)
    assert code == ExitCode.AWS_ACCESS
    assert "SSO session has expired or was never started: run `aws sso login --profile dev`" in line


@pytest.mark.parametrize("command", AWS_COMMANDS)
@pytest.mark.parametrize(
    ("scenario", "code", "says"),
    [
        ("expired", ExitCode.AWS_ACCESS, "the AWS credentials have expired"),
        ("invalid", ExitCode.AWS_ACCESS, "AWS did not accept the credentials"),
        ("denied", ExitCode.AWS_ACCESS, f"access denied: role {ROLE} may not "),
        ("throttled", ExitCode.AWS_UNREACHABLE, "for 5 attempts: wait a minute"),
    ],
)
def test_aws_refuses(
    command: str,
    scenario: str,
    code: ExitCode,
    says: str,
    failing_aws: Callable[[str], FailingAws],
    capsys: pytest.CaptureFixture[str],
) -> None:
    aws = failing_aws(scenario)
    exit_code, line = run(command, capsys)
    assert exit_code == code, line
    assert says in line
    # teardown's first call asks STS whose account this is; the others start with their own.
    first = next((op for op in aws.calls if op != "GetCallerIdentity"), "GetCallerIdentity")
    if scenario == "throttled":
        assert aws.calls[first] == 5, "botocore's standard retries ran out first"
    if scenario == "denied":
        # The action AWS named, or the operation when AWS named none (S3's "Access Denied").
        action = f"sagemaker:{first}" if " " not in first else ("PutObject", "GetObject")
        assert any(name in line for name in ([action] if isinstance(action, str) else action))


@pytest.mark.parametrize("command", AWS_COMMANDS)
def test_unreachable_endpoint(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _closed_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    code, line = run(command, capsys)
    assert code == ExitCode.AWS_UNREACHABLE
    assert f"cannot reach http://127.0.0.1:{port}" in line
    assert "after 5 attempts" in line


@pytest.mark.parametrize("command", AWS_COMMANDS)
def test_dead_proxy(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """AWS's real endpoints through a proxy that is down: nothing leaves 127.0.0.1."""
    port = _closed_port()
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    code, line = run(command, capsys)
    assert code == ExitCode.AWS_UNREACHABLE
    assert f"cannot reach AWS through the proxy http://127.0.0.1:{port}" in line


# What a fresh account lacks first for each command, and what the message says creates it.
MISSING = {
    "pipeline upsert": f"bucket {config.ARTIFACT_BUCKET} does not exist",
    # It looks for the champion in the registry first; the stack creates the group.
    "pipeline start": f"model package group {config.MODEL_PACKAGE_GROUP} does not exist",
    "retrain": f"bucket {config.SOURCE_BUCKET} does not exist",
    "registry list": f"model package group {config.MODEL_PACKAGE_GROUP} does not exist",
    "registry latest-approved": f"model package group {config.MODEL_PACKAGE_GROUP} does not",
    "registry approve": f"model package group {config.MODEL_PACKAGE_GROUP} does not exist",
    "registry reject": f"model package group {config.MODEL_PACKAGE_GROUP} does not exist",
    "deploy": f"model package group {config.MODEL_PACKAGE_GROUP} does not exist",
    "rollback": (
        f"endpoint {config.endpoint_name('staging')} does not exist in {config.AWS_REGION}, so "
        f"there is nothing to roll back: `python -m {config.PACKAGE} deploy --env staging`"
    ),
}


@pytest.fixture
def empty_account(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The local AWS emulator with nothing set up: no stack, no pipeline, no endpoint."""
    with emulator.running() as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        yield url


# teardown of an account where nothing exists succeeds (tests/infra/test_teardown.py).
@pytest.mark.parametrize("command", MISSING)
def test_a_resource_that_does_not_exist_yet(
    command: str, empty_account: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, line = run(command, capsys)
    assert code == ExitCode.NOT_SET_UP, line
    assert MISSING[command] in line
    creator = "deploy --env staging" if command == "rollback" else "creates it"
    assert creator in line


@pytest.mark.parametrize("command", MISSING)
def test_a_shell_set_to_another_region(
    command: str,
    empty_account: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The stack was made elsewhere, or the shell says another region: the line says which."""
    other = "eu-west-1" if config.AWS_REGION != "eu-west-1" else "us-east-1"
    monkeypatch.setenv("AWS_REGION", other)
    monkeypatch.setenv("AWS_DEFAULT_REGION", other)
    code, line = run(command, capsys)
    assert code == ExitCode.NOT_SET_UP, line
    assert f"in {config.AWS_REGION}" in line
    if command not in ("registry list", "registry latest-approved", "registry approve",
                       "registry reject", "deploy", "rollback"):  # fmt: skip
        assert f"AWS_REGION={other} is not used" in line


@pytest.mark.parametrize(
    ("scenario", "says"),
    [
        ("no credentials", "no AWS credentials found: sign in"),
        ("unreachable", "cannot reach http://127.0.0.1:"),
        ("expired", "the AWS credentials have expired"),
        ("throttled", "for 5 attempts: wait a minute"),
    ],
)
def test_doctor_says_each_failure_once(
    scenario: str,
    says: str,
    new_session: None,
    failing_aws: Callable[[str], FailingAws],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """doctor's first check fails with the same one line as any command; the rest wait for it."""
    if scenario in ANSWERS:
        failing_aws(scenario)
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
        if scenario == "no credentials":
            monkeypatch.delenv("AWS_ACCESS_KEY_ID")
            monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code = cli.main(["doctor"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert code == ExitCode.NOT_SET_UP
    first, *rest = captured.out.splitlines()
    assert first.startswith("FAIL  account: "), first
    assert says in first, first
    assert first.endswith("-> then run doctor again")
    assert all(line.startswith("SKIP") for line in rest[:-1]), rest


def test_the_exit_codes_are_the_readmes() -> None:
    readme = (config.REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for code in (ExitCode.NOT_SET_UP, ExitCode.AWS_ACCESS, ExitCode.AWS_UNREACHABLE):
        assert f"\n| {int(code)} | " in readme


def test_a_failure_that_is_not_aws_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 1 means a bug: the CLI does not swallow what it does not recognise."""
    from {{ cookiecutter.__package }}.cli import registry as registry_cli

    def broken(args: object) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(registry_cli, "list_versions", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["registry", "list"])


def _client_error(code: str, message: str, status: int = 400) -> Exception:
    response = {"Error": {"Code": code, "Message": message}}
    response["ResponseMetadata"] = {"HTTPStatusCode": status}
    return botocore_errors.ClientError(response, "CreateEndpoint")


@pytest.mark.parametrize(
    ("make_error", "code", "says"),
    [
        (
            lambda: _client_error("ResourceLimitExceeded", "ml.m5.large for endpoint usage: 0"),
            ExitCode.NOT_SET_UP,
            "an AWS quota is too small for CreateEndpoint",
        ),
        (
            lambda: _client_error("ServiceUnavailable", "try later", 503),
            ExitCode.AWS_UNREACHABLE,
            "AWS failed CreateEndpoint (ServiceUnavailable) on all 5 attempts",
        ),
        (
            lambda: _client_error("ValidationException", "1 validation error detected"),
            ExitCode.USAGE,
            "AWS refused CreateEndpoint as invalid: 1 validation error detected",
        ),
        (
            lambda: botocore_errors.ParamValidationError(
                report="Invalid length for parameter ModelPackageName, value: 0"
            ),
            ExitCode.USAGE,
            "invalid AWS request: Invalid length for parameter ModelPackageName",
        ),
        (
            lambda: botocore_errors.ProfileNotFound(profile="dev"),
            ExitCode.AWS_ACCESS,
            "The config profile (dev) could not be found (AWS_PROFILE)",
        ),
    ],
    ids=["quota", "unavailable", "invalid-request", "invalid-parameter", "no-such-profile"],
)
def test_the_rest_of_the_failure_table(make_error: Callable, code: ExitCode, says: str) -> None:
    failure = explain(make_error())
    assert failure is not None
    assert failure.code == code
    assert says in str(failure)
    assert "\n" not in str(failure)


def test_a_failure_wrapped_by_a_library_is_still_explained() -> None:
    try:
        try:
            raise _client_error("ExpiredTokenException", "expired")
        except Exception as inner:
            raise RuntimeError("the SDK's own wrapper") from inner
    except RuntimeError as outer:
        failure = explain(outer)
    assert failure is not None
    assert failure.code == ExitCode.AWS_ACCESS


def test_an_unknown_aws_error_is_not_explained_away() -> None:
    assert explain(_client_error("SomethingNew", "never seen before")) is None
