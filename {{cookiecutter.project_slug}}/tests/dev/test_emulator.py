"""The whole promotion story through the local AWS emulator on 127.0.0.1 (no AWS account)."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import model_packages
import pytest
import tables
from serving_cases import BROKEN, CASES, TRAINED, BrokenModel, Case, predictions, sample_row

from {{ cookiecutter.__package }} import cli, config
from {{ cookiecutter.__package }}.dev import emulator
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.promotion import endpoint, history, registry, shift, smoke
from {{ cookiecutter.__package }}.steps import inference

FAST = ["--poll-seconds", "0.05"]


def _new_version(url: str, commit: str, status: str = "Approved") -> int:
    arn = model_packages.register(url, 0.95, commit, status)
    return int(arn.rsplit("/", 1)[1])


def _tags(env: str) -> dict[str, str]:
    sm = boto3.client("sagemaker")
    arn = sm.describe_endpoint(EndpointName=config.endpoint_name(env))["EndpointArn"]
    return endpoint.endpoint_tags(sm, arn)


def _fits(name: str) -> bool:
    try:
        shift.check_fits(name, config.ENDPOINT_INSTANCE_COUNT, shift.Settings())
    except CliError:
        return False
    return True


def test_register_approve_deploy_roll_back_and_recover(seeded_aws: str) -> None:
    started = time.perf_counter()
    model = tables.fit(tables.data_set())
    url = model_packages.upload_model(model, "models/run-1/model.tar.gz")
    first = _new_version(url, "commit-1", "PendingManualApproval")
    assert cli.main(["deploy", "--env", "staging", *FAST]) == ExitCode.REFUSED  # none Approved
    assert cli.main(["registry", "approve", "--version", str(first), "--reason", "ok"]) == 0

    # Staging: created all at once, smoke-tested; the endpoint answers as the model does.
    assert cli.main(["deploy", "--env", "staging", *FAST]) == ExitCode.OK
    body = smoke.csv_body(smoke.sample_rows(8))
    answer = boto3.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=config.endpoint_name("staging"),
        ContentType="text/csv",
        Accept="application/json",
        Body=body.encode(),
    )
    # What the serving hooks answer for the same rows, called directly as the container would.
    direct = inference.predict(
        inference.model_input(inference.decode(body, "text/csv"), model), model
    )
    served = json.loads(answer["Body"].read())["predictions"]
    assert [p["label"] for p in served] == direct["labels"]
    assert cli.main(["deploy", "--env", "staging", *FAST]) == ExitCode.OK  # a no-op
    assert _tags("staging")[history.TAG_HISTORY] == str(first)

    # Prod: created, then every strategy on a new version each (refused if it cannot fit), each
    # verified on staging first: prod takes no other.
    assert cli.main(["deploy", "--env", "prod", *FAST]) == ExitCode.OK
    good = first
    for name in config.STRATEGIES:
        version = _new_version(url, f"commit-{name}")
        assert cli.main(["deploy", "--env", "staging", *FAST]) == ExitCode.OK
        code = cli.main(["deploy", "--env", "prod", "--strategy", name, *FAST])
        assert code == (ExitCode.OK if _fits(name) else ExitCode.REFUSED), name
        if code == ExitCode.OK:
            good = version
            assert _tags("prod")[history.TAG_STRATEGY] == name
    assert _tags("prod")[history.TAG_VERSION] == str(good)

    # A bad version: an alarm fires during the shift, SageMaker rolls back on its own.
    bad = _new_version(url, "commit-bad")
    assert cli.main(["deploy", "--env", "staging", *FAST]) == ExitCode.OK
    shift = "canary" if _fits("canary") else "all-at-once"
    alarm = config.alarm_names("prod")["5xx"]
    cloudwatch = boto3.client("cloudwatch")
    emulator.fire_alarm_on_next_shift(seeded_aws, config.endpoint_name("prod"), alarm)
    assert cli.main(["deploy", "--env", "prod", "--strategy", shift, *FAST]) == ExitCode.ROLLED_BACK
    assert _tags("prod")[history.TAG_VERSION] == str(good)
    assert cli.main(["deploy", "--env", "prod", *FAST]) == ExitCode.REFUSED  # alarm still firing

    # The alarm clears; the bad version gets through; `rollback` returns to the good one.
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="quiet")
    assert cli.main(["deploy", "--env", "prod", "--strategy", "all-at-once", *FAST]) == 0
    assert _tags("prod")[history.TAG_VERSION] == str(bad)
    assert cli.main(["rollback", "--env", "prod", "--reject-current", *FAST]) == ExitCode.USAGE
    reason = ["--reason", "5xx after release"]
    assert cli.main(["rollback", "--env", "prod", "--reject-current", *reason, *FAST]) == 0

    sm = boto3.client("sagemaker")
    assert _tags("prod")[history.TAG_VERSION] == str(good)
    assert _tags("prod")[history.TAG_HISTORY].split()[:2] == [str(good), str(bad)]
    rejected = registry.describe(sm, bad, None)
    assert rejected["ModelApprovalStatus"] == "Rejected"
    assert "5xx after release" in rejected["ApprovalDescription"]
    endpoint = sm.describe_endpoint(EndpointName=config.endpoint_name("prod"))
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == _tags("prod")[history.TAG_CONFIG]
    print(f"story took {time.perf_counter() - started:.1f}s")


def _endpoint(name: str, model_url: str) -> str:
    """An InService endpoint serving the model.tar.gz at model_url."""
    sm = boto3.client("sagemaker")
    sm.create_model(
        ModelName=name,
        PrimaryContainer={"Image": "image:1", "ModelDataUrl": model_url},
        ExecutionRoleArn=config.role_arn(config.SAGEMAKER_EXECUTION_ROLE),
    )
    variant = {
        "VariantName": config.VARIANT_NAME,
        "ModelName": name,
        "InitialInstanceCount": 1,
        "InstanceType": config.ENDPOINT_INSTANCE_TYPE,
    }
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    return name


def _invoke(runtime: Any, endpoint: str, case: Case, row: list[str]) -> tuple[int, dict]:
    """The status the container answered this case with, and what the caller received."""
    accept = {"Accept": case.accept} if case.accept is not None else {}
    request = {"ContentType": case.content_type, "Body": case.body(row), **accept}
    try:
        answer = runtime.invoke_endpoint(EndpointName=endpoint, **request)
    except runtime.exceptions.ModelError as error:
        return error.response["OriginalStatusCode"], error.response
    return answer["ResponseMetadata"]["HTTPStatusCode"], answer


def test_invoke_endpoint_answers_with_the_containers_status_codes(seeded_aws: str) -> None:
    """The request table that `make test-compat` sends through the image's request handler."""
    model = tables.fit(tables.data_set())
    broken = BrokenModel(model)
    endpoints = {
        TRAINED: _endpoint(
            "cases-trained", model_packages.upload_model(model, "models/cases/trained.tar.gz")
        ),
        BROKEN: _endpoint(
            "cases-broken", model_packages.upload_model(broken, "models/cases/broken.tar.gz")
        ),
    }
    runtime = boto3.client("sagemaker-runtime")
    row = sample_row()
    received = {case.name: _invoke(runtime, endpoints[case.model], case, row) for case in CASES}
    assert {name: status for name, (status, _) in received.items()} == {
        case.name: case.status for case in CASES
    }
    for case in CASES:
        status, answer = received[case.name]
        if case.returns is None:
            # SageMaker relays a container's 4xx or 5xx as ModelError, HTTP 424.
            assert answer["ResponseMetadata"]["HTTPStatusCode"] == 424
            kind = "client" if status < 500 else "server"
            expected = f"Received {kind} error ({status}) from primary with message"
            assert answer["Error"]["Message"].startswith(expected)
        else:
            content_type, count = case.returns
            assert answer["ContentType"] == content_type
            assert len(predictions(content_type, answer["Body"].read())) == count


