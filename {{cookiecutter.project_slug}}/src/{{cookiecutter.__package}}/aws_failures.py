"""What an AWS failure means to the person at the terminal: one line, and an exit code.

botocore raises its own exceptions for credentials, connections and parameters, and ClientError
with AWS's error code for everything the service refused. The command line (cli/__init__.py)
hands every exception of every command to `explain`; whatever it recognises becomes a CliError
saying what happened and what to do, with the exit code the README documents:

- 9 AWS_ACCESS: no credentials, an expired or invalid token, access denied (naming the action
  and the role AWS named);
- 10 AWS_UNREACHABLE: no connection (network, proxy, endpoint), or throttled or failing on every
  attempt of botocore's standard retries;
- 8 NOT_SET_UP: a resource this project needs does not exist yet, or a quota is too small; the
  message names the command that creates it;
- 2 USAGE: a request AWS (or botocore, before sending) found invalid.

Anything else is not recognised and keeps its traceback: exit 1, a bug.
"""

from __future__ import annotations

import os
import re

from botocore import exceptions as boto
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode

CLI = f"python -m {config.PACKAGE}"
# AWS's error codes by meaning: the STS, IAM and SageMaker API references' "Common Errors", and
# S3's error-code list (a HEAD request has no body: botocore then uses the HTTP status as code).
EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
INVALID = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "InvalidToken",
    "AuthFailure",
}
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden", "403"}
NOT_FOUND = {
    "ResourceNotFound",
    "ResourceNotFoundException",
    "NoSuchBucket",
    "PipelineNotFoundException",
    "NoSuchEntity",
    "NotFound",
    "404",
}
# SageMaker says ValidationException for some missing resources ("Could not find endpoint").
MISSING_TEXT = re.compile(r"does not exist|could not find|not found", re.IGNORECASE)
QUOTA = {"ResourceLimitExceeded", "ServiceQuotaExceededException"}
# The IAM denial AWS writes: "User: <arn> is not authorized to perform: <action> on resource:
# <arn> because ..." (IAM user guide, "Troubleshoot access denied error messages").
DENIAL = re.compile(
    r"User: (?P<principal>\S+) is not authorized to perform: (?P<action>\S+)"
    r"(?: on resource: (?P<resource>\S+))?(?: (?P<reason>because .*?))?\.?$"
)
# Each client tries this many times (botocore's standard mode) before the failure reaches us.
ATTEMPTS = aws.MAX_ATTEMPTS


def explain(error: BaseException) -> CliError | None:
    """The one-line CliError for an AWS failure anywhere in `error`'s chain, else None."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _explain_one(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def _explain_one(error: BaseException) -> CliError | None:
    if isinstance(error, boto.ClientError):
        return _client_error(error)
    if isinstance(error, boto.NoCredentialsError):
        return CliError(
            f"no AWS credentials found: sign in (`aws sso login`, or `aws configure`) or set "
            f"AWS_PROFILE to a profile for account {config.AWS_ACCOUNT_ID}",
            ExitCode.AWS_ACCESS,
        )
    if isinstance(error, boto.ProfileNotFound):
        return CliError(
            f"{error} (AWS_PROFILE): `aws configure list-profiles` shows the ones you have",
            ExitCode.AWS_ACCESS,
        )
    if isinstance(error, boto.SSOError | boto.TokenRetrievalError):
        profile = os.environ.get("AWS_PROFILE", "")
        return CliError(
            "the AWS SSO session has expired or was never started: run `aws sso login"
            + (f" --profile {profile}" if profile else "")
            + "`, then the command again",
            ExitCode.AWS_ACCESS,
        )
    if isinstance(error, boto.PartialCredentialsError | boto.CredentialRetrievalError):
        return CliError(f"AWS credentials could not be loaded: {error}", ExitCode.AWS_ACCESS)
    if isinstance(error, boto.ProxyConnectionError):
        proxy = error.kwargs.get("proxy_url", "the proxy")
        return CliError(
            f"cannot reach AWS through the proxy {proxy} after {ATTEMPTS} attempts: check that "
            "it runs, or HTTPS_PROXY and NO_PROXY",
            ExitCode.AWS_UNREACHABLE,
        )
    if isinstance(error, boto.ConnectionError | boto.HTTPClientError):
        return _unreachable(error)
    if isinstance(error, boto.ParamValidationError):
        report = " ".join(str(error.kwargs.get("report", error)).split())
        return CliError(f"invalid AWS request: {report}", ExitCode.USAGE)
    return None


def _unreachable(error: boto.BotoCoreError) -> CliError:
    url = error.kwargs.get("endpoint_url", "")
    where = url or "the AWS endpoint"
    if os.environ.get("AWS_ENDPOINT_URL"):
        hint = "AWS_ENDPOINT_URL points there: is that service running?"
    else:
        hint = f"check the network and the proxy settings (region {config.AWS_REGION}, config.py)"
    reason = type(error).__name__.removesuffix("Error")
    return CliError(
        f"cannot reach {where} ({reason}) after {ATTEMPTS} attempts: {hint}",
        ExitCode.AWS_UNREACHABLE,
    )


def _client_error(error: boto.ClientError) -> CliError | None:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = " ".join(str(details.get("Message", "")).split()) or code
    operation = error.operation_name
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in EXPIRED:
        return CliError(
            f"the AWS credentials have expired ({code} in {operation}): sign in again "
            "(`aws sso login`), or get a new session token",
            ExitCode.AWS_ACCESS,
        )
    if code in INVALID:
        return CliError(
            f"AWS did not accept the credentials ({code} in {operation}: {message}): check the "
            f"access key, or that the account has region {config.AWS_REGION} enabled",
            ExitCode.AWS_ACCESS,
        )
    if code in DENIED:
        return CliError(_denied(operation, message), ExitCode.AWS_ACCESS)
    if ThrottledRetryableChecker().is_retryable(
        RetryContext(attempt_number=ATTEMPTS, parsed_response=error.response)
    ):
        return CliError(
            f"AWS kept throttling {operation} ({code}) for {ATTEMPTS} attempts: wait a minute and "
            "run the command again",
            ExitCode.AWS_UNREACHABLE,
        )
    if status >= 500:
        return CliError(
            f"AWS failed {operation} ({code or status}) on all {ATTEMPTS} attempts: try again "
            "later (https://health.aws.amazon.com shows outages)",
            ExitCode.AWS_UNREACHABLE,
        )
    if code in NOT_FOUND or (code == "ValidationException" and MISSING_TEXT.search(message)):
        bucket = str(details.get("BucketName", ""))
        return CliError(_missing(code, f"{message} {bucket}".strip()), ExitCode.NOT_SET_UP)
    if code in QUOTA:
        return CliError(
            f"an AWS quota is too small for {operation}: {message}; ask for more in the Service "
            f"Quotas console (region {config.AWS_REGION}), or choose a smaller instance type",
            ExitCode.NOT_SET_UP,
        )
    if code == "ValidationException":
        return CliError(f"AWS refused {operation} as invalid: {message}", ExitCode.USAGE)
    return None


def _denied(operation: str, message: str) -> str:
    """Who may not do what, from AWS's own message, else from the call and STS."""
    match = DENIAL.search(message)
    if match:
        who = _identity(match["principal"])
        action, resource = match["action"], match["resource"]
        on = f" on {resource}" if resource else ""
        because = f" ({match['reason']})" if match["reason"] else ""
    else:
        who, action, on, because = _identity(_caller()), operation, "", ""
    return (
        f"access denied: {who} may not {action}{on}{because}; the project's roles and their "
        "policies are in infra/stack.yml (`make bootstrap` applies them)"
    )


