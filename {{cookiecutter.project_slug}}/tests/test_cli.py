"""The command line's shape, speed and error handling."""

import argparse
import importlib
import subprocess
import sys
import time
import types
from collections.abc import Iterator

import pytest

from {{ cookiecutter.__package }} import cli
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
    ["release"],
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


def test_every_command_is_listed_and_names_a_handler_that_exists() -> None:
    """Handlers are imported only when their command runs: a typo would only show in use."""
    commands = dict(_runnable(cli.build_parser()))
    assert sorted(commands) == sorted(tuple(c) for c in COMMANDS[1:])
    for words, parser in commands.items():
        target = parser.get_default("handler")
        module_name, function_name = target.split(":")
        module = importlib.import_module(f"{cli.__package__}.{module_name}")
        assert callable(getattr(module, function_name, None)), (words, target)


def test_help_imports_no_aws_or_ml_library() -> None:
    code = (
        "import sys, {{ cookiecutter.__package }}.cli as c\n"
        "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('boto3', 'sagemaker', 'sklearn', 'pandas') if m in sys.modules]\n"
        "print('heavy:', *heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == "heavy:"


def test_promotion_and_pipeline_start_never_import_the_sagemaker_sdk() -> None:
    """The SDK costs seconds and most of the install: only building the definition needs it."""
    modules = ["registry", "deploy", "release", "pipeline"]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module('{{ cookiecutter.__package }}.' + name)\n"
        "print('sagemaker' in sys.modules, 'boto3' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]


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

    monkeypatch.setattr(
        cli.importlib, "import_module", lambda name: types.SimpleNamespace(cmd_list=refuse)
    )
    assert cli.main(["registry", "list"]) == ExitCode.REFUSED
    assert capsys.readouterr().err == "error: the endpoint is already Updating\n"
