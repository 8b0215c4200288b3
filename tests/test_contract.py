"""One source of names: what config.py derives is exactly what the stack creates and exports.

For every option combination: bake, load the baked config.py and the baked stack (its intrinsic
functions resolved with the parameter defaults and the answers' account and region), and check
each reference on both sides: buckets, pipelines, CodeBuild projects, the model package group,
endpoints and alarms, roles and their trust, the environment variables the buildspecs read, the
GitHub variables the workflows read, and the stack name `make bootstrap` deploys.
"""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from cfnlint.decode import cfn_yaml
from conftest import BakedProject

# What CodeBuild sets in every build, so a buildspec may read it without the stack defining it.
CODEBUILD_BUILTINS = {"AWS_DEFAULT_REGION", "AWS_REGION", "HOME", "PATH", "PWD", "SHELL"}
SHELL_VARIABLE = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(:?[-=?+][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))"
)
SHELL_ASSIGNMENT = re.compile(r"(?:^|[\s;(&|])(?:export\s+|local\s+)?([A-Za-z_][A-Za-z0-9_]*)=")
SHELL_LOOP = re.compile(r"\bfor\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\b")


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

    def __init__(self, path: Path, account: str, region: str) -> None:
        self.template = cfn_yaml.load(str(path))
        self.account, self.region = account, region
        self.pseudo = {
            "AWS::AccountId": account,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::StackName": "stack",
            "AWS::NoValue": None,
        }
        self.parameters = {
            name: str(p.get("Default", "")) for name, p in self.template["Parameters"].items()
        }
        self.conditions = {
            "CreateGitHubOidcProvider": self.parameters["ExistingGitHubOidcProviderArn"] == ""
        }

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
        prefix = f"arn:aws:{{}}:{self.region}:{self.account}"
        return {
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{self.account}:role/{name}",
            "AWS::CodeBuild::Project": f"{prefix.format('codebuild')}:project/{name}",
            "AWS::CodePipeline::Pipeline": f"{prefix.format('codepipeline')}:{name}",
            "AWS::SageMaker::ModelPackageGroup": (
                f"{prefix.format('sagemaker')}:model-package-group/{name}"
            ),
            "AWS::Logs::LogGroup": f"{prefix.format('logs')}:log-group:{name}:*",
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


@pytest.fixture(scope="module")
def names(baked: BakedProject) -> dict[str, Any]:
    """The baked config module's names (it imports nothing, so it runs on its own)."""
    return runpy.run_path(str(baked.path / "src" / baked.package / "config.py"))


@pytest.fixture(scope="module")
def stack(baked: BakedProject, names: dict[str, Any]) -> Stack:
    return Stack(baked.path / "infra" / "stack.yml", names["AWS_ACCOUNT_ID"], names["AWS_REGION"])


def test_resource_names_are_configs(stack: Stack, names: dict[str, Any]) -> None:
    envs = names["ENVIRONMENTS"]
    named = {
        (stack.resources[i]["Type"], stack.name(i))
        for i in stack.resources
        if stack.NAME_PROPERTY.get(stack.resources[i]["Type"])
        in stack.resources[i].get("Properties", {})
        and stack.resources[i]["Type"] != "AWS::Logs::LogGroup"
    }
    expected = {
        ("AWS::S3::Bucket", names["SOURCE_BUCKET"]),
        ("AWS::S3::Bucket", names["ARTIFACT_BUCKET"]),
        ("AWS::S3::Bucket", names["ACCESS_LOG_BUCKET"]),
        ("AWS::CodePipeline::Pipeline", names["CODEPIPELINE_RETRAIN"]),
        ("AWS::CodePipeline::Pipeline", names["CODEPIPELINE_DEPLOY"]),
        ("AWS::CodeBuild::Project", names["CODEBUILD_TRAIN"]),
        ("AWS::CodeBuild::Project", names["CODEBUILD_DEPLOY"]),
        ("AWS::SageMaker::ModelPackageGroup", names["MODEL_PACKAGE_GROUP"]),
        ("AWS::IAM::Role", names["SAGEMAKER_EXECUTION_ROLE"]),
        ("AWS::IAM::Role", names["GITHUB_RETRAIN_ROLE"]),
        *(("AWS::IAM::Role", names["github_deploy_role"](env)) for env in envs),
        *(
            ("AWS::CloudWatch::Alarm", alarm)
            for env in envs
            for alarm in names["alarm_names"](env).values()
        ),
    }
    assert named == expected


def test_alarms_watch_the_endpoint_variant_the_deploy_uses(
    stack: Stack, names: dict[str, Any]
) -> None:
    alarms = {p["AlarmName"]: p for p in stack.of_type("AWS::CloudWatch::Alarm").values()}
    metrics = {
        "5xx": "Invocation5XXErrors",
        "4xx": "Invocation4XXErrors",
        "latency": "ModelLatency",
    }
    for env in names["ENVIRONMENTS"]:
        for kind, alarm_name in names["alarm_names"](env).items():
            alarm = alarms[alarm_name]
            dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
            assert dimensions == {
                "EndpointName": names["endpoint_name"](env),
                "VariantName": names["VARIANT_NAME"],
            }
            assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SageMaker", metrics[kind])
            assert alarm["TreatMissingData"] == "notBreaching"


def pipeline(stack: Stack, name: str) -> dict[str, Any]:
    found = [p for p in stack.of_type("AWS::CodePipeline::Pipeline").values() if p["Name"] == name]
    assert len(found) == 1, name
    return found[0]


def build_actions(pipe: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(stage, CodeBuild project, environment variables) of each build action, in order."""
    return [
        (
            stage["Name"],
            action["Configuration"]["ProjectName"],
            {
                v["name"]: v["value"]
                for v in json.loads(action["Configuration"].get("EnvironmentVariables", "[]"))
            },
        )
        for stage in pipe["Stages"]
        for action in stage["Actions"]
        if action["ActionTypeId"]["Provider"] == "CodeBuild"
    ]


def assert_source_is_the_uploaded_object(pipe: dict[str, Any], names: dict[str, Any]) -> None:
    source = pipe["Stages"][0]["Actions"][0]
    assert source["Name"] == names["SOURCE_ACTION"]
    assert source["ActionTypeId"]["Provider"] == "S3"
    assert source["Configuration"] == {
        "S3Bucket": names["SOURCE_BUCKET"],
        "S3ObjectKey": names["SOURCE_OBJECT_KEY"],
        "PollForSourceChanges": False,
    }


def test_retrain_pipeline_passes_the_commit_to_the_train_build(
    stack: Stack, names: dict[str, Any]
) -> None:
    pipe = pipeline(stack, names["CODEPIPELINE_RETRAIN"])
    assert pipe["PipelineType"] == "V2"
    assert_source_is_the_uploaded_object(pipe, names)
    variable = names["COMMIT_SHA_VARIABLE"]
    assert [v["Name"] for v in pipe["Variables"]] == [variable]
    assert build_actions(pipe) == [
        ("Train", names["CODEBUILD_TRAIN"], {variable: f"#{{variables.{variable}}}"})
    ]


def test_deploy_pipeline_deploys_staging_then_approval_then_prod(
    stack: Stack, names: dict[str, Any]
) -> None:
    pipe = pipeline(stack, names["CODEPIPELINE_DEPLOY"])
    assert pipe["PipelineType"] == "V2"
    assert_source_is_the_uploaded_object(pipe, names)
    assert [s["Name"] for s in pipe["Stages"]] == [
        "Source",
        "DeployStaging",
        "ApproveProduction",
        "DeployProd",
    ]
    assert pipe["Stages"][2]["Actions"][0]["ActionTypeId"]["Provider"] == "Manual"
    variable = names["DEPLOY_ENV_VARIABLE"]
    assert build_actions(pipe) == [
        (f"Deploy{env.title()}", names["CODEBUILD_DEPLOY"], {variable: env})
        for env in names["ENVIRONMENTS"]
    ]


def test_approved_packages_of_the_group_start_the_deploy_pipeline(
    stack: Stack, names: dict[str, Any]
) -> None:
    (rule,) = stack.of_type("AWS::Events::Rule").values()
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {
            "ModelPackageGroupName": [names["MODEL_PACKAGE_GROUP"]],
            "ModelApprovalStatus": ["Approved"],
        },
    }
    (target,) = rule["Targets"]
    region, account = names["AWS_REGION"], names["AWS_ACCOUNT_ID"]
    assert (
        target["Arn"] == f"arn:aws:codepipeline:{region}:{account}:{names['CODEPIPELINE_DEPLOY']}"
    )


def shell_reads(text: str) -> set[str]:
    """Variables a shell snippet reads without a default, less those it assigns itself."""
    reads = {m.group(1) or m.group(3) for m in SHELL_VARIABLE.finditer(text) if not m.group(2)}
    assigned = set(SHELL_ASSIGNMENT.findall(text)) | set(SHELL_LOOP.findall(text))
    return reads - assigned


def test_shell_reads_sees_through_defaults_and_assignments() -> None:
    snippet = 'x=$(date); echo "$x ${DEPLOY_ENV} $COMMIT_SHA ${OPTIONAL:-none}"'
    assert shell_reads(snippet) == {"DEPLOY_ENV", "COMMIT_SHA"}


def commands(buildspec: dict[str, Any]) -> str:
    lines = []
    for phase in buildspec.get("phases", {}).values():
        for key in ("commands", "finally"):
            lines.extend(str(c) for c in phase.get(key) or [])
    return "\n".join(lines)


def test_buildspecs_read_only_what_the_stack_defines(baked: BakedProject, stack: Stack) -> None:
    projects = stack.of_type("AWS::CodeBuild::Project")
    pipelines = stack.of_type("AWS::CodePipeline::Pipeline").values()
    assert len(projects) == 2
    for project in projects.values():
        spec_file = project["Source"]["BuildSpec"]
        assert baked.has_file(spec_file), f"{project['Name']} runs {spec_file}, which is missing"
        spec = yaml.safe_load(baked.read(spec_file))
        env = spec.get("env", {})
        defined = (
            CODEBUILD_BUILTINS
            | set(env.get("variables", {}))
            | set(env.get("parameter-store", {}))
            | set(env.get("secrets-manager", {}))
            | {v["Name"] for v in project["Environment"].get("EnvironmentVariables", [])}
        )
        passed_by_every_action = [
            set(variables)
            for pipe in pipelines
            for _, target, variables in build_actions(pipe)
            if target == project["Name"]
        ]
        assert passed_by_every_action, f"no pipeline runs {project['Name']}"
        defined |= set.intersection(*passed_by_every_action)
        undefined = {
            name
            for name in shell_reads(commands(spec))
            if name not in defined and not name.startswith("CODEBUILD_")
        }
        assert undefined == set(), f"{spec_file} reads variables nobody sets"


def test_deploy_buildspec_deploys_the_pipeline_stage_env(
    baked: BakedProject, names: dict[str, Any]
) -> None:
    spec = yaml.safe_load(baked.read("buildspec-deploy.yml"))
    variable = names["DEPLOY_ENV_VARIABLE"]
    assert f'python -m {baked.package} deploy --env "${variable}"' in commands(spec)


def trust(stack: Stack, logical_id: str) -> dict[str, Any]:
    (statement,) = stack.props(logical_id)["AssumeRolePolicyDocument"]["Statement"]
    return statement


def role_id(stack: Stack, role_name: str) -> str:
    (found,) = [
        i for i, p in stack.of_type("AWS::IAM::Role").items() if p.get("RoleName") == role_name
    ]
    return found


def test_github_roles_trust_only_their_branch_or_environment(
    stack: Stack, names: dict[str, Any]
) -> None:
    repo = f"repo:{names['GITHUB_OWNER']}/{names['GITHUB_REPO']}"
    retrain = trust(stack, role_id(stack, names["GITHUB_RETRAIN_ROLE"]))
    assert retrain["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert retrain["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": [
            f"{repo}:ref:refs/heads/{branch}" for branch in names["RETRAIN_BRANCHES"]
        ],
    }
    for env in names["ENVIRONMENTS"]:
        deploy = trust(stack, role_id(stack, names["github_deploy_role"](env)))
        assert deploy["Condition"]["StringEquals"] == {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": f"{repo}:environment:{env}",
        }


def test_github_roles_allow_the_session_the_workflows_ask_for(
    stack: Stack, names: dict[str, Any]
) -> None:
    # AssumeRoleWithWebIdentity refuses a DurationSeconds above the role's MaxSessionDuration.
    roles = [names["GITHUB_RETRAIN_ROLE"]]
    roles += [names["github_deploy_role"](env) for env in names["ENVIRONMENTS"]]
    for role in roles:
        maximum = stack.props(role_id(stack, role)).get("MaxSessionDuration", 3600)
        assert maximum >= names["GITHUB_SESSION_SECONDS"], role


def allowed(stack: Stack, logical_id: str) -> set[tuple[str, str]]:
    """(action, resource) pairs a role is allowed."""
    pairs = set()
    for s in stack.statements(logical_id):
        if s["Effect"] != "Allow":
            continue
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        pairs |= {(a, r) for a in actions for r in resources}
    return pairs


def test_roles_reach_the_names_the_scripts_use(stack: Stack, names: dict[str, Any]) -> None:
    region, account, project = names["AWS_REGION"], names["AWS_ACCOUNT_ID"], names["PROJECT"]
    retrain = allowed(stack, role_id(stack, names["GITHUB_RETRAIN_ROLE"]))
    source = f"arn:aws:s3:::{names['SOURCE_BUCKET']}/{names['SOURCE_OBJECT_KEY']}"
    retrain_pipeline = f"arn:aws:codepipeline:{region}:{account}:{names['CODEPIPELINE_RETRAIN']}"
    assert ("s3:PutObject", source) in retrain
    assert ("codepipeline:StartPipelineExecution", retrain_pipeline) in retrain
    assert ("codepipeline:GetPipelineExecution", retrain_pipeline) in retrain

    sagemaker = f"arn:aws:sagemaker:{region}:{account}"
    for env in names["ENVIRONMENTS"]:
        deploy = allowed(stack, role_id(stack, names["github_deploy_role"](env)))
        endpoint = f"{sagemaker}:endpoint/{names['endpoint_name'](env)}"
        for action in ("CreateEndpoint", "UpdateEndpoint", "DescribeEndpoint", "InvokeEndpoint"):
            assert (f"sagemaker:{action}", endpoint) in deploy
        execution = names["role_arn"](names["SAGEMAKER_EXECUTION_ROLE"], account)
        assert ("iam:PassRole", execution) in deploy
        group = f"{sagemaker}:model-package-group/{names['MODEL_PACKAGE_GROUP']}"
        assert ("sagemaker:UpdateModelPackage", group) in deploy
        alarms = f"arn:aws:cloudwatch:{region}:{account}:alarm:{project}-{env}-*"
        assert ("cloudwatch:DescribeAlarms", alarms) in deploy
        # The other environment's endpoint is out of reach.
        other = [e for e in names["ENVIRONMENTS"] if e != env]
        assert not any(names["endpoint_name"](o) in r for o in other for _, r in deploy)


def test_no_allow_statement_grants_a_wildcard_action(stack: Stack) -> None:
    wildcard = sorted(
        f"{i}: {action}"
        for i in stack.resources
        if stack.resources[i]["Type"] in ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy")
        for action, _ in allowed(stack, i)
        if action.endswith("*")
    )
    assert wildcard == []


def test_outputs_are_what_the_workflows_read(
    baked: BakedProject, stack: Stack, names: dict[str, Any]
) -> None:
    outputs = stack.resolve(stack.template["Outputs"])
    account = names["AWS_ACCOUNT_ID"]
    retrain = outputs["GitHubRetrainRoleArn"]
    assert retrain["Value"] == names["role_arn"](names["GITHUB_RETRAIN_ROLE"], account)
    assert names["RETRAIN_ROLE_ARN_VARIABLE"] in retrain["Description"]
    for env in names["ENVIRONMENTS"]:
        deploy = outputs[f"GitHubDeployRoleArn{env.title()}"]
        assert deploy["Value"] == names["role_arn"](names["github_deploy_role"](env), account)
        assert names["DEPLOY_ROLE_ARN_VARIABLE"] in deploy["Description"]
        assert env in deploy["Description"]
    assert outputs["ModelPackageGroupName"]["Value"] == names["MODEL_PACKAGE_GROUP"]

    # A job bound to a GitHub environment gets the environment's subject, so only the deploy
    # roles can trust it; a job without one gets the branch subject the retrain role trusts.
    workflows = sorted((baked.path / ".github" / "workflows").glob("*.yml"))
    assert workflows, "the workflows assume the stack's roles"
    used = set()
    for path in workflows:
        for job in (yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"] or {}).values():
            for step in job.get("steps", []):
                role = step.get("with", {}).get("role-to-assume")
                if role is None:
                    continue
                variable = re.fullmatch(r"\$\{\{\s*vars\.([A-Z0-9_]+)\s*\}\}", role)
                assert variable, f"{path.name}: role-to-assume {role!r} is not a GitHub variable"
                expected = (
                    names["DEPLOY_ROLE_ARN_VARIABLE"]
                    if "environment" in job
                    else names["RETRAIN_ROLE_ARN_VARIABLE"]
                )
                assert variable.group(1) == expected, path.name
                used.add(variable.group(1))
    assert used == {names["RETRAIN_ROLE_ARN_VARIABLE"], names["DEPLOY_ROLE_ARN_VARIABLE"]}


def test_retrain_workflow_runs_on_the_branches_the_role_trusts(
    baked: BakedProject, names: dict[str, Any]
) -> None:
    workflow = yaml.safe_load(baked.read(".github/workflows/retrain.yml"))
    # PyYAML reads the key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    assert tuple(triggers["push"]["branches"]) == names["RETRAIN_BRANCHES"]


def test_make_bootstrap_deploys_the_named_stack(baked: BakedProject, names: dict[str, Any]) -> None:
    makefile = baked.read("Makefile")
    assert re.search(rf"^STACK_NAME := {re.escape(names['STACK_NAME'])}$", makefile, re.MULTILINE)
    assert "--template-file infra/stack.yml" in makefile
    assert f"AWS_ACCOUNT_ID := {names['AWS_ACCOUNT_ID']}" in makefile
    assert f"AWS_REGION := {names['AWS_REGION']}" in makefile