def _identity(arn: str) -> str:
    """ "role NAME" for an assumed role's session ARN, "user NAME" for a user, else the ARN."""
    match = re.match(r"arn:[^:]+:(?:sts|iam)::\d*:(assumed-role|role|user)/([^/]+)", arn)
    if not match:
        return arn
    kind = "user" if match[1] == "user" else "role"
    return f"{kind} {match[2]}"


def _caller() -> str:
    """The caller's ARN from STS (which needs no permission), or a pointer to find it."""
    import boto3
    from botocore.config import Config

    quick = Config(
        connect_timeout=3, read_timeout=3, retries={"mode": "standard", "max_attempts": 1}
    )
    try:
        sts = boto3.client("sts", region_name=config.AWS_REGION, config=quick)
        return sts.get_caller_identity()["Arn"]
    except (boto.BotoCoreError, boto.ClientError):
        return "the caller (`aws sts get-caller-identity` says who)"


def _created_by() -> list[tuple[re.Pattern[str], str, str]]:
    """(what names it in AWS's message, what it is, what creates it), the most specific first."""

    def named(name: str, before: str = "") -> re.Pattern[str]:
        return re.compile(rf"{before}(?<![\w-]){re.escape(name)}(?![\w-])")

    bootstrap = "`make bootstrap` creates it"
    rows = [
        # CodePipeline first: its pipeline shares its name with the SageMaker pipeline.
        (re.compile(r"PipelineNotFoundException|does not have a pipeline"),
         f"CodePipeline {config.CODEPIPELINE_RETRAIN}", bootstrap),
        (named(config.SAGEMAKER_PIPELINE, r"(?i:pipeline)\w*\W*(?:\S*/)?"),
         f"SageMaker pipeline {config.SAGEMAKER_PIPELINE}",
         f"`{CLI} pipeline upsert` creates it (every retrain build runs it)"),
        *((named(bucket), f"bucket {bucket}", bootstrap)
          for bucket in (config.SOURCE_BUCKET, config.ARTIFACT_BUCKET)),
        (named(config.MODEL_PACKAGE_GROUP), f"model package group {config.MODEL_PACKAGE_GROUP}",
         bootstrap),
        *((named(config.endpoint_name(env)), f"endpoint {config.endpoint_name(env)}",
           f"`{CLI} deploy --env {env}` creates it")
          for env in config.ENVIRONMENTS),
        (named(config.SAGEMAKER_EXECUTION_ROLE), f"role {config.SAGEMAKER_EXECUTION_ROLE}",
         bootstrap),
    ]  # fmt: skip
    return rows


def _missing(code: str, message: str) -> str:
    """What does not exist, where, and what creates it."""
    text = f"{code} {message}"
    for pattern, what, fix in _created_by():
        if pattern.search(text):
            return f"{what} does not exist in {aws.region_text()}: {fix}"
    return (
        f"not found in {aws.region_text()}: {message}; if `make bootstrap` has "
        "not run for this account and region, run it"
    )
