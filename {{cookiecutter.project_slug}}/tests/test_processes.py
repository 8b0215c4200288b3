"""Jobs as processes forked from the warm interpreter: each one's own exit status, always, and
its own peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from {{ cookiecutter.__package }} import processes

# Naps the seconds it is given (none: jobs end while other threads start theirs), then exits
# with the status it is given.
EXITER = """\
import sys, time
time.sleep(float(sys.argv[2]))
sys.exit(int(sys.argv[1]))
"""


def test_jobs_started_and_ended_in_several_threads_each_get_their_own_exit_status(
    tmp_path: Path,
) -> None:
    """The executor runs independent steps from several threads. Unguarded, a job that another
    thread's start polls as it ends is recorded as exiting 255 (python/cpython#130895), which
    failed a step that had succeeded; 6 to 10 of these 60 jobs did here without the lock."""
    script = tmp_path / "exiter.py"
    script.write_text(EXITER)

    def job(index: int) -> tuple[int, int | None]:
        wanted = index % 3
        logs = tmp_path / str(index)
        logs.mkdir()
        code = processes.run_python(
            script,
            [str(wanted), "0"],
            env={},
            cwd=logs,
            stdout=logs / "out",
            stderr=logs / "err",
        )
        return wanted, code.status

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(job, range(60)))
    wrong = [(wanted, code) for wanted, code in results if code != wanted]
    assert not wrong, f"{len(wrong)} of {len(results)} jobs got another status: {wrong[:5]}"


def test_a_job_past_its_timeout_is_killed_and_has_no_status(tmp_path: Path) -> None:
    script = tmp_path / "exiter.py"
    script.write_text(EXITER)
    code = processes.run_python(
        script,
        ["0", "30"],
        env={},
        cwd=tmp_path,
        stdout=tmp_path / "out",
        stderr=tmp_path / "err",
        timeout=0.5,
    )
    assert code == processes.Finished(None)


# Holds the MiB it is given, written so that each page is resident, then ends as it is told.
HOLDER = """\
import os, sys
held = b"x" * (int(sys.argv[1]) * 2**20)
if sys.argv[2] == "os._exit":
    os._exit(0)
"""


def _held(tmp_path: Path, mib: int, end: str = "return") -> processes.Finished:
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    logs = tmp_path / f"{mib}-{end}"
    logs.mkdir()
    return processes.run_python(
        script, [str(mib), end], env={}, cwd=logs, stdout=logs / "out", stderr=logs / "err"
    )


@pytest.mark.skipif(not processes.warm(), reason="no forkserver here: jobs run fresh")
def test_each_job_reports_its_own_peak_memory(tmp_path: Path) -> None:
    """A forked job is not this process's child, so `make benchmark` asks the job itself."""
    small, large = _held(tmp_path, 1), _held(tmp_path, 200)
    assert (small.status, large.status) == (0, 0)
    assert small.peak_bytes is not None
    assert large.peak_bytes is not None
    assert 190 * 2**20 < large.peak_bytes - small.peak_bytes < 230 * 2**20


def test_a_job_that_ends_without_a_word_still_has_its_status(tmp_path: Path) -> None:
    assert _held(tmp_path, 1, "os._exit") == processes.Finished(0)


# A main script run as `python main.py`, as pytest's console script is: it imports a module that
# notes each interpreter that imports it, then runs three jobs.
MAIN_SCRIPT = """\
import sys
from pathlib import Path

import noted

from {{ cookiecutter.__package }} import processes

if __name__ == "__main__":
    processes.PRELOAD[:] = [processes.__name__]  # the libraries are not what this is about
    folder = Path(sys.argv[1])
    for index in range(3):
        processes.run_python(
            folder / "exiter.py", ["0", "0"], env={}, cwd=folder,
            stdout=folder / f"{index}.out", stderr=folder / f"{index}.err",
        )
"""


@pytest.mark.skipif(not processes.warm(), reason="no forkserver here: jobs run fresh")
def test_a_main_scripts_imports_are_made_once_not_in_every_job(tmp_path: Path) -> None:
    """multiprocessing runs the main script again in each job; what it imports comes from the
    warm interpreter, so a job under pytest's console script does not import pytest again."""
    (tmp_path / "exiter.py").write_text(EXITER)
    (tmp_path / "main.py").write_text(MAIN_SCRIPT)
    library = tmp_path / "library"
    library.mkdir()
    path = os.environ.get("PYTHONPATH")
    (library / "noted.py").write_text(
        "import os, pathlib\n"
        "with (pathlib.Path(__file__).parent / 'importers').open('a') as f:\n"
        "    f.write(f'{os.getpid()}\\n')\n"
    )
    subprocess.run(
        [sys.executable, str(tmp_path / "main.py"), str(tmp_path)],
        # On Python 3.11 the warm interpreter has the environment's path, not the script's
        # (python/cpython#117378, fixed in later releases).
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(library), path]))},
        check=True,
        timeout=120,
    )
    importers = (library / "importers").read_text().split()
    # The script's own interpreter and the warm one; each job would add one more.
    assert len(importers) == 2, f"{len(importers)} interpreters imported it: {importers}"
