"""The pre-generation hook, rendered by cookiecutter's own environment and run as a script."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import TEMPLATE, bake, bake_env, rendered_answers
from cookiecutter.environment import StrictEnvironment

HOOK = TEMPLATE / "hooks" / "pre_gen_project.py"


CHOICE_KEYS = {
    key
    for key, value in json.loads((TEMPLATE / "cookiecutter.json").read_text()).items()
    if isinstance(value, list)
}


def hook_context(**answers: str) -> dict:
    """The context cookiecutter would render the hook with.

    Cookiecutter itself refuses an unlisted choice given on the command line; the hook must
    refuse it too (a replay file or an old answer file can carry one), so choices are set after.
    """
    context = rendered_answers(**{k: v for k, v in answers.items() if k not in CHOICE_KEYS})
    context.update({k: v for k, v in answers.items() if k in CHOICE_KEYS})
    return context


def run_hook(
    tmp_path: Path, hook: Path = HOOK, context: dict | None = None, **answers: str
) -> subprocess.CompletedProcess[str]:
    """Render a hook exactly as cookiecutter would for these answers, then run it."""
    context = context if context is not None else hook_context(**answers)
    env = StrictEnvironment(context={"cookiecutter": context}, keep_trailing_newline=True)
    script = tmp_path / hook.name
    script.write_text(env.from_string(hook.read_text()).render(cookiecutter=context))
    return subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, check=False
    )


def test_defaults_pass(tmp_path: Path) -> None:
    result = run_hook(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"aws_region": "mars-1"}, "aws_region 'mars-1' is not an AWS region name"),
        ({"aws_region": "US-EAST-1"}, "aws_region 'US-EAST-1'"),
        ({"aws_account_id": "12345"}, "aws_account_id '12345' must be exactly 12 digits"),
        ({"aws_account_id": "12345678901a"}, "must be exactly 12 digits"),
        ({"gate_threshold": "0"}, "gate_threshold '0' must be a number greater than 0"),
        ({"gate_threshold": "1.01"}, "gate_threshold '1.01'"),
        ({"gate_threshold": "nan"}, "gate_threshold 'nan'"),
        ({"gate_threshold": "high"}, "gate_threshold 'high'"),
        ({"champion_tolerance": "-0.01"}, "champion_tolerance '-0.01' must be a number from 0"),
        ({"champion_tolerance": "0.11"}, "champion_tolerance '0.11' must be a number from 0"),
        ({"champion_tolerance": "nan"}, "champion_tolerance 'nan'"),
        ({"champion_tolerance": "some"}, "champion_tolerance 'some'"),
        ({"task": "regression"}, "task 'regression' must be one of: binary, multiclass"),
        ({"gate_metric": "precision"}, "gate_metric 'precision' must be one of: balanced_accuracy"),
        ({"training_instance_type": "m5.large"}, "training_instance_type 'm5.large' must be"),
        ({"endpoint_instance_type": "ml.m5"}, "endpoint_instance_type 'ml.m5'"),
        ({"endpoint_instance_count": "0"}, "endpoint_instance_count '0' must be a whole number"),
        ({"endpoint_instance_count": "two"}, "endpoint_instance_count 'two'"),
        ({"data_capture_percent": "101"}, "data_capture_percent '101' must be a whole number"),
        ({"data_capture_percent": "-1"}, "data_capture_percent '-1'"),
        ({"data_capture_percent": "12.5"}, "data_capture_percent '12.5'"),
        (
            {"endpoint_instance_count": "1", "deployment_strategy": "canary"},
            "too small for deployment_strategy canary",
        ),
        (
            {"endpoint_instance_count": "1", "deployment_strategy": "rolling"},
            "too small for deployment_strategy rolling",
        ),
        (
            {"endpoint_instance_count": "1", "deployment_strategy": "linear"},
            "too small for deployment_strategy linear",
        ),
        ({"project_slug": "1model"}, "project_slug '1model' must be 3-40 characters"),
        ({"project_slug": "my--model"}, "project_slug 'my--model'"),
        ({"project_slug": "a" * 41}, f"project_slug '{'a' * 41}' must be 3-40"),
        ({"aws_region": "cn-north-1"}, "aws_region 'cn-north-1' is in AWS China"),
        ({"aws_region": "cn-northwest-1"}, "does not support"),
        ({"aws_region": "us-iso-east-1"}, "aws_region 'us-iso-east-1' is in an AWS ISO"),
        ({"project_slug": "class"}, "shadows a Python keyword or standard-library module"),
        ({"project_slug": "json"}, "shadows a Python keyword or standard-library module"),
        ({"project_slug": "boto3"}, "shadows a dependency"),
        ({"github_owner": "-org"}, "github_owner '-org' must be 1-39 letters"),
        ({"github_owner": "a" * 40}, "github_owner"),
        ({"github_repo": "repo name"}, "github_repo 'repo name' must be 1-100"),
        ({"github_repo": ".."}, "github_repo '..'"),
        (
            {"github_owner_id": "12a", "github_repo_id": "3"},
            "github_owner_id '12a' must be GitHub's numeric ID",
        ),
        ({"github_owner_id": "012", "github_repo_id": "3"}, "github_owner_id '012'"),
        ({"github_owner_id": "123"}, "github_repo_id is empty while github_owner_id is set"),
        ({"github_repo_id": "456"}, "github_owner_id is empty while github_repo_id is set"),
        ({"description": "two\nlines"}, "description must be a single line"),
        ({"project_name": "   ", "project_slug": "blank"}, "project_name must not be empty"),
        ({"deployment_strategy": "big-bang"}, "deployment_strategy 'big-bang' must be one of"),
        ({"branching_model": "trunk"}, "branching_model 'trunk' must be one of"),
        ({"python_version": "2.7"}, "python_version '2.7' must be one of"),
    ],
    ids=lambda v: "-".join(f"{k}" for k in v) if isinstance(v, dict) else None,
)
def test_bad_answer_is_one_clear_line(tmp_path: Path, answers: dict, message: str) -> None:
    """One bad answer: its line leads, then the command to bake again with it marked."""
    result = run_hook(tmp_path, **answers)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("ERROR: ")
    assert message in lines[0]
    assert lines[1] == "1 answer to fix; nothing was written. Bake again with every answer kept:"
    assert lines[-1].endswith("# <- fix this")
    assert not any(line.startswith("ERROR: ") for line in lines[1:])


def test_github_ids_are_optional_together(tmp_path: Path) -> None:
    result = run_hook(tmp_path, github_owner_id="583231", github_repo_id="1296269")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("percent", ["0", "1", "100"])
def test_data_capture_percent_takes_0_to_100(tmp_path: Path, percent: str) -> None:
    result = run_hook(tmp_path, data_capture_percent=percent)
    assert result.returncode == 0, result.stderr


def test_all_at_once_accepts_a_single_instance(tmp_path: Path) -> None:
    result = run_hook(tmp_path, deployment_strategy="all-at-once", endpoint_instance_count="1")
    assert result.returncode == 0, result.stderr


def test_answers_reach_the_hook_as_data(tmp_path: Path) -> None:
    """A description that would break naive interpolation is read back intact."""
    tricky = 'He said "hi" \\ and left \'\'\' """ </script> ${HOME} $(touch pwned)'
    context = rendered_answers(description=tricky)
    env = StrictEnvironment(context={"cookiecutter": context}, keep_trailing_newline=True)
    rendered = env.from_string(HOOK.read_text()).render(cookiecutter=context)
    namespace: dict = {}
    exec(compile(rendered, "pre_gen_project.py", "exec"), namespace)  # noqa: S102
    assert namespace["ANSWERS"]["description"] == tricky
    assert not (tmp_path / "pwned").exists()
    assert not Path("pwned").exists()


