"""The AWS account's checks: is everything the flow needs there, and wired as config.py says?

Each reads only (Get, Describe, List, BatchGet calls) and yields one line per thing it looked
at. What none of them can see: whether SageMaker will start the serving container and pass its
health check (only a deploy shows that), and IAM's verdict on calls nobody made yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.infra import stack
from {{ cookiecutter.__package }}.infra.doctor import Check, Context, Result, failed, passed

BOOTSTRAP = "run `make bootstrap` (it creates or updates the stack)"
# Stack states in which every resource is as the last successful deployment left it.
STABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"}
# registry.dkr.ecr.region.amazonaws.com[.cn]/repository[:tag][@digest]
ECR_IMAGE = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


def _code(error: aws.ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


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
        if _code(error) == "ValidationError" and "does not exist" in str(error):
            yield failed("stack", f"{config.STACK_NAME} does not exist", BOOTSTRAP)
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
            "read its events in the CloudFormation console, fix the cause, then " + BOOTSTRAP,
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
            "deploy infra/stack.yml of this repository with its defaults: " + BOOTSTRAP,
        )
    else:
        yield passed("stack outputs", f"the {len(stack.outputs())} outputs config.py expects")


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _condition_values(statement: dict[str, Any], key: str) -> set[str]:
    """Every value a trust statement's conditions give `key`, whatever the operator."""
    return {
        str(value)
        for operator in statement.get("Condition", {}).values()
        for name, values in operator.items()
        if name == key
        for value in _listed(values)
    }


def github_trust(ctx: Context) -> Iterator[Result]:
    """The GitHub OIDC provider, and each GitHub role trusting exactly its subjects through it."""
    iam = ctx.client("iam")
    provider = stack.github_oidc_provider_arn()
    try:
        audiences = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider)[
            "ClientIDList"
        ]
    except aws.ClientError as error:
        if _code(error) != "NoSuchEntity":
            raise
        yield failed("GitHub OIDC provider", f"{provider} does not exist", BOOTSTRAP)
        return
    if stack.GITHUB_AUDIENCE not in audiences:
        yield failed(
            "GitHub OIDC provider",
            f"{provider} accepts {audiences}, not {stack.GITHUB_AUDIENCE}",
            f"add the client id {stack.GITHUB_AUDIENCE} to the provider",
        )
    else:
        yield passed("GitHub OIDC provider", provider)
    for role_name, subjects in stack.github_subjects().items():
        yield _github_role(iam, role_name, provider, subjects)


def _github_role(iam: Any, role_name: str, provider: str, subjects: set[str]) -> Result:
    name = f"role {role_name}"
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
    except aws.ClientError as error:
        if _code(error) != "NoSuchEntity":
            raise
        return failed(name, "does not exist", BOOTSTRAP)
    trusting = [
        s
        for s in _statements(role["AssumeRolePolicyDocument"])
        if s.get("Effect") == "Allow"
        and "sts:AssumeRoleWithWebIdentity" in _listed(s.get("Action", []))
        and provider in _listed(s.get("Principal", {}).get("Federated", []))
    ]
    host = stack.GITHUB_OIDC_HOST
    trusted = {v for s in trusting for v in _condition_values(s, f"{host}:sub")}
    audiences = {v for s in trusting for v in _condition_values(s, f"{host}:aud")}
    if not trusting or trusted != subjects or audiences != {stack.GITHUB_AUDIENCE}:
        return failed(
            name,
            f"trusts subjects {sorted(trusted) or 'none'} (audience {sorted(audiences)}); "
            f"expected {sorted(subjects)} (audience {stack.GITHUB_AUDIENCE})",
            "redeploy with this repository's GitHubOwner, GitHubRepo and branch: " + BOOTSTRAP,
        )
    session = role.get("MaxSessionDuration", 3600)
    if session < config.GITHUB_SESSION_SECONDS:
        return failed(
            name,
            f"allows {session}s sessions; the workflows ask for {config.GITHUB_SESSION_SECONDS}s",
            BOOTSTRAP,
        )
    return passed(name, "trusts " + ", ".join(sorted(trusted)))


def execution_role(ctx: Context) -> Iterator[Result]:
    """SageMaker may assume the role its jobs and endpoints run as."""
    name = f"role {config.SAGEMAKER_EXECUTION_ROLE}"
    try:
        role = ctx.client("iam").get_role(RoleName=config.SAGEMAKER_EXECUTION_ROLE)["Role"]
    except aws.ClientError as error:
        if _code(error) != "NoSuchEntity":
            raise
        yield failed(name, "does not exist", BOOTSTRAP)
        return
    services = {
        service
        for s in _statements(role["AssumeRolePolicyDocument"])
        if s.get("Effect") == "Allow" and "sts:AssumeRole" in _listed(s.get("Action", []))
        for service in _listed(s.get("Principal", {}).get("Service", []))
    }
    if "sagemaker.amazonaws.com" not in services:
        yield failed(name, f"trusts {sorted(services) or 'no service'}", BOOTSTRAP)
        return
    yield passed(name, "trusted by sagemaker.amazonaws.com")


