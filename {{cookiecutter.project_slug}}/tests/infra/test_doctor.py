"""`doctor` against the local emulator: all PASS when set up, and each fault FAILs its own line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import model_packages
import pytest
from botocore.exceptions import NoCredentialsError
from botocore.stub import Stubber

from {{ cookiecutter.__package }} import aws, cli, config
from {{ cookiecutter.__package }}.dev import emulated_stack
from {{ cookiecutter.__package }}.errors import ExitCode
from {{ cookiecutter.__package }}.infra import aws_checks, doctor, stack

# An image URI shaped as the SDK's for this region (the emulator holds whichever it is given).
IMAGE = (
    f"683313688378.dkr.ecr.{config.AWS_REGION}.amazonaws.com/sagemaker-scikit-learn:"
    f"{config.SKLEARN_FRAMEWORK_VERSION}-cpu-py3"
)
ROLES = [
    config.GITHUB_RETRAIN_ROLE,
    *(config.github_deploy_role(env) for env in config.ENVIRONMENTS),
]
# Every line of a healthy account, in order.
LINES = [
    "account",
    "stack",
    "stack outputs",
    "GitHub OIDC provider",
    *(f"role {role}" for role in ROLES),
    f"role {config.SAGEMAKER_EXECUTION_ROLE}",
    "source bucket",
    *(f"{env} alarms" for env in config.ENVIRONMENTS),
    "model package group",
    f"CodePipeline {config.CODEPIPELINE_RETRAIN}",
    f"CodePipeline {config.CODEPIPELINE_DEPLOY}",
    "serving image",
]


def _register(image: str) -> None:
    model = f"s3://{config.ARTIFACT_BUCKET}/model/model.tar.gz"
    model_packages.register(model, 0.95, "0" * 40, image_uri=image)


@pytest.fixture
def set_up(aws_emulator: str) -> None:
    """What a first retrain leaves: a registered version naming this region's image."""
    _register(IMAGE)
    emulated_stack.seed_serving_image(boto3.client, IMAGE)


def _results() -> dict[str, doctor.Result]:
    results = doctor.run(aws_checks.CHECKS, doctor.Context(), echo=lambda _: None)
    return {result.name: result for result in results}


def test_a_set_up_account_passes_every_check_one_line_each(
    set_up: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["doctor"]) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    # No gh in tests (conftest): the GitHub side is skipped, saying why, and fails nothing.
    github = ["GitHub repository", "GitHub variables", "GitHub environments", "GitHub OIDC subject"]
    assert [line.split(": ", 1)[0] for line in lines[:-1]] == [
        *(f"PASS  {n}" for n in LINES),
        *(f"SKIP  {n}" for n in github),
    ]
    assert lines[len(LINES)] == "SKIP  GitHub repository: gh is not installed: GitHub not checked"
    assert lines[-1] == f"{len(LINES)} passed, 0 failed, {len(github)} skipped"


def _client(service: str) -> Any:
    return boto3.client(service)


