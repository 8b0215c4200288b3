"""What the GitHub setup scripts share: GitHub's REST API through the gh CLI, and their exit.

Standard library only: the scripts run before any environment exists. Imported by its
neighbours (`python3 infra/SCRIPT.py` puts this folder first on sys.path).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterable
from typing import Any


class Refused(Exception):
    """What GitHub or the arguments refused; printed as one line."""


def gh_api(path: str, method: str = "GET", body: dict[str, Any] | None = None) -> Any:
    """One call of GitHub's REST API through the gh CLI; the JSON answer (None when empty)."""
    call = ["gh", "api", *_method(method), path]
    result = subprocess.run(  # noqa: S603 - a fixed argv; the path is built from validated names
        [*call, *(["--input", "-"] if body is not None else [])],
        input=json.dumps(body) if body is not None else None,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise Refused(f"{' '.join(call)} failed: {reason}")
    return json.loads(result.stdout) if result.stdout.strip() else None


def _method(method: str) -> list[str]:
    """gh's method option; none for GET, its default."""
    return [] if method == "GET" else ["-X", method]


def report(lines: Callable[[], Iterable[str]]) -> int:
    """Print each line `lines` yields and exit 0, or its refusal as one error line, exit 2."""
    try:
        for line in lines():
            print(line)
    except Refused as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
