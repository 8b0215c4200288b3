"""`run-local`: the pipeline's step code as local processes, judged against the threshold."""

import argparse

from {{ cookiecutter.__package }} import config


def add(commands: argparse._SubParsersAction) -> None:
    """The `run-local` parser."""
    p = commands.add_parser(
        "run-local",
        help="run preprocess -> train -> evaluate locally on the sample data",
        description="Run the pipeline's step code as local processes, laid out like the "
        "SageMaker containers' paths, and judge the model against the accuracy threshold.",
    )
    p.add_argument("--data", help="input CSV (default: the bundled sample data)")
    p.add_argument("--workdir", help="scratch directory for the run (default: build/local)")
    p.add_argument(
        "--threshold",
        type=float,
        default=config.ACCURACY_THRESHOLD,
        help="minimum accuracy (default: %(default)s)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the three steps; exit 7 when the model misses the threshold."""
    import time
    from pathlib import Path

    from {{ cookiecutter.__package }}.errors import CliError, ExitCode
    from {{ cookiecutter.__package }}.training import local

    data = Path(args.data) if args.data else config.SAMPLE_DATA
    workdir = Path(args.workdir) if args.workdir else local.DEFAULT_WORKDIR
    started = time.perf_counter()
    result = local.run_local(data, workdir, args.threshold)
    print(local.format_summary(result))
    print(f"total {time.perf_counter() - started:.1f} s")
    if not result.passed:
        raise CliError(
            f"accuracy {result.accuracy:.4f} is below the threshold {result.threshold}: "
            "the pipeline would not register this model",
            ExitCode.BELOW_THRESHOLD,
        )
    return ExitCode.OK
