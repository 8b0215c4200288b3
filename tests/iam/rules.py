"""What AWS authorizes that no policy evaluator knows: one table, each rule citing its page.

A policy evaluator answers "may this role do this action on this resource"; it does not know
that a request asking for composite alarms is checked against "*", or that SageMaker, when it
runs a model or watches a deployment, acts as the model's execution role. Each rule here turns
a recorded request into the extra permissions AWS checks, and says whose: the caller's, or the
execution role's (what SageMaker does on its behalf). The evaluation checks them against the
stack like every other permission.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from iam.permissions import Permission, arn_template, build_arn
from iam.records import Request

CALLER = "caller"
# The execution role(s) the same invocation passed to SageMaker (CreateModel's
# ExecutionRoleArn); when it passed none, every role SageMaker may assume in the stack.
EXECUTION_ROLE = "execution role"
SAGEMAKER = "sagemaker.amazonaws.com"
ECR_IMAGE = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^:@]+)"
)
# Request parameters that pass a role to SageMaker, by operation.
PASSED_ROLE = {
    "CreateModel": "ExecutionRoleArn",
    "CreatePipeline": "RoleArn",
    "UpdatePipeline": "RoleArn",
    "CreateProcessingJob": "RoleArn",
    "CreateTrainingJob": "RoleArn",
    # A monitoring schedule's inline job runs as the role it names.
    "CreateMonitoringSchedule": "MonitoringScheduleConfig.MonitoringJobDefinition.RoleArn",
    "UpdateMonitoringSchedule": "MonitoringScheduleConfig.MonitoringJobDefinition.RoleArn",
}


def passed_role(request: Request) -> str | None:
    """The role a SageMaker request passes (PASSED_ROLE's parameter, dotted when nested)."""
    path = PASSED_ROLE.get(request.operation) if request.service == "sagemaker" else None
    if path is None:
        return None
    value: Any = request.params
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Rule:
    """One documented authorization rule: when it applies, whose permissions, and which."""

    name: str
    doc: str
    says: str
    whose: str
    applies: Callable[[Request], bool]
    needs: Callable[[Request, str, str], list[Permission]]


def _arn(action: str, kind: str, request: Request, account: str, partition: str, **v: str) -> str:
    base = {"Partition": partition, "Region": request.region, "Account": account}
    return build_arn(arn_template(action, kind), {**base, **v})


def _composite_alarms(request: Request, account: str, partition: str) -> list[Permission]:
    return [Permission("cloudwatch:DescribeAlarms", "*")]


def _passed_role(request: Request, account: str, partition: str) -> list[Permission]:
    role = passed_role(request)
    assert role is not None
    return [Permission("iam:PassRole", role, (("iam:PassedToService", SAGEMAKER),))]


CREATED = {
    "CreateModel": ("model", "ModelName"),
    "CreateEndpointConfig": ("endpoint-config", "EndpointConfigName"),
    "CreateEndpoint": ("endpoint", "EndpointName"),
    "CreatePipeline": ("pipeline", "PipelineName"),
}


def _tag_on_create(request: Request, account: str, partition: str) -> list[Permission]:
    kind, param = CREATED[request.operation]
    placeholder = "".join(p.title() for p in kind.split("-")) + "Name"
    arn = _arn(
        "sagemaker:AddTags",
        kind,
        request,
        account,
        partition,
        **{placeholder: request.params[param]},
    )
    return [Permission("sagemaker:AddTags", arn)]


def _rollback_alarms(request: Request, account: str, partition: str) -> list[Permission]:
    alarms = request.params["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    return [
        Permission(
            "cloudwatch:DescribeAlarms",
            _arn(
                "cloudwatch:DescribeAlarms",
                "alarm",
                request,
                account,
                partition,
                AlarmName=alarm["AlarmName"],
            ),
        )
        for alarm in alarms
    ]


def _has_rollback_alarms(request: Request) -> bool:
    config = request.params.get("DeploymentConfig") or {}
    return bool((config.get("AutoRollbackConfiguration") or {}).get("Alarms"))


def _image_pull(request: Request, account: str, partition: str) -> list[Permission]:
    image = ECR_IMAGE.match(request.params["PrimaryContainer"]["Image"])
    assert image is not None
    repository = build_arn(
        arn_template("ecr:BatchGetImage", "repository"),
        {
            "Partition": partition,
            "Region": image["region"],
            "Account": image["account"],
            "RepositoryName": image["repository"],
        },
    )
    return [
        Permission("ecr:GetAuthorizationToken", "*"),
        *(
            Permission(f"ecr:{action}", repository)
            for action in ("BatchCheckLayerAvailability", "GetDownloadUrlForLayer", "BatchGetImage")
        ),
    ]


def _model_data(request: Request, account: str, partition: str) -> list[Permission]:
    bucket, _, key = request.params["PrimaryContainer"]["ModelDataUrl"][5:].partition("/")
    return [Permission("s3:GetObject", f"arn:{partition}:s3:::{bucket}/{key}")]


def _champion_model_data(request: Request) -> str:
    """The champion's model data a pipeline start passes (ChampionModelData), or ""."""
    for parameter in request.params.get("PipelineParameters") or []:
        if parameter.get("Name") == "ChampionModelData":
            return str(parameter.get("Value", ""))
    return ""


def _champion_read(request: Request, account: str, partition: str) -> list[Permission]:
    bucket, _, key = _champion_model_data(request)[5:].partition("/")
    return [Permission("s3:GetObject", f"arn:{partition}:s3:::{bucket}/{key}")]


def _endpoint_logs(request: Request, account: str, partition: str) -> list[Permission]:
    group = f"/aws/sagemaker/Endpoints/{request.params['EndpointName']}"
    # Streams are named <variant>/<instance id>; the instance ids are SageMaker's.
    stream = "AllTraffic/instance-id"
    template = {"LogGroupName": group, "LogStreamName": stream}
    return [
        Permission(
            "logs:CreateLogGroup",
            _arn("logs:CreateLogGroup", "log-group", request, account, partition, **template),
        ),
        *(
            Permission(
                f"logs:{action}",
                _arn(f"logs:{action}", "log-stream", request, account, partition, **template),
            )
            for action in ("CreateLogStream", "PutLogEvents")
        ),
        Permission(
            "cloudwatch:PutMetricData",
            "*",
            (("cloudwatch:namespace", "/aws/sagemaker/Endpoints"),),
        ),
    ]


def _head_missing(request: Request, account: str, partition: str) -> list[Permission]:
    return [Permission("s3:ListBucket", f"arn:{partition}:s3:::{request.params['Bucket']}")]


def _is(service: str, *operations: str) -> Callable[[Request], bool]:
    return lambda r: r.service == service and r.operation in operations


RULES: tuple[Rule, ...] = (
    Rule(
        "composite alarms are read on *",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html",
        "to return composite alarms, cloudwatch:DescribeAlarms must be scoped to *",
        CALLER,
        lambda r: (
            r.service == "cloudwatch"
            and r.operation == "DescribeAlarms"
            and "CompositeAlarm" in (r.params.get("AlarmTypes") or [])
        ),
        _composite_alarms,
    ),
    Rule(
        "passing a role to SageMaker",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html",
        "a request that names a role for a service to assume needs iam:PassRole on it",
        CALLER,
        lambda r: passed_role(r) is not None,
        _passed_role,
    ),
    Rule(
        "tags on create need sagemaker:AddTags",
        "https://docs.aws.amazon.com/sagemaker/latest/dg/security_iam_id-based-policy-examples.html#grant-tagging-permissions",
        "creating a SageMaker resource with tags needs sagemaker:AddTags on it",
        CALLER,
        lambda r: (
            r.service == "sagemaker" and r.operation in CREATED and bool(r.params.get("Tags"))
        ),
        _tag_on_create,
    ),
    Rule(
        "HeadObject tells a missing key only with s3:ListBucket",
        "https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html",
        "without s3:ListBucket a missing key is 403 Forbidden, not 404: the code's "
        "missing-object branch would never run",
        CALLER,
        _is("s3", "HeadObject"),
        _head_missing,
    ),
    Rule(
        "deployment guardrails read the rollback alarms",
        "https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html",
        "the execution role must be allowed cloudwatch:DescribeAlarms on the auto-rollback alarms",
        EXECUTION_ROLE,
        lambda r: (
            _is("sagemaker", "UpdateEndpoint", "CreateEndpoint")(r) and _has_rollback_alarms(r)
        ),
        _rollback_alarms,
    ),
    Rule(
        "models pull their image from ECR",
        "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html#sagemaker-roles-createmodel-perms",
        "the model's execution role pulls the container image: ecr:GetAuthorizationToken on *, "
        "ecr:BatchCheckLayerAvailability, ecr:GetDownloadUrlForLayer, ecr:BatchGetImage",
        EXECUTION_ROLE,
        lambda r: (
            _is("sagemaker", "CreateModel")(r)
            and bool(
                ECR_IMAGE.match(str((r.params.get("PrimaryContainer") or {}).get("Image", "")))
            )
        ),
        _image_pull,
    ),
    Rule(
        "models read their model data",
        "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html#sagemaker-roles-createmodel-perms",
        "the model's execution role reads ModelDataUrl with s3:GetObject",
        EXECUTION_ROLE,
        lambda r: (
            _is("sagemaker", "CreateModel")(r)
            and str((r.params.get("PrimaryContainer") or {}).get("ModelDataUrl", "")).startswith(
                "s3://"
            )
        ),
        _model_data,
    ),
    Rule(
        "the evaluate job reads the champion's model data",
        "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html#sagemaker-roles-createprocessingjob-perms",
        "a processing job's container calls AWS with the execution role's credentials: the "
        "evaluate step downloads ChampionModelData with s3:GetObject",
        EXECUTION_ROLE,
        lambda r: (
            _is("sagemaker", "StartPipelineExecution")(r)
            and _champion_model_data(r).startswith("s3://")
        ),
        _champion_read,
    ),
    Rule(
        "endpoints write logs and metrics",
        "https://docs.aws.amazon.com/sagemaker/latest/dg/logging-cloudwatch.html",
        "an endpoint's containers log to /aws/sagemaker/Endpoints/<name> and its instances "
        "publish metrics to /aws/sagemaker/Endpoints, as the execution role "
        "(sagemaker-roles.html#sagemaker-roles-createmodel-perms lists the actions)",
        EXECUTION_ROLE,
        _is("sagemaker", "CreateEndpoint", "UpdateEndpoint"),
        _endpoint_logs,
    ),
)


def applying(request: Request) -> Iterator[Rule]:
    """The rules that apply to one request."""
    return (rule for rule in RULES if rule.applies(request))


def passed_roles(requests: list[Request]) -> dict[str, set[str]]:
    """The role ARNs each invocation passed to SageMaker."""
    passed: dict[str, set[str]] = {}
    for request in requests:
        role = passed_role(request)
        if role is not None:
            passed.setdefault(request.invocation_id or "", set()).add(role)
    return passed


def execution_roles(stack: Any) -> set[str]:
    """The stack's roles that SageMaker may assume (their trust policy names it)."""
    roles = set()
    for name, resource in stack.resources.items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        trust = stack.props(name)["AssumeRolePolicyDocument"]["Statement"]
        services = [
            s
            for statement in trust
            for s in _as_list((statement.get("Principal") or {}).get("Service"))
        ]
        if SAGEMAKER in services:
            roles.add(name)
    return roles


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]
