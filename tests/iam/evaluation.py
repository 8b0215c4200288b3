"""Each recorded request, attributed to the stack's roles and evaluated against their policies.

The evaluator is principalmapper's local policy simulation (`local_check_authorization_full`):
AWS's evaluation logic for identity policies, resource policies (the buckets'), explicit Deny,
wildcards, NotAction/NotResource and condition operators, offline. The policies are the
bake's infra/stack.yml, resolved by the bake's own resolver (tests/infra/cloudformation.py).
"""

from __future__ import annotations

import collections
import collections.abc
import contextlib
import importlib.util
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iam import identities, permissions, rules
from iam.permissions import Permission
from iam.records import Request

# principalmapper 1.1.5 (its last release) still imports collections.Mapping, which Python 3.10
# removed: restore the aliases before importing it.
collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]
collections.MutableMapping = collections.abc.MutableMapping  # type: ignore[attr-defined]

from principalmapper.common import Node, Policy  # noqa: E402
from principalmapper.querying.query_interface import local_check_authorization_full  # noqa: E402


@dataclass(frozen=True)
class Check:
    """One permission one role must have."""

    identity: str
    permission: Permission


@dataclass
class Denial:
    """A permission the stack does not give, and the first request that needed it."""

    check: Check
    request: Request
    rule: rules.Rule | None

    def __str__(self) -> str:
        why = f"\n    rule: {self.rule.says} ({self.rule.doc})" if self.rule else ""
        return (
            f"DENIED {self.check.identity}: {self.check.permission}\n"
            f"    needed by {self.request.describe()}{why}"
        )


@dataclass
class Report:
    """What one evaluation saw: counts, and every denial."""

    label: str
    recorded: int = 0
    attributed: int = 0
    checks: set[Check] = field(default_factory=set)
    denials: list[Denial] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    unattributed: Counter[str] = field(default_factory=Counter)

    @property
    def identities(self) -> set[str]:
        return {check.identity for check in self.checks}

    def summary(self) -> str:
        """One line of figures."""
        return (
            f"{self.label}: {self.recorded} requests recorded, {self.attributed} attributed "
            f"and evaluated, {len(self.identities)} identities "
            f"({', '.join(sorted(self.identities))}), {len(self.checks)} distinct "
            f"(identity, action, resource) permissions, {len(self.denials)} denied; "
            f"not attributed: {self.recorded - self.attributed} ({self._unattributed()})"
        )

    def _unattributed(self) -> str:
        kinds = Counter(
            "commands no role runs" if reason.startswith("`") else reason
            for reason in self.unattributed.elements()
        )
        return ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "none"

    def problems(self) -> str:
        """Every denial and unmapped request, one paragraph each (empty: none)."""
        return "\n".join([*map(str, self.denials), *self.unmapped])


def package_name(root: Path) -> str:
    """The bake's package: the one folder of src/ with an __init__.py."""
    (package,) = [p.name for p in (root / "src").iterdir() if (p / "__init__.py").is_file()]
    return package


@contextlib.contextmanager
def baked_package(root: Path) -> Iterator[str]:
    """Import the bake's package (src/<package>) for the duration, and forget it after."""
    src = root / "src"
    package = package_name(root)

    def forget() -> None:
        for name in list(sys.modules):
            if name == package or name.startswith(f"{package}.") or name == "_baked_stack":
                del sys.modules[name]

    forget()
    sys.path.insert(0, str(src))
    try:
        yield package
    finally:
        sys.path.remove(str(src))
        forget()


