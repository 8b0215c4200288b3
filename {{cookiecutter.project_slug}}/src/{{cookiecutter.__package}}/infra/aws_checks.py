"""The AWS account's checks: is everything the flow needs there, and wired as config.py says?

Each reads only (Get, Describe, List, BatchGet calls) and yields one line per thing it looked
at; the roles' trust is in trust.py, the serving image in image.py. What none of them can see:
whether SageMaker will start the serving container and pass its health check (only a deploy
shows that), and IAM's verdict on calls nobody made yet.
"""

from __future__ import annotations

from collections.abc import Iterator

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.infra import stack
from {{ cookiecutter.__package }}.infra.doctor import (
    Check,
    Context,
    Result,
    error_code,
    failed,
    passed,
)
from {{ cookiecutter.__package }}.infra.image import serving_image
from {{ cookiecutter.__package }}.infra.trust import execution_role, github_trust

# Stack states in which every resource is as the last successful deployment left it.
STABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}


def account(ctx: Context) -> Iterator[Result]:
    """The credentials are for the account config.py names (every name embeds it)."""
    identity = ctx.client("sts").get_caller_identity()
    found, arn = identity["Account"], identity["Arn"]
    if found != config.AWS_ACCOUNT_ID:
        yield failed(
            "account",
            f"the credentials are for account {found} ({arn}); config.py names "
            f"{config.AWS_ACCOUNT_ID}",
            f"use credentials for {config.AWS_ACCOUNT_ID} (for instance AWS_PROFILE=...)",
        )
        return
    yield passed("account", f"{found} in {config.AWS_REGION}, as {arn}")


def stack_and_outputs(ctx: Context) -> Iterator[Result]:
    """The stack exists, is stable, and exports the names config.py derives."""
    try:
        (described,) = ctx.client("cloudformation").describe_stacks(StackName=config.STACK_NAME)[
            "Stacks"
        ]
    except aws.ClientError as error:
        if error_code(error) == "ValidationError" and "does not exist" in str(error):
            yield failed("stack", f"{config.STACK_NAME} does not exist", stack.BOOTSTRAP)
            return
        raise
    status = described["StackStatus"]
    reason = described.get("StackStatusReason", "")
    if status.endswith("_IN_PROGRESS"):
        yield failed("stack", f"{config.STACK_NAME} is {status}", "wait for it, then run doctor")
    elif status not in STABLE:
        yield failed(
            "stack",
            f"{config.STACK_NAME} is {status}" + (f": {reason}" if reason else ""),
            "read its events in the CloudFormation console, fix the cause, then " + stack.BOOTSTRAP,
        )
    else:
        yield passed("stack", f"{config.STACK_NAME} is {status}")
    found = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    ctx.facts["outputs"] = found
    wrong = [
        f"{key} is {found.get(key, 'missing')}, expected {value}"
        for key, value in stack.outputs().items()
        if found.get(key) != value
    ]
    if wrong:
        yield failed(
            "stack outputs",
            "; ".join(wrong),
            "deploy infra/stack.yml of this repository with its defaults: " + stack.BOOTSTRAP,
        )
    else:
        yield passed("stack outputs", f"the {len(stack.outputs())} outputs config.py expects")


def source_bucket(ctx: Context) -> Iterator[Result]:
    """The source bucket is versioned: CodePipeline starts on the uploaded object's version."""
    name = "source bucket"
    try:
        versioning = ctx.client("s3").get_bucket_versioning(Bucket=config.SOURCE_BUCKET)
    except aws.ClientError as error:
        if error_code(error) != "NoSuchBucket":
            raise
        yield failed(name, f"{config.SOURCE_BUCKET} does not exist", stack.BOOTSTRAP)
        return
    status = versioning.get("Status", "never enabled")
    if status != "Enabled":
        yield failed(
            name,
            f"versioning on {config.SOURCE_BUCKET} is {status}",
            "enable it (the retrain starts on the uploaded object version): " + stack.BOOTSTRAP,
        )
        return
    yield passed(name, f"{config.SOURCE_BUCKET}, versioning Enabled")


