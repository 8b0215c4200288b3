"""Roll an endpoint back to the previous known-good version (or a named one)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.promotion import history, registry
from {{ cookiecutter.__package }}.promotion.deploy import deploy
from {{ cookiecutter.__package }}.promotion.endpoint import Clients, describe_endpoint, endpoint_tags
from {{ cookiecutter.__package }}.promotion.shift import Settings


def rollback_target(
    sm: Any, tags: dict[str, str], to_version: int | None
) -> tuple[int | None, dict[str, Any]]:
    """(current version, package to return to): --to-version, else history, else Approved."""
    current = (
        int(tags[history.TAG_VERSION]) if tags.get(history.TAG_VERSION, "").isdigit() else None
    )
    if to_version is not None:
        if to_version == current:
            raise CliError(f"version {to_version} is already deployed", ExitCode.REFUSED)
        return current, registry.resolve_package(sm, to_version, None)
    approved = {s["ModelPackageVersion"]: s for s in registry.summaries(sm, registry.APPROVED)}
    for text in tags.get(history.TAG_HISTORY, "").split():
        if text.isdigit() and int(text) != current and int(text) in approved:
            return current, registry.resolve_package(sm, int(text), None)
    earlier = [v for v in approved if current is None or v < current]
    if not earlier:
        raise CliError(
            "no known-good version to return to: the history has none and no earlier version "
            "is Approved",
            ExitCode.REFUSED,
        )
    return current, registry.resolve_package(sm, max(earlier), None)


def rollback(
    env: str,
    settings: Settings,
    *,
    to_version: int | None = None,
    reject_current: bool = False,
    reason: str | None = None,
    clients: Clients | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    """Redeploy the previous known-good version all at once; optionally reject the current."""
    if reject_current and not reason:
        raise CliError("--reject-current needs --reason", ExitCode.USAGE)
    clients = clients or Clients()
    name = config.endpoint_name(env)
    endpoint = describe_endpoint(clients.sm, name)
    if endpoint is None:
        raise CliError(
            f"endpoint {name} does not exist in {aws.region_text()}, so there is nothing to roll "
            f"back: `python -m {config.PACKAGE} deploy --env {env}` creates it",
            ExitCode.NOT_SET_UP,
        )
    tags = endpoint_tags(clients.sm, endpoint["EndpointArn"])
    current, target = rollback_target(clients.sm, tags, to_version)
    echo(f"rollback {name}: version {current} -> version {target['ModelPackageVersion']}")
    if reject_current:
        if current is None:
            raise CliError("no recorded current version to reject", ExitCode.REFUSED)
        # Reject first: the deploy pipeline deploys the latest Approved version, and must not
        # bring the bad one back while (or after) we roll away from it.
        bad = registry.describe(clients.sm, current, None)
        who = aws.caller_arn()
        registry.set_status(
            clients.sm, bad, registry.REJECTED, reason, who, dt.datetime.now(dt.UTC)
        )
        echo(f"rejected version {current}: {reason}")
    elif current is not None:
        echo(f"version {current} stays Approved; pass --reject-current to keep it from returning")
    # A rollback runs while the alarms fire (that is often why it runs). Guarded by them,
    # SageMaker would roll the rollback back to the bad version; so it goes unguarded.
    return deploy(env, target, "all-at-once", settings, clients, guarded=False, echo=echo)
