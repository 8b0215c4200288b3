"""The command line: `python -m {{ cookiecutter.__package }} ...` (or `{{ cookiecutter.project_slug }} ...`).

This module only parses arguments. Each command names its handler as "module:function", and
the module is imported when the command runs: `--help` stays instant, and the promotion
commands (registry, deploy, rollback) never import the SageMaker SDK.
"""

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode

STRATEGIES = ("all-at-once", "canary", "linear", "rolling")


def _handler(parser: argparse.ArgumentParser, target: str) -> None:
    parser.set_defaults(handler=target)


def _add_run_local(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
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
    _handler(p, "local:cmd_run_local")


def _add_pipeline(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pipeline", help="build, upsert and run the SageMaker pipeline")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    definition = actions.add_parser(
        "definition", help="print the pipeline definition JSON (offline)"
    )
    _handler(definition, "pipeline:cmd_definition")
    upsert = actions.add_parser("upsert", help="create or update the pipeline in SageMaker")
    _handler(upsert, "pipeline:cmd_upsert")
    start = actions.add_parser("start", help="start an execution of the pipeline")
    start.add_argument("--wait", action="store_true", help="wait for the execution to finish")
    start.add_argument("--commit", help="the commit SHA to record on the execution")
    start.add_argument(
        "--timeout",
        type=float,
        default=4 * 3600,
        help="seconds to wait before giving up (default: %(default)s)",
    )
    start.add_argument(
        "--outputs",
        metavar="FILE",
        help="write PIPELINE_EXECUTION_ARN= and MODEL_PACKAGE_ARN= lines a shell can source",
    )
    _handler(start, "pipeline:cmd_start")


def _add_version_choice(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group()
    which.add_argument("--version", type=int, help="model package version in the group")
    which.add_argument("--arn", help="model package ARN")


def _add_registry(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("registry", help="list, approve and reject model package versions")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    _handler(
        actions.add_parser("list", help="table of the model package versions"), "registry:cmd_list"
    )
    _handler(
        actions.add_parser("latest-approved", help="print the latest Approved package ARN"),
        "registry:cmd_latest_approved",
    )
    for action in ("approve", "reject"):
        q = actions.add_parser(action, help=f"{action} a model package version")
        _add_version_choice(q)
        q.add_argument("--reason", required=True, help="why (recorded on the package)")
        if action == "approve":
            q.add_argument("--force", action="store_true", help="approve even a Rejected package")
        _handler(q, f"registry:cmd_{action}")


def _add_deploy(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "deploy",
        help="deploy an Approved model package to an endpoint",
        description="Deploy with SageMaker's traffic shifting and alarm-based auto-rollback.",
    )
    p.add_argument("--env", required=True, choices=config.ENVIRONMENTS, help="endpoint to deploy")
    _add_version_choice(p)
    p.add_argument(
        "--strategy",
        choices=STRATEGIES,
        help=f"traffic shifting strategy (default: all-at-once for staging, "
        f"{config.DEPLOYMENT_STRATEGY} for prod)",
    )
    p.add_argument("--dry-run", action="store_true", help="check and print the plan only")
    shift = p.add_argument_group("traffic shifting (defaults fit the fleet size)")
    shift.add_argument(
        "--canary-percent", type=int, help="canary share of capacity, 1-50 (default: 1 instance)"
    )
    shift.add_argument(
        "--linear-step-percent", type=int, help="linear step, 10-50 (default: 1 instance, >= 10)"
    )
    shift.add_argument(
        "--rolling-batch", type=int, help="instances per rolling batch (default: 1, >= 5%% of all)"
    )
    shift.add_argument(
        "--wait-seconds", type=int, help="bake time between steps, 0-3600 (default: 300)"
    )
    shift.add_argument(
        "--termination-wait-seconds",
        type=int,
        help="keep the old fleet this long after the switch, 0-3600 (default: 120)",
    )
    shift.add_argument(
        "--max-seconds",
        type=int,
        help="SageMaker's maximum execution time, 600-28800 (default: the waits + 30 min)",
    )
    _add_poll_seconds(p)
    _handler(p, "deploy:cmd_deploy")


def _add_poll_seconds(p: argparse.ArgumentParser) -> None:
    # 10 s keeps DescribeEndpoint at <= 6 calls a minute; the local emulator settles in < 1 s.
    p.add_argument(
        "--poll-seconds",
        type=float,
        help="first interval between DescribeEndpoint calls (default: 10, backing off to 30)",
    )


def _add_rollback(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rollback", help="redeploy the previous known-good model version")
    p.add_argument(
        "--env", required=True, choices=config.ENVIRONMENTS, help="endpoint to roll back"
    )
    p.add_argument("--to-version", type=int, help="version to return to")
    p.add_argument(
        "--reject-current", action="store_true", help="mark the current version Rejected"
    )
    p.add_argument("--reason", help="why (required with --reject-current)")
    _add_poll_seconds(p)
    _handler(p, "deploy:cmd_rollback")


def _add_release(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "release",
        help="package a commit and start the retrain CodePipeline on it",
        description=f"Upload `git archive` of one commit to s3://{config.SOURCE_BUCKET}/"
        f"{config.SOURCE_OBJECT_KEY} (a versioned object) and start {config.CODEPIPELINE_RETRAIN} "
        "on exactly that object version, with the commit SHA as a pipeline variable.",
    )
    p.add_argument("--commit", required=True, help="the commit to release (a SHA)")
    p.add_argument("--wait", action="store_true", help="wait for the execution to finish")
    # Named for its unit: `pipeline start --timeout` counts seconds.
    p.add_argument(
        "--timeout-minutes",
        dest="timeout",
        type=float,
        default=100,
        help="minutes to wait with --wait (default: %(default)s)",
    )
    _handler(p, "release:cmd_release")


def _add_story(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "story",
        help="the whole flow offline: PR gate, retrain, approve, deploy, alarm rollback",
        description="Run the pull-request gate, the buildspec's build phase, the pipeline's "
        "steps, approval, deployments and a prod deployment that an alarm rolls back, against "
        "the local AWS emulator on 127.0.0.1. Development tooling: it never reaches AWS.",
    )
    p.add_argument("--workdir", help="scratch directory (default: build/story)")
    p.add_argument(
        "--skip-gate", action="store_true", help="skip the lint and test stage (already run)"
    )
    _handler(p, "story:cmd_story")


def write_job_summary(markdown: str) -> None:
    """Append Markdown to the GitHub job summary, when a workflow step runs the command."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(markdown if markdown.endswith("\n") else markdown + "\n")


def build_parser() -> argparse.ArgumentParser:
    """The whole argument tree, without importing any command's module."""
    parser = argparse.ArgumentParser(
        prog="{{ cookiecutter.project_slug }}",
        description="{{ cookiecutter.project_slug }}: run the ML steps locally, build and run the "
        "SageMaker pipeline, and promote models from the registry to endpoints.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (
        _add_run_local,
        _add_pipeline,
        _add_registry,
        _add_deploy,
        _add_rollback,
        _add_release,
        _add_story,
    ):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run the command, and turn its outcome into an exit code."""
    args = build_parser().parse_args(argv)
    module_name, function_name = args.handler.split(":")
    module = importlib.import_module(f"{__package__}.{module_name}")
    try:
        return int(getattr(module, function_name)(args) or ExitCode.OK)
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return int(error.code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
