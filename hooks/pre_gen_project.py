"""Validate every answer before a single file is written, and report every problem at once.

Answers arrive as JSON data (`tojson`), never interpolated into code, so quotes, backslashes
or template syntax in an answer cannot change what this hook does. Each answer has one check
function in CHECKS (adding a validated answer is one more function there). When any answer is
bad, the hook prints one line per bad answer, then a `cookiecutter --no-input` command that
carries every answer, with the bad ones on its last line to fix, and exits 1; cookiecutter then
removes the half-made project folder and prints its own traceback after these lines.
"""

from __future__ import annotations

import json
import keyword
import math
import re
import shlex
import sys
from collections.abc import Callable

# In the order of the prompts (a list of pairs: tojson would sort an object's keys).
ANSWERS = dict(
    json.loads(
        r"""{{ [
    ["project_name", cookiecutter.project_name],
    ["project_slug", cookiecutter.project_slug],
    ["description", cookiecutter.description],
    ["github_owner", cookiecutter.github_owner],
    ["github_repo", cookiecutter.github_repo],
    ["github_owner_id", cookiecutter.github_owner_id],
    ["github_repo_id", cookiecutter.github_repo_id],
    ["aws_region", cookiecutter.aws_region],
    ["aws_account_id", cookiecutter.aws_account_id],
    ["deployment_strategy", cookiecutter.deployment_strategy],
    ["approval_mode", cookiecutter.approval_mode],
    ["branching_model", cookiecutter.branching_model],
    ["task", cookiecutter.task],
    ["gate_metric", cookiecutter.gate_metric],
    ["gate_threshold", cookiecutter.gate_threshold],
    ["champion_tolerance", cookiecutter.champion_tolerance],
    ["training_instance_type", cookiecutter.training_instance_type],
    ["endpoint_instance_type", cookiecutter.endpoint_instance_type],
    ["endpoint_instance_count", cookiecutter.endpoint_instance_count],
    ["data_capture_percent", cookiecutter.data_capture_percent],
    ["python_version", cookiecutter.python_version],
] | tojson }}"""
    )
)
# Not answers: the package name, derived by cookiecutter.json (checked, never repeated in the
# retry command: a replay file can carry a stale one, and cookiecutter derives it again), and
# the template as the user named it (a path, a URL or gh:owner/repo), for the retry command.
DERIVED = json.loads(
    r"""{{ {
    "package": cookiecutter.__package,
    "template": cookiecutter._template | default("TEMPLATE"),
} | tojson }}"""
)
PACKAGE, TEMPLATE = DERIVED["package"], DERIVED["template"]

CHOICES = {
    "deployment_strategy": ("canary", "linear", "all-at-once", "rolling"),
    "approval_mode": ("manual", "automatic"),
    "branching_model": ("github-flow", "gitflow"),
    "python_version": ("3.11", "3.12"),
    "task": ("binary", "multiclass"),
    # Each has a multiclass form too (F1: weighted; ROC AUC: one class against the rest).
    "gate_metric": ("balanced_accuracy", "accuracy", "f1", "roc_auc"),
}
# The slug prefixes every AWS name. 40 keeps the longest derived names within their services'
# limits: the artifact bucket "<slug>-artifacts-<account>" (S3: 63), the role
# "<slug>-github-deploy-staging" (IAM: 64) and the endpoint config "<slug>-staging-<timestamp>"
# (SageMaker: 63). The template's tests bake a 40-character slug and check every name.
SLUG_MAX = 40
SLUG_RE = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
# Names the generated package must not shadow: its own dependencies' import names.
DEPENDENCY_MODULES = {
    "boto3", "botocore", "sagemaker", "sklearn", "pandas", "numpy", "joblib", "matplotlib",
    "moto", "pytest", "ruff", "yaml", "scipy",
}  # fmt: skip
REGION_RE = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[1-9]")
# Partitions whose regions the template refuses, and why: their ARNs, endpoints, console
# domains and GitHub OIDC audience differ from what the workflows and the stack are built and
# tested for (China: partition aws-cn, audience sts.amazonaws.com.cn, amazonaws.com.cn hosts;
# the ISO partitions are closed networks GitHub-hosted runners cannot reach).
UNSUPPORTED_REGIONS = {
    "cn-": "AWS China (partition aws-cn)",
    "us-iso": "an AWS ISO partition",
    "eu-iso": "an AWS ISO partition",
}
ACCOUNT_RE = re.compile(r"[0-9]{12}")
# GitHub: owners are 1-39 alphanumerics or single hyphens, not at either end.
OWNER_RE = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}")
REPO_RE = re.compile(r"[A-Za-z0-9._-]{1,100}")
# GitHub's numeric account and repository IDs (the OIDC subject carries them; see config.py).
GITHUB_ID_RE = re.compile(r"[1-9][0-9]{0,19}")
INSTANCE_RE = re.compile(r"ml\.[a-z0-9]+\.[a-z0-9]+")
INSTANCE_COUNT_MAX = 100