def test_a_served_model_stays_unpacked_until_the_emulator_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a container keeps /opt/ml/model while it runs; then nothing is left behind."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with emulator.running() as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        emulator.seed(url)
        model = model_packages.upload_model(tables.fit(tables.data_set()), "models/kept.tar.gz")
        case = next(case for case in CASES if case.model == TRAINED and case.returns)
        runtime = boto3.client("sagemaker-runtime")
        assert _invoke(runtime, _endpoint("kept", model), case, sample_row())[0] == 200
        (models,) = scratch.iterdir()
        (model_dir,) = models.iterdir()
        assert (model_dir / "model.joblib").is_file()
    assert list(scratch.iterdir()) == []


def test_prod_receives_exactly_the_version_staging_verified(
    seeded_aws: str, tmp_path: Path
) -> None:
    """One road to prod: a version staging deployed and smoke-tested, by default the one it
    serves, never merely the latest Approved."""
    model = tables.fit(tables.data_set())
    url = model_packages.upload_model(model, "models/run-4/model.tar.gz")
    first = _new_version(url, "commit-1")
    # Approved, but staging has verified nothing yet: prod takes nothing.
    assert cli.main(["deploy", "--env", "prod", *FAST]) == ExitCode.REFUSED
    outputs = tmp_path / "deploy.env"
    assert cli.main(["deploy", "--env", "staging", "--outputs", str(outputs), *FAST]) == 0
    staged = registry.describe(boto3.client("sagemaker"), first, None)["ModelPackageArn"]
    assert outputs.read_text() == f"MODEL_PACKAGE_ARN={staged}\n"

    # A newer version is Approved while staging still serves the first.
    second = _new_version(url, "commit-2")
    assert cli.main(["deploy", "--env", "prod", "--version", str(second), *FAST]) == 3
    assert cli.main(["deploy", "--env", "prod", *FAST]) == ExitCode.OK
    assert _tags("prod")[history.TAG_VERSION] == str(first)

    # Once staging has verified the second, prod takes it, by name or by default.
    assert cli.main(["deploy", "--env", "staging", *FAST]) == ExitCode.OK
    assert cli.main(["deploy", "--env", "prod", "--arn", staged, *FAST]) == ExitCode.OK  # no-op
    assert cli.main(["deploy", "--env", "prod", *FAST]) == ExitCode.OK
    assert _tags("prod")[history.TAG_VERSION] == str(second)


