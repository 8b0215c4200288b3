"""The IAM check itself (tests/iam/): its tables, its rules against the roles, and its teeth.

test_bake.py and test_demo.py run it on every combination's baked suite and story; this module
tests the parts: the operation table agrees with the Service Authorization Reference, each rule
cites its page and holds for the roles of the stack, the recorder attributes requests to the
command that made them, the roles follow the workflows and buildspecs, and a stack missing
one permission the code needs fails the check, naming the request and the role.
"""

from __future__ import annotations

import datetime as dt
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import IAM_SUMMARIES, BakedProject, assert_authorized, bake, recording_env
from iam import evaluation, identities, permissions, records, rules
from iam.evaluation import Check
from iam.permissions import Permission
from iam.records import Invocation, Request

ACCOUNT, REGION = "123456789012", "us-east-1"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def default_bake(tmp_path_factory: pytest.TempPathFactory) -> BakedProject:
    return bake(tmp_path_factory.mktemp("iam-bake"))


@pytest.fixture(scope="module")
def stack(default_bake: BakedProject) -> Any:
    return evaluation.load_stack(default_bake.path)


def test_every_operation_row_agrees_with_the_service_authorization_reference() -> None:
    problems = [
        p
        for key, needs in permissions.OPERATIONS.items()
        for p in permissions.check_row(key, needs)
    ]
    assert problems == []


def test_the_reference_check_catches_a_wrong_row() -> None:
    """A row naming only one of UpdateEndpoint's two required resource types is refused."""
    wrong = (
        permissions.Need("sagemaker:UpdateEndpoint", "endpoint", {"EndpointName": "EndpointName"}),
    )
    assert permissions.check_row(("sagemaker", "UpdateEndpoint"), wrong) == [
        "('sagemaker', 'UpdateEndpoint'): sagemaker:UpdateEndpoint requires ['endpoint-config'] too"
    ]
    made_up = (permissions.Need("sagemaker:DeployModel"),)
    assert permissions.check_row(("sagemaker", "DeployModel"), made_up) == [
        "('sagemaker', 'DeployModel'): sagemaker:DeployModel is not an IAM action"
    ]


def test_an_operation_the_table_lacks_fails_with_the_row_to_add() -> None:
    request = Request("sagemaker", "DeleteEndpoint", {"EndpointName": "x"}, REGION)
    with pytest.raises(permissions.Unmapped, match="no IAM mapping for sagemaker DeleteEndpoint"):
        list(permissions.of(request, ACCOUNT, "aws"))


def test_every_rule_cites_an_aws_page() -> None:
    names = [rule.name for rule in rules.RULES]
    assert len(names) == len(set(names))
    for rule in rules.RULES:
        assert rule.doc.startswith("https://docs.aws.amazon.com/"), rule.name
        assert len(rule.says.split()) >= 6, rule.name
        assert rule.whose in (rules.CALLER, rules.EXECUTION_ROLE)


def rule_examples(names: dict[str, Any]) -> dict[str, tuple[Request, str, bool]]:
    """For each rule: a request it applies to, the role it is checked for, the verdict the
    stack must give. Names come from the bake's own config.py."""
    project, artifacts = names["PROJECT"], names["ARTIFACT_BUCKET"]
    role = f"arn:aws:iam::{ACCOUNT}:role/{names['SAGEMAKER_EXECUTION_ROLE']}"
    alarms = [{"AlarmName": names["alarm_names"]("prod")["5xx"]}]
    image = f"683313688378.dkr.ecr.{REGION}.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"
    model = {
        "ModelName": names["deployment_resource_name"]("prod", NOW),
        "ExecutionRoleArn": role,
        "PrimaryContainer": {
            "Image": image,
            "ModelDataUrl": f"s3://{artifacts}/retrain/model.tar.gz",
        },
        "Tags": [{"Key": "project", "Value": project}],
    }
    update = {
        "EndpointName": f"{project}-prod",
        "EndpointConfigName": names["deployment_resource_name"]("prod", NOW),
        "DeploymentConfig": {"AutoRollbackConfiguration": {"Alarms": alarms}},
    }
    head = {"Bucket": artifacts, "Key": "input/data.csv"}
    champion = f"s3://{artifacts}/{project}-retrain/job/output/model.tar.gz"
    start = {
        "PipelineName": f"{project}-retrain",
        "PipelineParameters": [{"Name": "ChampionModelData", "Value": champion}],
    }
    composite = {"AlarmNames": [alarms[0]["AlarmName"]], "AlarmTypes": ["CompositeAlarm"]}
    sm = "SageMakerExecutionRole"
    return {
        # Defect 1: the deploy role may read only its environment's alarms, not "*".
        "composite alarms are read on *": (
            Request("cloudwatch", "DescribeAlarms", composite, REGION),
            "GitHubDeployRoleProd",
            False,
        ),
        "passing a role to SageMaker": (
            Request("sagemaker", "CreateModel", model, REGION),
            "GitHubDeployRoleProd",
            True,
        ),
        "tags on create need sagemaker:AddTags": (
            Request("sagemaker", "CreateModel", model, REGION),
            "GitHubDeployRoleProd",
            True,
        ),
        "HeadObject tells a missing key only with s3:ListBucket": (
            Request("s3", "HeadObject", head, REGION),
            "RetrainBuildRole",
            True,
        ),
        # Defect 2: SageMaker reads the rollback alarms as the execution role.
        "deployment guardrails read the rollback alarms": (
            Request("sagemaker", "UpdateEndpoint", update, REGION),
            sm,
            True,
        ),
        "models pull their image from ECR": (
            Request("sagemaker", "CreateModel", model, REGION),
            sm,
            True,
        ),
        "models read their model data": (
            Request("sagemaker", "CreateModel", model, REGION),
            sm,
            True,
        ),
        "endpoints write logs and metrics": (
            Request("sagemaker", "UpdateEndpoint", update, REGION),
            sm,
            True,
        ),
        "the evaluate job reads the champion's model data": (
            Request("sagemaker", "StartPipelineExecution", start, REGION),
            sm,
            True,
        ),
    }


