"""Names that fit: the longest slug the hook accepts gives AWS names within every service's limits.

The limits are the services' own, never restated here: CloudFormation's resource schemas as
cfn-lint ships them (maxLength, minLength and pattern of each resource property), and botocore's
service models for the names the code creates at run time (endpoints, endpoint configs, models)
and for properties whose CloudFormation schema states no limit.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import botocore.session
import cfnlint.data.schemas
import pytest
import regex
from conftest import BakedProject, bake

# 40 characters, the hook's limit, and every region-length or account choice that names carry.
LONGEST_SLUG = "customer-lifetime-value-forecast-model-x"
LONGEST = {"project_slug": LONGEST_SLUG, "aws_region": "ap-southeast-2"}
SCHEMAS = Path(cfnlint.data.schemas.__file__).parent
# Properties whose CloudFormation schema states no limit: the API call that creates them does.
API_LIMITS = {
    ("AWS::CodePipeline::Pipeline", "Name"): ("codepipeline", "CreatePipeline", "pipeline.name"),
    ("AWS::CodeBuild::Project", "Name"): ("codebuild", "CreateProject", "name"),
}


def test_the_longest_slug_is_the_hooks_limit() -> None:
    hook = (Path(__file__).parents[1] / "hooks" / "pre_gen_project.py").read_text()
    assert f"SLUG_MAX = {len(LONGEST_SLUG)}" in hook


@pytest.fixture(scope="module")
def longest(tmp_path_factory: pytest.TempPathFactory) -> BakedProject:
    return bake(tmp_path_factory.mktemp("longest"), **LONGEST)


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def modules(longest: BakedProject) -> tuple[ModuleType, ModuleType]:
    """The bake's config.py and its stack resolver (tests/infra/cloudformation.py)."""
    sys.path.insert(0, str(longest.path / "src"))
    try:
        config = _load(longest.path / "src" / longest.package / "config.py", "longest_config")
        sys.modules[f"{longest.package}.config"] = config
        package = ModuleType(longest.package)
        package.config = config  # type: ignore[attr-defined]
        sys.modules[longest.package] = package
        resolver = _load(longest.path / "tests" / "infra" / "cloudformation.py", "longest_cfn")
    finally:
        sys.path.remove(str(longest.path / "src"))
    return config, resolver


def resource_schema(resource_type: str) -> dict[str, Any]:
    """CloudFormation's schema of one resource type, as cfn-lint ships it."""
    index = json.loads((SCHEMAS / "providers" / "us-east-1.json").read_text())
    return json.loads((SCHEMAS / "resources" / f"{index[resource_type]}.json").read_text())


def _property_limits(schema: dict[str, Any], prop: str) -> dict[str, Any]:
    spec = schema["properties"].get(prop, {})
    if "$ref" in spec:  # "#/definitions/Name"
        spec = schema["definitions"][spec["$ref"].rsplit("/", 1)[1]]
    return {k: spec[k] for k in ("maxLength", "minLength", "pattern") if k in spec}


def _api_limits(service: str, operation: str, member: str) -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model(service)
    shape = model.operation_model(operation).input_shape
    for part in member.split("."):
        shape = shape.members[part]
    meta = shape.metadata
    found = {"maxLength": meta.get("max"), "minLength": meta.get("min")}
    if "pattern" in meta:
        found["pattern"] = meta["pattern"]
    return {k: v for k, v in found.items() if v is not None}


def violations(value: str, limits: dict[str, Any]) -> list[str]:
    """What `value` breaks of these limits (a JSON-schema or botocore pattern is a search)."""
    broken = []
    if "maxLength" in limits and len(value) > limits["maxLength"]:
        broken.append(f"{len(value)} > {limits['maxLength']} characters")
    if "minLength" in limits and len(value) < limits["minLength"]:
        broken.append(f"{len(value)} < {limits['minLength']} characters")
    # The schemas' patterns use \p{...} classes: `regex`, cfn-lint's own pattern engine, has them.
    if "pattern" in limits and not regex.search(limits["pattern"], value):
        broken.append(f"does not match {limits['pattern']}")
    return broken


def test_every_stack_property_fits_its_resource_schema(modules: tuple) -> None:
    config, resolver = modules
    stack = resolver.Stack(
        Path(config.REPO_ROOT) / "infra" / "stack.yml",
        config.AWS_ACCOUNT_ID,
        config.AWS_REGION,
        config.PARTITION,
    )
    checked, problems = 0, []
    for logical_id, resource in stack.resources.items():
        schema = resource_schema(resource["Type"])
        for prop, value in stack.props(logical_id).items():
            if not isinstance(value, str):
                continue
            limits = _property_limits(schema, prop)
            if (resource["Type"], prop) in API_LIMITS:
                limits = _api_limits(*API_LIMITS[(resource["Type"], prop)])
            if limits:
                checked += 1
                problems += [
                    f"{logical_id}.{prop} {value!r}: {v}" for v in violations(value, limits)
                ]
    assert problems == []
    # Every named resource was among them: buckets, roles, pipelines, projects, alarms, group.
    assert checked >= len([r for r in stack.resources.values() if r["Type"] in stack.NAME_PROPERTY])


def test_names_the_code_creates_fit_the_api(modules: tuple) -> None:
    config, _ = modules
    started = dt.datetime(2099, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    names = [
        (config.SAGEMAKER_PIPELINE, "sagemaker", "CreatePipeline", "PipelineName"),
        (config.MODEL_PACKAGE_GROUP, "sagemaker", "CreateModelPackage", "ModelPackageGroupName"),
        (config.CODEPIPELINE_RETRAIN, "codepipeline", "StartPipelineExecution", "name"),
        *(
            pair
            for env in config.ENVIRONMENTS
            for pair in [
                (config.endpoint_name(env), "sagemaker", "CreateEndpoint", "EndpointName"),
                (
                    config.deployment_resource_name(env, started),
                    "sagemaker",
                    "CreateEndpointConfig",
                    "EndpointConfigName",
                ),
                (
                    config.deployment_resource_name(env, started),
                    "sagemaker",
                    "CreateModel",
                    "ModelName",
                ),
                *(
                    (alarm, "cloudwatch", "PutMetricAlarm", "AlarmName")
                    for alarm in config.alarm_names(env).values()
                ),
                (
                    config.monitoring_schedule_name(env),
                    "sagemaker",
                    "CreateMonitoringSchedule",
                    "MonitoringScheduleName",
                ),
                (config.drift_alarm_name(env, 9), "cloudwatch", "PutMetricAlarm", "AlarmName"),
            ]
        ),
    ]
    problems = [
        f"{service} {operation} {member} {value!r}: {v}"
        for value, service, operation, member in names
        for v in violations(value, _api_limits(service, operation, member))
    ]
    assert problems == []
    longest = max(len(config.deployment_resource_name(env, started)) for env in config.ENVIRONMENTS)
    assert longest == 63, "the endpoint config name is the tightest fit: it uses all 63"