def test_update_of_a_missing_endpoint_is_a_validation_error(seeded_aws: str) -> None:
    sm = boto3.client("sagemaker")
    with pytest.raises(sm.exceptions.ClientError, match="Could not find endpoint"):
        sm.update_endpoint(EndpointName="nothing-here", EndpointConfigName="none")


def test_package_tags_round_trip(seeded_aws: str) -> None:
    model = tables.fit(tables.data_set())
    _new_version(model_packages.upload_model(model, "models/run-3/model.tar.gz"), "commit-3")
    sm = boto3.client("sagemaker")
    arn = registry.summaries(sm)[0]["ModelPackageArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "deploy:prod:time", "Value": "now"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "deploy:prod:time", "Value": "now"}]


def test_a_name_in_use_is_refused_as_sagemaker_refuses_it(seeded_aws: str) -> None:
    """Two deployments that named their resources alike would pass on moto and fail in AWS."""
    sm = boto3.client("sagemaker")
    container = {"Image": "image:1", "ModelDataUrl": f"s3://{config.ARTIFACT_BUCKET}/m.tar.gz"}
    role = config.role_arn(config.SAGEMAKER_EXECUTION_ROLE)
    sm.create_model(ModelName="m", PrimaryContainer=container, ExecutionRoleArn=role)
    with pytest.raises(sm.exceptions.ClientError, match="Cannot create already existing model"):
        sm.create_model(ModelName="m", PrimaryContainer=container, ExecutionRoleArn=role)
    variant = {"VariantName": config.VARIANT_NAME, "ModelName": "m", "InitialInstanceCount": 1,
               "InstanceType": config.ENDPOINT_INSTANCE_TYPE}  # fmt: skip
    sm.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[variant])
    with pytest.raises(sm.exceptions.ClientError, match="already existing endpoint configuration"):
        sm.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[variant])


def test_each_emulator_starts_empty_though_they_share_motos_application(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One moto application serves every emulator of a process (its Flask apps are built once);
    what a test created is gone in the next test's emulator all the same."""
    served = []
    for _ in range(2):
        with emulator.running() as url:
            monkeypatch.setenv("AWS_ENDPOINT_URL", url)
            s3 = boto3.client("s3")
            served.append([bucket["Name"] for bucket in s3.list_buckets()["Buckets"]])
            s3.create_bucket(Bucket="left-behind")
    assert served == [[], []]
