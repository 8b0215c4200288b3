"""`doctor`: read-only checks that the AWS account holds everything the flow needs, wired."""

import argparse

from {{ cookiecutter.__package }}.errors import ExitCode


def add(commands: argparse._SubParsersAction) -> None:
    """The `doctor` parser."""
    p = commands.add_parser(
        "doctor",
        help="check that the AWS account is set up for the flow (reads only)",
        description="Check, reading only, that the credentials are for this project's account "
        "and that the stack, its outputs, the GitHub roles and their trust, the source "
        "bucket's versioning, the rollback alarms, the model package group, both CodePipelines "
        "and the serving image are there and wired as config.py says; with the gh CLI logged "
        "in, also the GitHub variables, the environments' branch policies and reviewers, and "
        "the OIDC subject form. One line per check: "
        "PASS, FAIL (with what to do) or SKIP; exit 8 when any check fails.",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run every check; exit 0 when all pass, 8 (not set up) when any fails."""
    from {{ cookiecutter.__package }}.infra import aws_checks, doctor, github_checks

    results = doctor.run(aws_checks.CHECKS + github_checks.checks(), doctor.Context())
    counts = {status: sum(r.status is status for r in results) for status in doctor.Status}
    words = {
        doctor.Status.PASS: "passed",
        doctor.Status.FAIL: "failed",
        doctor.Status.SKIP: "skipped",
    }
    print(", ".join(f"{counts[status]} {word}" for status, word in words.items()))
    return ExitCode.NOT_SET_UP if counts[doctor.Status.FAIL] else ExitCode.OK
