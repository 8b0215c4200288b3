"""Bake named option combinations; check each file set and run each baked repo's own gate."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import datasets
import pytest
from conftest import (
    BEFORE_3_11_4,
    COMBINATIONS,
    OTHER_COMBINATIONS,
    BakedProject,
    assert_authorized,
    bake,
    parse_everything,
    rendered_answers,
    uv,
    why,
)


def expected_files(answers: dict[str, str], package: str) -> set[str]:
    """The exact file set a bake with these answers must produce."""
    src = f"src/{package}"
    return {
        ".gitignore",
        ".python-version",
        "Makefile",
        "README.md",
        "docs/design-decisions.md",
        "docs/first-real-run.md",
        "pyproject.toml",
        "uv.lock",
        # The package's plumbing and its command line, one module per command.
        f"{src}/__init__.py",
        f"{src}/__main__.py",
        f"{src}/aws.py",
        f"{src}/aws_failures.py",
        f"{src}/config.py",
        f"{src}/errors.py",
        f"{src}/github.py",
        # run-local's steps and the emulator's jobs as processes forked from a warm interpreter.
        f"{src}/processes.py",
        "tests/test_processes.py",
        *(
            f"{src}/cli/{name}.py"
            for name in (
                "__init__",
                "deploy",
                "doctor",
                "monitor",
                "pipeline",
                "registry",
                "retrain",
                "rollback",
                "run_local",
                "story",
                "teardown",
            )
        ),
        "tests/conftest.py",
        "tests/request_validation.py",
        "tests/test_aws_failures.py",
        "tests/test_budgets.py",
        "tests/test_cli.py",
        "tests/test_config.py",
        "tests/test_readme.py",
        "tests/test_request_validation.py",
        # The AWS side, and the test that holds its names to config.py.
        "infra/stack.yml",
        "infra/bootstrap.sh",
        "tests/infra/test_bootstrap.py",
        # Which OIDC subject form `make bootstrap` gives the stack, and its test; what it shares
        # with the next script (GitHub's API through gh).
        "infra/gh.py",
        "infra/github_ids.py",
        "tests/infra/test_github_ids.py",
        # The GitHub environments' branch policies and reviewers (`make github-environments`).
        "infra/github_environments.py",
        "tests/infra/test_github_environments.py",
        # The stand-in gh both GitHub scripts are tested with.
        "tests/infra/fake_gh.py",
        "tests/infra/cloudformation.py",
        "tests/infra/test_names.py",
        # Checking the AWS and GitHub sides (`doctor`) and removing the AWS side (`teardown`).
        *(
            f"{src}/infra/{name}.py"
            for name in (
                "__init__",
                "aws_checks",
                "doctor",
                "github_checks",
                "image",
                "stack",
                "teardown",
                "trust",
            )
        ),
        "tests/infra/conftest.py",
        "tests/infra/test_doctor.py",
        "tests/infra/test_github_checks.py",
        "tests/infra/test_expected.py",
        "tests/infra/test_teardown.py",
        # The ML steps, the sample data and the local flow.
        "compat-requirements.txt",
        "data/README.md",
        "data/breast_cancer.csv",
        f"{src}/steps/__init__.py",
        f"{src}/steps/baseline.py",
        f"{src}/steps/evaluate.py",
        f"{src}/steps/inference.py",
        f"{src}/steps/preprocess.py",
        f"{src}/steps/report.py",
        f"{src}/steps/train.py",
        "tests/tables.py",
        "tests/steps/test_baseline.py",
        "tests/steps/test_evaluate.py",
        "tests/steps/test_inference.py",
        "tests/steps/test_preprocess.py",
        "tests/steps/test_serving_stack.py",
        "tests/steps/test_steps.py",
        "tests/steps/test_train.py",
        # The requests and the status each must get: the serving and emulator tests share them.
        "tests/serving_cases.py",
        # Training: locally, the SageMaker pipeline, and retraining one commit.
        "buildspec-retrain.yml",
        *(
            f"{src}/training/{name}.py"
            for name in (
                "__init__",
                "definition",
                "execution",
                "interface",
                "local",
                "retrain",
                "sdk",
                "upsert",
            )
        ),
        "tests/test_buildspec.py",
        "tests/training/snapshots/pipeline-definition.json",
        "tests/training/test_local.py",
        "tests/training/test_pipeline.py",
        "tests/training/test_retrain.py",
        # Promotion: the registry and the endpoints.
        "buildspec-deploy.yml",
        *(
            f"{src}/promotion/{name}.py"
            for name in (
                "__init__",
                "champion",
                "deploy",
                "endpoint",
                "history",
                "registry",
                "road",
                "rollback",
                "shift",
                "smoke",
                "timeline",
            )
        ),
        "tests/promotion/test_deploy.py",
        "tests/promotion/test_registry.py",
        "tests/promotion/test_timeline.py",
        # Development tooling: the local AWS emulator, its offline pipeline executor, the story.
        *(
            f"{src}/dev/{name}.py"
            for name in (
                "__init__",
                "archive",
                "benchmark",
                "capture",
                "containers",
                "emulated_stack",
                "emulator",
                "endpoints",
                "executor",
                "expressions",
                "invocations",
                "pipelines",
                "protocol",
                "schedules",
                "story",
                "story_monitoring",
            )
        ),
        # Monitoring: capture, the served version's baseline, schedules, the offline check.
        *(
            f"{src}/monitoring/{name}.py"
            for name in ("__init__", "baseline", "capture", "drift", "schedule")
        ),
        "tests/monitoring/test_drift.py",
        "tests/monitoring/test_monitoring.py",
        "tests/learnable.py",
        "tests/model_packages.py",
        "tests/dev/test_archive.py",
        "tests/dev/test_benchmark.py",
        "tests/dev/test_emulator.py",
        "tests/dev/test_executor.py",
        "tests/dev/test_pipeline_execution.py",
        "tests/dev/test_story.py",
        # The workflows.
        ".github/workflows/pr.yml",
        ".github/workflows/approve.yml",
        # The steps every job starts with, and the bot that keeps the pins current.
        ".github/actions/setup/action.yml",
        ".github/dependabot.yml",
        ".github/workflows/retrain.yml",
        ".github/workflows/deploy.yml",
        ".github/workflows/rollback.yml",
        ".github/workflows/template-update.yml",
    } | ({".github/workflows/promote.yml"} if answers["branching_model"] == "gitflow" else set())


def test_exact_file_set(bake_only: BakedProject) -> None:
    assert bake_only.files() == expected_files(bake_only.answers, bake_only.package)


# GitHub's own expressions `${{ ... }}` are meant to survive baking; nothing else may.
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{|\{%|\{#")


def test_no_leftover_jinja(bake_only: BakedProject) -> None:
    leftovers = [
        f"{name}: {line.strip()}"
        for name in sorted(bake_only.files())
        for line in bake_only.read(name).splitlines()
        if LEFTOVER_JINJA.search(line)
    ]
    assert leftovers == []


def test_config_files_parse_and_carry_answers(bake_only: BakedProject) -> None:
    parse_everything(bake_only)
    pyproject = tomllib.loads(bake_only.read("pyproject.toml"))
    assert pyproject["project"]["name"] == bake_only.path.name
    assert pyproject["project"]["description"] == bake_only.answers["description"]
    assert bake_only.read(".python-version").strip() == bake_only.answers["python_version"]


def test_config_module_holds_the_answers(baked: BakedProject) -> None:
    code = (
        f"from {baked.package} import config as c; import json; print(json.dumps(["
        "c.AWS_REGION, c.AWS_ACCOUNT_ID, c.DEPLOYMENT_STRATEGY, c.APPROVAL_MODE, "
        "c.BRANCHING_MODEL, c.GATE_THRESHOLD, c.ENDPOINT_INSTANCE_COUNT, "
        "c.GITHUB_OWNER, c.GITHUB_REPO, c.TASK, c.GATE_METRIC, c.CHAMPION_TOLERANCE]))"
    )
    values = json.loads(baked.run("python", "-c", code).stdout)
    a = baked.answers
    assert values == [
        a["aws_region"],
        a["aws_account_id"],
        a["deployment_strategy"],
        a["approval_mode"],
        a["branching_model"],
        float(a["gate_threshold"]),
        int(a["endpoint_instance_count"]),
        a["github_owner"],
        a["github_repo"],
        a["task"],
        a["gate_metric"],
        float(a["champion_tolerance"]),
    ]


@pytest.fixture(scope="module")
def own_data(baked: BakedProject, tmp_path_factory: pytest.TempPathFactory) -> BakedProject:
    """The bake with its combination's generated table swapped in (tests/datasets.py)."""
    return datasets.with_own_data(baked, tmp_path_factory.mktemp("own-data"))


