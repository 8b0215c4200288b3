"""`story`: the whole flow offline, against the local AWS emulator (development tooling)."""

import argparse


def add(commands: argparse._SubParsersAction) -> None:
    """The `story` parser."""
    p = commands.add_parser(
        "story",
        help="the whole flow offline: PR gate, retrain, approve, deploy, alarm rollback "
        "(development: needs the dev group)",
        description="Run the pull-request gate, the buildspec's build phase (the emulator runs "
        "the upserted pipeline definition: its steps, gate and registration), approval, "
        "deployments and a prod deployment that an alarm rolls back, against the local AWS "
        "emulator on 127.0.0.1. Development tooling: it never reaches AWS.",
    )
    p.add_argument(
        "--workdir",
        help="scratch directory; the pipeline jobs' files stay in it (default: build/story)",
    )
    p.add_argument(
        "--skip-gate", action="store_true", help="skip the lint and test stage (already run)"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The whole flow offline; exit 0 when every stage ended as it should."""
    from pathlib import Path

    from {{ cookiecutter.__package }} import config
    from {{ cookiecutter.__package }}.dev import story

    workdir = Path(args.workdir or config.REPO_ROOT / "build" / "story")
    stages = story.run_story(workdir, gate=not args.skip_gate)
    print()
    print(story.summary_table(stages))
    print()
    print(story.closing_note(workdir))
    return 0
