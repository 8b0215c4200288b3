"""buildspec-retrain.yml: its shape, its contract with the CLI and CodeBuild, and a local run."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import learnable
import pytest
import yaml

from {{ cookiecutter.__package }} import cli, config
from {{ cookiecutter.__package }}.dev import emulator
from {{ cookiecutter.__package }}.training.interface import EVALUATE, GATE, PREPROCESS, REGISTER, TRAIN

ROOT = config.REPO_ROOT
BUILDSPEC = ROOT / config.BUILDSPEC_RETRAIN
PHASES = ["install", "pre_build", "build"]
# Set by CodeBuild itself in every build; the project need not define them.
CODEBUILD_PROVIDED = {"CODEBUILD_SRC_DIR", "CODEBUILD_BUILD_ID", "AWS_REGION", "AWS_DEFAULT_REGION"}
RUN_PREFIX = "uv run --locked "
VARIABLE = re.compile(r"\$\{?([A-Z_][A-Z0-9_]*)")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(BUILDSPEC.read_text(encoding="utf-8"))


def commands(spec: dict[str, Any], phase: str, block: str = "commands") -> list[str]:
    return list(spec["phases"][phase].get(block, []))


def declared_variables() -> set[str]:
    """The variables the header comment says the CodeBuild project must define."""
    header = BUILDSPEC.read_text(encoding="utf-8").split("version:")[0]
    listed = header.split("defines each of them:")[1]
    return set(re.findall(r"^#\s+([A-Z_][A-Z0-9_]*)\s", listed, flags=re.MULTILINE))


def test_parses_with_phases_in_order(spec: dict[str, Any]) -> None:
    assert spec["version"] == 0.2
    assert list(spec["phases"]) == PHASES
    assert all(commands(spec, phase) for phase in PHASES)


def test_every_variable_read_is_defined_somewhere(spec: dict[str, Any]) -> None:
    text = BUILDSPEC.read_text(encoding="utf-8").split("version:", 1)[1]
    read = set(VARIABLE.findall(text))
    defined_here = set(spec["env"].get("variables", {}))
    assert read - defined_here - CODEBUILD_PROVIDED == declared_variables()
    assert declared_variables() == {config.COMMIT_SHA_VARIABLE, config.INPUT_DATA_VARIABLE}


@pytest.mark.parametrize("buildspec", [config.BUILDSPEC_RETRAIN, config.BUILDSPEC_DEPLOY])
def test_installs_the_uv_pyproject_requires(buildspec: str) -> None:
    """The install command pip-installs exactly [tool.uv] required-version, read at build time."""
    spec = yaml.safe_load((ROOT / buildspec).read_text(encoding="utf-8"))
    [install] = [c for c in commands(spec, "install") if "pip install" in c]
    prefix = "python -m pip install --quiet --disable-pip-version-check "
    assert install.startswith(prefix + '"uv$(python -c ')
    assert "UV_VERSION" not in spec["env"]["variables"]
    # The requirement pip receives, as bash expands it in the repository root.
    result = subprocess.run(
        ["bash", "-c", "echo " + install.removeprefix(prefix)],
        cwd=ROOT,
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    required = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"][
        "required-version"
    ]
    assert result.stdout.strip() == f"uv{required}"


def test_installs_every_group(spec: dict[str, Any]) -> None:
    assert "uv sync --locked --all-groups" in " ".join(commands(spec, "install"))


def test_checks_before_building_with_a_junit_report(spec: dict[str, Any]) -> None:
    pre_build = commands(spec, "pre_build")
    assert pre_build == [
        f"{RUN_PREFIX}ruff check .",
        f"{RUN_PREFIX}ruff format --check .",
        f"{RUN_PREFIX}pytest --junitxml=reports/junit.xml",
    ]
    (report,) = spec["reports"].values()
    assert report == {"files": ["reports/junit.xml"], "file-format": "JUNITXML"}


def _cli_commands(spec: dict[str, Any]) -> list[list[str]]:
    found = []
    for phase in PHASES:
        for command in commands(spec, phase):
            words = shlex.split(command.removeprefix(RUN_PREFIX))
            if words[:3] == ["python", "-m", config.PACKAGE]:
                found.append(words[3:])
    return found


def test_its_commands_exist_in_the_cli(spec: dict[str, Any]) -> None:
    found = _cli_commands(spec)
    assert [c[:2] for c in found] == [["pipeline", "upsert"], ["pipeline", "start"]]
    parser = cli.build_parser()
    for words in found:
        args = parser.parse_args([os.path.expandvars(w) for w in words])
        assert args.handler.__module__ == f"{cli.__name__}.pipeline"
    start = parser.parse_args(found[1])
    assert start.wait
    # It gives up at the budget that fits inside the build (tests/test_budgets.py).
    assert start.timeout_seconds == config.PIPELINE_WAIT_SECONDS
    assert start.commit == f"${config.COMMIT_SHA_VARIABLE}"
    # The retrain CodePipeline's variable: an s3:// URI, or "default" for config.py's data set.
    assert start.input_data == f"${config.INPUT_DATA_VARIABLE}"


def test_exports_what_the_start_command_writes(spec: dict[str, Any]) -> None:
    assert spec["env"]["exported-variables"] == ["PIPELINE_EXECUTION_ARN", "MODEL_PACKAGE_ARN"]
    start = shlex.split(commands(spec, "build")[-1])
    outputs = start[start.index("--outputs") + 1]
    (export,) = commands(spec, "build", "finally")
    assert outputs in export


def test_build_phase_runs_against_the_local_emulator(spec: dict[str, Any], tmp_path: Path) -> None:
    """The build commands in order, in one shell as CodeBuild runs them, on 127.0.0.1."""
    script = ["set -e", f"cd {shlex.quote(str(tmp_path))}"]
    for command in commands(spec, "build"):
        script.append(command.replace(RUN_PREFIX + "python", shlex.quote(sys.executable), 1))
    script.append("set +e")
    script.extend(commands(spec, "build", "finally"))
    script.append('echo "exported PIPELINE_EXECUTION_ARN=$PIPELINE_EXECUTION_ARN"')
    script.append('echo "exported MODEL_PACKAGE_ARN=$MODEL_PACKAGE_ARN"')
    with emulator.running() as url:
        emulator.seed(url)
        data = learnable.upload(url)
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": url,
            "NO_PROXY": "127.0.0.1",
            "PYTHONPATH": str(ROOT / "src"),
            config.COMMIT_SHA_VARIABLE: "0123456789abcdef0123456789abcdef01234567",
            # A table any model learns: the build phase's wiring, whatever the data set.
            config.INPUT_DATA_VARIABLE: data,
        }
        result = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert f"upsert: arn:aws:sagemaker:{config.AWS_REGION}:" in out
    assert f"(commit 0123456789abcdef0123456789abcdef01234567, data {data})" in out
    # The emulator ran the upserted definition: every step, then the Register step's package.
    for step in (PREPROCESS, TRAIN, EVALUATE, GATE, REGISTER):
        assert f"step {step}: Succeeded" in out
    assert "execution: Succeeded" in out
    assert re.search(
        r"^exported PIPELINE_EXECUTION_ARN=arn:aws:sagemaker:\S+/execution/", out, re.M
    )
    package = rf"arn:aws:sagemaker:{config.AWS_REGION}:\d+:model-package/"
    group = re.escape(config.MODEL_PACKAGE_GROUP)
    assert re.search(rf"^exported MODEL_PACKAGE_ARN={package}{group}/1$", out, re.M)
