"""`doctor`'s engine: named read-only checks, each printing PASS, FAIL or SKIP with what to do.

A check is a function of a Context that yields Results, one line each. `run` runs the checks in
order; an AWS error inside one becomes that check's FAIL line and the others still run; a check
whose prerequisite failed is skipped, saying which. The AWS account's checks are in
aws_checks.py; checks of other systems (GitHub's side of the setup) plug in as more Check entries
in the tuple `run` is given, and may read what the AWS checks found from `Context.facts`
("outputs": the stack's outputs, once the "stack" check has run).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError

from {{ cookiecutter.__package }} import aws, aws_failures

# Error codes with which AWS refuses the caller rather than the request.
# Refusals of a read this check needs; bad or expired credentials are said as every command
# says them (aws_failures).
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


class Status(enum.Enum):
    """How one check came out."""

    PASS = enum.auto()
    FAIL = enum.auto()
    SKIP = enum.auto()  # not checked: a check it needs did not pass, or a tool is missing


@dataclass(frozen=True)
class Result:
    """One line of the report: what was checked, what was found, and what to do about it."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def line(self) -> str:
        """The report line: `FAIL  name: detail -> fix`."""
        text = f"{self.status.name}  {self.name}: {self.detail}"
        return f"{text} -> {self.fix}" if self.fix and self.status is not Status.PASS else text


def passed(name: str, detail: str) -> Result:
    """A check that found what the flow needs."""
    return Result(name, Status.PASS, detail)


def failed(name: str, detail: str, fix: str) -> Result:
    """A check that found something missing or wrong, and the fix."""
    return Result(name, Status.FAIL, detail, fix)


class Context:
    """What the checks share: lazily made AWS clients, and facts one check leaves for the next."""

    def __init__(self, client: Callable[[str], Any] = aws.client) -> None:
        self._make_client = client
        self._clients: dict[str, Any] = {}
        self.facts: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        """One client per service for the whole run."""
        if service not in self._clients:
            self._clients[service] = self._make_client(service)
        return self._clients[service]


@dataclass(frozen=True)
class Check:
    """A named check, and the names of the checks that must pass before it means anything."""

    name: str
    run: Callable[[Context], Iterable[Result]]
    requires: tuple[str, ...] = field(default=())


def run(
    checks: Sequence[Check], context: Context, echo: Callable[[str], None] = print
) -> list[Result]:
    """Run every check in order, print each line as it comes, and return all the results."""
    results: list[Result] = []
    not_passed: set[str] = set()
    for check in checks:
        blocked = [name for name in check.requires if name in not_passed]
        if blocked:
            found = [
                Result(check.name, Status.SKIP, f"not checked: {', '.join(blocked)} did not pass")
            ]
        else:
            found = []
            try:
                for result in check.run(context):
                    found.append(result)
            except (aws.ClientError, BotoCoreError) as error:
                found.append(failed(check.name, *_explain(error)))
        if any(result.status is not Status.PASS for result in found):
            not_passed.add(check.name)
        for result in found:
            echo(result.line())
        results.extend(found)
    return results


def error_code(error: aws.ClientError) -> str:
    """The AWS error code of a failed call."""
    return error.response.get("Error", {}).get("Code", "")


def _explain(error: aws.ClientError | BotoCoreError) -> tuple[str, str]:
    """(detail, fix) for an AWS error the check did not expect."""
    if isinstance(error, aws.ClientError) and error_code(error) in DENIED:
        message = error.response.get("Error", {}).get("Message", "")
        return (
            f"{error.operation_name} answered {error_code(error)}: {message}",
            f"doctor only reads: let these credentials call {error.operation_name}",
        )
    # Credentials, network, throttling: the same one line every command gives (aws_failures).
    explained = aws_failures.explain(error)
    if explained is not None:
        return str(explained), "then run doctor again"
    if isinstance(error, aws.ClientError):
        message = error.response.get("Error", {}).get("Message", "")
        return f"{error.operation_name} answered {error_code(error) or 'Unknown'}: {message}", (
            "see the error; then run doctor again"
        )
    return str(error), "see the error; then run doctor again"
