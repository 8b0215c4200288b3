"""A Python script as its own local process, forked from an interpreter kept warm.

`run-local` runs the pipeline's step scripts this way, and so does the local emulator's pipeline
executor. Every step script starts by importing pandas, scikit-learn and matplotlib, one to two
seconds each time. So the scripts run in processes forked from one interpreter that has imported
those libraries already (multiprocessing's forkserver, with its documented preload list): each
job still gets its own process, its own environment, working directory, arguments, stdout and
stderr, and its exit status, and runs the script file as `python3 script.py` would
(`runpy.run_path` as `__main__`). One difference: exit handlers (`atexit`) a script registers do
not run. Where forkserver does not exist (Windows), the script runs in a fresh interpreter
instead: slower, same result. As with any use of multiprocessing, a plain script that runs jobs
needs `if __name__ == "__main__":` around its work, because each job imports the main script first
(`python -m` and pytest are fine as they are).
"""

from __future__ import annotations

import ast
import multiprocessing
import multiprocessing.connection
import os
import runpy
import subprocess
import sys
import threading
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

# What the step scripts import, and what those libraries import when first used (the Parquet
# reader and writer, the model's column transformers, the PNG writer): imported once in the warm
# interpreter. A script that imports anything else imports it itself, as in its container.
PRELOAD = [
    "numpy",
    "pandas",
    "pyarrow.parquet",
    "pyarrow.dataset",
    "joblib",
    "sklearn.compose",
    "sklearn.impute",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "matplotlib.pyplot",
    "matplotlib.backends.backend_agg",
    "PIL.Image",
    __name__,
]
# multiprocessing runs a `python -m module` main module again in each job, and runpy warns when
# the warm interpreter has imported it already (_main_imports preloads it, to make that free).
warnings.filterwarnings(
    "ignore", r".* found in sys\.modules after import of package", RuntimeWarning, "runpy"
)
# A job's processes see the environment it is given plus these. The emulator gives its jobs the
# container's variables alone, never the developer's credentials; run-local gives its steps its
# whole environment, as a shell would.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
_START_METHOD = "forkserver"
_lock = threading.Lock()
# Jobs start and end in several threads at once, and CPython lets two threads read one forkserver
# child's exit status: Process.start() polls every child not yet joined (process._cleanup), and
# the thread that reads second records 255 for a job that exited 0 (python/cpython#130895; its
# fix, python/cpython#131440, is unmerged). So starting a process and reading its status take
# this lock; waiting for its end does not.
_reaping = threading.Lock()
_context: multiprocessing.context.BaseContext | None = None


def _warm_context() -> multiprocessing.context.BaseContext | None:
    global _context  # one warm interpreter per process, made on first use
    if not warm():
        return None
    with _lock:
        if _context is None:
            context = multiprocessing.get_context(_START_METHOD)
            # The warm interpreter imports matplotlib with this process's environment: draw to
            # files (no display), as in the containers, never to a window from a forked process.
            os.environ.setdefault("MPLBACKEND", "Agg")
            context.set_forkserver_preload([*PRELOAD, *_main_imports()])
            _context = context
        return _context


def _main_imports() -> list[str]:
    """What the warm interpreter imports so that a job's run of the main module costs nothing.

    multiprocessing runs the main module again in each job, as `__mp_main__` (not a package's
    `__main__`), before the job's own work. A `python -m module` main is preloaded by name. A
    script cannot be: forkserver's `"__main__"` preload entry never received the script's path
    on Python 3.11 and 3.12 (python/cpython#126631, python/cpython#137996), so each job runs the
    script and imports what it imports. For pytest's console script that was pytest itself,
    0.2 CPU-seconds a job and a fifth of `make test`'s time. The modules the script imports
    at its top level, and this process has imported already, are preloaded instead: the job
    then runs only the script's own lines."""
    main = sys.modules["__main__"]
    name = getattr(main.__spec__, "name", None)
    if name:
        return [] if name.endswith("__main__") else [name]
    path = getattr(main, "__file__", None)
    if not path:  # python -c, an interactive session
        return []
    try:
        body = ast.parse(Path(path).read_bytes()).body
    except (OSError, SyntaxError, ValueError):
        return []
    imported: list[str] = []
    for node in body:
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.append(node.module)
    return [module for module in imported if module in sys.modules]


def warm() -> bool:
    """Whether jobs fork from a warm interpreter here (else each starts a fresh one)."""
    return _START_METHOD in multiprocessing.get_all_start_methods()