def source_bucket(ctx: Context) -> Iterator[Result]:
    """The source bucket is versioned: CodePipeline starts on the uploaded object's version."""
    name = "source bucket"
    try:
        versioning = ctx.client("s3").get_bucket_versioning(Bucket=config.SOURCE_BUCKET)
    except aws.ClientError as error:
        if _code(error) != "NoSuchBucket":
            raise
        yield failed(name, f"{config.SOURCE_BUCKET} does not exist", BOOTSTRAP)
        return
    status = versioning.get("Status", "never enabled")
    if status != "Enabled":
        yield failed(
            name,
            f"versioning on {config.SOURCE_BUCKET} is {status}",
            "enable it (the retrain starts on the uploaded object version): " + BOOTSTRAP,
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
                "for a firing alarm, find why in its metric; otherwise " + BOOTSTRAP,
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
        if _code(error) != "ValidationException":
            raise
        yield failed(name, f"{config.MODEL_PACKAGE_GROUP} does not exist", BOOTSTRAP)
        return
    status = group.get("ModelPackageGroupStatus", "unknown")
    if status != "Completed":
        yield failed(name, f"{config.MODEL_PACKAGE_GROUP} is {status}", BOOTSTRAP)
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
            if _code(error) != "PipelineNotFoundException":
                raise
            yield failed(name, "does not exist", BOOTSTRAP)
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
        missing = (
            set(projects)
            - {p["name"] for p in codebuild.batch_get_projects(names=projects)["projects"]}
            if projects
            else set()
        )
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
            yield failed(name, "; ".join(problems), BOOTSTRAP)
        else:
            yield passed(name, f"source s3 object, builds {', '.join(projects)}")


def serving_image(ctx: Context) -> Iterator[Result]:
    """The image the endpoints serve is in this region's SageMaker registry.

    The image named by the newest model package (what a deploy serves), or before any package,
    the one the pipeline will register (the SageMaker SDK's image_uris, slow to import). This
    reads the image's manifest with the caller's credentials (ecr:BatchGetImage): it shows the
    image exists where SageMaker will look. SageMaker itself pulls its prebuilt images with
    service-owned credentials ("Docker Registry Paths and Example Code", SageMaker developer
    guide), so whether the container then starts and passes its health check only a deploy shows.
    """
    name = "serving image"
    arn = ctx.facts.get("newest package")
    if arn:
        package = ctx.client("sagemaker").describe_model_package(ModelPackageName=arn)
        image = package["InferenceSpecification"]["Containers"][0]["Image"]
        source = f"version {package['ModelPackageVersion']}"
    else:
        try:
            from {{ cookiecutter.__package }}.training.definition import image_uri
        except ModuleNotFoundError as error:
            yield failed(
                name,
                f"no version registered yet, and the SageMaker SDK that names the image is "
                f"not installed ({error.name})",
                "uv sync --group pipeline (or make install), then run doctor again",
            )
            return
        image, source = image_uri(), "the pipeline's (SageMaker SDK)"
    parts = ECR_IMAGE.match(image)
    if parts is None:
        yield failed(name, f"{source} names {image}, not an ECR image", "retrain to register one")
        return
    if parts["region"] != config.AWS_REGION:
        # Model images must be in the region of the model and endpoint (ContainerDefinition).
        yield failed(
            name,
            f"{source} names {image}, in {parts['region']}; endpoints here need "
            f"{config.AWS_REGION}",
            "retrain in this region so the package names this region's image",
        )
        return
    image_id = {"imageDigest": parts["digest"]} if parts["digest"] else {"imageTag": parts["tag"]}
    ecr = ctx.client("ecr")
    try:
        found = ecr.batch_get_image(
            registryId=parts["registry"], repositoryName=parts["repository"], imageIds=[image_id]
        )
    except aws.ClientError as error:
        if _code(error) != "RepositoryNotFoundException":
            raise
        found = {"images": [], "failures": [{"failureReason": "no such repository"}]}
    if not found["images"]:
        reasons = ", ".join(f.get("failureReason", "") for f in found.get("failures", []))
        yield failed(
            name,
            f"{source} names {image}, which this region's registry does not have ({reasons})",
            "check SKLEARN_FRAMEWORK_VERSION in config.py against SageMaker's scikit-learn images",
        )
        return
    yield passed(name, f"{image} ({source}) exists")


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
