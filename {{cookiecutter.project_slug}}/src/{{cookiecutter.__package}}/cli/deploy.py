"""`deploy`: put an Approved model package on an endpoint with SageMaker's traffic shifting."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.cli.registry import add_version_choice

if TYPE_CHECKING:
    from {{ cookiecutter.__package }}.promotion.shift import Settings


def add(commands: argparse._SubParsersAction) -> None:
    """The `deploy` parser."""
    p = commands.add_parser(
        "deploy",
        help="deploy an Approved model package to an endpoint",
        description="Deploy with SageMaker's traffic shifting and alarm-based auto-rollback.",
    )
    p.add_argument("--env", required=True, choices=config.ENVIRONMENTS, help="endpoint to deploy")
    add_version_choice(p)
    p.add_argument(
        "--strategy",
        choices=config.STRATEGIES,
        help="traffic shifting strategy (default: "
        + ", ".join(f"{config.default_strategy(env)} for {env}" for env in config.ENVIRONMENTS)
        + ")",
    )
    p.add_argument("--dry-run", action="store_true", help="check and print the plan only")
    p.add_argument(
        "--outputs",
        metavar="FILE",
        help="write a MODEL_PACKAGE_ARN= line a shell can source: the package the endpoint serves",
    )
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
    add_poll_seconds(p)
    p.set_defaults(handler=run)


def add_poll_seconds(p: argparse.ArgumentParser) -> None:
    """--poll-seconds: how often to look at the endpoint while SageMaker changes it."""
    # 10 s keeps DescribeEndpoint at <= 6 calls a minute; the local emulator settles in < 1 s.
    p.add_argument(
        "--poll-seconds",
        type=float,
        help="first interval between DescribeEndpoint calls (default: 10, backing off to 30)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """The traffic-shifting Settings the command line asked for (defaults where not given)."""
    from {{ cookiecutter.__package }}.promotion.shift import Settings

    given = {
        name: getattr(args, name, None)
        for name in (
            "canary_percent",
            "linear_step_percent",
            "rolling_batch",
            "wait_seconds",
            "termination_wait_seconds",
            "max_seconds",
            "poll_seconds",
        )
    }
    return Settings(**{name: value for name, value in given.items() if value is not None})


def run(args: argparse.Namespace) -> int:
    """Deploy an Approved package to --env: staging's default is the latest, prod's the one
    staging verified (prod takes no other)."""
    from {{ cookiecutter.__package }}.promotion import road
    from {{ cookiecutter.__package }}.promotion.deploy import deploy
    from {{ cookiecutter.__package }}.promotion.endpoint import Clients
    from {{ cookiecutter.__package }}.training.execution import write_outputs

    clients = Clients()
    package = road.package_for(args.env, clients.sm, args.version, args.arn)
    strategy = args.strategy or config.default_strategy(args.env)
    code = deploy(args.env, package, strategy, settings_from(args), clients, dry_run=args.dry_run)
    # The deploy CodePipeline's prod stage deploys exactly this package (buildspec-deploy.yml).
    if not args.dry_run:
        write_outputs(args.outputs, {"MODEL_PACKAGE_ARN": package["ModelPackageArn"]})
    return code
