"""`monitor`: watch what an endpoint receives: schedule, status, and an offline drift check."""

import argparse
from types import SimpleNamespace
from typing import Any

from {{ cookiecutter.__package }} import config


def add(commands: argparse._SubParsersAction) -> None:
    """The `monitor` parser and its actions."""
    p = commands.add_parser(
        "monitor", help="data-quality monitoring of an endpoint: schedule, status, check"
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, handler, text in (
        ("schedule", schedule, "create or update the hourly data-quality schedule and alarms"),
        ("status", status, "the schedule, its last executions and its drift alarms"),
        ("check", check, "compare the captured requests with the served version's baseline"),
    ):
        q = actions.add_parser(action, help=text)
        q.add_argument("--env", required=True, choices=config.ENVIRONMENTS, help="endpoint")
        q.set_defaults(handler=handler)


def _clients() -> Any:
    from {{ cookiecutter.__package }} import aws

    return SimpleNamespace(
        sm=aws.client("sagemaker"), cw=aws.client("cloudwatch"), s3=aws.client("s3")
    )


def schedule(args: argparse.Namespace) -> int:
    """Create or update the schedule on the served version's baseline, and its drift alarms."""
    from {{ cookiecutter.__package }}.monitoring import schedule as monitoring
    from {{ cookiecutter.__package }}.training.definition import monitor_image_uri

    return monitoring.create(args.env, _clients(), monitor_image_uri())


def status(args: argparse.Namespace) -> int:
    """Print the schedule, its last executions and its alarms' states."""
    from {{ cookiecutter.__package }}.monitoring import schedule as monitoring

    return monitoring.status(args.env, _clients())


def check(args: argparse.Namespace) -> int:
    """Exit 11 with a table when the captured requests violate the baseline's constraints."""
    from {{ cookiecutter.__package }}.monitoring import drift

    clients = _clients()
    return drift.check_endpoint(args.env, clients.sm, clients.s3)