@pytest.mark.parametrize("rule", rules.RULES, ids=lambda rule: rule.name)
def test_each_rule_holds_for_the_roles_of_the_stack(
    rule: rules.Rule, stack: Any, default_bake: BakedProject
) -> None:
    """Each rule applies to its example, names real actions on their resource types, and the
    stack's role gets the verdict it must (the composite-alarm request stays refused)."""
    names = runpy.run_path(str(default_bake.path / "src" / default_bake.package / "config.py"))
    request, role, allowed = rule_examples(names)[rule.name]
    assert rule.applies(request)
    needed = rule.needs(request, ACCOUNT, "aws")
    assert needed
    for permission in needed:
        assert permission.resource == "*" or permissions.arn_fits(
            permission.action, permission.resource
        ), permission
    nodes = {role: evaluation.node(stack, role)}
    buckets = evaluation.bucket_policies(stack)
    verdicts = {
        str(p): evaluation.authorized(stack, nodes, buckets, Check(role, p)) for p in needed
    }
    assert verdicts == dict.fromkeys(verdicts, allowed)


def test_metric_alarms_only_is_what_the_deploy_roles_may_read(stack: Any) -> None:
    """The fix of defect 1: DescribeAlarms for MetricAlarm by name needs no "*"."""
    project = stack.parameters["ProjectName"]
    names = [f"{project}-prod-invocation-5xx-errors", f"{project}-prod-model-latency"]
    request = Request(
        "cloudwatch", "DescribeAlarms", {"AlarmNames": names, "AlarmTypes": ["MetricAlarm"]}, REGION
    )
    assert list(rules.applying(request)) == []
    needed = list(permissions.of(request, ACCOUNT, "aws"))
    assert [p.resource.rsplit(":", 1)[1] for p in needed] == names
    nodes = {
        role: evaluation.node(stack, role)
        for role in ("GitHubDeployRoleProd", "GitHubDeployRoleStaging")
    }
    prod = [
        evaluation.authorized(stack, nodes, {}, Check("GitHubDeployRoleProd", p)) for p in needed
    ]
    staging = [
        evaluation.authorized(stack, nodes, {}, Check("GitHubDeployRoleStaging", p)) for p in needed
    ]
    assert (prod, staging) == ([True, True], [False, False])


def test_roles_follow_the_workflows_and_buildspecs(default_bake: BakedProject, stack: Any) -> None:
    runs = {
        (r.identity, str(r.invocation))
        for r in identities.runners(default_bake.path, stack, default_bake.package)
    }
    assert runs == {
        ("GitHubRetrainRole", "retrain"),
        ("RetrainBuildRole", "pipeline upsert"),
        ("RetrainBuildRole", "pipeline start"),
        ("DeployBuildRole", "deploy --env staging"),
        ("DeployBuildRole", "deploy --env prod"),
        ("GitHubDeployRoleStaging", "deploy --env staging"),
        ("GitHubDeployRoleStaging", "rollback --env staging"),
        ("GitHubDeployRoleProd", "registry approve"),
        ("GitHubDeployRoleProd", "deploy --env prod"),
        ("GitHubDeployRoleProd", "rollback --env prod"),
    }


def test_sagemaker_calls_on_behalf_of_the_execution_role_are_its_own(
    stack: Any, default_bake: BakedProject
) -> None:
    project = stack.parameters["ProjectName"]
    request = Request(
        "sagemaker",
        "CreateModelPackage",
        # The pipeline registers with the approval mode's status (the default bake's: manual).
        {
            "ModelPackageGroupName": f"{project}-models",
            "ModelApprovalStatus": "PendingManualApproval",
        },
        REGION,
        user_agent_extra=f"sagemaker-pipeline on-behalf-of/{project}-sagemaker-execution",
    )
    roles, reason = evaluation.callers(request, stack, [], default_bake.package)
    assert (roles, reason) == (["SageMakerExecutionRole"], None)
    report = evaluation.evaluate(default_bake.path, [request], "on behalf of", stack=stack)
    assert (report.attributed, report.identities, report.denials) == (
        1,
        {"SageMakerExecutionRole"},
        [],
    )


