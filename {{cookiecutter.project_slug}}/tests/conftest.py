"""Fixtures for every test: fake AWS credentials, and no network except 127.0.0.1."""

import functools
import ipaddress
import socket
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.client
import botocore.loaders
import botocore.session
import pytest
from request_validation import enforced

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.infra import github_checks

# The scikit-learn image's request handler pins Flask 1.1.1 and Werkzeug 2.0.3, which cannot
# install beside moto: `make test-compat` runs this file in the image's versions, without this
# conftest (--noconftest). Here it is left out, not skipped: it would fail on import.
collect_ignore = ["steps/test_serving_stack.py"]

_real_connect = socket.socket.connect


def _loopback_only(sock: socket.socket, address) -> None:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = host == "localhost"
        if not allowed:
            raise ConnectionRefusedError(f"tests may only connect to 127.0.0.1, not {host}")
    _real_connect(sock, address)


@pytest.fixture(autouse=True)
def offline_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials and region, no profile, sockets limited to loopback, and deployment
    timelines drawn in the test's own folder."""
    monkeypatch.setattr(config, "DEPLOY_TIMELINES", tmp_path / "timelines")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", config.AWS_REGION)
    monkeypatch.setenv("AWS_REGION", config.AWS_REGION)
    # No instance-metadata lookups for credentials or region.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    # doctor's GitHub side asks gh, which would reach GitHub: in tests there is no gh.
    monkeypatch.setattr(github_checks, "GH", "gh-is-not-run-by-tests")


@pytest.fixture(autouse=True, scope="session")
def one_service_model_loader() -> Iterator[None]:
    """Every botocore session of the run reads AWS's service models through one loader, and
    builds each service's client class once.

    moto's mock_aws, the SDK and the commands start new sessions, and each new session would
    parse the models' JSON again (SageMaker's alone is 2.6 MB): 144 s of this suite became 134 s.
    The suite then makes about 1,450 clients in some 70 sessions, and botocore builds a new class
    for each (a method per operation, about 5 ms for SageMaker's). A class depends only on the
    service model and the session's `creating-client-class` handlers, which a session registers
    when it starts, so a session's classes are kept per service. Both patches go through
    MonkeyPatch.setattr, which raises if botocore renames what they replace."""
    build = botocore.client.ClientCreator._create_client_class
    classes: weakref.WeakKeyDictionary[Any, dict[str, type]] = weakref.WeakKeyDictionary()

    def one_class_per_session(creator: Any, service_name: str, service_model: Any) -> type:
        per_session = classes.setdefault(creator._event_emitter, {})
        key = f"{service_name}/{service_model.api_version}"
        if key not in per_session:
            per_session[key] = build(creator, service_name, service_model)
        return per_session[key]

    with pytest.MonkeyPatch.context() as patch:
        shared = functools.cache(botocore.loaders.create_loader)
        patch.setattr(botocore.session, "create_loader", shared)
        patch.setattr(botocore.client.ClientCreator, "_create_client_class", one_class_per_session)
        yield


@pytest.fixture(autouse=True)
def strict_aws_contract() -> Iterator[None]:
    """Every boto3 request in every test is checked against botocore's model
    (request_validation.py)."""
    with enforced():
        yield


@pytest.fixture
def seeded_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The local AWS emulator seeded as the stack would (buckets, model package group, alarms,
    role), with short traffic shifts; its URL, which every client in the test uses."""
    # Imported here: the emulator brings moto (about 0.4 s), which most tests never need.
    from {{ cookiecutter.__package }}.dev import emulator

    with emulator.running(shift_seconds=0.2, rollback_seconds=0.1) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        emulator.seed(url)
        yield url
