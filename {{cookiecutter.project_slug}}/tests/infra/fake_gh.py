"""A stand-in `gh` on PATH for the scripts that ask GitHub's REST API (`gh api ...`).

It answers each call from a table keyed by method and path ("GET repos/o/r"; "PUT ... +reviewers"
when the body names reviewers), answers what the table lacks with `otherwise`, fails as gh fails
for an answer {"error": message}, and records every call as [method, path, body], so a test
sees the exact requests a real repository would get.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

NOT_FOUND = {"error": "gh: Not Found (HTTP 404)"}
SCRIPT = """
import json, os, sys
args = sys.argv[1:]
method = args[args.index("-X") + 1] if "-X" in args else "GET"
path = [a for a in args[1:] if not a.startswith("-") and a != method][0]
body = json.loads(sys.stdin.read()) if "--input" in args else None
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps([method, path, body]) + "\\n")
table = json.loads(os.environ["FAKE_GH_RESPONSES"])
key = f"{method} {path}" + (" +reviewers" if body and "reviewers" in body else "")
answer = table["responses"].get(key, table["otherwise"])
if isinstance(answer, dict) and "error" in answer:
    print(answer["error"], file=sys.stderr)
    sys.exit(1)
print(json.dumps(answer))
"""


def run(
    tmp_path: Path,
    argv: list[str],
    responses: dict[str, Any] | None,
    otherwise: Any = NOT_FOUND,
) -> tuple[subprocess.CompletedProcess, list[list[Any]]]:
    """Run `argv` with the stand-in gh on PATH (no gh at all when responses is None); its result
    and gh's calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if responses is not None:
        gh = bin_dir / "gh"
        gh.write_text(f"#!{sys.executable}" + SCRIPT, encoding="utf-8")
        gh.chmod(0o755)
    log = tmp_path / "gh.log"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin",
        "FAKE_GH_RESPONSES": json.dumps({"responses": responses or {}, "otherwise": otherwise}),
        "FAKE_GH_LOG": str(log),
    }
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, calls
