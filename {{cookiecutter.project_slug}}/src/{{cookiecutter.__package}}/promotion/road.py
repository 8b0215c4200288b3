"""The one road to prod: prod receives exactly a version staging verified.

A version is verified on staging when a deploy put it there, SageMaker reported it InService on
the new config, and the smoke test passed (history.mark_verified tags the package then). Staging
takes any Approved version (by default the latest); prod takes only a verified one, by default the
one staging serves now, whoever deploys it: the deploy CodePipeline's prod stage, the Promote
workflow, the Deploy workflow or a person. A rollback returns to a version the endpoint served
before, so it is not held to this.
"""

from __future__ import annotations

from typing import Any

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.promotion import history, registry
from {{ cookiecutter.__package }}.promotion.endpoint import describe_endpoint, endpoint_tags


def verified_on(sm: Any, env: str) -> str | None:
    """The package ARN `env`'s endpoint serves, if it was verified there; else None."""
    endpoint = describe_endpoint(sm, config.endpoint_name(env))
    if endpoint is None:
        return None
    arn = endpoint_tags(sm, endpoint["EndpointArn"]).get(history.TAG_PACKAGE)
    return arn if arn and history.verified(sm, arn, env) else None


def package_for(
    env: str, sm: Any, version: int | None = None, arn: str | None = None
) -> dict[str, Any]:
    """The Approved package a deploy to `env` takes; for prod, only one staging verified."""
    before = config.VERIFIED_BEFORE.get(env)
    if before is None:
        return registry.resolve_package(sm, version, arn)
    if version is None and arn is None:
        arn = verified_on(sm, before)
        if arn is None:
            raise CliError(
                f"{config.endpoint_name(before)} serves no verified version (none deployed, or "
                f"its smoke test failed); {env} takes only a version {before} verified: deploy "
                f"one to {before} first",
                ExitCode.REFUSED,
            )
    package = registry.resolve_package(sm, version, arn)
    if not history.verified(sm, package["ModelPackageArn"], before):
        raise CliError(
            f"version {package['ModelPackageVersion']} was never verified on {before} (deployed "
            f"there and smoke-tested); {env} takes only a version {before} verified: deploy it "
            f"to {before} first",
            ExitCode.REFUSED,
        )
    return package
