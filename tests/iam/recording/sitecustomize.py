"""Records every AWS request a Python process makes, for the IAM check (tests/test_iam.py).

The template's harness puts this folder first on PYTHONPATH while the baked repository's test
suite or story runs, so Python imports it at startup in that process and in every Python process
it starts. It needs only the standard library and botocore, and changes nothing a request does:
each request becomes one JSON line in IAM_RECORD_DIR/<pid>.jsonl, with the command-line
invocation (if any) that made it. A failure to record is itself recorded, so that the check
fails instead of missing a request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

RECORD_DIR = os.environ.get("IAM_RECORD_DIR")
# src/<package> of the baked repository: frames in it are the product's code.
SOURCE = os.environ.get("IAM_RECORD_SOURCE", "")
# Long values (a pipeline definition, a request body) are cut: no rule needs their whole text.
MAX_TEXT = 512


def _simple(value: Any) -> Any:
    """The value as JSON can hold it, long texts and bodies cut short."""
    if isinstance(value, dict):
        return {str(k): _simple(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_simple(v) for v in value]
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    return f"<{type(value).__name__}>"


def _invocation(frame: Any) -> dict[str, Any] | None:
    """The product's command-line invocation running in this stack (its argv), and the
    product frame nearest to the request; None when no product code is on the stack."""
    cli = os.path.join(SOURCE, "cli", "__init__.py")
    caller = None
    while frame is not None:
        filename = frame.f_code.co_filename
        if SOURCE and filename.startswith(SOURCE + os.sep):
            if caller is None:
                caller = f"{os.path.relpath(filename, os.path.dirname(SOURCE))}:{frame.f_lineno}"
            if filename == cli and frame.f_code.co_name == "main" and "args" in frame.f_locals:
                argv = frame.f_locals.get("argv")
                return {
                    "argv": [str(a) for a in (sys.argv[1:] if argv is None else argv)],
                    "invocation_id": _invocation_id(frame.f_locals["args"]),
                    "caller": caller,
                }
        frame = frame.f_back
    return {"argv": None, "invocation_id": None, "caller": caller} if caller else None


# One id per run of the command line's main(): keyed by its parsed arguments, which are kept
# alive here so that no later run can reuse their id(); a process's prefix is random, as pids
# are reused.
_INVOCATIONS: dict[int, tuple[Any, str]] = {}
_PROCESS = uuid.uuid4().hex[:12]


def _invocation_id(args: Any) -> str:
    kept = _INVOCATIONS.get(id(args))
    if kept is None:
        kept = _INVOCATIONS[id(args)] = (args, f"{_PROCESS}-{len(_INVOCATIONS) + 1}")
    return kept[1]


def _context() -> dict[str, Any] | None:
    """This thread's invocation, else the one its thread was started from (s3transfer uploads
    in worker threads)."""
    found = _invocation(sys._getframe(2))
    if found is None or found["argv"] is None:
        inherited = getattr(threading.current_thread(), "_iam_invocation", None)
        if inherited is not None:
            return inherited
    return found


_original_thread_init = threading.Thread.__init__


def _thread_init(self: threading.Thread, *args: Any, **kwargs: Any) -> None:
    _original_thread_init(self, *args, **kwargs)
    # A worker may start further workers (s3transfer's submission task does): they inherit.
    here = _invocation(sys._getframe(1))
    if here is None or here["argv"] is None:
        here = getattr(threading.current_thread(), "_iam_invocation", None) or here
    self._iam_invocation = here  # type: ignore[attr-defined]


def _write(record: dict[str, Any]) -> None:
    path = Path(RECORD_DIR or ".") / f"{os.getpid()}.jsonl"
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


def _on_request(params: dict[str, Any], model: Any, client_info: dict[str, Any], **_: Any) -> None:
    try:
        invocation = _context() or {"argv": None, "invocation_id": None, "caller": None}
        _write(
            {
                "service": model.service_model.service_name,
                "signing_name": model.service_model.signing_name,
                "operation": model.name,
                "params": _simple(params),
                **client_info,
                **invocation,
                "test": os.environ.get("PYTEST_CURRENT_TEST"),
                "pid": os.getpid(),
            }
        )
    except Exception as error:  # recorded, so that the check fails on it
        _write({"recorder_error": f"{type(error).__name__}: {error}"})


def _install() -> None:
    import botocore.session

    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        info = {
            "region": client.meta.region_name,
            "user_agent_extra": client.meta.config.user_agent_extra or "",
        }

        def on_request(**kwargs: Any) -> None:
            _on_request(client_info=info, **kwargs)

        client.meta.events.register("before-parameter-build", on_request)
        return client

    botocore.session.Session.create_client = create_client
    threading.Thread.__init__ = _thread_init  # type: ignore[method-assign]


if RECORD_DIR:
    # A Python without botocore (a tool's own environment) makes no AWS request.
    with contextlib.suppress(ImportError):
        _install()