def _wrong_output() -> None:
    cloudformation = _client("cloudformation")
    cloudformation.delete_stack(StackName=config.STACK_NAME)
    outputs = {**stack.outputs(), "SourceBucketName": "someone-elses-bucket"}
    cloudformation.create_stack(
        StackName=config.STACK_NAME,
        TemplateBody=json.dumps(
            {
                "Resources": {"R": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                "Outputs": {k: {"Value": v} for k, v in outputs.items()},
            }
        ),
    )


def _trust(role: str, *subjects: str) -> Callable[[], None]:
    return lambda: _client("iam").update_assume_role_policy(
        RoleName=role, PolicyDocument=emulated_stack.github_trust(set(subjects))
    )


def _alarm(env: str, kind: str, **change: Any) -> None:
    alarm = {
        "AlarmName": config.alarm_names(env)[kind],
        "Namespace": "AWS/SageMaker",
        "MetricName": config.ALARM_METRICS[kind],
        "Dimensions": [
            {"Name": "EndpointName", "Value": config.endpoint_name(env)},
            {"Name": "VariantName", "Value": config.VARIANT_NAME},
        ],
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 2,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    }
    _client("cloudwatch").put_metric_alarm(**{**alarm, **change})


def _other_region_package() -> None:
    _register(IMAGE.replace(f".{config.AWS_REGION}.", ".eu-north-2."))


REPO = stack.GITHUB_REPOSITORY
PROD_DEPLOY = config.github_deploy_role("prod")
STAGING_DEPLOY = config.github_deploy_role("staging")
BREAKAGES = [
    pytest.param(
        lambda: _client("cloudformation").delete_stack(StackName=config.STACK_NAME),
        "stack",
        "does not exist",
        id="no-stack",
    ),
    pytest.param(
        _wrong_output, "stack outputs", "SourceBucketName is someone-elses-bucket", id="output"
    ),
    pytest.param(
        lambda: _client("iam").delete_open_id_connect_provider(
            OpenIDConnectProviderArn=stack.github_oidc_provider_arn()
        ),
        "GitHub OIDC provider",
        "does not exist",
        id="no-oidc-provider",
    ),
    pytest.param(
        _trust(config.GITHUB_RETRAIN_ROLE, f"{REPO}:ref:refs/heads/feature"),
        f"role {config.GITHUB_RETRAIN_ROLE}",
        "refs/heads/feature",
        id="retrain-trusts-another-branch",
    ),
    pytest.param(
        _trust(PROD_DEPLOY, "repo:someone/else:environment:prod"),
        f"role {PROD_DEPLOY}",
        "repo:someone/else",
        id="deploy-trusts-another-repository",
    ),
    pytest.param(
        _trust(STAGING_DEPLOY, f"{REPO}:*"),
        f"role {STAGING_DEPLOY}",
        f"{REPO}:*",
        id="deploy-trusts-any-job",
    ),
    pytest.param(
        lambda: _client("iam").delete_role(RoleName=PROD_DEPLOY),
        f"role {PROD_DEPLOY}",
        "does not exist",
        id="no-deploy-role",
    ),
    pytest.param(
        lambda: _client("iam").update_role(
            RoleName=config.GITHUB_RETRAIN_ROLE, MaxSessionDuration=3600
        ),
        f"role {config.GITHUB_RETRAIN_ROLE}",
        "allows 3600s sessions",
        id="session-too-short",
    ),
    pytest.param(
        lambda: _client("iam").update_assume_role_policy(
            RoleName=config.SAGEMAKER_EXECUTION_ROLE,
            PolicyDocument=emulated_stack.service_trust("lambda.amazonaws.com"),
        ),
        f"role {config.SAGEMAKER_EXECUTION_ROLE}",
        "lambda.amazonaws.com",
        id="execution-role-trusts-another-service",
    ),
    pytest.param(
        lambda: _client("s3").put_bucket_versioning(
            Bucket=config.SOURCE_BUCKET, VersioningConfiguration={"Status": "Suspended"}
        ),
        "source bucket",
        "is Suspended",
        id="versioning-suspended",
    ),
    pytest.param(
        lambda: _client("cloudwatch").delete_alarms(AlarmNames=[config.alarm_names("prod")["5xx"]]),
        "prod alarms",
        f"{config.alarm_names('prod')['5xx']} is missing",
        id="alarm-missing",
    ),
    pytest.param(
        lambda: _alarm(
            "prod", "4xx", Dimensions=[{"Name": "EndpointName", "Value": "another-endpoint"}]
        ),
        "prod alarms",
        "watches",
        id="alarm-watches-another-endpoint",
    ),
    pytest.param(
        lambda: _client("cloudwatch").set_alarm_state(
            AlarmName=config.alarm_names("staging")["latency"],
            StateValue="ALARM",
            StateReason="test",
        ),
        "staging alarms",
        "is in ALARM",
        id="alarm-firing",
    ),
    pytest.param(
        lambda: _client("codepipeline").delete_pipeline(name=config.CODEPIPELINE_DEPLOY),
        f"CodePipeline {config.CODEPIPELINE_DEPLOY}",
        "does not exist",
        id="no-deploy-pipeline",
    ),
    pytest.param(
        lambda: _client("codebuild").delete_project(name=config.CODEBUILD_RETRAIN),
        f"CodePipeline {config.CODEPIPELINE_RETRAIN}",
        f"missing CodeBuild project(s) {config.CODEBUILD_RETRAIN}",
        id="no-retrain-build",
    ),
    pytest.param(
        _other_region_package, "serving image", "in eu-north-2", id="image-of-another-region"
    ),
]


@pytest.mark.parametrize(("breakage", "line", "says"), BREAKAGES)
def test_each_fault_fails_its_own_line_with_what_to_do(
    set_up: None,
    breakage: Callable[[], None],
    line: str,
    says: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    breakage()
    assert cli.main(["doctor"]) == ExitCode.NOT_SET_UP
    out = capsys.readouterr().out
    failing = [text for text in out.splitlines() if text.startswith("FAIL")]
    assert len(failing) == 1, out
    assert failing[0].startswith(f"FAIL  {line}: ")
    assert says in failing[0]
    assert " -> " in failing[0], "a FAIL line says what to do"
    # Only the GitHub side is skipped (no gh in tests): one fault blocks no other AWS check.
    assert [t for t in out.splitlines() if t.startswith("SKIP")] == [
        t for t in out.splitlines() if t.startswith("SKIP  GitHub ")
    ]


def test_an_image_missing_from_the_registry_fails(
    aws_emulator: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _register(IMAGE)  # registered, but the region's registry does not have it
    assert cli.main(["doctor"]) == ExitCode.NOT_SET_UP
    (failing,) = [t for t in capsys.readouterr().out.splitlines() if t.startswith("FAIL")]
    assert failing.startswith("FAIL  serving image: ")
    assert "does not have" in failing


def test_without_a_version_the_image_is_the_one_the_pipeline_will_register(
    aws_emulator: str,
) -> None:
    from {{ cookiecutter.__package }}.training.definition import image_uri

    emulated_stack.seed_serving_image(boto3.client, image_uri())
    result = _results()["serving image"]
    assert result.status is doctor.Status.PASS, result.line()
    assert "the pipeline's (SageMaker SDK)" in result.detail


def test_credentials_of_another_account_fail_once_and_skip_the_rest(
    set_up: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "999999999999")
    results = list(_results().values())
    assert results[0].status is doctor.Status.FAIL
    assert "account 999999999999" in results[0].detail
    assert config.AWS_ACCOUNT_ID in results[0].detail
    assert {r.status for r in results[1:]} == {doctor.Status.SKIP}
    assert all(r.detail.startswith("not checked: account") for r in results[1:])


def test_a_missing_group_fails_and_skips_the_image_check(set_up: None) -> None:
    # moto has no DeleteModelPackageGroup: remove the group from its backend directly.
    from moto.sagemaker.models import sagemaker_backends

    del sagemaker_backends[config.AWS_ACCOUNT_ID][config.AWS_REGION].model_package_groups[
        config.MODEL_PACKAGE_GROUP
    ]
    results = _results()
    assert results["model package group"].status is doctor.Status.FAIL
    assert results["serving image"].status is doctor.Status.SKIP


def test_doctor_only_reads(set_up: None) -> None:
    """Every call any check makes is a Get, Describe, List or BatchGet."""
    called: list[str] = []

    def recording(service: str) -> Any:
        client = aws.client(service)
        client.meta.events.register(
            "before-call", lambda model, **_: called.append(f"{service}:{model.name}")
        )
        return client

    results = doctor.run(aws_checks.CHECKS, doctor.Context(recording), echo=lambda _: None)
    assert {r.status for r in results} == {doctor.Status.PASS}
    assert called
    writes = [
        c for c in called if not c.split(":")[1].startswith(("Get", "Describe", "List", "BatchGet"))
    ]
    assert writes == []


# ---- the engine ----------------------------------------------------------------------------


def test_a_denied_call_fails_that_check_and_says_which_call() -> None:
    cloudformation = aws.client("cloudformation")
    stub = Stubber(cloudformation)
    stub.add_client_error("describe_stacks", "AccessDenied", "not authorized", 403)
    checks = (
        doctor.Check("stack", aws_checks.stack_and_outputs),
        doctor.Check("after", lambda ctx: iter([doctor.passed("after", "still runs")])),
    )
    with stub:
        results = doctor.run(checks, doctor.Context(lambda _: cloudformation), echo=lambda _: None)
    assert [r.status for r in results] == [doctor.Status.FAIL, doctor.Status.PASS]
    assert results[0].line() == (
        "FAIL  stack: DescribeStacks answered AccessDenied: not authorized -> doctor only reads: "
        "let these credentials call DescribeStacks"
    )


def test_lines_already_found_survive_an_error_later_in_the_check() -> None:
    def partial(ctx: doctor.Context) -> Iterator[doctor.Result]:
        yield doctor.passed("first", "found")
        raise NoCredentialsError

    lines: list[str] = []
    results = doctor.run((doctor.Check("two", partial),), doctor.Context(), echo=lines.append)
    assert [r.status for r in results] == [doctor.Status.PASS, doctor.Status.FAIL]
    assert lines[1].startswith("FAIL  two: no AWS credentials found")