def warm_up(*, wait: bool = False) -> None:
    """Start the warm interpreter now: in the background, so the first job does not wait, or
    (`wait`) before returning, so that no job's time includes the libraries' import."""
    context = _warm_context()
    if context is None:
        return
    if wait:
        _start_and_join(context)
    else:
        threading.Thread(target=_start_and_join, args=(context,), daemon=True).start()


def _start_and_join(context: multiprocessing.context.BaseContext) -> None:
    process = context.Process(target=_nothing)  # type: ignore[attr-defined]
    _start(process)
    _exit_status_after(process, None)


def _nothing() -> None:
    """The warm-up job: starting it is what imports the libraries."""


def job_environment(env: dict[str, str]) -> dict[str, str]:
    """The environment a job's process sees: the job's variables and a few of the machine's."""
    return {**{k: os.environ[k] for k in INHERITED if k in os.environ}, **env}


@dataclass(frozen=True)
class Finished:
    """How a job ended."""

    status: int | None  # its exit status; None: stopped at its timeout
    # The largest resident memory its process reached (the libraries it forked with included,
    # as a fresh interpreter would hold them); None where it is not known (a fresh interpreter,
    # a job killed before it could say).
    peak_bytes: int | None = None


def run_python(
    script: Path,
    args: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    stdout: Path,
    stderr: Path,
    timeout: float | None = None,
) -> Finished:
    """Run `python3 script args` as its own process, up to `timeout` seconds; how it ended."""
    context = _warm_context()
    if context is None:
        return Finished(_run_fresh(script, args, env, cwd, (stdout, stderr), timeout))
    # The process changes directory before it opens its logs: every path is absolute.
    paths = [str(path.resolve()) for path in (script, cwd, stdout, stderr)]
    # The job's own account of its memory. A forked job is the warm interpreter's child, not
    # this process's, so this process's resource.getrusage(RUSAGE_CHILDREN) never counts it.
    usage, report = context.Pipe(duplex=False)  # type: ignore[attr-defined]
    process = context.Process(  # type: ignore[attr-defined]
        target=_run_script, args=(paths[0], args, env, *paths[1:], report)
    )
    with usage:
        with report:
            _start(process)
        status = _exit_status_after(process, timeout)
        if status is None:
            process.kill()
            _exit_status_after(process, None)
            return Finished(None)
        return Finished(status, _received(usage))


def _received(usage: multiprocessing.connection.Connection) -> int | None:
    """What the job sent before it ended; None if it ended without a word (os._exit)."""
    try:
        return usage.recv() if usage.poll() else None
    except EOFError:
        return None


def _start(process: multiprocessing.process.BaseProcess) -> None:
    with _reaping:
        process.start()


def _exit_status_after(
    process: multiprocessing.process.BaseProcess, timeout: float | None
) -> int | None:
    """Wait up to `timeout` seconds (None: for ever); the exit status, or None if it runs on."""
    multiprocessing.connection.wait([process.sentinel], timeout)
    with _reaping:
        process.join(0)
        return process.exitcode


def _run_fresh(
    script: Path,
    args: list[str],
    env: dict[str, str],
    cwd: Path,
    logs: tuple[Path, Path],
    timeout: float | None,
) -> int | None:
    with logs[0].open("wb") as out, logs[1].open("wb") as err:
        try:
            return subprocess.run(  # noqa: S603 - the job's own script, on this interpreter
                [sys.executable, str(script), *args],
                env=job_environment(env),
                cwd=cwd,
                stdout=out,
                stderr=err,
                timeout=timeout,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            return None


def _run_script(
    script: str,
    args: list[str],
    env: dict[str, str],
    cwd: str,
    stdout: str,
    stderr: str,
    report: multiprocessing.connection.Connection,
) -> None:
    """In the forked process: become `python3 script args` and exit with its status."""
    os.environ.clear()
    os.environ.update(job_environment(env))
    os.chdir(cwd)
    for fd, path in ((1, stdout), (2, stderr)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    sys.argv = [script, *args]
    # `python3 script.py` puts the script's directory first on the path.
    sys.path.insert(0, os.path.dirname(script))
    code = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exit_:
        code = _exit_status(exit_.code)
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    report.send(_peak_bytes())
    sys.exit(code)


def _peak_bytes() -> int:
    import resource  # POSIX only, as forkserver is

    # Linux reports kilobytes, macOS bytes.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
