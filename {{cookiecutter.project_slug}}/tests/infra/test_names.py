"""One source of names: what config.py derives is exactly what infra/stack.yml creates and exports.

Each reference on both sides: buckets, pipelines, CodeBuild projects, the model package group,
endpoints and alarms, roles and their trust, the environment variables the buildspecs read, the
GitHub variables the workflows read, and the stack name `make bootstrap` deploys. Edit the stack
or config.py, and this says where the other no longer agrees.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from cloudformation import Stack, load

from {{ cookiecutter.__package }} import config

ROOT = config.REPO_ROOT
# What CodeBuild sets in every build, so a buildspec may read it without the stack defining it.
CODEBUILD_BUILTINS = {"AWS_DEFAULT_REGION", "AWS_REGION", "HOME", "PATH", "PWD", "SHELL"}
SHELL_VARIABLE = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(:?[-=?+][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))"
)
SHELL_ASSIGNMENT = re.compile(r"(?:^|[\s;(&|])(?:export\s+|local\s+)?([A-Za-z_][A-Za-z0-9_]*)=")
SHELL_LOOP = re.compile(r"\bfor\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\b")


@pytest.fixture(scope="module")
def stack() -> Stack:
    return load()


def test_resource_names_are_configs(stack: Stack) -> None:
    envs = config.ENVIRONMENTS
    named = {
        (stack.resources[i]["Type"], stack.name(i))
        for i in stack.resources
        if stack.NAME_PROPERTY.get(stack.resources[i]["Type"])
        in stack.resources[i].get("Properties", {})
        and stack.resources[i]["Type"] != "AWS::Logs::LogGroup"
    }
    expected = {
        ("AWS::S3::Bucket", config.SOURCE_BUCKET),
        ("AWS::S3::Bucket", config.ARTIFACT_BUCKET),
        ("AWS::S3::Bucket", config.ACCESS_LOG_BUCKET),
        ("AWS::CodePipeline::Pipeline", config.CODEPIPELINE_RETRAIN),
        ("AWS::CodePipeline::Pipeline", config.CODEPIPELINE_DEPLOY),
        ("AWS::CodeBuild::Project", config.CODEBUILD_RETRAIN),
        ("AWS::CodeBuild::Project", config.CODEBUILD_DEPLOY),
        ("AWS::SageMaker::ModelPackageGroup", config.MODEL_PACKAGE_GROUP),
        ("AWS::IAM::Role", config.SAGEMAKER_EXECUTION_ROLE),
        ("AWS::IAM::Role", config.GITHUB_RETRAIN_ROLE),
        *(("AWS::IAM::Role", config.github_deploy_role(env)) for env in envs),
        *(
            ("AWS::CloudWatch::Alarm", alarm)
            for env in envs
            for alarm in config.alarm_names(env).values()
        ),
    }
    assert named == expected


def test_alarms_watch_the_endpoint_variant_the_deploy_uses(stack: Stack) -> None:
    alarms = {p["AlarmName"]: p for p in stack.of_type("AWS::CloudWatch::Alarm").values()}
    metrics = {
        "5xx": "Invocation5XXErrors",
        "4xx": "Invocation4XXErrors",
        "latency": "ModelLatency",
    }
    for env in config.ENVIRONMENTS:
        for kind, alarm_name in config.alarm_names(env).items():
            alarm = alarms[alarm_name]
            dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
            assert dimensions == {
                "EndpointName": config.endpoint_name(env),
                "VariantName": config.VARIANT_NAME,
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


def assert_source_is_the_uploaded_object(pipe: dict[str, Any]) -> None:
    source = pipe["Stages"][0]["Actions"][0]
    assert source["Name"] == config.SOURCE_ACTION
    assert source["ActionTypeId"]["Provider"] == "S3"
    assert source["Configuration"] == {
        "S3Bucket": config.SOURCE_BUCKET,
        "S3ObjectKey": config.SOURCE_OBJECT_KEY,
        "PollForSourceChanges": False,
    }


def test_retrain_pipeline_passes_the_commit_to_the_retrain_build(stack: Stack) -> None:
    pipe = pipeline(stack, config.CODEPIPELINE_RETRAIN)
    assert pipe["PipelineType"] == "V2"
    assert_source_is_the_uploaded_object(pipe)
    commit, data = config.COMMIT_SHA_VARIABLE, config.INPUT_DATA_VARIABLE
    assert [v["Name"] for v in pipe["Variables"]] == [commit, data]
    # No default commit: an execution must say which one it builds. The data defaults to the
    # data set config.py names (a variable cannot be empty, so the default is a word).
    assert "DefaultValue" not in pipe["Variables"][0]
    assert pipe["Variables"][1]["DefaultValue"] == config.DEFAULT_INPUT_DATA
    assert build_actions(pipe) == [
        (
            "Retrain",
            config.CODEBUILD_RETRAIN,
            {name: "#{variables." + name + "}" for name in (commit, data)},
        )
    ]


def test_deploy_pipeline_is_the_one_road_to_prod_or_stops_at_staging(stack: Stack) -> None:
    """GitHub Flow: staging, approval, then prod gets exactly what staging verified. Gitflow:
    staging only, since the merge to main promotes (promote.yml): one road to prod either way."""
    pipe = pipeline(stack, config.CODEPIPELINE_DEPLOY)
    assert pipe["PipelineType"] == "V2"
    assert_source_is_the_uploaded_object(pipe)
    variable = config.DEPLOY_ENV_VARIABLE
    staging = ("DeployStaging", config.CODEBUILD_DEPLOY, {variable: "staging"})
    if config.BRANCHING_MODEL == "gitflow":
        assert [s["Name"] for s in pipe["Stages"]] == ["Source", "DeployStaging"]
        assert build_actions(pipe) == [staging]
        return
    assert [s["Name"] for s in pipe["Stages"]] == [
        "Source",
        "DeployStaging",
        "ApproveProduction",
        "DeployProd",
    ]
    assert pipe["Stages"][2]["Actions"][0]["ActionTypeId"]["Provider"] == "Manual"
    # The staging build exports the package it deployed (deploy --outputs); prod takes that one.
    [staging_action] = pipe["Stages"][1]["Actions"]
    namespace = staging_action["Namespace"]
    spec = yaml.safe_load((ROOT / config.BUILDSPEC_DEPLOY).read_text(encoding="utf-8"))
    assert "MODEL_PACKAGE_ARN" in spec["env"]["exported-variables"]
    prod = (
        "DeployProd",
        config.CODEBUILD_DEPLOY,
        {variable: "prod", "MODEL_PACKAGE_ARN": "#{" + namespace + ".MODEL_PACKAGE_ARN}"},
    )
    assert build_actions(pipe) == [staging, prod]


def test_approved_packages_of_the_group_start_the_deploy_pipeline(stack: Stack) -> None:
    (rule,) = stack.of_type("AWS::Events::Rule").values()
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {
            "ModelPackageGroupName": [config.MODEL_PACKAGE_GROUP],
            "ModelApprovalStatus": ["Approved"],
        },
    }
    (target,) = rule["Targets"]
    region, account = config.AWS_REGION, config.AWS_ACCOUNT_ID
    assert (
        target["Arn"]
        == f"arn:{config.PARTITION}:codepipeline:{region}:{account}:{config.CODEPIPELINE_DEPLOY}"
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


def test_buildspecs_read_only_what_the_stack_defines(stack: Stack) -> None:
    projects = stack.of_type("AWS::CodeBuild::Project")
    pipelines = stack.of_type("AWS::CodePipeline::Pipeline").values()
    assert len(projects) == 2
    for project in projects.values():
        spec_file = project["Source"]["BuildSpec"]
        assert (ROOT / spec_file).is_file(), f"{project['Name']} runs {spec_file}, which is missing"
        spec = yaml.safe_load((ROOT / spec_file).read_text(encoding="utf-8"))
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


def test_deploy_buildspec_deploys_the_pipeline_stage_env() -> None:
    spec = yaml.safe_load((ROOT / config.BUILDSPEC_DEPLOY).read_text(encoding="utf-8"))
    variable = config.DEPLOY_ENV_VARIABLE
    assert (
        f'python -m {config.PACKAGE} deploy --env "${variable}" '
        '${MODEL_PACKAGE_ARN:+--arn "$MODEL_PACKAGE_ARN"} --outputs build/deploy.env'
    ) in commands(spec)
    assert "source build/deploy.env" in commands(spec)


def test_no_github_job_both_approves_and_deploys() -> None:
    """Approving starts the deploy CodePipeline; a job that also deployed would race it."""
    for path in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        for job in (yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"] or {}).values():
            scripts = " ".join(step.get("run", "") for step in job.get("steps", []))
            approves = "registry approve" in scripts
            deploys = any(f" {c} " in f"{scripts} " for c in ("deploy", "rollback"))
            assert not (approves and deploys), path.name


def trust(stack: Stack, logical_id: str) -> dict[str, Any]:
    (statement,) = stack.props(logical_id)["AssumeRolePolicyDocument"]["Statement"]
    return statement


def role_id(stack: Stack, role_name: str) -> str:
    (found,) = [
        i for i, p in stack.of_type("AWS::IAM::Role").items() if p.get("RoleName") == role_name
    ]
    return found


def test_github_roles_trust_only_their_branch_or_environment(stack: Stack) -> None:
    retrain = trust(stack, role_id(stack, config.GITHUB_RETRAIN_ROLE))
    assert retrain["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert retrain["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": [
            config.github_subject(f"ref:refs/heads/{branch}") for branch in config.RETRAIN_BRANCHES
        ],
    }
    for env in config.ENVIRONMENTS:
        deploy = trust(stack, role_id(stack, config.github_deploy_role(env)))
        assert deploy["Condition"]["StringEquals"] == {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": config.github_subject(f"environment:{env}"),
        }


@pytest.mark.parametrize(
    ("ids", "prefix"),
    [
        ({}, f"repo:{config.GITHUB_OWNER}/{config.GITHUB_REPO}"),
        (
            {"GitHubOwnerId": "583231", "GitHubRepoId": "1296269"},
            f"repo:{config.GITHUB_OWNER}@583231/{config.GITHUB_REPO}@1296269",
        ),
    ],
    ids=["name-only", "immutable"],
)
def test_the_ids_make_bootstrap_passes_choose_the_subject_form(
    ids: dict[str, str], prefix: str
) -> None:
    """The stack trusts exactly one subject form: the IDs' when given, else the names'."""
    overrides = {"GitHubOwnerId": "", "GitHubRepoId": "", **ids}
    stack = load(overrides)
    retrain = trust(stack, role_id(stack, config.GITHUB_RETRAIN_ROLE))
    subjects = retrain["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert subjects == [f"{prefix}:ref:refs/heads/{b}" for b in config.RETRAIN_BRANCHES]
    for env in config.ENVIRONMENTS:
        deploy = trust(stack, role_id(stack, config.github_deploy_role(env)))
        subject = deploy["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
        assert subject == f"{prefix}:environment:{env}"


def test_github_roles_allow_the_session_the_workflows_ask_for(stack: Stack) -> None:
    # AssumeRoleWithWebIdentity refuses a DurationSeconds above the role's MaxSessionDuration.
    roles = [config.GITHUB_RETRAIN_ROLE]
    roles += [config.github_deploy_role(env) for env in config.ENVIRONMENTS]
    for role in roles:
        maximum = stack.props(role_id(stack, role)).get("MaxSessionDuration", 3600)
        assert maximum >= config.GITHUB_SESSION_SECONDS, role


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


def test_roles_reach_the_names_the_scripts_use(stack: Stack) -> None:
    region, account, project = config.AWS_REGION, config.AWS_ACCOUNT_ID, config.PROJECT
    retrain = allowed(stack, role_id(stack, config.GITHUB_RETRAIN_ROLE))
    source = f"arn:{config.PARTITION}:s3:::{config.SOURCE_BUCKET}/{config.SOURCE_OBJECT_KEY}"
    retrain_pipeline = (
        f"arn:{config.PARTITION}:codepipeline:{region}:{account}:{config.CODEPIPELINE_RETRAIN}"
    )
    assert ("s3:PutObject", source) in retrain
    assert ("codepipeline:StartPipelineExecution", retrain_pipeline) in retrain
    assert ("codepipeline:GetPipelineExecution", retrain_pipeline) in retrain

    sagemaker = f"arn:{config.PARTITION}:sagemaker:{region}:{account}"
    for env in config.ENVIRONMENTS:
        deploy = allowed(stack, role_id(stack, config.github_deploy_role(env)))
        endpoint = f"{sagemaker}:endpoint/{config.endpoint_name(env)}"
        for action in ("CreateEndpoint", "UpdateEndpoint", "DescribeEndpoint", "InvokeEndpoint"):
            assert (f"sagemaker:{action}", endpoint) in deploy
        execution = config.role_arn(config.SAGEMAKER_EXECUTION_ROLE, account)
        assert ("iam:PassRole", execution) in deploy
        packages = f"{sagemaker}:model-package/{config.MODEL_PACKAGE_GROUP}/*"
        assert ("sagemaker:UpdateModelPackage", packages) in deploy
        alarms = f"arn:{config.PARTITION}:cloudwatch:{region}:{account}:alarm:{project}-{env}-*"
        assert ("cloudwatch:DescribeAlarms", alarms) in deploy
        # deploy re-points the environment's monitoring schedule, by the name config.py gives it.
        monitoring = f"{sagemaker}:monitoring-schedule/{config.monitoring_schedule_name(env)}"
        for action in ("DescribeMonitoringSchedule", "UpdateMonitoringSchedule"):
            assert (f"sagemaker:{action}", monitoring) in deploy
        # The other environment's endpoint is out of reach, but for prod reading (not changing)
        # what staging serves: prod takes only the version staging verified.
        other = [e for e in config.ENVIRONMENTS if e != env]
        reach = {(a, r) for a, r in deploy for o in other if config.endpoint_name(o) in r}
        readable = {"sagemaker:DescribeEndpoint", "sagemaker:ListTags"}
        staging = f"{sagemaker}:endpoint/{config.endpoint_name('staging')}"
        assert reach == ({(a, staging) for a in readable} if env == "prod" else set())


def test_captured_data_expires_under_the_prefix_the_endpoints_capture_to(stack: Stack) -> None:
    rules = {
        rule.get("Prefix"): rule
        for rule in stack.props("ArtifactBucket")["LifecycleConfiguration"]["Rules"]
    }
    captured = rules[f"{config.DATA_CAPTURE_PREFIX}/"]
    assert captured["ExpirationInDays"] == config.DATA_CAPTURE_DAYS
    assert (
        config.data_capture_uri() == f"s3://{config.ARTIFACT_BUCKET}/{config.DATA_CAPTURE_PREFIX}"
    )
    assert f"{config.MONITORING_REPORTS_PREFIX}/" in rules


def test_no_allow_statement_grants_a_wildcard_action(stack: Stack) -> None:
    wildcard = sorted(
        f"{i}: {action}"
        for i in stack.resources
        if stack.resources[i]["Type"] in ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy")
        for action, _ in allowed(stack, i)
        if action.endswith("*")
    )
    assert wildcard == []


def test_outputs_are_what_the_workflows_read(stack: Stack) -> None:
    outputs = stack.resolve(stack.template["Outputs"])
    account = config.AWS_ACCOUNT_ID
    retrain = outputs["GitHubRetrainRoleArn"]
    assert retrain["Value"] == config.role_arn(config.GITHUB_RETRAIN_ROLE, account)
    assert config.RETRAIN_ROLE_ARN_VARIABLE in retrain["Description"]
    for env in config.ENVIRONMENTS:
        deploy = outputs[f"GitHubDeployRoleArn{env.title()}"]
        assert deploy["Value"] == config.role_arn(config.github_deploy_role(env), account)
        assert config.DEPLOY_ROLE_ARN_VARIABLE in deploy["Description"]
        assert env in deploy["Description"]
    assert outputs["ModelPackageGroupName"]["Value"] == config.MODEL_PACKAGE_GROUP

    # A job bound to a GitHub environment gets the environment's subject, so only the deploy
    # roles can trust it; a job without one gets the branch subject the retrain role trusts.
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows, "the workflows assume the stack's roles"
    used = set()
    for path in workflows:
        for job in (yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"] or {}).values():
            for step in job.get("steps", []):
                # The setup action (.github/actions/setup) assumes the role its aws-role names.
                role = step.get("with", {}).get("aws-role")
                if role is None:
                    continue
                variable = re.fullmatch(r"\$\{\{\s*vars\.([A-Z0-9_]+)\s*\}\}", role)
                assert variable, f"{path.name}: aws-role {role!r} is not a GitHub variable"
                expected = (
                    config.DEPLOY_ROLE_ARN_VARIABLE
                    if "environment" in job
                    else config.RETRAIN_ROLE_ARN_VARIABLE
                )
                assert variable.group(1) == expected, path.name
                used.add(variable.group(1))
    assert used == {config.RETRAIN_ROLE_ARN_VARIABLE, config.DEPLOY_ROLE_ARN_VARIABLE}


def test_retrain_workflow_runs_on_the_branches_the_role_trusts() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/retrain.yml").read_text(encoding="utf-8"))
    # PyYAML reads the key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    assert tuple(triggers["push"]["branches"]) == config.RETRAIN_BRANCHES


def test_make_bootstrap_deploys_the_named_stack() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    script = (ROOT / "infra" / "bootstrap.sh").read_text(encoding="utf-8")
    assert re.search(rf"^STACK_NAME := {re.escape(config.STACK_NAME)}$", makefile, re.MULTILINE)
    assert "bash infra/bootstrap.sh" in makefile
    assert "--template-file infra/stack.yml" in script
    for variable in (config.RETRAIN_ROLE_ARN_VARIABLE, config.DEPLOY_ROLE_ARN_VARIABLE):
        assert f"gh variable set {variable} " in script
    assert f"AWS_ACCOUNT_ID := {config.AWS_ACCOUNT_ID}" in makefile
    assert f"AWS_REGION := {config.AWS_REGION}" in makefile


def test_workflows_that_deploy_keep_the_timelines_deploy_draws() -> None:
    folder = f"{config.DEPLOY_TIMELINES_FOLDER}/"
    command = re.compile(rf"python -m {config.PACKAGE} (deploy|rollback)\b")
    deploying = 0
    for path in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        for job in workflow["jobs"].values():
            job_steps = job.get("steps", [])
            if not any(command.search(step.get("run", "")) for step in job_steps):
                continue
            deploying += 1
            kept = [
                s for s in job_steps if s.get("uses", "").startswith("actions/upload-artifact@")
            ]
            assert [s["with"]["path"] for s in kept] == [folder], path.name
            assert kept[0]["if"] == "always()", path.name
    assert deploying >= 2  # the Deploy and Rollback workflows at least
