"""`registry`: list the model package versions, approve and reject them."""

import argparse


def add(commands: argparse._SubParsersAction) -> None:
    """The `registry` parser and its actions."""
    p = commands.add_parser("registry", help="list, approve and reject model package versions")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="table of the model package versions").set_defaults(
        handler=list_versions
    )
    actions.add_parser(
        "latest-approved", help="print the latest Approved package ARN"
    ).set_defaults(handler=latest_approved)
    for action, handler in (("approve", approve), ("reject", reject)):
        q = actions.add_parser(action, help=f"{action} a model package version")
        add_version_choice(q)
        q.add_argument("--reason", required=True, help="why (recorded on the package)")
        if action == "approve":
            q.add_argument("--force", action="store_true", help="approve even a Rejected package")
        q.set_defaults(handler=handler)


def add_version_choice(p: argparse.ArgumentParser) -> None:
    """--version N or --arn ARN (neither: the command's default package)."""
    which = p.add_mutually_exclusive_group()
    which.add_argument("--version", type=int, help="model package version in the group")
    which.add_argument("--arn", help="model package ARN")


def list_versions(args: argparse.Namespace) -> int:
    """Print a table of the versions: version, status, created, gate score, commit."""
    from {{ cookiecutter.__package }} import aws
    from {{ cookiecutter.__package }}.promotion import registry

    print(registry.table(aws.client("sagemaker"), aws.client("s3")))
    return 0


def latest_approved(args: argparse.Namespace) -> int:
    """Print the ARN of the newest Approved version."""
    from {{ cookiecutter.__package }} import aws, config
    from {{ cookiecutter.__package }}.errors import CliError, ExitCode
    from {{ cookiecutter.__package }}.promotion import registry

    latest = registry.latest_approved(aws.client("sagemaker"))
    if latest is None:
        raise CliError(f"no Approved version in {config.MODEL_PACKAGE_GROUP}", ExitCode.REFUSED)
    print(latest["ModelPackageArn"])
    return 0


def approve(args: argparse.Namespace) -> int:
    """Approve a version (a Rejected one only with --force)."""
    from {{ cookiecutter.__package }}.promotion import registry

    return _move(registry.APPROVED, args, force=args.force)


def reject(args: argparse.Namespace) -> int:
    """Reject a version so that no deployment picks it."""
    from {{ cookiecutter.__package }}.promotion import registry

    return _move(registry.REJECTED, args)


def _move(status: str, args: argparse.Namespace, force: bool = False) -> int:
    from {{ cookiecutter.__package }} import aws
    from {{ cookiecutter.__package }}.promotion import registry

    sm = aws.client("sagemaker")
    print(
        registry.move_to(sm, status, args.reason, version=args.version, arn=args.arn, force=force)
    )
    return 0
