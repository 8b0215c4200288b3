"""The requests recorded while a bake's suite or story ran (recording/sitecustomize.py)."""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RECORDER = Path(__file__).parent / "recording"
# The SageMaker execution role's own calls, made for it by the offline pipeline executor, carry
# this mark in their user agent (botocore Config user_agent_extra).
ON_BEHALF_OF = re.compile(r"on-behalf-of/([\w+=,.@-]+)")


@dataclass(frozen=True)
class Invocation:
    """A command of the package's command line, as its argv names it."""

    command: tuple[str, ...]
    env: str | None

    def __str__(self) -> str:
        return " ".join(self.command) + (f" --env {self.env}" if self.env else "")


def invocation_of(words: list[str]) -> Invocation:
    """The command words (`registry approve`) and the --env value of a command line."""
    command: list[str] = []
    for word in words:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", word):
            break
        command.append(word)
    env = None
    for index, word in enumerate(words):
        if word == "--env" and index + 1 < len(words):
            env = words[index + 1]
        elif word.startswith("--env="):
            env = word.split("=", 1)[1]
    return Invocation(tuple(command), env)


@dataclass(frozen=True)
class Request:
    """One recorded AWS request and where it came from."""

    service: str
    operation: str
    params: dict[str, Any]
    region: str
    user_agent_extra: str = ""
    argv: tuple[str, ...] | None = None
    invocation_id: str | None = None
    caller: str | None = None
    test: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def invocation(self) -> Invocation | None:
        return None if self.argv is None else invocation_of(list(self.argv))

    @property
    def on_behalf_of(self) -> str | None:
        """The role name a service acts as, for the requests it makes on its own."""
        found = ON_BEHALF_OF.search(self.user_agent_extra)
        return found.group(1) if found else None

    def describe(self) -> str:
        """One line naming the request, the command that made it, and the test that ran it."""
        where = f"`{shlex.join(self.argv)}`" if self.argv is not None else "no command"
        origin = f" ({self.caller})" if self.caller else ""
        test = f" in {self.test.removesuffix(' (call)')}" if self.test else ""
        return f"{self.service} {self.operation} by {where}{origin}{test}"


class RecorderError(AssertionError):
    """The recorder could not record a request: the check would miss it."""


def load(directories: list[Path]) -> list[Request]:
    """Every request recorded in these directories, in recording order per process."""
    requests = []
    for directory in directories:
        for path in sorted(directory.glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                data = json.loads(line)
                if "recorder_error" in data:
                    raise RecorderError(f"{path.name}: {data['recorder_error']}")
                requests.append(
                    Request(
                        service=data["service"],
                        operation=data["operation"],
                        params=data["params"],
                        region=data["region"],
                        user_agent_extra=data.get("user_agent_extra", ""),
                        argv=None if data["argv"] is None else tuple(data["argv"]),
                        invocation_id=data["invocation_id"],
                        caller=data["caller"],
                        test=data["test"],
                    )
                )
    return requests


def environment(record_dir: Path, package_source: Path) -> dict[str, str]:
    """What a process needs in its environment to record its requests into record_dir."""
    record_dir.mkdir(parents=True, exist_ok=True)
    return {
        "IAM_RECORD_DIR": str(record_dir),
        "IAM_RECORD_SOURCE": str(package_source),
    }


def pythonpath(*first: Path) -> str:
    """PYTHONPATH with these entries, then the recorder (whose sitecustomize Python imports)."""
    return os.pathsep.join([*(str(p) for p in first), str(RECORDER)])
