"""`run-local`: the pipeline's step code as local processes, judged by the pipeline's gate."""

import argparse

from {{ cookiecutter.__package }} import config


def add(commands: argparse._SubParsersAction) -> None:
    """The `run-local` parser."""
    p = commands.add_parser(
        "run-local",
        help="run preprocess -> train -> evaluate locally on the data set",
        description="Run the pipeline's step code as local processes, laid out like the "
        "SageMaker containers' paths, on the data set config.py names (or the one given here), "
        "and judge the model by the pipeline's gate.",
    )
    p.add_argument("--data", help="input CSV (default: config.DATA_FILE)")
    p.add_argument(
        "--target", help=f"target column (default: {config.TARGET_COLUMN})", default=None
    )
    p.add_argument(
        "--drop",
        metavar="COLUMNS",
        default=None,
        help="comma-separated columns to leave out (default: config.DROP_COLUMNS)",
    )
    p.add_argument(
        "--positive-class",
        default=None,
        help="binary: the positive label (default: config.POSITIVE_CLASS, else 1, yes or true)",
    )
    p.add_argument(
        "--champion",
        metavar="MODEL_TAR",
        help="a model.tar.gz to compare with, as the pipeline compares with the latest Approved "
        f"version (the new model must reach its {config.GATE_METRIC} minus "
        f"{config.CHAMPION_TOLERANCE})",
    )
    p.add_argument("--workdir", help="scratch directory for the run (default: build/local)")
    p.add_argument(
        "--threshold",
        type=float,
        default=config.GATE_THRESHOLD,
        help=f"minimum {config.GATE_METRIC} (default: %(default)s)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the three steps; exit 7 when the model does not pass the gate."""
    import time
    from pathlib import Path

    from {{ cookiecutter.__package }}.errors import CliError, ExitCode
    from {{ cookiecutter.__package }}.training import local

    data = Path(args.data) if args.data else config.DATA_FILE
    workdir = Path(args.workdir) if args.workdir else local.DEFAULT_WORKDIR
    drop = None
    if args.drop is not None:
        drop = tuple(name.strip() for name in args.drop.split(",") if name.strip())
    options = local.step_options(args.target, drop, args.positive_class)
    started = time.perf_counter()
    champion = Path(args.champion) if args.champion else None
    result = local.run_local(data, workdir, args.threshold, options=options, champion=champion)
    print(local.format_summary(result))
    print(f"total {time.perf_counter() - started:.1f} s")
    if not result.passed:
        raise CliError(
            f"{result.reason}: the pipeline would not register this model",
            ExitCode.BELOW_THRESHOLD,
        )
    return ExitCode.OK
