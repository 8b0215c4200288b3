"""A strict check of every boto3 request against botocore's service model.

botocore validates required members and types before it sends a request, and Stubber checks
that a request matches the expected parameters, but neither checks enum values, numeric ranges
or string patterns: a request that AWS would reject with a ValidationException passes both.
This validator walks the request against the operation's input shape and fails the test on
anything AWS would refuse. conftest.py applies it to every client created during the tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
from collections.abc import Iterator
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape


class ContractError(AssertionError):
    """A request that AWS would reject for its parameters."""


def validate(operation: OperationModel, params: dict[str, Any]) -> None:
    """Raise ContractError listing every way `params` break the operation's input model."""
    problems: list[str] = []
    if operation.input_shape is not None:
        # botocore fills idempotency tokens (a UUID, 36 characters) after this check runs.
        tokens = {n: "0" * 36 for n in operation.idempotent_members if n not in params}
        _check(operation.input_shape, {**params, **tokens}, operation.name, problems)
    if problems:
        raise ContractError(f"{operation.service_model.service_name}: " + "; ".join(problems))


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a structure, got {type(value).__name__}")
            return
        for name in shape.required_members:
            if name not in value:
                problems.append(f"{path}.{name}: required")
        for name, item in value.items():
            if name not in shape.members:
                problems.append(f"{path}.{name}: unknown parameter")
            else:
                _check(shape.members[name], item, f"{path}.{name}", problems)
    elif isinstance(shape, ListShape):
        if not isinstance(value, list | tuple):
            problems.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        _length(meta, len(value), path, problems)
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}[{index}]", problems)
    elif isinstance(shape, MapShape):
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a map, got {type(value).__name__}")
            return
        _length(meta, len(value), path, problems)
        for key, item in value.items():
            _check(shape.key, key, f"{path} key {key!r}", problems)
            _check(shape.value, item, f"{path}[{key!r}]", problems)
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {type(value).__name__}")
            return
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.enum}")
        _length(meta, len(value), path, problems)
        pattern = _pattern(meta.get("pattern"))
        # SageMaker applies its patterns to the whole value (a name with "_" is refused).
        if pattern is not None and not pattern.fullmatch(value):
            problems.append(f"{path}: {value!r} does not match {meta['pattern']!r}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer, got {type(value).__name__}")
            return
        _range(meta, value, path, problems)
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{path}: expected a number, got {type(value).__name__}")
            return
        _range(meta, value, path, problems)
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean, got {type(value).__name__}")
    elif kind == "blob":
        if not isinstance(value, bytes | bytearray | str) and not hasattr(value, "read"):
            problems.append(f"{path}: expected bytes or a file, got {type(value).__name__}")
        elif isinstance(value, bytes | bytearray | str):
            _length(meta, len(value), path, problems)
    elif kind == "timestamp" and not isinstance(value, dt.datetime | str | int | float):
        problems.append(f"{path}: expected a timestamp, got {type(value).__name__}")


def _length(meta: dict[str, Any], length: int, path: str, problems: list[str]) -> None:
    if "min" in meta and length < meta["min"]:
        problems.append(f"{path}: length {length} is below the minimum {meta['min']}")
    if "max" in meta and length > meta["max"]:
        problems.append(f"{path}: length {length} is above the maximum {meta['max']}")


def _range(meta: dict[str, Any], value: float, path: str, problems: list[str]) -> None:
    if "min" in meta and value < meta["min"]:
        problems.append(f"{path}: {value} is below the minimum {meta['min']}")
    if "max" in meta and value > meta["max"]:
        problems.append(f"{path}: {value} is above the maximum {meta['max']}")


@functools.cache
def _pattern(source: str | None) -> re.Pattern[str] | None:
    # AWS patterns are Java regular expressions; the few that Python cannot compile (\p{...}
    # classes) are skipped rather than approximated.
    if not source:
        return None
    try:
        return re.compile(source)
    except re.error:
        return None


def _on_request(params: dict[str, Any], model: OperationModel, **_: Any) -> None:
    validate(model, params)


_ORIGINAL_CREATE_CLIENT = botocore.session.Session.create_client


def _checked_create_client(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
    client = _ORIGINAL_CREATE_CLIENT(self, *args, **kwargs)
    # provide-client-params is the first event of every call: before botocore's own validation
    # and before a Stubber looks at the call, so stubbed and emulated calls are checked alike.
    client.meta.events.register("provide-client-params", _on_request)
    return client


@contextlib.contextmanager
def _create_client(replacement: Any) -> Iterator[None]:
    previous = botocore.session.Session.create_client
    botocore.session.Session.create_client = replacement  # type: ignore[method-assign]
    try:
        yield
    finally:
        botocore.session.Session.create_client = previous  # type: ignore[method-assign]


def enforced() -> contextlib.AbstractContextManager[None]:
    """Validate the requests of every client created (in any session) inside the block."""
    return _create_client(_checked_create_client)


def unchecked() -> contextlib.AbstractContextManager[None]:
    """Create plain clients inside the block (to show what the check adds)."""
    return _create_client(_ORIGINAL_CREATE_CLIENT)