def test_the_strategy_list_is_the_prompts_choices() -> None:
    """config.STRATEGIES and the Deploy workflow render `_strategies`; it must be the choices."""
    answers = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    assert answers["_strategies"] == sorted(answers["deployment_strategy"])


def rendered_hook(**answers: str) -> dict:
    """The pre-generation hook's namespace, rendered for these answers and executed."""
    context = hook_context(**answers)
    env = StrictEnvironment(context={"cookiecutter": context}, keep_trailing_newline=True)
    namespace: dict = {"__name__": "rendered_hook"}
    code = env.from_string(HOOK.read_text()).render(cookiecutter=context)
    exec(compile(code, "pre_gen_project.py", "exec"), namespace)  # noqa: S102
    return namespace


def test_every_answer_has_exactly_one_check() -> None:
    """Adding an answer means adding its check: the hook refuses to run an unchecked answer."""
    answers = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    public = [key for key in answers if not key.startswith("_")]
    hook = rendered_hook()
    assert list(hook["ANSWERS"]) == public, "the hook reads the answers in the prompts' order"
    assert sorted(hook["CHECKS"]) == sorted(public)


def test_every_bad_answer_at_once(tmp_path: Path) -> None:
    result = run_hook(
        tmp_path,
        project_slug="Bad_Slug",
        aws_account_id="12345",
        endpoint_instance_count="1",
        deployment_strategy="canary",
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert [line.split()[1] for line in errors] == [
        "project_slug",
        "aws_account_id",
        "endpoint_instance_count",
    ]
    assert "3 answers to fix" in result.stderr
    assert result.stderr.rstrip().endswith(
        "project_slug=Bad_Slug aws_account_id=12345 endpoint_instance_count=1  # <- fix these"
    )


def retry_words(stderr: str) -> list[str]:
    """The bake-again command the hook printed, as the shell would split it."""
    lines = stderr[stderr.index("cookiecutter --no-input") :].splitlines()
    last = next(i for i, line in enumerate(lines) if "# <- fix" in line)
    # A backslash at the end of a line continues the command, as in the shell.
    return shlex.split(
        " ".join(line.removesuffix("\\") for line in lines[: last + 1]), comments=True
    )


def test_a_normal_name_and_three_wrong_answers_in_one_pass(tmp_path: Path) -> None:
    """What a user sees: all three problems, first; then a command that bakes once fixed."""
    wrong = {"aws_region": "mars-1", "gate_threshold": "high", "endpoint_instance_count": "0"}
    command = [
        sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(tmp_path),
        str(TEMPLATE), "project_name=Customer Churn Prediction Model",
        *(f"{key}={value}" for key, value in wrong.items()),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=bake_env(), check=False)
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    # Ours lead; cookiecutter's own "Stopping generation" and its traceback come after.
    assert [line.split()[1] for line in lines[:3]] == list(wrong)
    assert all(line.startswith("ERROR: ") for line in lines[:3])
    assert list(tmp_path.iterdir()) == []

    words = retry_words(result.stderr)
    assert words[:3] == ["cookiecutter", "--no-input", str(TEMPLATE)]
    given = dict(word.split("=", 1) for word in words[3:])
    assert given["project_name"] == "Customer Churn Prediction Model"
    assert list(given)[-3:] == list(wrong), "the answers to fix come last"
    assert {key: given[key] for key in wrong} == wrong
    given.update(aws_region="eu-west-1", gate_threshold="0.9", endpoint_instance_count="2")
    fixed = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(tmp_path),
         str(TEMPLATE), *(f"{k}={v}" for k, v in given.items())],
        capture_output=True, text=True, env=bake_env(), check=False,
    )  # fmt: skip
    assert fixed.returncode == 0, fixed.stderr
    assert (tmp_path / "customer-churn-prediction-model" / "pyproject.toml").is_file()