RECORDED_CLI = """
import argparse, sys, threading
import botocore.session
from botocore.stub import Stubber


def call(operation):
    client = botocore.session.get_session().create_client(
        "sts", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        stub.add_response("get_caller_identity", {"Arn": "arn:aws:iam::123456789012:user/x"})
        client.get_caller_identity()


def main(argv=None):
    args = argparse.Namespace(command=(argv or sys.argv[1:])[0])
    call("in main")
    worker = threading.Thread(target=call, args=("in a thread main started",))
    worker.start()
    worker.join()
"""


def test_recorder_attributes_requests_to_the_command_that_made_them(tmp_path: Path) -> None:
    """In main(), in a thread main started, and outside any command: each recorded as such."""
    cli = tmp_path / "src" / "pkg" / "cli"
    cli.mkdir(parents=True)
    (cli.parent / "__init__.py").write_text("", encoding="utf-8")
    (cli / "__init__.py").write_text(RECORDED_CLI, encoding="utf-8")
    script = "from pkg.cli import call, main\ncall('setup')\nmain(['deploy', '--env', 'prod'])\n"
    record = tmp_path / "records"
    env = recording_env(tmp_path, record)
    env["IAM_RECORD_SOURCE"] = str(cli.parent)
    env["PYTHONPATH"] = records.pythonpath(tmp_path / "src")
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    recorded = records.load([record])
    assert [(r.operation, r.invocation, r.caller) for r in recorded] == [
        ("GetCallerIdentity", None, "pkg/cli/__init__.py:13"),
        ("GetCallerIdentity", Invocation(("deploy",), "prod"), "pkg/cli/__init__.py:13"),
        # The worker's requests carry where main() started it.
        ("GetCallerIdentity", Invocation(("deploy",), "prod"), "pkg/cli/__init__.py:19"),
    ]
    assert recorded[1].invocation_id == recorded[2].invocation_id


@pytest.fixture(scope="module")
def emulator_run(
    default_bake: BakedProject, shared_venv: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The baked emulator's whole flow (register, approve, deploy, rollback through the CLI),
    recorded: the one test of the file that deploys prod, whose permission the test removes."""
    default_bake.venv = shared_venv
    record = tmp_path_factory.mktemp("emulator-requests")
    flow = "tests/dev/test_emulator.py::test_register_approve_deploy_roll_back_and_recover"
    default_bake.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", flow, record=record)
    return record


def test_removing_a_needed_permission_fails_the_check(
    default_bake: BakedProject, emulator_run: Path, tmp_path: Path
) -> None:
    """The stack as baked authorizes the recorded requests; without prod's UpdateEndpoint the
    check fails, naming the request, the command and both roles that run it."""
    assert_authorized(default_bake.path, emulator_run, "emulator tests, stack as baked")
    broken = tmp_path / default_bake.path.name
    shutil.copytree(default_bake.path, broken, ignore=shutil.ignore_patterns(".venv", "build"))
    text = (broken / "infra" / "stack.yml").read_text(encoding="utf-8")
    head, policy = text.split("\n  DeployPolicyProd:\n", 1)
    assert "- sagemaker:UpdateEndpoint\n" in policy.split("\n  # ", 1)[0]
    policy = policy.replace("- sagemaker:UpdateEndpoint\n", "- sagemaker:DescribeEndpoint\n", 1)
    (broken / "infra" / "stack.yml").write_text(
        f"{head}\n  DeployPolicyProd:\n{policy}", encoding="utf-8"
    )
    with pytest.raises(AssertionError) as failure:
        assert_authorized(broken, emulator_run, "emulator tests, prod's UpdateEndpoint removed")
    message = str(failure.value)
    # The session's closing figures show the failure too: its first denial, as reported.
    IAM_SUMMARIES.append(
        "  first of them: " + re.split(r"\n\s*DENIED", message[message.index("DENIED ") :])[0]
    )
    endpoint = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{default_bake.path.name}-prod"
    for role in ("GitHubDeployRoleProd", "DeployBuildRole"):
        assert f"DENIED {role}: sagemaker:UpdateEndpoint on {endpoint}\n" in message
    assert "needed by sagemaker UpdateEndpoint by `deploy --env prod" in message
    assert "tests/dev/test_emulator.py::" in message
    # Nothing else changed: every denial is that one permission.
    assert message.count("DENIED ") == message.count("sagemaker:UpdateEndpoint on ")
    assert "DENIED GitHubDeployRoleStaging" not in message


def test_permission_strings_name_action_resource_and_context() -> None:
    permission = Permission(
        "iam:PassRole", "arn:aws:iam::1:role/r", (("iam:PassedToService", rules.SAGEMAKER),)
    )
    assert str(permission) == (
        "iam:PassRole on arn:aws:iam::1:role/r [iam:PassedToService=sagemaker.amazonaws.com]"
    )
