"""The names every other part of the project relies on."""

import datetime as dt
import re

import pytest

from {{ cookiecutter.__package }} import config


def test_every_name_starts_with_the_project_slug() -> None:
    # One concept, one name: retraining is "retrain" in CodePipeline, CodeBuild and SageMaker
    # alike. Within one kind of resource, every name is distinct.
    kinds = {
        "bucket": [config.SOURCE_BUCKET, config.ARTIFACT_BUCKET, config.ACCESS_LOG_BUCKET],
        "codepipeline": [config.CODEPIPELINE_RETRAIN, config.CODEPIPELINE_DEPLOY],
        "codebuild": [config.CODEBUILD_RETRAIN, config.CODEBUILD_DEPLOY],
        "sagemaker": [config.SAGEMAKER_PIPELINE, config.MODEL_PACKAGE_GROUP],
        "role": [config.SAGEMAKER_EXECUTION_ROLE, config.GITHUB_RETRAIN_ROLE],
        "endpoint": [],
        "alarm": [],
    }
    for env in config.ENVIRONMENTS:
        kinds["endpoint"].append(config.endpoint_name(env))
        kinds["role"].append(config.github_deploy_role(env))
        kinds["alarm"] += config.alarm_names(env).values()
    for kind, names in kinds.items():
        assert all(name.startswith(f"{config.PROJECT}-") for name in names), kind
        assert len(set(names)) == len(names), f"two {kind} names are the same"
    retrain = {config.CODEPIPELINE_RETRAIN, config.CODEBUILD_RETRAIN, config.SAGEMAKER_PIPELINE}
    assert retrain == {f"{config.PROJECT}-retrain"}


def test_names_fit_aws_limits() -> None:
    bucket = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
    assert bucket.fullmatch(config.SOURCE_BUCKET)
    assert bucket.fullmatch(config.ARTIFACT_BUCKET)
    for role in (config.SAGEMAKER_EXECUTION_ROLE, config.GITHUB_RETRAIN_ROLE):
        assert len(role) <= 64
    for env in config.ENVIRONMENTS:
        assert len(config.github_deploy_role(env)) <= 64
        # Endpoint configs are named "<endpoint>-v<version>-<14-digit timestamp>".
        assert len(config.endpoint_name(env)) + len("-v9999-20260101000000") <= 63
    assert len(config.MODEL_PACKAGE_GROUP) <= 63
    assert len(config.SAGEMAKER_PIPELINE) <= 82


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown environment 'dev'"):
        config.endpoint_name("dev")


def test_answers_are_consistent() -> None:
    assert 0 < config.GATE_THRESHOLD <= 1
    assert config.TASK in ("binary", "multiclass")
    assert config.GATE_METRIC in config.GATE_METRICS
    assert config.DEPLOYMENT_STRATEGY in {"all-at-once", "canary", "linear", "rolling"}
    status = {"manual": "PendingManualApproval", "automatic": "Approved"}[config.APPROVAL_MODE]
    assert status == config.REGISTRATION_STATUS
    branch = {"github-flow": "main", "gitflow": "develop"}[config.BRANCHING_MODEL]
    assert branch == config.INTEGRATION_BRANCH
    assert config.role_arn("x") == f"arn:aws:iam::{config.AWS_ACCOUNT_ID}:role/x"


def test_step_options_become_the_scripts_arguments() -> None:
    assert config.command_line({"target": "y", "test-size": 0.2}) == [
        "--target",
        "y",
        "--test-size",
        "0.2",
    ]
    # The pipeline and run-local pass these same options; the target is in every step's.
    for options in (config.PREPROCESS_OPTIONS, config.TRAIN_OPTIONS, config.EVALUATE_OPTIONS):
        assert options["target"] == config.TARGET_COLUMN
    for options in (config.PREPROCESS_OPTIONS, config.TRAIN_OPTIONS):
        assert options["seed"] == config.RANDOM_SEED
    assert config.HYPERPARAMETERS.items() <= config.TRAIN_OPTIONS.items()
    assert config.PREPROCESS_OPTIONS["task"] == config.EVALUATE_OPTIONS["task"] == config.TASK
    assert config.EVALUATE_OPTIONS["gate-metric"] == config.GATE_METRIC
    # An option with nothing to say is left out: no step is ever given an empty argument.
    assert all(str(value) for step in (config.PREPROCESS_OPTIONS,) for value in step.values())


def test_the_data_set_setting_names_a_table_in_the_repository() -> None:
    assert config.DATA_FILE.is_file(), "config.DATA_FILE names the data set's CSV"
    header = config.DATA_FILE.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert config.TARGET_COLUMN in header
    assert set(config.DROP_COLUMNS) <= set(header)
    assert config.TARGET_COLUMN not in config.DROP_COLUMNS
    assert not config.DATA_URI or config.DATA_URI.startswith("s3://")


def test_the_input_key_is_named_by_the_content(tmp_path) -> None:
    """Upsert uploads under this key: a changed file is a new key, so it reaches training."""
    first, second = tmp_path / "a" / "churn.csv", tmp_path / "b" / "churn.csv"
    for path, text in ((first, "x,y\n1,0\n"), (second, "x,y\n1,1\n")):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    assert config.input_data_key(first) != config.input_data_key(second)
    assert config.input_data_key(first) == config.input_data_key(first)
    assert re.fullmatch(r"input/[0-9a-f]{16}/churn\.csv", config.input_data_key(first))
    expected = config.DATA_URI or f"s3://{config.ARTIFACT_BUCKET}/{config.input_data_key()}"
    assert config.input_data_uri() == expected


def test_deployments_a_moment_apart_name_their_resources_apart() -> None:
    """A deploy, then at once a rollback: SageMaker refuses a second config of the same name."""
    first = dt.datetime(2026, 12, 1, 13, 7, 2, 120_000, tzinfo=dt.UTC)
    names = {
        config.deployment_resource_name("prod", first + dt.timedelta(milliseconds=gap))
        for gap in (0, 10, 250, 1000)
    }
    assert len(names) == 4
    assert all(len(name) == len(config.endpoint_name("prod")) + 15 for name in names)
