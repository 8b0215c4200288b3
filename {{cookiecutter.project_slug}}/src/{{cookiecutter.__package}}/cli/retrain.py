"""`retrain`: upload one commit and start the retrain CodePipeline on exactly that upload."""

import argparse

from {{ cookiecutter.__package }} import config


def add(commands: argparse._SubParsersAction) -> None:
    """The `retrain` parser."""
    p = commands.add_parser(
        "retrain",
        help="upload a commit and start the retrain CodePipeline on it",
        description=f"Upload `git archive` of one commit to s3://{config.SOURCE_BUCKET}/"
        f"{config.SOURCE_OBJECT_KEY} (a versioned object) and start {config.CODEPIPELINE_RETRAIN} "
        "on exactly that object version, with the commit SHA as a pipeline variable.",
    )
    p.add_argument("--commit", required=True, help="the commit to retrain (a SHA)")
    p.add_argument(
        "--input-data",
        metavar="S3_URI",
        help="train on this s3:// CSV (or prefix) instead of the data set config.py names",
    )
    p.add_argument("--wait", action="store_true", help="wait for the execution to finish")
    p.add_argument(
        "--timeout-seconds",
        type=float,
        default=config.RETRAIN_WAIT_SECONDS,
        help="with --wait, give up (exit 6) after this many seconds (default: %(default)s)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Retrain one commit; with --wait, follow the CodePipeline execution to its end."""
    from {{ cookiecutter.__package }}.training import retrain

    return retrain.retrain(
        args.commit,
        input_data=args.input_data,
        wait_seconds=args.timeout_seconds if args.wait else None,
    )