def alarms(ctx: Context) -> Iterator[Result]:
    """Per environment: the three rollback alarms exist, watch its endpoint, and are quiet."""
    cloudwatch = ctx.client("cloudwatch")
    for env in config.ENVIRONMENTS:
        expected = config.alarm_names(env)
        # MetricAlarm only: the deploy roles may describe this project's alarms, and composite
        # alarms need DescribeAlarms on every alarm (CloudWatch API reference, DescribeAlarms).
        found = {
            a["AlarmName"]: a
            for a in cloudwatch.describe_alarms(
                AlarmNames=list(expected.values()), AlarmTypes=["MetricAlarm"]
            )["MetricAlarms"]
        }
        problems = []
        for kind, alarm_name in expected.items():
            alarm = found.get(alarm_name)
            if alarm is None:
                problems.append(f"{alarm_name} is missing")
                continue
            dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
            watched = (alarm.get("Namespace"), alarm.get("MetricName"), dimensions)
            wanted = (
                "AWS/SageMaker",
                config.ALARM_METRICS[kind],
                {"EndpointName": config.endpoint_name(env), "VariantName": config.VARIANT_NAME},
            )
            if watched != wanted:
                problems.append(f"{alarm_name} watches {watched}, not {wanted}")
            elif alarm["StateValue"] == "ALARM":
                problems.append(f"{alarm_name} is in ALARM (deploy refuses while it fires)")
        if problems:
            yield failed(
                f"{env} alarms",
                "; ".join(problems),
                "for a firing alarm, find why in its metric; otherwise " + stack.BOOTSTRAP,
            )
        else:
            states = ", ".join(sorted({found[n]["StateValue"] for n in expected.values()}))
            yield passed(
                f"{env} alarms", f"{len(expected)} on {config.endpoint_name(env)} ({states})"
            )


def model_package_group(ctx: Context) -> Iterator[Result]:
    """The registry's group exists; remember its newest version for the serving image check."""
    name = "model package group"
    sm = ctx.client("sagemaker")
    try:
        group = sm.describe_model_package_group(ModelPackageGroupName=config.MODEL_PACKAGE_GROUP)
    except aws.ClientError as error:
        if error_code(error) != "ValidationException":
            raise
        yield failed(name, f"{config.MODEL_PACKAGE_GROUP} does not exist", stack.BOOTSTRAP)
        return
    status = group.get("ModelPackageGroupStatus", "unknown")
    if status != "Completed":
        yield failed(name, f"{config.MODEL_PACKAGE_GROUP} is {status}", stack.BOOTSTRAP)
        return
    newest = sm.list_model_packages(
        ModelPackageGroupName=config.MODEL_PACKAGE_GROUP,
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=1,
    )["ModelPackageSummaryList"]
    ctx.facts["newest package"] = newest[0]["ModelPackageArn"] if newest else None
    version = f"newest version {newest[0]['ModelPackageVersion']}" if newest else "no version yet"
    yield passed(name, f"{config.MODEL_PACKAGE_GROUP} ({version})")


def codepipelines(ctx: Context) -> Iterator[Result]:
    """Both CodePipelines exist, start from the source object, and their builds exist."""
    pipelines, codebuild = ctx.client("codepipeline"), ctx.client("codebuild")
    for pipeline_name in (config.CODEPIPELINE_RETRAIN, config.CODEPIPELINE_DEPLOY):
        name = f"CodePipeline {pipeline_name}"
        try:
            pipeline = pipelines.get_pipeline(name=pipeline_name)["pipeline"]
        except aws.ClientError as error:
            if error_code(error) != "PipelineNotFoundException":
                raise
            yield failed(name, "does not exist", stack.BOOTSTRAP)
            continue
        actions = [a for stage in pipeline["stages"] for a in stage["actions"]]
        source = [a for a in actions if a["actionTypeId"]["category"] == "Source"]
        projects = sorted(
            {
                a["configuration"]["ProjectName"]
                for a in actions
                if a["actionTypeId"]["provider"] == "CodeBuild"
            }
        )
        found = codebuild.batch_get_projects(names=projects)["projects"] if projects else []
        missing = set(projects) - {p["name"] for p in found}
        reads = [
            (a["configuration"].get("S3Bucket"), a["configuration"].get("S3ObjectKey"))
            for a in source
        ]
        problems = []
        if pipeline.get("pipelineType") != "V2":
            problems.append("is not a V2 pipeline (the retrain passes variables and a version)")
        if reads != [(config.SOURCE_BUCKET, config.SOURCE_OBJECT_KEY)]:
            problems.append(
                f"its source is {reads}, not s3://{config.SOURCE_BUCKET}/{config.SOURCE_OBJECT_KEY}"
            )
        if not projects:
            problems.append("runs no CodeBuild project")
        if missing:
            problems.append(f"runs the missing CodeBuild project(s) {', '.join(sorted(missing))}")
        if problems:
            yield failed(name, "; ".join(problems), stack.BOOTSTRAP)
        else:
            yield passed(name, f"source s3 object, builds {', '.join(projects)}")


CHECKS = (
    Check("account", account),
    Check("stack", stack_and_outputs, requires=("account",)),
    Check("GitHub trust", github_trust, requires=("account",)),
    Check("SageMaker execution role", execution_role, requires=("account",)),
    Check("source bucket", source_bucket, requires=("account",)),
    Check("alarms", alarms, requires=("account",)),
    Check("model package group", model_package_group, requires=("account",)),
    Check("CodePipelines", codepipelines, requires=("account",)),
    Check("serving image", serving_image, requires=("account", "model package group")),
)
