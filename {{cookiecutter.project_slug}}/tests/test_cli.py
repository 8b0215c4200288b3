"""The command line's shape, speed and error handling."""

import subprocess
import sys
import time
import types

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
