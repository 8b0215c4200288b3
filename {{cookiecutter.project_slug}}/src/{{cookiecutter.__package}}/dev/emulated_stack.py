"""infra/stack.yml in the local emulator: buckets, group, alarms, roles, builds, pipelines, a stack.

Development tooling. moto's CloudFormation cannot create this stack: it skips the model package
group, CodeBuild, CodePipeline, the alarms, bucket policies and the OIDC provider, then fails on
GetAtt. So `seed` creates each resource the code, `doctor` and `teardown` read through that
resource's own API (the buckets, group, alarms and execution role for every run; with the whole
stack, the access-log bucket, GitHub OIDC provider and roles, CodeBuild projects and
CodePipelines too), and a stand-in stack named config.STACK_NAME: the two build log groups
(kept on deletion, as the real stack keeps them) and, as outputs, what the real stack exports,
derived from config.py by infra/stack.py. A test holds those to the real template's resolved
outputs. Deleting the stand-in deletes none of the resources created here, where the real stack
would delete most.

The emulator holds no SageMaker images: `seed_serving_image` adds one where a test needs it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.dev import protocol
from {{ cookiecutter.__package }}.infra import stack

# The role CodePipeline and CodeBuild run as; the real stack lets CloudFormation name it.
PIPELINE_ROLE = f"{config.PROJECT}-pipelines"


@functools.cache
def _session() -> Any:
    """One session per process: each new one loads botocore's service models again (~1 s)."""
    import boto3

    return boto3.session.Session(region_name=config.AWS_REGION, **protocol.FAKE_CREDENTIALS)


def create_bucket(s3: Any, name: str) -> None:
    """Create a bucket in the project's region. CreateBucket names the region in LocationConstraint
    except for us-east-1, the default, which is left out (Amazon S3 API Reference,
    CreateBucketConfiguration). Named, S3 answers InvalidLocationConstraint (boto/boto3#125), and
    so does moto."""
    region = config.AWS_REGION
    where = {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **({} if region == "us-east-1" else where))


def seed(endpoint_url: str, *, whole_stack: bool = False) -> None:
    """Create what the CloudFormation stack would: buckets, package group, alarms, role.

    With `whole_stack`, the rest too (what `doctor` and `teardown` read; the story does not):
    the GitHub side, builds, pipelines and a stand-in stack, from emulated_stack.py, which says
    why moto's CloudFormation cannot create the real one.
    """
    session = _session()

    @functools.cache
    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url)

    s3 = client("s3")
    for bucket in (config.SOURCE_BUCKET, config.ARTIFACT_BUCKET):
        create_bucket(s3, bucket)
    s3.put_bucket_versioning(
        Bucket=config.SOURCE_BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )
    client("sagemaker").create_model_package_group(
        ModelPackageGroupName=config.MODEL_PACKAGE_GROUP,
        ModelPackageGroupDescription=f"{config.PROJECT} models",
    )
    cloudwatch = client("cloudwatch")
    for env in config.ENVIRONMENTS:
        for kind, name in config.alarm_names(env).items():
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="AWS/SageMaker",
                MetricName=config.ALARM_METRICS[kind],
                Dimensions=[
                    {"Name": "EndpointName", "Value": config.endpoint_name(env)},
                    {"Name": "VariantName", "Value": config.VARIANT_NAME},
                ],
                Statistic="Average" if kind == "latency" else "Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=1_000_000 if kind == "latency" else 1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
                TreatMissingData="notBreaching",
            )
    client("iam").create_role(
        RoleName=config.SAGEMAKER_EXECUTION_ROLE,
        AssumeRolePolicyDocument=service_trust("sagemaker.amazonaws.com"),
    )
    if whole_stack:
        _rest(client)


def service_trust(*services: str) -> str:
    """A role trust policy that lets these AWS services assume the role: one statement per
    service, as moto's CreatePipeline reads a single Service per statement."""
    allow = {"Effect": "Allow", "Action": "sts:AssumeRole"}
    return _trust(*({**allow, "Principal": {"Service": service}} for service in services))


def _trust(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def github_trust(subjects: set[str]) -> str:
    """A GitHub role's trust policy, as the stack writes it: audience and subjects, exactly."""
    host = stack.GITHUB_OIDC_HOST
    return _trust(
        {
            "Effect": "Allow",
            "Principal": {"Federated": stack.github_oidc_provider_arn()},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{host}:aud": stack.GITHUB_AUDIENCE,
                    f"{host}:sub": sorted(subjects),
                }
            },
        }
    )


