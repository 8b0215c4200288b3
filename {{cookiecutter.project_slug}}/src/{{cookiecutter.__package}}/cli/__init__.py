"""The command line: `python -m {{ cookiecutter.__package }} ...` (or `{{ cookiecutter.project_slug }} ...`).

One module per command in this package. Each has `add(commands)`, which adds the command's
parser, and handlers that import the code doing the work only when they run: `--help` imports
argparse and config alone, and the promotion commands never import the SageMaker SDK. Domain
code (training, promotion) never imports this package; the exit codes live in errors.py.
"""

import argparse
import importlib
import sys
from collections.abc import Sequence

from {{ cookiecutter.__package }}.errors import CliError, ExitCode

# The commands in the order `--help` lists them: from a laptop to production, then tooling.
COMMANDS = (
    "run_local",
    "pipeline",
    "retrain",
    "registry",
    "deploy",
    "rollback",
    "monitor",
    "doctor",
    "teardown",
    "story",
)
# Which dependency group provides a module a command may miss in a runtime-only install.
DEPENDENCY_GROUPS = {"moto": "dev", "yaml": "dev", "werkzeug": "dev", "sagemaker": "pipeline"}


def build_parser() -> argparse.ArgumentParser:
    """The whole argument tree, without importing any command's handler code."""
    parser = argparse.ArgumentParser(
        prog="{{ cookiecutter.project_slug }}",
        description="{{ cookiecutter.project_slug }}: run the ML steps locally, build and run the "
        "SageMaker pipeline, and promote models from the registry to endpoints.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run the command, and turn its outcome into an exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or ExitCode.OK)
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return int(error.code)
    except ModuleNotFoundError as error:
        group = DEPENDENCY_GROUPS.get((error.name or "").split(".")[0])
        if group is None:
            raise
        print(
            f"error: {args.command} needs the {group} dependency group ({error.name} is not "
            f"installed): run `uv sync --group {group}` or `make install`",
            file=sys.stderr,
        )
        return int(ExitCode.NOT_SET_UP)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        failure = aws_failure(error)
        if failure is None:
            raise  # not an AWS failure we know: a bug, and its traceback says where
        print(f"error: {failure}", file=sys.stderr)
        return int(failure.code)


def aws_failure(error: Exception) -> CliError | None:
    """An AWS failure (credentials, network, throttling, a missing resource) as one line."""
    # Whatever raised a botocore exception imported botocore; `--help` never does, and neither
    # does this when the failure has nothing to do with AWS.
    if "botocore" not in sys.modules:
        return None
    from {{ cookiecutter.__package }}.aws_failures import explain

    return explain(error)