# answer -> its check: the answers (all of them, for checks that relate two) in, a problem
# (one line, naming the value and what is allowed) or None out.
Check = Callable[[dict], str | None]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    """Register the function as the check of answer `name`."""

    def register(function: Check) -> Check:
        CHECKS[name] = function
        return function

    return register


def _one_line(value: str, max_len: int) -> str | None:
    if not value.strip():
        return "must not be empty"
    if "\n" in value or "\r" in value:
        return "must be a single line"
    if len(value) > max_len:
        return f"must be at most {max_len} characters (got {len(value)})"
    return None


@check("project_name")
def _project_name(answers: dict) -> str | None:
    return _one_line(answers["project_name"], 80)


@check("description")
def _description(answers: dict) -> str | None:
    return _one_line(answers["description"], 200)


@check("project_slug")
def _project_slug(answers: dict) -> str | None:
    slug = answers["project_slug"]
    if not SLUG_RE.fullmatch(slug) or not 3 <= len(slug) <= SLUG_MAX:
        return (
            f"{slug!r} must be 3-{SLUG_MAX} characters of lowercase letters, digits and single "
            "hyphens, starting with a letter"
        )
    if slug.replace("-", "_") != PACKAGE:
        return (
            f"{slug!r} gives package {slug.replace('-', '_')!r}, but the package name given is "
            f"{PACKAGE!r} (a replay file keeps the old one): bake without --replay"
        )
    if keyword.iskeyword(PACKAGE) or PACKAGE in sys.stdlib_module_names:
        return (
            f"{slug!r} gives package {PACKAGE!r}, which shadows a Python keyword or "
            "standard-library module; choose another project_slug"
        )
    if PACKAGE in DEPENDENCY_MODULES:
        return f"{slug!r} gives package {PACKAGE!r}, which shadows a dependency"
    return None


@check("github_owner")
def _github_owner(answers: dict) -> str | None:
    if OWNER_RE.fullmatch(answers["github_owner"]):
        return None
    return (
        f"{answers['github_owner']!r} must be 1-39 letters, digits or single hyphens, "
        "not starting or ending with a hyphen"
    )


@check("github_repo")
def _github_repo(answers: dict) -> str | None:
    repo = answers["github_repo"]
    if REPO_RE.fullmatch(repo) and repo not in {".", ".."}:
        return None
    return f"{repo!r} must be 1-100 letters, digits, '.', '_' or '-'"


def _github_id(answers: dict, name: str, other: str) -> str | None:
    value = answers[name]
    if value and not GITHUB_ID_RE.fullmatch(value):
        return (
            f"{value!r} must be GitHub's numeric ID (digits), or empty for make bootstrap to "
            "look it up"
        )
    if not value and answers[other]:
        repo = f"{answers['github_owner']}/{answers['github_repo']}"
        return (
            f"is empty while {other} is set: give both (gh api repos/{repo} "
            "--jq '.owner.id, .id'), or neither"
        )
    return None


@check("github_owner_id")
def _github_owner_id(answers: dict) -> str | None:
    return _github_id(answers, "github_owner_id", "github_repo_id")


@check("github_repo_id")
def _github_repo_id(answers: dict) -> str | None:
    return _github_id(answers, "github_repo_id", "github_owner_id")


@check("aws_region")
def _aws_region(answers: dict) -> str | None:
    region = answers["aws_region"]
    if not REGION_RE.fullmatch(region):
        return f"{region!r} is not an AWS region name such as us-east-1"
    for prefix, partition in UNSUPPORTED_REGIONS.items():
        if region.startswith(prefix):
            return (
                f"{region!r} is in {partition}, which this template does not support "
                "(its ARNs, endpoints and GitHub OIDC audience differ); choose a region of "
                "the aws or aws-us-gov partition"
            )
    return None


