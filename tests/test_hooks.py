"""The pre-generation hook, rendered by cookiecutter's own environment and run as a script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE, rendered_answers
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


def run_hook(tmp_path: Path, **answers: str) -> subprocess.CompletedProcess[str]:
    """Render the hook exactly as cookiecutter would for these answers, then run it."""
    context = hook_context(**answers)
    env = StrictEnvironment(context={"cookiecutter": context}, keep_trailing_newline=True)
    script = tmp_path / "pre_gen_project.py"
    script.write_text(env.from_string(HOOK.read_text()).render(cookiecutter=context))
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=False
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
        ({"accuracy_threshold": "0"}, "accuracy_threshold '0' must be a number greater than 0"),
        ({"accuracy_threshold": "1.01"}, "accuracy_threshold '1.01'"),
        ({"accuracy_threshold": "nan"}, "accuracy_threshold 'nan'"),
        ({"accuracy_threshold": "high"}, "accuracy_threshold 'high'"),
        ({"training_instance_type": "m5.large"}, "training_instance_type 'm5.large' must be"),
        ({"endpoint_instance_type": "ml.m5"}, "endpoint_instance_type 'ml.m5'"),
        ({"endpoint_instance_count": "0"}, "endpoint_instance_count '0' must be a whole number"),
        ({"endpoint_instance_count": "two"}, "endpoint_instance_count 'two'"),
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
        ({"project_slug": "1model"}, "project_slug '1model' must be 3-24 characters"),
        ({"project_slug": "my--model"}, "project_slug 'my--model'"),
        ({"project_slug": "a" * 25}, "project_slug 'aaaaaaaaaaaaaaaaaaaaaaaaa'"),
        ({"project_slug": "class"}, "shadows a Python keyword or standard-library module"),
        ({"project_slug": "json"}, "shadows a Python keyword or standard-library module"),
        ({"project_slug": "boto3"}, "shadows a dependency"),
        ({"github_owner": "-org"}, "github_owner '-org' must be 1-39 letters"),
        ({"github_owner": "a" * 40}, "github_owner"),
        ({"github_repo": "repo name"}, "github_repo 'repo name' must be 1-100"),
        ({"github_repo": ".."}, "github_repo '..'"),
        ({"description": "two\nlines"}, "description must be a single line"),
        ({"project_name": "   "}, "project_name must not be empty"),
        ({"deployment_strategy": "big-bang"}, "deployment_strategy 'big-bang' must be one of"),
        ({"branching_model": "trunk"}, "branching_model 'trunk' must be one of"),
        ({"python_version": "2.7"}, "python_version '2.7' must be one of"),
    ],
    ids=lambda v: "-".join(f"{k}" for k in v) if isinstance(v, dict) else None,
)
def test_bad_answer_is_one_clear_line(tmp_path: Path, answers: dict, message: str) -> None:
    result = run_hook(tmp_path, **answers)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ERROR: ")
    assert message in lines[0]


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