@pytest.mark.parametrize(
    "name",
    [
        "Customer Churn Prediction Model",
        "Quarterly Customer Lifetime Value Forecasting Model For Retail",
        "x" * 80,
    ],
)
def test_the_derived_slug_always_fits(tmp_path: Path, name: str) -> None:
    slug = rendered_answers(project_name=name)["project_slug"]
    assert 3 <= len(slug) <= 40
    result = run_hook(tmp_path, project_name=name)
    assert result.returncode == 0, result.stderr


def test_govcloud_is_accepted(tmp_path: Path) -> None:
    """GovCloud is the aws-us-gov partition: config.PARTITION and the stack derive it."""
    assert run_hook(tmp_path, aws_region="us-gov-west-1").returncode == 0


def test_a_stale_package_name_from_a_replay_is_refused(tmp_path: Path) -> None:
    """A replay file keeps the derived package; an edited slug must not bake the old one."""
    context = hook_context(project_slug="churn-model")
    context["__package"] = "tumor_classifier"
    result = run_hook(tmp_path, context=context)
    assert result.returncode == 1
    assert "gives package 'churn_model', but the package name given is 'tumor_classifier'" in (
        result.stderr
    )
    assert "__package" not in result.stderr, "the retry command lets cookiecutter derive it"


POST_HOOK = TEMPLATE / "hooks" / "post_gen_project.py"


def _branch(repo: Path) -> str:
    head = subprocess.run(
        ["git", "symbolic-ref", "--short", "HEAD"], cwd=repo, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return head.stdout.strip()


@pytest.mark.parametrize(("branching", "branch"), [("github-flow", "main"), ("gitflow", "develop")])
def test_post_generation_starts_git_on_the_integration_branch(
    tmp_path: Path, branching: str, branch: str
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    context = rendered_answers(branching_model=branching)
    result = run_hook(project, hook=POST_HOOK, context=context)
    assert result.returncode == 0, result.stderr
    assert _branch(project) == branch
    assert f"started a git repository on branch {branch}" in result.stdout
    commands = [line.split("#")[0].strip() for line in result.stdout.splitlines()[2:5]]
    assert commands == ["cd tumor-classifier", "make local", "make story"]


def test_post_generation_leaves_an_enclosing_repository_alone(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "trunk", str(tmp_path)], check=True)
    project = tmp_path / "project"
    project.mkdir()
    result = run_hook(project, hook=POST_HOOK)
    assert result.returncode == 0, result.stderr
    assert not (project / ".git").exists()
    assert "inside an existing git repository" in result.stdout


def test_a_bake_keeps_its_hook_scripts_in_the_sessions_folder(tmp_path: Path) -> None:
    """cookiecutter leaves each rendered hook in a temporary file (cookiecutter#886): the
    session's bakes leave theirs in the run's folder, not in the machine's, whether cookiecutter
    runs in this process (conftest's bake) or in its own (bake_env)."""
    folder = Path(tempfile.gettempdir())
    assert folder.name.startswith("hook-scripts"), folder
    before = set(folder.iterdir())
    bake(tmp_path / "in-process")
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir",
         str(tmp_path / "process"), str(TEMPLATE)],
        capture_output=True, text=True, env=bake_env(), check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    added = set(folder.iterdir()) - before
    assert len(added) == 4, added  # pre_gen_project and post_gen_project, twice