def load_stack(root: Path) -> Any:
    """The bake's infra/stack.yml, resolved by the bake's own tests/infra/cloudformation.py."""
    with baked_package(root):
        spec = importlib.util.spec_from_file_location(
            "_baked_stack", root / "tests" / "infra" / "cloudformation.py"
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.load()


def node(stack: Any, role: str) -> Node:
    """A principalmapper node for one role: its inline and managed policies, as one document."""
    arn = stack.arn(role)
    document = {"Version": "2012-10-17", "Statement": stack.statements(role)}
    trust = stack.props(role)["AssumeRolePolicyDocument"]
    return Node(
        arn,
        f"AROA{role.upper()}",
        [Policy(arn, role, document)],
        None,
        trust,
        None,
        0,
        False,
        False,
        None,
        False,
        None,
    )


def bucket_policies(stack: Any) -> dict[str, dict[str, Any]]:
    """Each bucket's policy document, by bucket name."""
    return {
        props["Bucket"]: props["PolicyDocument"]
        for props in stack.of_type("AWS::S3::BucketPolicy").values()
    }


def authorized(stack: Any, nodes: dict[str, Node], buckets: dict[str, Any], check: Check) -> bool:
    """principalmapper's verdict on one check."""
    permission = check.permission
    policy = None
    if permission.resource.startswith(f"arn:{stack.partition}:s3:::"):
        policy = buckets.get(permission.resource.split(":::", 1)[1].split("/", 1)[0])
    return local_check_authorization_full(
        nodes[check.identity],
        permission.action,
        permission.resource,
        dict(permission.context),
        policy,
        stack.account if policy is not None else None,
        None,
        None,
    )


def callers(
    request: Request, stack: Any, runners: list[identities.Runner], package: str
) -> tuple[list[str], str | None]:
    """The roles that make this request in AWS, or why none does."""
    if request.on_behalf_of is not None:
        role = identities.role_by_name(stack, request.on_behalf_of)
        if role is None:
            return [], f"on behalf of {request.on_behalf_of}, which is no role of the stack"
        return [role], None
    invocation = request.invocation
    if invocation is None:
        product = request.caller and not request.caller.startswith(f"{package}/dev/")
        return [], (
            "product code called directly by a test"
            if product
            else "test setup and the emulator (no command)"
        )
    found = sorted({r.identity for r in runners if r.invocation == invocation})
    if not found:
        return [], f"`{invocation}`: no role of the stack runs it (a developer's command)"
    return found, None


def evaluate(root: Path, requests: list[Request], label: str, stack: Any = None) -> Report:
    """Attribute every request, map it to permissions, and evaluate each against the stack."""
    stack = stack if stack is not None else load_stack(root)
    package = package_name(root)
    runners = identities.runners(root, stack, package)
    passed = rules.passed_roles(requests)
    sagemaker_roles = sorted(rules.execution_roles(stack))
    report = Report(label, recorded=len(requests))
    needed: dict[Check, tuple[Request, rules.Rule | None]] = {}
    for request in requests:
        roles, reason = callers(request, stack, runners, package)
        if reason is not None:
            report.unattributed[reason] += 1
            continue
        report.attributed += 1
        try:
            own = list(permissions.of(request, stack.account, stack.partition))
        except permissions.Unmapped as error:
            report.unmapped.append(f"UNMAPPED {request.describe()}: {error}")
            continue
        for role in roles:
            for permission in own:
                needed.setdefault(Check(role, permission), (request, None))
        for rule in rules.applying(request):
            whose = roles
            if rule.whose == rules.EXECUTION_ROLE:
                arns = passed.get(request.invocation_id or "", set())
                whose = (
                    sorted(
                        identities.role_by_arn(stack, arn) or f"(not in the stack) {arn}"
                        for arn in arns
                    )
                    or sagemaker_roles
                )
            for permission in rule.needs(request, stack.account, stack.partition):
                for role in whose:
                    needed.setdefault(Check(role, permission), (request, rule))
    nodes = {c.identity: node(stack, c.identity) for c in needed if c.identity in stack.resources}
    buckets = bucket_policies(stack)
    report.checks = set(needed)
    for check, (request, rule) in needed.items():
        if check.identity not in nodes or not authorized(stack, nodes, buckets, check):
            report.denials.append(Denial(check, request, rule))
    return report