@check("aws_account_id")
def _aws_account_id(answers: dict) -> str | None:
    if ACCOUNT_RE.fullmatch(answers["aws_account_id"]):
        return None
    return f"{answers['aws_account_id']!r} must be exactly 12 digits"


def _choice(name: str) -> Check:
    def choice(answers: dict) -> str | None:
        if answers[name] in CHOICES[name]:
            return None
        return f"{answers[name]!r} must be one of: {', '.join(CHOICES[name])}"

    return choice


for _name in CHOICES:
    check(_name)(_choice(_name))


@check("gate_threshold")
def _gate_threshold(answers: dict) -> str | None:
    text = answers["gate_threshold"]
    try:
        threshold = float(text)
    except ValueError:
        threshold = math.nan
    if math.isfinite(threshold) and 0 < threshold <= 1:
        return None
    return f"{text!r} must be a number greater than 0 and at most 1"


# A tolerance wider than this would let a clearly worse model replace the one in production.
TOLERANCE_MAX = 0.1


@check("champion_tolerance")
def _champion_tolerance(answers: dict) -> str | None:
    text = answers["champion_tolerance"]
    try:
        tolerance = float(text)
    except ValueError:
        tolerance = math.nan
    if math.isfinite(tolerance) and 0 <= tolerance <= TOLERANCE_MAX:
        return None
    return f"{text!r} must be a number from 0 to {TOLERANCE_MAX}"


def _instance_type(name: str) -> Check:
    def instance_type(answers: dict) -> str | None:
        if INSTANCE_RE.fullmatch(answers[name]):
            return None
        return f"{answers[name]!r} must be a SageMaker instance type such as ml.m5.large"

    return instance_type


for _name in ("training_instance_type", "endpoint_instance_type"):
    check(_name)(_instance_type(_name))


@check("endpoint_instance_count")
def _endpoint_instance_count(answers: dict) -> str | None:
    text = answers["endpoint_instance_count"]
    if not text.isdigit() or not 1 <= int(text) <= INSTANCE_COUNT_MAX:
        return f"{text!r} must be a whole number from 1 to {INSTANCE_COUNT_MAX}"
    strategy = answers["deployment_strategy"]
    # SageMaker caps a canary, a linear step and a rolling batch at 50% of the instances.
    if strategy in ("canary", "linear", "rolling") and int(text) < 2:
        return (
            f"{text} is too small for deployment_strategy {strategy}: shifting part of the "
            "traffic needs at least 2 instances"
        )
    return None


@check("data_capture_percent")
def _data_capture_percent(answers: dict) -> str | None:
    text = answers["data_capture_percent"]
    # DataCaptureConfig.InitialSamplingPercentage: an integer from 0 to 100 (SageMaker API).
    if text.isdigit() and 0 <= int(text) <= 100:
        return None
    return f"{text!r} must be a whole number from 0 to 100 (0 turns data capture off)"


def problems(answers: dict) -> dict[str, str]:
    """Every bad answer and what is wrong with it, in the order of the answers."""
    found = {name: CHECKS[name](answers) for name in answers}
    return {name: problem for name, problem in found.items() if problem is not None}


def retry_command(answers: dict, bad: dict[str, str]) -> str:
    """A `cookiecutter --no-input` command with every answer; the bad ones last, marked."""
    good = [f"{name}={shlex.quote(value)}" for name, value in answers.items() if name not in bad]
    fix = [f"{name}={shlex.quote(answers[name])}" for name in bad]
    lines = [f"cookiecutter --no-input {shlex.quote(TEMPLATE)}"]
    lines += [f"  {pair}" for pair in good]
    lines.append(f"  {' '.join(fix)}  # <- fix {'this' if len(fix) == 1 else 'these'}")
    return " \\\n".join(lines)


def report(answers: dict, bad: dict[str, str]) -> str:
    """What the user reads: one line per bad answer, then the command to bake again."""
    count = f"{len(bad)} answer{'s' if len(bad) > 1 else ''}"
    lines = [f"ERROR: {name} {problem}" for name, problem in bad.items()]
    lines.append(f"{count} to fix; nothing was written. Bake again with every answer kept:")
    return "\n".join([*lines, retry_command(answers, bad)])


if __name__ == "__main__":
    BAD = problems(ANSWERS)
    if BAD:
        print(report(ANSWERS, BAD), file=sys.stderr)
        sys.exit(1)