def _rest(client: Callable[[str], Any]) -> None:
    """Create the log bucket, GitHub side, builds, pipelines and their logs, the stand-in stack."""
    s3 = client("s3")
    create_bucket(s3, config.ACCESS_LOG_BUCKET)
    s3.put_bucket_versioning(
        Bucket=config.ACCESS_LOG_BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )
    iam = client("iam")
    iam.create_open_id_connect_provider(
        Url=f"https://{stack.GITHUB_OIDC_HOST}", ClientIDList=[stack.GITHUB_AUDIENCE]
    )
    for role_name, subjects in stack.github_subjects().items():
        iam.create_role(
            RoleName=role_name,
            AssumeRolePolicyDocument=github_trust(subjects),
            MaxSessionDuration=config.GITHUB_SESSION_SECONDS,
        )
    trust = service_trust("codepipeline.amazonaws.com", "codebuild.amazonaws.com")
    role = iam.create_role(RoleName=PIPELINE_ROLE, AssumeRolePolicyDocument=trust)
    role_arn = role["Role"]["Arn"]
    codebuild = client("codebuild")
    for project, buildspec in (
        (config.CODEBUILD_RETRAIN, config.BUILDSPEC_RETRAIN),
        (config.CODEBUILD_DEPLOY, config.BUILDSPEC_DEPLOY),
    ):
        codebuild.create_project(
            name=project,
            # moto asks for locations even with CODEPIPELINE, where AWS ignores them.
            source={
                "type": "CODEPIPELINE",
                "buildspec": buildspec,
                "location": f"{config.SOURCE_BUCKET}/{config.SOURCE_OBJECT_KEY}",
            },
            artifacts={"type": "CODEPIPELINE", "location": config.ARTIFACT_BUCKET},
            environment={
                "type": "LINUX_CONTAINER",
                "image": "aws/codebuild/standard:7.0",
                "computeType": "BUILD_GENERAL1_SMALL",
            },
            serviceRole=role_arn,
        )
    codepipeline = client("codepipeline")
    deploy_stages = [
        (f"Deploy{env.title()}", config.CODEBUILD_DEPLOY) for env in config.ENVIRONMENTS
    ]
    for name, builds in (
        (config.CODEPIPELINE_RETRAIN, [("Retrain", config.CODEBUILD_RETRAIN)]),
        (config.CODEPIPELINE_DEPLOY, deploy_stages),
    ):
        codepipeline.create_pipeline(pipeline=_pipeline(name, role_arn, builds))
    # The stand-in's resources are the build log groups (moto's CloudFormation can create those,
    # and keeps them on deletion as DeletionPolicy Retain says); its outputs are literal.
    log_groups = {
        f"BuildLogs{number}": {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Retain",
            "Properties": {"LogGroupName": group},
        }
        for number, group in enumerate(stack.RETAINED_LOG_GROUPS)
    }
    client("cloudformation").create_stack(
        StackName=config.STACK_NAME,
        TemplateBody=json.dumps(
            {
                "Description": "Stand-in for infra/stack.yml in the local emulator",
                "Resources": log_groups,
                "Outputs": {key: {"Value": value} for key, value in stack.outputs().items()},
            }
        ),
    )


def _pipeline(name: str, role_arn: str, builds: list[tuple[str, str]]) -> dict[str, Any]:
    """A V2 pipeline: the S3 source object, then one CodeBuild stage per (stage, project)."""
    source = {
        "name": config.SOURCE_ACTION,
        "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
        "configuration": {
            "S3Bucket": config.SOURCE_BUCKET,
            "S3ObjectKey": config.SOURCE_OBJECT_KEY,
            "PollForSourceChanges": "false",
        },
        "outputArtifacts": [{"name": "SourceOutput"}],
    }
    stages = [{"name": "Source", "actions": [source]}]
    for stage, project in builds:
        build = {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"}
        stages.append(
            {
                "name": stage,
                "actions": [
                    {
                        "name": stage,
                        "actionTypeId": build,
                        "configuration": {"ProjectName": project},
                        "inputArtifacts": [{"name": "SourceOutput"}],
                    }
                ],
            }
        )
    return {
        "name": name,
        "roleArn": role_arn,
        "pipelineType": "V2",
        "artifactStore": {"type": "S3", "location": config.ARTIFACT_BUCKET},
        "stages": stages,
    }


def seed_serving_image(client: Callable[[str], Any], image: str) -> None:
    """Put `image` (registry.dkr.ecr.region.amazonaws.com/repository:tag) in the emulated ECR.

    In AWS the SageMaker images live in AWS-owned registries; moto keeps a repository with that
    registry id in the caller's account, which is enough for BatchGetImage to find it.
    """
    registry, rest = image.split(".", 1)[0], image.split("/", 1)[1]
    repository, tag = rest.split(":", 1)
    ecr = client("ecr")
    ecr.create_repository(registryId=registry, repositoryName=repository)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    }
    ecr.put_image(
        registryId=registry,
        repositoryName=repository,
        imageTag=tag,
        imageManifest=json.dumps(manifest),
    )