# The repository's own make targets, as they are; the shared environment is the installed one.
MAKE = ("make", "-o", ".venv/.installed", "RUN=")


# Each combination's suite result, kept for the session: under pytest-xdist a worker may run
# another combination's tests in between, which re-creates module fixtures; never the suite.
_SUITES: dict[str, tuple[subprocess.CompletedProcess[str], Path]] = {}
with_its_suite = pytest.mark.parametrize(
    "bake_only", OTHER_COMBINATIONS, indirect=True, scope="module"
)
# A 3.11 bake whose suite runs on the oldest Python the bake claims (conftest.py).
OLDEST_PYTHON_COMBINATION = OTHER_COMBINATIONS[0]


def on_the_oldest_python(project: BakedProject) -> bool:
    """Whether this bake's suite runs on the oldest Python the bake claims."""
    return project.answers == rendered_answers(**OLDEST_PYTHON_COMBINATION.values[0])


@pytest.fixture(scope="module")
def baked_suite(
    request: pytest.FixtureRequest,
    own_data: BakedProject,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The baked repo's own `make test`, on its own data, once per bake, recording AWS requests."""
    key = json.dumps(own_data.answers, sort_keys=True)
    if key not in _SUITES:
        project = own_data
        if on_the_oldest_python(own_data):
            oldest = request.getfixturevalue("oldest_venv")
            project = dataclasses.replace(own_data, venv=oldest or own_data.venv)
        record = tmp_path_factory.mktemp("aws-requests")
        result = project.run(*MAKE, "test", check=False, record=record, timeout=900)
        _SUITES[key] = result, record
    return _SUITES[key]


@with_its_suite
def test_baked_repo_gate_passes_on_its_own_data(
    own_data: BakedProject, baked_suite: tuple[subprocess.CompletedProcess[str], Path]
) -> None:
    """The baked repo's own lint and tests, with no fix-up pass first, after a user swaps in
    another table and changes nothing but the data-set lines of config.py."""
    own_data.run(*MAKE, "lint")
    result, _ = baked_suite
    assert result.returncode == 0, why(result.stdout) + result.stderr[-3000:]
    assert re.search(r"\d+ passed", result.stdout), result.stdout[-2000:]


@with_its_suite
def test_the_suite_ran_on_the_python_it_should(
    own_data: BakedProject,
    baked_suite: tuple[subprocess.CompletedProcess[str], Path],
    oldest_venv: Path | None,
) -> None:
    """One combination's on an interpreter older than 3.11.4 (every baked test, the emulator's
    and the model archive's included), the others on the shared environment's: pytest's header
    names the interpreter that ran them."""
    result, _ = baked_suite
    found = re.search(r"^platform \S+ -- Python (\d+)\.(\d+)\.(\d+)", result.stdout, re.M)
    assert found, result.stdout[:2000]
    version = tuple(int(part) for part in found.groups())
    if not on_the_oldest_python(own_data):
        shared = own_data.run("python", "-c", "import sys; print(*sys.version_info[:3])")
        assert version == tuple(int(part) for part in shared.stdout.split())
        return
    if oldest_venv is None:
        pytest.skip(f"no Python {BEFORE_3_11_4} on this machine (set OLDEST_PYTHON)")
    assert version[:2] == (3, 11)
    assert version[2] < 4, f"3.11.{version[2]} already has the 3.11.4 APIs this run must miss"


def check_artifacts(project: BakedProject, stdout: str) -> None:
    """Every artifact of a passing local run is there and sound, where the pipeline reads it."""
    root = project.path / "build/local/opt/ml/processing"
    with tarfile.open(root / "model" / "model.tar.gz") as archive:
        assert sorted(archive.getnames()) == ["code/inference.py", "model.joblib"]
    evaluation = json.loads((root / "evaluation" / "evaluation.json").read_text(encoding="utf-8"))
    # Where the pipeline's gate reads them (the baked suite ties them to SageMaker's fields).
    score, baseline = evaluation["gate"]["score"], evaluation["gate"]["baseline"]
    metric = project.answers["gate_metric"]
    assert evaluation["gate"]["metric"] == metric
    assert score >= float(project.answers["gate_threshold"])
    assert score > baseline
    report = (root / "report" / "report.md").read_text(encoding="utf-8")
    assert "**Verdict: PASS**" in report
    binary = project.answers["task"] == "binary"
    for plot in ["confusion_matrix.png", *(["roc_curve.png"] if binary else [])]:
        assert (root / "report" / plot).read_bytes().startswith(b"\x89PNG")
    steps = [line.split()[0] for line in stdout.splitlines() if line[:1].isalpha()][:4]
    assert steps == ["preprocess", "train", "evaluate", "report"]
    assert f"verdict: PASS: {metric} {score:.4f} clears the threshold" in stdout


def test_make_local_trains_on_its_own_data_or_the_gate_refuses(own_data: BakedProject) -> None:
    """Each table trains and passes the gate; the noise is refused, the baseline named."""
    _, _, setting, passes = datasets.for_answers(own_data.answers)
    local = own_data.run(*MAKE, "local", check=False, timeout=600)
    output = local.stdout + local.stderr
    assert f"target {setting['TARGET_COLUMN']!r}: " in local.stdout, output[-3000:]
    metric = own_data.answers["gate_metric"]
    if passes:
        assert local.returncode == 0, output[-3000:]
        check_artifacts(own_data, local.stdout[local.stdout.index("preprocess ") :])
    else:
        # run-local exits 7 (the gate), which make reports before exiting 2 itself.
        assert "Error 7" in local.stderr, output[-3000:]
        assert f"verdict: FAIL: {metric} " in local.stdout
        # Refused with the baseline named: no better than always answering the majority.
        (error,) = [line for line in local.stderr.splitlines() if line.startswith("error: ")]
        assert "best constant classifier (0.5000)" in error
        assert "the pipeline would not register this model" in error
    report = own_data.read("build/local/opt/ml/processing/report/report.md")
    assert "## Class balance" in report
    assert "| metric | test | train | best constant classifier (test) |" in report


def test_shipped_lock_is_current(baked: BakedProject) -> None:
    """The uv.lock the template ships fits this bake's pyproject.toml, so `uv sync --locked`
    works from the first push (offline: checking a current lock needs no index)."""
    python = str(baked.venv / "bin" / "python") if baked.venv else sys.executable
    result = subprocess.run(
        [uv(), "lock", "--check", "--offline", "--python", python],
        cwd=baked.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"{result.stderr}\nrun `make lock` at the template root"


@with_its_suite
def test_stack_authorizes_every_request_of_the_baked_suite(
    request: pytest.FixtureRequest,
    own_data: BakedProject,
    baked_suite: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """Each AWS request a command makes in the baked suite, by the roles that run it in AWS."""
    _, record = baked_suite
    assert_authorized(own_data.path, record, f"baked suite [{request.node.callspec.id}]")


def test_every_combination_has_a_data_set_of_each_kind() -> None:
    assert sorted(datasets.DATASETS) == sorted(str(c.id) for c in COMBINATIONS)
    kinds = {table for table, _, _, _ in datasets.DATASETS.values()}
    assert kinds == {datasets.clean, datasets.messy, datasets.multiclass, datasets.noise}


def test_rejected_bake_leaves_nothing(tmp_path: Path) -> None:
    from cookiecutter.exceptions import FailedHookException

    with pytest.raises(FailedHookException):
        bake(tmp_path, aws_region="mars-1")
    assert list(tmp_path.iterdir()) == []
