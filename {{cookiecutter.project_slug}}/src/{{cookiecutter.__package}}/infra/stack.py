"""The stack in infra/stack.yml as the code expects to find it: outputs, trust, GitHub subjects.

`doctor` compares the real account with these, and the emulator creates them; all of it is
derived from config.py, and tests/infra/test_expected.py holds it to the resolved template, so
the three cannot drift apart.
"""

from __future__ import annotations

from {{ cookiecutter.__package }} import config

# What creates or fixes all of it: doctor's advice when something is missing or differs.
BOOTSTRAP = "run `make bootstrap` (it creates or updates the stack)"
# GitHub's OIDC issuer, and the audience the workflows' token asks for (aws-actions'
# configure-aws-credentials default). An account holds one OIDC provider per issuer URL.
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_AUDIENCE = "sts.amazonaws.com"
# The repository whose workflows may assume the roles, as GitHub writes it in the token subject
# (config.GITHUB_SUBJECT_PREFIX: with the immutable IDs when they were baked in).
GITHUB_REPOSITORY = config.GITHUB_SUBJECT_PREFIX


# What deleting the stack leaves behind (DeletionPolicy Retain), by name: `teardown` deletes it.
RETAINED_BUCKETS = (config.SOURCE_BUCKET, config.ARTIFACT_BUCKET, config.ACCESS_LOG_BUCKET)
RETAINED_LOG_GROUPS = tuple(
    f"/aws/codebuild/{project}" for project in (config.CODEBUILD_RETRAIN, config.CODEBUILD_DEPLOY)
)


def github_oidc_provider_arn(account_id: str = config.AWS_ACCOUNT_ID) -> str:
    """The ARN of the account's GitHub OIDC provider (IAM names it after the issuer host)."""
    return f"arn:{config.PARTITION}:iam::{account_id}:oidc-provider/{GITHUB_OIDC_HOST}"


def github_subjects() -> dict[str, set[str]]:
    """The token subjects each GitHub role trusts: retrain by branch, deploy by environment."""
    subjects = {
        config.GITHUB_RETRAIN_ROLE: {
            f"{GITHUB_REPOSITORY}:ref:refs/heads/{branch}" for branch in config.RETRAIN_BRANCHES
        }
    }
    for env in config.ENVIRONMENTS:
        subjects[config.github_deploy_role(env)] = {f"{GITHUB_REPOSITORY}:environment:{env}"}
    return subjects


def outputs() -> dict[str, str]:
    """The stack outputs the setup reads (GitHub variables, names), by output key."""
    expected = {"GitHubRetrainRoleArn": config.role_arn(config.GITHUB_RETRAIN_ROLE)}
    for env in config.ENVIRONMENTS:
        expected[f"GitHubDeployRoleArn{env.title()}"] = config.role_arn(
            config.github_deploy_role(env)
        )
    expected.update(
        {
            "SourceBucketName": config.SOURCE_BUCKET,
            "ArtifactBucketName": config.ARTIFACT_BUCKET,
            "RetrainPipelineName": config.CODEPIPELINE_RETRAIN,
            "DeployPipelineName": config.CODEPIPELINE_DEPLOY,
            "ModelPackageGroupName": config.MODEL_PACKAGE_GROUP,
            "SageMakerExecutionRoleArn": config.role_arn(config.SAGEMAKER_EXECUTION_ROLE),
        }
    )
    return expected
