"""infra/stack.yml as data: the template with its intrinsic functions resolved.

Resolves Ref, GetAtt, Sub, Join, Select, Split and If (and the Conditions If reads) with the
parameter defaults, or given values, and config.py's account, region and partition, so tests can
compare what the stack creates, exports and allows with the names the code uses.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from cfnlint.decode import cfn_yaml

from {{ cookiecutter.__package }} import config


class Stack:
    """The baked stack with Ref, GetAtt, Sub, Join, Select, Split and If resolved."""

    # Ref on these types gives the ARN (CloudFormation's documented return values); on the other
    # named types used here it gives the name.
    REF_IS_ARN: ClassVar[set[str]] = {
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::OIDCProvider",
        "AWS::SageMaker::ModelPackageGroup",
    }
    NAME_PROPERTY: ClassVar[dict[str, str]] = {
        "AWS::S3::Bucket": "BucketName",
        "AWS::IAM::Role": "RoleName",
        "AWS::CodeBuild::Project": "Name",
        "AWS::CodePipeline::Pipeline": "Name",
        "AWS::SageMaker::ModelPackageGroup": "ModelPackageGroupName",
        "AWS::Logs::LogGroup": "LogGroupName",
        "AWS::CloudWatch::Alarm": "AlarmName",
    }

    def __init__(
        self,
        path: Path,
        account: str,
        region: str,
        partition: str = "aws",
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.template = cfn_yaml.load(str(path))
        self.account, self.region, self.partition = account, region, partition
        self.pseudo = {
            "AWS::AccountId": account,
            "AWS::Region": region,
            "AWS::Partition": partition,
            "AWS::StackName": "stack",
            "AWS::NoValue": None,
        }
        # The parameter defaults, as `make bootstrap` deploys them, unless a test overrides some.
        self.parameters = {
            name: str(p.get("Default", "")) for name, p in self.template["Parameters"].items()
        }
        self.parameters.update(parameters or {})
        self.conditions: dict[str, bool] = {}
        for name, expression in self.template.get("Conditions", {}).items():
            self.conditions[name] = self.condition(expression)

    @property
    def resources(self) -> dict[str, Any]:
        return self.template["Resources"]

    def props(self, logical_id: str) -> dict[str, Any]:
        """The resolved properties of one resource."""
        return self.resolve(self.resources[logical_id].get("Properties", {}))

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Resolved properties of every resource of one type, by logical id."""
        return {
            name: self.props(name)
            for name, r in self.resources.items()
            if r["Type"] == resource_type
        }

    def name(self, logical_id: str) -> str:
        """The physical name; CloudFormation generates one when the stack gives none."""
        resource = self.resources[logical_id]
        given = resource.get("Properties", {}).get(self.NAME_PROPERTY[resource["Type"]])
        return f"generated-{logical_id}" if given is None else self.resolve(given)

    def arn(self, logical_id: str) -> str:
        resource_type = self.resources[logical_id]["Type"]
        name = self.name(logical_id)

        def regional(service: str) -> str:
            return f"arn:{self.partition}:{service}:{self.region}:{self.account}"

        return {
            "AWS::S3::Bucket": f"arn:{self.partition}:s3:::{name}",
            "AWS::IAM::Role": f"arn:{self.partition}:iam::{self.account}:role/{name}",
            "AWS::CodeBuild::Project": f"{regional('codebuild')}:project/{name}",
            "AWS::CodePipeline::Pipeline": f"{regional('codepipeline')}:{name}",
            "AWS::SageMaker::ModelPackageGroup": (
                f"{regional('sagemaker')}:model-package-group/{name}"
            ),
            "AWS::Logs::LogGroup": f"{regional('logs')}:log-group:{name}:*",
        }[resource_type]

    def ref(self, target: str) -> Any:
        if target in self.pseudo:
            return self.pseudo[target]
        if target in self.parameters:
            return self.parameters[target]
        resource_type = self.resources[target]["Type"]
        if resource_type in self.REF_IS_ARN:
            if resource_type == "AWS::SageMaker::ModelPackageGroup":
                return self.arn(target)
            return f"ref:{target}"
        return self.name(target)

    def get_att(self, target: str, attribute: str) -> str:
        if attribute in ("Arn", "ModelPackageGroupArn"):
            return self.arn(target)
        raise AssertionError(f"the resolver does not know {target}.{attribute}")

    def sub(self, text: str, local: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            key = match.group(1)
            if key in local:
                return str(local[key])
            if "." in key:
                return self.get_att(*key.split(".", 1))
            return str(self.ref(key))

        return re.sub(r"\$\{([^!}][^}]*)\}", replace, text)

    def condition(self, node: Any) -> bool:
        """A condition's value: Fn::Equals, Fn::Not, Fn::And, Fn::Or and Condition references."""
        ((key, value),) = node.items()
        if key == "Fn::Equals":
            left, right = self.resolve(value)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self.condition(value[0])
        if key == "Fn::And":
            return all(self.condition(v) for v in value)
        if key == "Fn::Or":
            return any(self.condition(v) for v in value)
        if key == "Condition":
            return self.conditions[value]
        raise AssertionError(f"the resolver does not know the condition function {key}")

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), *_ = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                target, attribute = value if isinstance(value, list) else value.split(".", 1)
                return self.get_att(target, attribute)
            if key == "Fn::Sub":
                text, local = (value, {}) if isinstance(value, str) else value
                return self.sub(text, self.resolve(local))
            if key == "Fn::Join":
                return value[0].join(str(v) for v in self.resolve(value[1]))
            if key == "Fn::Select":
                return self.resolve(value[1])[int(value[0])]
            if key == "Fn::Split":
                return self.resolve(value[1]).split(value[0])
            if key == "Fn::If":
                return self.resolve(value[1] if self.conditions[value[0]] else value[2])
        return {k: self.resolve(v) for k, v in node.items()}

    def statements(self, logical_id: str) -> list[dict[str, Any]]:
        """Every policy statement a role is given, inline or by managed policy."""
        props = self.props(logical_id)
        documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
        for arn in props.get("ManagedPolicyArns", []):
            documents.append(self.props(arn.removeprefix("ref:"))["PolicyDocument"])
        return [s for d in documents for s in d["Statement"]]


def load(parameters: dict[str, str] | None = None) -> Stack:
    """This repository's stack, resolved for config.py's account, region and partition."""
    return Stack(
        config.REPO_ROOT / "infra" / "stack.yml",
        config.AWS_ACCOUNT_ID,
        config.AWS_REGION,
        config.PARTITION,
        parameters,
    )
