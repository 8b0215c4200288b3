"""The strict contract check catches what botocore's Stubber lets through."""

import boto3
import pytest
from botocore.stub import Stubber
from request_validation import ContractError, unchecked

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.promotion import shift

PACKAGE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/models/1"
ENDPOINT_ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/e"


def test_stubber_alone_accepts_a_bad_enum_and_an_out_of_range_value() -> None:
    with unchecked():
        sm = boto3.client("sagemaker", region_name=config.AWS_REGION)
    stubber = Stubber(sm)
    stubber.add_response("update_model_package", {"ModelPackageArn": PACKAGE_ARN})
    stubber.add_response("update_endpoint", {"EndpointArn": ENDPOINT_ARN})
    with stubber:
        sm.update_model_package(ModelPackageArn=PACKAGE_ARN, ModelApprovalStatus="Approve")
        sm.update_endpoint(EndpointName="e", EndpointConfigName="c", DeploymentConfig=_policy(4000))


def test_contract_rejects_a_bad_enum() -> None:
    sm = boto3.client("sagemaker", region_name=config.AWS_REGION)
    with Stubber(sm), pytest.raises(ContractError, match="'Approve' is not one of"):
        sm.update_model_package(ModelPackageArn=PACKAGE_ARN, ModelApprovalStatus="Approve")


def test_contract_rejects_an_out_of_range_value() -> None:
    sm = boto3.client("sagemaker", region_name=config.AWS_REGION)
    with Stubber(sm), pytest.raises(ContractError, match="4000 is above the maximum 3600"):
        sm.update_endpoint(EndpointName="e", EndpointConfigName="c", DeploymentConfig=_policy(4000))


def test_contract_rejects_a_name_that_breaks_the_pattern_and_length() -> None:
    sm = boto3.client("sagemaker", region_name=config.AWS_REGION)
    with Stubber(sm), pytest.raises(ContractError, match="does not match") as info:
        sm.describe_endpoint(EndpointName="bad_name_" + "x" * 70)
    assert "above the maximum 63" in str(info.value)


def test_every_strategy_policy_passes_the_contract() -> None:
    sm = boto3.client("sagemaker", region_name=config.AWS_REGION)
    alarms = list(config.alarm_names("prod").values())
    stubber = Stubber(sm)
    for strategy in config.STRATEGIES:
        policy = shift.deployment_config(strategy, 4, shift.Settings(), alarms)
        stubber.add_response("update_endpoint", {"EndpointArn": ENDPOINT_ARN})
        with stubber:
            sm.update_endpoint(EndpointName="e", EndpointConfigName="c", DeploymentConfig=policy)


def test_a_client_of_a_reused_class_is_still_checked() -> None:
    """conftest.py builds one client class per session and service; the check belongs to each
    client, so the second client of a class is checked as the first was. A new session builds
    its own classes (its handlers may differ)."""
    session = boto3.session.Session(region_name=config.AWS_REGION)
    first, second = session.client("sagemaker"), session.client("sagemaker")
    assert type(first) is type(second)
    assert type(session.client("s3")) is not type(first)
    other = boto3.session.Session(region_name=config.AWS_REGION).client("sagemaker")
    assert type(other) is not type(first)
    for sm in (second, other):
        with Stubber(sm), pytest.raises(ContractError, match="'Approve' is not one of"):
            sm.update_model_package(ModelPackageArn=PACKAGE_ARN, ModelApprovalStatus="Approve")


def _policy(wait: int) -> dict:
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": wait}
        }
    }
