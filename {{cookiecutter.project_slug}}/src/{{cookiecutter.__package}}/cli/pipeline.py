"""`pipeline`: print the SageMaker pipeline definition, upsert it, start and follow executions."""

import argparse

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode


def add(commands: argparse._SubParsersAction) -> None:
    """The `pipeline` parser and its actions."""
    p = commands.add_parser("pipeline", help="build, upsert and run the SageMaker pipeline")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    definition = actions.add_parser(
        "definition", help="print the pipeline definition JSON (offline)"
    )
    definition.set_defaults(handler=print_definition)
    upsert = actions.add_parser(
        "upsert", help="upload the step code and the data set, create or update the pipeline"
    )
    upsert.set_defaults(handler=upsert_pipeline)
    start = actions.add_parser("start", help="start an execution of the pipeline")
    start.add_argument("--wait", action="store_true", help="wait for the execution to finish")
    start.add_argument("--commit", help="the commit SHA to record on the execution")
    start.add_argument(
        "--input-data",
        metavar="S3_URI",
        help="train on this s3:// CSV (or prefix) instead of the data set config.py names "
        f"(default: {config.DEFAULT_INPUT_DATA!r}, that data set)",
    )
    start.add_argument(
        "--hyperparameter",
        action="append",
        metavar="NAME=VALUE",
        help="override a training hyperparameter for this run (repeatable; names: "
        f"{', '.join(config.HYPERPARAMETERS)})",
    )
    start.add_argument(
        "--timeout-seconds",
        type=float,
        default=config.PIPELINE_WAIT_SECONDS,
        help="with --wait, give up (exit 6) after this many seconds (default: %(default)s)",
    )
    start.add_argument(
        "--poll-seconds",
        type=float,
        help="with --wait, the first interval between polls (default: 5; backs off to 12 times it)",
    )
    start.add_argument(
        "--outputs",
        metavar="FILE",
        help="write PIPELINE_EXECUTION_ARN= and MODEL_PACKAGE_ARN= lines a shell can source",
    )
    start.set_defaults(handler=start_execution)


def print_definition(args: argparse.Namespace) -> int:
    """Print the pipeline definition JSON, built offline."""
    import json
    import sys

    from {{ cookiecutter.__package }}.training import definition

    json.dump(definition.definition(), sys.stdout, indent=2, sort_keys=True)
    print()
    return 0


def upsert_pipeline(args: argparse.Namespace) -> int:
    """Upload the step code, then create or update the pipeline in SageMaker."""
    from {{ cookiecutter.__package }}.training import definition

    print(f"upsert: {definition.upsert_pipeline()}")
    return 0


def start_execution(args: argparse.Namespace) -> int:
    """Start an execution recording the commit; with --wait, follow it to the end."""
    from {{ cookiecutter.__package }}.training import execution

    if args.poll_seconds is not None and not args.poll_seconds > 0:
        raise CliError(f"--poll-seconds {args.poll_seconds} is not positive", ExitCode.USAGE)
    wait_seconds = args.timeout_seconds if args.wait else None
    return execution.start(
        args.commit,
        input_data=args.input_data,
        hyperparameters=args.hyperparameter,
        wait_seconds=wait_seconds,
        outputs_file=args.outputs,
        poll_seconds=args.poll_seconds or execution.POLL_FIRST_SECONDS,
    )
