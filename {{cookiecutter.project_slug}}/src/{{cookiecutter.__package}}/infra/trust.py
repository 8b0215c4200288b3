"""Who may assume the project's roles: GitHub's OIDC provider and subjects, and SageMaker.

`doctor`'s trust checks. A role whose trust names another repository, branch or environment, or
any job at all (a wildcard subject), fails: the deploy roles are the gate to production.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.infra import stack
from {{ cookiecutter.__package }}.infra.doctor import Context, Result, error_code, failed, passed


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
        if error_code(error) != "NoSuchEntity":
            raise
        yield failed("GitHub OIDC provider", f"{provider} does not exist", stack.BOOTSTRAP)
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
        if error_code(error) != "NoSuchEntity":
            raise
        return failed(name, "does not exist", stack.BOOTSTRAP)
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
            "redeploy with this repository's GitHubOwner, GitHubRepo and branch: "
            + stack.BOOTSTRAP,
        )
    session = role.get("MaxSessionDuration", 3600)
    if session < config.GITHUB_SESSION_SECONDS:
        return failed(
            name,
            f"allows {session}s sessions; the workflows ask for {config.GITHUB_SESSION_SECONDS}s",
            stack.BOOTSTRAP,
        )
    return passed(name, "trusts " + ", ".join(sorted(trusted)))


def execution_role(ctx: Context) -> Iterator[Result]:
    """SageMaker may assume the role its jobs and endpoints run as."""
    name = f"role {config.SAGEMAKER_EXECUTION_ROLE}"
    try:
        role = ctx.client("iam").get_role(RoleName=config.SAGEMAKER_EXECUTION_ROLE)["Role"]
    except aws.ClientError as error:
        if error_code(error) != "NoSuchEntity":
            raise
        yield failed(name, "does not exist", stack.BOOTSTRAP)
        return
    services = {
        service
        for s in _statements(role["AssumeRolePolicyDocument"])
        if s.get("Effect") == "Allow" and "sts:AssumeRole" in _listed(s.get("Action", []))
        for service in _listed(s.get("Principal", {}).get("Service", []))
    }
    if "sagemaker.amazonaws.com" not in services:
        yield failed(name, f"trusts {sorted(services) or 'no service'}", stack.BOOTSTRAP)
        return
    yield passed(name, "trusted by sagemaker.amazonaws.com")
