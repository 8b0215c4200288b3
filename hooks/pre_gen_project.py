"""Validate every answer before a single file is written.

Answers arrive as JSON data (`tojson`), never interpolated into code, so quotes, backslashes
or template syntax in an answer cannot change what this hook does. On the first bad answer it
prints one line naming the answer and what is allowed, and exits 1; cookiecutter then removes
the half-made project folder.
"""

import json
import keyword
import math
import re
import sys

ANSWERS = json.loads(
    r"""{{ {
    "project_name": cookiecutter.project_name,
    "project_slug": cookiecutter.project_slug,
    "package": cookiecutter.__package,
    "description": cookiecutter.description,
    "github_owner": cookiecutter.github_owner,
    "github_repo": cookiecutter.github_repo,
    "aws_region": cookiecutter.aws_region,
    "aws_account_id": cookiecutter.aws_account_id,
    "deployment_strategy": cookiecutter.deployment_strategy,
    "approval_mode": cookiecutter.approval_mode,
    "branching_model": cookiecutter.branching_model,
    "accuracy_threshold": cookiecutter.accuracy_threshold,
    "training_instance_type": cookiecutter.training_instance_type,
    "endpoint_instance_type": cookiecutter.endpoint_instance_type,
    "endpoint_instance_count": cookiecutter.endpoint_instance_count,
    "python_version": cookiecutter.python_version,
} | tojson }}"""
)

CHOICES = {
    "deployment_strategy": ("canary", "linear", "all-at-once", "rolling"),
    "approval_mode": ("manual", "automatic"),
    "branching_model": ("github-flow", "gitflow"),
    "python_version": ("3.11", "3.12"),
}
# The slug prefixes every AWS name; the longest derived name, the artifact bucket
# "<slug>-artifacts-<account>-<region>", must stay within S3's 63 characters.
SLUG_MAX = 24
SLUG_RE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
# Names the generated package must not shadow: its own dependencies' import names.
DEPENDENCY_MODULES = {
    "boto3", "botocore", "sagemaker", "sklearn", "pandas", "numpy", "joblib", "matplotlib",
    "moto", "pytest", "ruff", "yaml", "scipy",
}  # fmt: skip
REGION_RE = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[1-9]")
ACCOUNT_RE = re.compile(r"[0-9]{12}")
# GitHub: owners are 1-39 alphanumerics or single hyphens, not at either end.
OWNER_RE = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}")
REPO_RE = re.compile(r"[A-Za-z0-9._-]{1,100}")
INSTANCE_RE = re.compile(r"ml\.[a-z0-9]+\.[a-z0-9]+")
INSTANCE_COUNT_MAX = 100


class AnswerError(ValueError):
    """An answer that the template cannot use."""


def _one_line(name: str, value: str, max_len: int) -> None:
    if not value.strip():
        raise AnswerError(f"{name} must not be empty")
    if "\n" in value or "\r" in value:
        raise AnswerError(f"{name} must be a single line")
    if len(value) > max_len:
        raise AnswerError(f"{name} must be at most {max_len} characters (got {len(value)})")


def validate(answers: dict) -> None:
    """Raise AnswerError for the first answer the template cannot use."""
    _one_line("project_name", answers["project_name"], 80)
    _one_line("description", answers["description"], 200)

    slug = answers["project_slug"]
    if not SLUG_RE.fullmatch(slug) or not 3 <= len(slug) <= SLUG_MAX:
        raise AnswerError(
            f"project_slug {slug!r} must be 3-{SLUG_MAX} characters of lowercase letters, digits "
            "and single hyphens, starting with a letter (pass project_slug=... to choose one)"
        )
    package = answers["package"]
    if keyword.iskeyword(package) or package in sys.stdlib_module_names:
        raise AnswerError(
            f"project_slug {slug!r} gives package {package!r}, which shadows a Python keyword or "
            "standard-library module; choose another project_slug"
        )
    if package in DEPENDENCY_MODULES:
        raise AnswerError(
            f"project_slug {slug!r} gives package {package!r}, which shadows a dependency; "
            "choose another project_slug"
        )

    if not OWNER_RE.fullmatch(answers["github_owner"]):
        raise AnswerError(
            f"github_owner {answers['github_owner']!r} must be 1-39 letters, digits or single "
            "hyphens, not starting or ending with a hyphen"
        )
    repo = answers["github_repo"]
    if not REPO_RE.fullmatch(repo) or repo in {".", ".."}:
        raise AnswerError(f"github_repo {repo!r} must be 1-100 letters, digits, '.', '_' or '-'")

    if not REGION_RE.fullmatch(answers["aws_region"]):
        raise AnswerError(
            f"aws_region {answers['aws_region']!r} is not an AWS region name such as us-east-1"
        )
    if not ACCOUNT_RE.fullmatch(answers["aws_account_id"]):
        raise AnswerError(f"aws_account_id {answers['aws_account_id']!r} must be exactly 12 digits")

    for name, allowed in CHOICES.items():
        if answers[name] not in allowed:
            raise AnswerError(f"{name} {answers[name]!r} must be one of: {', '.join(allowed)}")

    try:
        threshold = float(answers["accuracy_threshold"])
    except ValueError:
        threshold = math.nan
    if not (math.isfinite(threshold) and 0 < threshold <= 1):
        raise AnswerError(
            f"accuracy_threshold {answers['accuracy_threshold']!r} must be a number "
            "greater than 0 and at most 1"
        )

    for name in ("training_instance_type", "endpoint_instance_type"):
        if not INSTANCE_RE.fullmatch(answers[name]):
            raise AnswerError(
                f"{name} {answers[name]!r} must be a SageMaker instance type such as ml.m5.large"
            )

    count_text = answers["endpoint_instance_count"]
    if not count_text.isdigit() or not 1 <= int(count_text) <= INSTANCE_COUNT_MAX:
        raise AnswerError(
            f"endpoint_instance_count {count_text!r} must be a whole number "
            f"from 1 to {INSTANCE_COUNT_MAX}"
        )
    strategy = answers["deployment_strategy"]
    # SageMaker caps a canary, a linear step and a rolling batch at 50% of the instances.
    if strategy in ("canary", "linear", "rolling") and int(count_text) < 2:
        raise AnswerError(
            f"endpoint_instance_count {count_text} is too small for deployment_strategy "
            f"{strategy}: shifting part of the traffic needs at least 2 instances"
        )


if __name__ == "__main__":
    try:
        validate(ANSWERS)
    except AnswerError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        sys.exit(1)
