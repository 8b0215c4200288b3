"""`rollback`: return an endpoint to the previous known-good version, or a named one."""

import argparse

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.cli.deploy import add_poll_seconds, settings_from


def add(commands: argparse._SubParsersAction) -> None:
    """The `rollback` parser."""
    p = commands.add_parser("rollback", help="redeploy the previous known-good model version")
    p.add_argument(
        "--env", required=True, choices=config.ENVIRONMENTS, help="endpoint to roll back"
    )
    p.add_argument("--to-version", type=int, help="version to return to")
    p.add_argument(
        "--reject-current", action="store_true", help="mark the current version Rejected"
    )
    p.add_argument("--reason", help="why (required with --reject-current)")
    add_poll_seconds(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Redeploy the previous known-good version all at once; optionally reject the current."""
    from {{ cookiecutter.__package }}.promotion.rollback import rollback

    return rollback(
        args.env,
        settings_from(args),
        to_version=args.to_version,
        reject_current=args.reject_current,
        reason=args.reason,
    )
