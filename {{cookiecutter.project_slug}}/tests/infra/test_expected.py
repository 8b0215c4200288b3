"""What `doctor` expects and the emulator creates (infra/stack.py) is what infra/stack.yml makes.

doctor compares the real account with infra/stack.py, and the emulator is seeded from it; these
tests hold it to the resolved template, so neither can pass against a stack that differs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cloudformation import Stack, load

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.dev import emulated_stack
from {{ cookiecutter.__package }}.infra import stack as expected

HOST = expected.GITHUB_OIDC_HOST


@pytest.fixture(scope="module")
def stack() -> Stack:
    return load()


def test_outputs_are_the_template_outputs(stack: Stack) -> None:
    outputs = {key: o["Value"] for key, o in stack.resolve(stack.template["Outputs"]).items()}
    assert {key: outputs.get(key) for key in expected.outputs()} == expected.outputs()


def _trust(stack: Stack, role_name: str) -> dict[str, Any]:
    (role,) = [
        p for p in stack.of_type("AWS::IAM::Role").values() if p.get("RoleName") == role_name
    ]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    return statement


def _values(statement: dict[str, Any], key: str) -> set[str]:
    found = set()
    for operator in statement["Condition"].values():
        value = operator.get(key, [])
        found |= set(value if isinstance(value, list) else [value])
    return found


def test_github_roles_trust_the_subjects_doctor_expects(stack: Stack) -> None:
    for role_name, subjects in expected.github_subjects().items():
        statement = _trust(stack, role_name)
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert _values(statement, f"{HOST}:sub") == subjects, role_name
        assert _values(statement, f"{HOST}:aud") == {expected.GITHUB_AUDIENCE}, role_name


def test_the_emulated_trust_is_the_template_trust(stack: Stack) -> None:
    for role_name, subjects in expected.github_subjects().items():
        (emulated,) = json.loads(emulated_stack.github_trust(subjects))["Statement"]
        template = _trust(stack, role_name)
        assert {k: _values(emulated, k) for k in (f"{HOST}:sub", f"{HOST}:aud")} == {
            k: _values(template, k) for k in (f"{HOST}:sub", f"{HOST}:aud")
        }


def test_the_oidc_provider_is_githubs_for_the_audience(stack: Stack) -> None:
    (provider,) = stack.of_type("AWS::IAM::OIDCProvider").values()
    assert provider["Url"] == f"https://{HOST}"
    assert provider["ClientIdList"] == [expected.GITHUB_AUDIENCE]


def test_what_the_stack_keeps_on_deletion_is_what_teardown_deletes(stack: Stack) -> None:
    kept = {
        stack.name(logical_id)
        for logical_id, resource in stack.resources.items()
        # Retain, or RetainExceptOnCreate (kept on deletion, removed when a first create fails).
        if resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")
    }
    assert kept == {*expected.RETAINED_BUCKETS, *expected.RETAINED_LOG_GROUPS}


def test_alarm_metrics_are_the_template_alarms(stack: Stack) -> None:
    alarms = {p["AlarmName"]: p for p in stack.of_type("AWS::CloudWatch::Alarm").values()}
    for env in config.ENVIRONMENTS:
        for kind, name in config.alarm_names(env).items():
            assert alarms[name]["MetricName"] == config.ALARM_METRICS[kind]
