"""Jobs as processes forked from the warm interpreter: each one's own exit status, always, and
its own peak memory."""

from __future__ import annotations

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
