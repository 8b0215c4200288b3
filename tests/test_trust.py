"""Who may do what, evaluated: GitHub's OIDC tokens against the roles' trust, and approval.

The trust policies and the roles' permissions are read from each bake's own stack, resolved by
the bake's tests/infra/cloudformation.py, and evaluated by principalmapper's local policy
simulation (a maintained IAM policy evaluator: StringEquals, StringLike and the rest of the
condition operators), not compared as strings.

GitHub sends one of two subject forms (GitHub docs, OpenID Connect, "Immutable subject claims";
changelog 2026-04-23): `repo:OWNER@OWNER_ID/REPO@REPO_ID:CONTEXT` for repositories created,
renamed or transferred on or after 2026-07-15, and `repo:OWNER/REPO:CONTEXT` for older ones. The
roles trust exactly the form the repository's tokens carry.
"""

from __future__ import annotations

import collections
import collections.abc
import json
import subprocess
import sys
from typing import Any

import pytest
from conftest import BakedProject, bake, clean_env

# principalmapper 1.1.5 imports Mapping and MutableMapping from `collections`, which dropped
# them in Python 3.10; give it the collections.abc ones it means.
for _name in ("Mapping", "MutableMapping"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from principalmapper.querying.local_policy_simulation import (  # noqa: E402
    policy_has_matching_statement,
)
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402

OWNER_ID, REPO_ID = "583231", "1296269"
# Another account that took over the owner's name, with a repository of the same name.
RECYCLED = ("9876543", "7654321")
SUB = "token.actions.githubusercontent.com:sub"
AUD = "token.actions.githubusercontent.com:aud"
ASSUME = "sts:AssumeRoleWithWebIdentity"


def resolved_roles(baked: BakedProject) -> dict[str, dict[str, Any]]:
    """Each role's trust and permission statements, resolved by the bake's own resolver."""
    code = (
        "import json, sys\n"
        "sys.path[:0] = ['src', 'tests/infra']\n"
        "from cloudformation import load\n"
        "stack = load()\n"
        "print(json.dumps({p.get('RoleName', i): {'trust': p['AssumeRolePolicyDocument'],"
        " 'statements': stack.statements(i)} for i, p in"
        " stack.of_type('AWS::IAM::Role').items()}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=baked.path,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def allows(document: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    """IAM's verdict for one policy document: an Allow matches and no Deny does."""
    keys = CaseInsensitiveDict(context)
    allowed = policy_has_matching_statement(document, "Allow", action, resource, keys)
    denied = policy_has_matching_statement(document, "Deny", action, resource, keys)
    return allowed and not denied


def may_assume(trust: dict[str, Any], subject: str, audience: str = "sts.amazonaws.com") -> bool:
    """Whether a GitHub token with this subject and audience may assume the role."""
    for statement in trust["Statement"]:
        if statement["Action"] == ASSUME:
            # The one federated principal: the account's GitHub OIDC provider.
            assert statement["Principal"] == {"Federated": "ref:GitHubOidcProvider"}
    return allows(trust, ASSUME, "*", {SUB: subject, AUD: audience})


def subjects(owner: str, repo: str, integration: str) -> dict[str, str]:
    """Real tokens' subjects by "form:context": this repository's, a recycled name's, a fork's."""
    forms = {
        "immutable": f"repo:{owner}@{OWNER_ID}/{repo}@{REPO_ID}",
        "name-only": f"repo:{owner}/{repo}",
        "recycled": f"repo:{owner}@{RECYCLED[0]}/{repo}@{RECYCLED[1]}",
        "other-repo": f"repo:{owner}@{OWNER_ID}/{repo}-fork@{int(REPO_ID) + 1}",
    }
    contexts = {
        "integration": f"ref:refs/heads/{integration}",
        "feature": "ref:refs/heads/feature/x",
        "pull-request": "pull_request",
        "staging": "environment:staging",
        "prod": "environment:prod",
    }
    return {
        f"{form}:{context}": f"{prefix}:{claim}"
        for form, prefix in forms.items()
        for context, claim in contexts.items()
    }


@pytest.fixture(
    scope="module",
    params=[
        pytest.param({}, id="github-flow-name-only"),
        pytest.param(
            {"github_owner_id": OWNER_ID, "github_repo_id": REPO_ID}, id="github-flow-ids"
        ),
        pytest.param(
            {"branching_model": "gitflow", "github_owner_id": OWNER_ID, "github_repo_id": REPO_ID},
            id="gitflow-ids",
        ),
    ],
)
def identities(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[BakedProject, dict[str, dict[str, Any]]]:
    """A bake and its resolved roles."""
    baked = bake(tmp_path_factory.mktemp("trust"), **request.param)
    return baked, resolved_roles(baked)


def test_each_role_trusts_exactly_its_own_tokens(
    identities: tuple[BakedProject, dict[str, dict[str, Any]]],
) -> None:
    baked, roles = identities
    answers = baked.answers
    form = "immutable" if answers["github_owner_id"] else "name-only"
    integration = "develop" if answers["branching_model"] == "gitflow" else "main"
    slug = answers["project_slug"]
    tokens = subjects(answers["github_owner"], answers["github_repo"], integration)
    expected = {
        f"{slug}-github-retrain": {f"{form}:integration"},
        f"{slug}-github-deploy-staging": {f"{form}:staging"},
        f"{slug}-github-deploy-prod": {f"{form}:prod"},
    }
    for role, allowed_tokens in expected.items():
        trust = roles[role]["trust"]
        granted = {name for name, subject in tokens.items() if may_assume(trust, subject)}
        assert granted == allowed_tokens, role
        # The audience configure-aws-credentials asks for, and no other.
        [token] = allowed_tokens
        assert not may_assume(trust, tokens[token], audience="https://github.com/my-org")
    # No other role trusts GitHub at all.
    for role, documents in roles.items():
        if role not in expected:
            assert not any(may_assume(documents["trust"], s) for s in tokens.values()), role


def test_only_the_protected_identity_may_approve(
    identities: tuple[BakedProject, dict[str, dict[str, Any]]],
) -> None:
    """Approval is the one gate between training and serving: the prod GitHub role holds it."""
    baked, roles = identities
    answers = baked.answers
    slug = answers["project_slug"]
    package = (
        f"arn:aws:sagemaker:{answers['aws_region']}:{answers['aws_account_id']}"
        f":model-package/{slug}-models/3"
    )

    def holders(action: str, status: str) -> set[str]:
        context = {"sagemaker:ModelApprovalStatus": status}
        return {
            role
            for role, documents in roles.items()
            if allows({"Statement": documents["statements"]}, action, package, context)
        }

    assert holders("sagemaker:UpdateModelPackage", "Approved") == {f"{slug}-github-deploy-prod"}
    # Rejecting a bad version (rollback --reject-current) is open to both environments.
    rejecters = holders("sagemaker:UpdateModelPackage", "Rejected")
    assert {f"{slug}-github-deploy-staging", f"{slug}-github-deploy-prod"} <= rejecters
    # The pipeline registers with the approval mode's status and no other: in manual mode a run
    # started with ModelApprovalStatus=Approved cannot skip the approver.
    execution = f"{slug}-sagemaker-execution"
    automatic = answers["approval_mode"] == "automatic"
    registers_approved = holders("sagemaker:CreateModelPackage", "Approved")
    assert registers_approved == ({execution} if automatic else set())
    pending = holders("sagemaker:CreateModelPackage", "PendingManualApproval")
    assert pending == (set() if automatic else {execution})


def test_the_evaluator_tells_the_forms_apart() -> None:
    """The evaluator really evaluates: a StringLike wildcard trust would admit a recycled name."""
    loose = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "ref:GitHubOidcProvider"},
                "Action": ASSUME,
                "Condition": {"StringLike": {SUB: "repo:my-org*/my-repo*:environment:prod"}},
            }
        ]
    }
    recycled = f"repo:my-org@{RECYCLED[0]}/my-repo@{RECYCLED[1]}:environment:prod"
    assert may_assume(loose, recycled)
    assert not may_assume(loose, "repo:my-org/my-repo:environment:staging")
