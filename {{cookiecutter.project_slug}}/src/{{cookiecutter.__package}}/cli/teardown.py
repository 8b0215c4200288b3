"""`teardown`: delete everything this project made in AWS, after showing it and asking."""

import argparse

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode


def add(commands: argparse._SubParsersAction) -> None:
    """The `teardown` parser."""
    p = commands.add_parser(
        "teardown",
        help="delete the endpoints, models, registry versions, stack and buckets (asks first)",
        description="Delete what this project made in AWS: the endpoints, their configs and "
        "models, the model package versions, the SageMaker pipeline, the stack, and the "
        "buckets and build log groups the stack keeps (emptied of every object version first). "
        "Shows all of it and asks for the project name unless --yes is given.",
    )
    p.add_argument("--yes", action="store_true", help="delete without asking (for scripts)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Survey, show, confirm, delete; exit 3 (refused, nothing deleted) without a confirmation."""
    from {{ cookiecutter.__package }}.infra import teardown

    plan = teardown.survey()
    if plan.is_empty():
        print(f"nothing of {config.PROJECT} is left in account {plan.account}")
        return ExitCode.OK
    print(f"in account {plan.account} ({config.AWS_REGION}), this deletes:")
    print("\n".join(plan.lines()))
    if not args.yes:
        try:
            answer = input(f"type {config.PROJECT} to delete all of it: ")
        except EOFError:
            answer = ""
        if answer.strip() != config.PROJECT:
            raise CliError("not confirmed: nothing was deleted", ExitCode.REFUSED)
    teardown.tear_down(plan)
    print(f"done: nothing of {config.PROJECT} is left in account {plan.account}")
    return ExitCode.OK
