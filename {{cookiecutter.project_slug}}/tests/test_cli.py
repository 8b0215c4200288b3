"""The command line's shape, speed and error handling."""

import argparse
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from {{ cookiecutter.__package }} import cli
from {{ cookiecutter.__package }}.cli import registry as registry_cli
from {{ cookiecutter.__package }}.errors import CliError, ExitCode

COMMANDS = [
    [],
    ["run-local"],
    ["pipeline", "definition"],
    ["pipeline", "upsert"],
    ["pipeline", "start"],
    ["registry", "list"],
    ["registry", "approve"],
    ["registry", "reject"],
    ["registry", "latest-approved"],
    ["deploy"],
    ["rollback"],
    ["monitor", "schedule"],
    ["monitor", "status"],
    ["monitor", "check"],
    ["retrain"],
    ["doctor"],
    ["teardown"],
    ["story"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "top")
def test_help_of_every_command(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage:" in capsys.readouterr().out


def _runnable(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every command that runs a handler, with its words, walking the sub-command tree."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for word, sub in action.choices.items():
                yield from _runnable(sub, (*words, word))
            return
    yield words, parser


def test_every_command_is_listed_with_a_handler_in_its_own_cli_module() -> None:
    commands = dict(_runnable(cli.build_parser()))
    assert sorted(commands) == sorted(tuple(c) for c in COMMANDS[1:])
    for words, parser in commands.items():
        handler = parser.get_default("handler")
        assert callable(handler), words
        assert handler.__module__ == f"{cli.__name__}.{words[0].replace('-', '_')}", words


def _imported_after(code: str) -> list[str]:
    """The heavy libraries a fresh interpreter has imported after running `code`."""
    probe = (
        f"import sys\n{code}\n"
        "heavy = ('boto3', 'sagemaker', 'sklearn', 'pandas', 'moto')\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return result.stdout.splitlines()[-1].split()


def test_help_imports_no_aws_or_ml_library() -> None:
    code = (
        "import {{ cookiecutter.__package }}.cli as c\n"
        "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass"
    )
    assert _imported_after(code) == []


def test_promotion_and_pipeline_start_never_import_the_sagemaker_sdk() -> None:
    """The SDK costs seconds and most of the install: only building the definition needs it."""
    modules = [
        "promotion.registry",
        "promotion.deploy",
        "promotion.rollback",
        "training.retrain",
        "training.execution",
    ]
    code = "\n".join(f"import {{ cookiecutter.__package }}.{name}" for name in modules)
    assert _imported_after(code) == ["boto3"]


def test_help_is_fast() -> None:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.__package }}", "--help"],
        capture_output=True,
        check=True,
    )
    # Generous for slow CI machines; the measured figure is far lower.
    assert time.perf_counter() - started < 2.0


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["deploy", "--env", "qa"])
    assert exit_info.value.code == ExitCode.USAGE
    assert "invalid choice: 'qa'" in capsys.readouterr().err


def test_cli_error_becomes_its_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(args: object) -> int:
        raise CliError("the endpoint is already Updating", ExitCode.REFUSED)

    monkeypatch.setattr(registry_cli, "list_versions", refuse)
    assert cli.main(["registry", "list"]) == ExitCode.REFUSED
    assert capsys.readouterr().err == "error: the endpoint is already Updating\n"


def test_a_missing_dependency_group_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`story` in a runtime-only install: moto is missing, and the message says what to do."""
    # A None entry makes the import raise ModuleNotFoundError, as in an install without moto.
    for name in ["moto", *(m for m in sys.modules if m.startswith("moto."))]:
        monkeypatch.setitem(sys.modules, name, None)
    for name in [m for m in sys.modules if m.startswith("{{ cookiecutter.__package }}.dev")]:
        monkeypatch.delitem(sys.modules, name)
    assert cli.main(["story"]) == ExitCode.NOT_SET_UP
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "story needs the dev dependency group" in err
    assert "uv sync --group dev" in err
