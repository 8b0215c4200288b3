"""The registry commands on moto's in-process SageMaker, S3 and STS."""

from __future__ import annotations

import argparse

import boto3
import model_packages
import pytest
from moto import mock_aws

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.cli import registry as registry_cli
from {{ cookiecutter.__package }}.dev import emulated_stack
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.promotion import registry

MODEL = f"s3://{config.ARTIFACT_BUCKET}/models/run-1/model.tar.gz"


@pytest.fixture
def sm():
    with mock_aws():
        s3 = boto3.client("s3", region_name=config.AWS_REGION)
        emulated_stack.create_bucket(s3, config.ARTIFACT_BUCKET)
        client = boto3.client("sagemaker", region_name=config.AWS_REGION)
        client.create_model_package_group(ModelPackageGroupName=config.MODEL_PACKAGE_GROUP)
        yield client


def _register(
    score: float,
    commit: str,
    status: str = "PendingManualApproval",
    champion: tuple[str, str] = ("none", "none"),
) -> str:
    return model_packages.register(MODEL, score, commit, status, champion=champion)


def _args(**values: object) -> argparse.Namespace:
    defaults = {"version": None, "arn": None, "reason": "looks good", "force": False}
    return argparse.Namespace(**{**defaults, **values})


def test_list_shows_version_status_gate_score_and_commit(
    sm, capsys: pytest.CaptureFixture[str]
) -> None:
    _register(0.91, "aaaaaaaaaaaaaaaa")
    _register(0.95, "bbbbbbbbbbbbbbbb", "Approved")
    assert registry_cli.list_versions(_args()) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["VERSION", "STATUS"]
    assert lines[1].split()[:2] == ["2", "Approved"]
    assert "0.950" in lines[1]
    assert "bbbbbbbbbbbb" in lines[1]
    assert lines[2].split()[:2] == ["1", "PendingManualApproval"]


def test_list_shows_the_champion_each_version_was_compared_with(
    sm, capsys: pytest.CaptureFixture[str]
) -> None:
    _register(0.91, "aaaaaaaaaaaaaaaa", "Approved")
    second = _register(0.95, "bbbbbbbbbbbbbbbb", champion=("1", "+0.0400"))
    # Approving drops the metadata in moto (not in AWS): the statistics JSON still says it.
    registry_cli.approve(_args(version=2))
    assert "champion" not in sm.describe_model_package(ModelPackageName=second).get(
        "CustomerMetadataProperties", {}
    )
    capsys.readouterr()
    registry_cli.list_versions(_args())
    header, newest, first = capsys.readouterr().out.splitlines()[:3]
    assert header.split()[4:8] == [config.GATE_METRIC.upper(), "CHAMPION", "VS", "CHAMPION"]
    assert newest.split()[:2] == ["2", "Approved"]
    assert newest.split()[5:7] == ["1", "+0.0400"]
    assert first.split()[5:7] == ["none", "none"]


def test_approve_records_who_and_why_and_the_score_survives(sm) -> None:
    arn = _register(0.9, "abc")
    assert registry_cli.approve(_args(version=1, reason="beats v0 on recall")) == ExitCode.OK
    package = sm.describe_model_package(ModelPackageName=arn)
    assert package["ModelApprovalStatus"] == "Approved"
    description = package["ApprovalDescription"]
    assert "approved by arn:aws:sts::" in description or "approved by arn:aws:iam::" in description
    assert description.endswith(": beats v0 on recall")
    # moto's UpdateModelPackage drops CustomerMetadataProperties; the statistics JSON remains.
    assert registry.score_of(package) == pytest.approx(0.9)


def test_latest_approved_prints_the_newest_approved(sm, capsys) -> None:
    _register(0.9, "a", "Approved")
    newest = _register(0.92, "b", "Approved")
    _register(0.95, "c")
    assert registry_cli.latest_approved(_args()) == ExitCode.OK
    assert capsys.readouterr().out.strip() == newest


def test_latest_approved_with_none_is_refused(sm) -> None:
    _register(0.9, "a")
    with pytest.raises(CliError, match="no Approved version") as info:
        registry_cli.latest_approved(_args())
    assert info.value.code == ExitCode.REFUSED


def test_reject_then_approve_needs_force(sm) -> None:
    arn = _register(0.9, "a", "Approved")
    assert registry_cli.reject(_args(arn=arn, reason="bad canary")) == ExitCode.OK
    assert sm.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "Rejected"
    with pytest.raises(CliError, match="needs --force") as info:
        registry_cli.approve(_args(arn=arn))
    assert info.value.code == ExitCode.REFUSED
    assert registry_cli.approve(_args(arn=arn, force=True)) == ExitCode.OK
    assert sm.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "Approved"


def test_missing_version_is_refused_naming_the_versions(sm) -> None:
    _register(0.9, "a")
    with pytest.raises(CliError, match=r"version 7 does not exist .*\(versions: 1\)") as info:
        registry_cli.approve(_args(version=7))
    assert info.value.code == ExitCode.REFUSED


def test_approving_an_approved_version_is_a_no_op(sm, capsys) -> None:
    _register(0.9, "a", "Approved")
    assert registry_cli.approve(_args(version=1)) == ExitCode.OK
    assert "already Approved; nothing to do" in capsys.readouterr().out
