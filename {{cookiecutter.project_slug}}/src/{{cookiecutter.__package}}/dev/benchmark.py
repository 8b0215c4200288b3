"""`make benchmark`: how long `run-local` takes, and its peak memory, on a generated table.

Development tooling: it writes a table of ROWS x COLUMNS numbers with a learnable binary target
to a scratch directory, runs `run-local` on it in a fresh process (as `make local` does), and
prints the wall time of each step and of the whole run, and the largest resident memory any of
its processes reached. Nothing here is used by the pipeline.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from {{ cookiecutter.__package }} import config

TARGET = "label"
STEPS = ("preprocess", "train", "evaluate")


def table(rows: int, columns: int, seed: int = config.RANDOM_SEED) -> pd.DataFrame:
    """`rows` x `columns` standard-normal features and a binary target that depends on them."""
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((rows, columns))
    weights = rng.standard_normal(columns)
    noise = rng.standard_normal(rows)
    frame = pd.DataFrame(features, columns=[f"x{i:02d}" for i in range(columns)])
    frame[TARGET] = (features @ weights + noise > 0).astype("int64")
    return frame


def measure(data: Path, workdir: Path) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds, peak resident bytes, output) of one `run-local` on `data`."""
    command = [
        *(sys.executable, "-m", config.PACKAGE, "run-local", "--data", str(data)),
        *("--target", TARGET, "--drop", "", "--positive-class", ""),
        *("--workdir", str(workdir), "--threshold", "0.5"),
    ]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"run-local exited {result.returncode}:\n{result.stderr}")
    # Every process waited for so far: run-local and its steps. CPU time holds still on a busy
    # machine where wall time does not; ru_maxrss is the largest resident set of any of them
    # (Linux reports kilobytes, macOS bytes).
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return seconds, usage.ru_utime + usage.ru_stime, peak, result.stdout


def main(argv: list[str] | None = None) -> int:
    """Generate the table, run it, print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--columns", type=int, default=30)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="benchmark-") as scratch:
        data = Path(scratch) / "benchmark.csv"
        started = time.perf_counter()
        table(args.rows, args.columns).to_csv(data, index=False)
        written = time.perf_counter() - started
        size = data.stat().st_size / 1e6
        print(f"table: {args.rows} rows x {args.columns} columns, {size:.1f} MB ({written:.1f} s)")
        seconds, cpu, peak, output = measure(data, Path(scratch) / "work")
    steps = [line for line in output.splitlines() if line.split(" ", 1)[0] in STEPS]
    print("\n".join(steps))
    print(f"run-local: {seconds:.1f} s ({cpu:.1f} s of CPU), peak memory {peak / 2**20:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
