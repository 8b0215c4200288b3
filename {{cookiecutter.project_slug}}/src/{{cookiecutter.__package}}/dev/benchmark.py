"""`make benchmark`: how long `run-local` takes, and its peak memory, on a generated table.

Development tooling: it writes a table of ROWS x COLUMNS numbers with a learnable binary target
to a scratch directory, runs `run-local` on it (its steps in their own processes, as `make local`
runs them), and prints the wall time of each step and of the whole run, and the largest resident
memory any step's process reached. Nothing here is used by the pipeline.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.errors import CliError
from {{ cookiecutter.__package }}.training import local

TARGET = "label"


def table(rows: int, columns: int, seed: int = config.RANDOM_SEED) -> pd.DataFrame:
    """`rows` x `columns` standard-normal features and a binary target that depends on them."""
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((rows, columns))
    weights = rng.standard_normal(columns)
    noise = rng.standard_normal(rows)
    frame = pd.DataFrame(features, columns=[f"x{i:02d}" for i in range(columns)])
    frame[TARGET] = (features @ weights + noise > 0).astype("int64")
    return frame


def measure(data: Path, workdir: Path) -> tuple[float, local.LocalResult]:
    """(wall seconds, result) of one `run-local` on `data`, its step lines printed as they end."""
    options = local.step_options(TARGET, drop=(), positive_class="")
    started = time.perf_counter()
    try:
        result = local.run_local(data, workdir, threshold=0.5, options=options)
    except CliError as error:
        raise SystemExit(f"run-local failed: {error}") from error
    return time.perf_counter() - started, result


def peak_text(result: local.LocalResult) -> str:
    """The largest resident memory of any step's process, and which step reached it."""
    known = {step: peak for step, peak in result.peak_bytes.items() if peak is not None}
    if not known:
        return "peak memory not known on this platform"
    step = max(known, key=lambda name: known[name])
    return f"peak memory {known[step] / 2**20:.0f} MiB ({step})"


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
        seconds, result = measure(data, Path(scratch) / "work")
    print(f"run-local: {seconds:.1f} s, {peak_text(result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
