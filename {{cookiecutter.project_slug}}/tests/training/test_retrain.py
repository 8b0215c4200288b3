"""The retrain command: package a commit, upload it, start the retrain CodePipeline on it."""

import io
import subprocess
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from request_validation import validate

from {{ cookiecutter.__package }} import cli, config
from {{ cookiecutter.__package }}.dev import emulated_stack
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.training import retrain

# CodePipeline execution ids are UUIDs (the model's pattern says so, and the contract checks).
EXECUTION = "6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    """A git repository with one commit; returns its path and the commit SHA."""
    path = tmp_path / "repo"
    path.mkdir()
    _git(path, "init", "--quiet")
    (path / "train.py").write_text("print('committed')\n")
    _git(path, "add", "train.py")
    _git(path, "-c", "user.name=ci", "-c", "user.email=ci@example.com", "commit", "-qm", "one")
    return path, _git(path, "rev-parse", "HEAD")


def test_resolve_commit_expands_a_short_sha(repo: tuple[Path, str]) -> None:
    path, sha = repo
    assert retrain.resolve_commit(sha[:8], path) == sha


@pytest.mark.parametrize("bad", ["main", "HEAD~1", "--output=x", "zz12345", "abc"])
def test_resolve_commit_refuses_what_is_not_a_sha(bad: str, repo: tuple[Path, str]) -> None:
    with pytest.raises(CliError, match="is not a commit SHA") as error:
        retrain.resolve_commit(bad, repo[0])
    assert error.value.code == ExitCode.USAGE


def test_resolve_commit_refuses_an_unknown_commit(repo: tuple[Path, str]) -> None:
    with pytest.raises(CliError, match="is not in the git repository") as error:
        retrain.resolve_commit("0" * 40, repo[0])
    assert error.value.code == ExitCode.USAGE


def test_archive_holds_the_commit_not_the_working_tree(repo: tuple[Path, str]) -> None:
    path, sha = repo
    (path / "train.py").write_text("print('uncommitted')\n")
    (path / "scratch.txt").write_text("not committed\n")
    with zipfile.ZipFile(io.BytesIO(retrain.archive(sha, path))) as archive:
        assert archive.namelist() == ["train.py"]
        assert archive.read("train.py") == b"print('committed')\n"


def _codepipeline():
    return boto3.client("codepipeline", region_name=config.AWS_REGION)


def test_start_request_matches_the_codepipeline_v2_model() -> None:
    request = retrain.start_request("3sL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY", "a" * 40)
    assert request["sourceRevisions"] == [
        {
            "actionName": config.SOURCE_ACTION,
            "revisionType": "S3_OBJECT_VERSION_ID",
            "revisionValue": "3sL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY",
        }
    ]
    assert request["variables"] == [{"name": config.COMMIT_SHA_VARIABLE, "value": "a" * 40}]
    # Naming the data adds the variable the buildspec passes to `pipeline start --input-data`.
    uri = "s3://other-bucket/churn.csv"
    named = retrain.start_request("v1", "a" * 40, uri)
    assert named["variables"][1] == {"name": config.INPUT_DATA_VARIABLE, "value": uri}
    validate(_codepipeline().meta.service_model.operation_model("StartPipelineExecution"), named)
    # The strict contract (enums, patterns, lengths) on top of what Stubber checks.
    validate(_codepipeline().meta.service_model.operation_model("StartPipelineExecution"), request)
    client = _codepipeline()
    with Stubber(client) as stub:
        stub.add_response("start_pipeline_execution", {"pipelineExecutionId": EXECUTION}, request)
        assert client.start_pipeline_execution(**request)["pipelineExecutionId"] == EXECUTION
        stub.assert_no_pending_responses()


def _stub_statuses(stub: Stubber, *statuses: str) -> None:
    for status in statuses:
        stub.add_response(
            "get_pipeline_execution",
            {"pipelineExecution": {"pipelineExecutionId": EXECUTION, "status": status}},
            {"pipelineName": config.CODEPIPELINE_RETRAIN, "pipelineExecutionId": EXECUTION},
        )


@pytest.mark.parametrize("final", ["Succeeded", "Failed", "Stopped", "Superseded"])
def test_wait_backs_off_until_a_final_status(final: str) -> None:
    client, slept = _codepipeline(), []
    with Stubber(client) as stub:
        _stub_statuses(stub, "InProgress", "InProgress", "InProgress", final)
        status, _ = retrain.wait(client, EXECUTION, timeout=3600, sleep=slept.append)
        stub.assert_no_pending_responses()
    assert status == final
    assert slept == [10.0, 15.0, 22.5]
    assert retrain.outcome(final) == (ExitCode.OK if final == "Succeeded" else ExitCode.FAILED)


def test_wait_gives_up_at_the_timeout() -> None:
    client, now = _codepipeline(), [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with Stubber(client) as stub:
        _stub_statuses(stub, *["InProgress"] * 4)
        status, detail = retrain.wait(
            client, EXECUTION, timeout=30, sleep=sleep, clock=lambda: now[0]
        )
    assert (status, detail) == ("TimedOut", "still InProgress after 30 s")
    assert now[0] == 30
    assert retrain.outcome(status) == ExitCode.TIMED_OUT


def test_summary_names_the_execution_and_the_registered_package() -> None:
    done = retrain.Retrain("a" * 40, "v1", EXECUTION, "Succeeded")
    done.model_packages = [{"ModelPackageVersion": 7, "ModelApprovalStatus": "Approved"}]
    text = retrain.summary_markdown(done)
    assert f"/pipelines/{config.CODEPIPELINE_RETRAIN}/executions/{EXECUTION}/" in text
    assert "| Status | Succeeded |" in text
    assert "version 7 (Approved)" in text
    assert "| Model package registered | none" in retrain.summary_markdown(
        retrain.Retrain("a" * 40, "v1", EXECUTION, "Failed", model_packages=[])
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    """Emulated S3, IAM and CodePipeline in this project's account, with the retrain pipeline."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", config.AWS_ACCOUNT_ID)
    with mock_aws():
        iam = boto3.client("iam", region_name=config.AWS_REGION)
        trust = emulated_stack.service_trust("codepipeline.amazonaws.com")
        role = iam.create_role(RoleName="pipeline", AssumeRolePolicyDocument=trust)
        s3 = boto3.client("s3", region_name=config.AWS_REGION)
        emulated_stack.create_bucket(s3, config.SOURCE_BUCKET)
        _codepipeline().create_pipeline(
            pipeline={
                "name": config.CODEPIPELINE_RETRAIN,
                "roleArn": role["Role"]["Arn"],
                "pipelineType": "V2",
                "artifactStore": {"type": "S3", "location": config.SOURCE_BUCKET},
                "variables": [{"name": config.COMMIT_SHA_VARIABLE}],
                "stages": [
                    {
                        "name": "Source",
                        "actions": [
                            {
                                "name": config.SOURCE_ACTION,
                                "actionTypeId": {
                                    "category": "Source",
                                    "owner": "AWS",
                                    "provider": "S3",
                                    "version": "1",
                                },
                                "configuration": {
                                    "S3Bucket": config.SOURCE_BUCKET,
                                    "S3ObjectKey": config.SOURCE_OBJECT_KEY,
                                    "PollForSourceChanges": "false",
                                },
                                "outputArtifacts": [{"name": "source"}],
                            }
                        ],
                    },
                    {
                        "name": "Train",
                        "actions": [
                            {
                                "name": "Train",
                                "actionTypeId": {
                                    "category": "Build",
                                    "owner": "AWS",
                                    "provider": "CodeBuild",
                                    "version": "1",
                                },
                                "configuration": {"ProjectName": config.CODEBUILD_RETRAIN},
                                "inputArtifacts": [{"name": "source"}],
                            }
                        ],
                    },
                ],
            }
        )
        yield s3


def test_retrain_uploads_the_commit_and_starts_that_version(
    aws, repo: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, sha = repo
    aws.put_bucket_versioning(
        Bucket=config.SOURCE_BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.chdir(path)

    assert cli.main(["retrain", "--commit", sha[:10], "--wait"]) == ExitCode.OK

    versions = aws.list_object_versions(Bucket=config.SOURCE_BUCKET)["Versions"]
    assert [v["Key"] for v in versions] == [config.SOURCE_OBJECT_KEY]
    obj = aws.get_object(
        Bucket=config.SOURCE_BUCKET,
        Key=config.SOURCE_OBJECT_KEY,
        VersionId=versions[0]["VersionId"],
    )
    assert obj["Metadata"] == {"commit-sha": sha}
    with zipfile.ZipFile(io.BytesIO(obj["Body"].read())) as archive:
        assert archive.namelist() == ["train.py"]
    executions = _codepipeline().list_pipeline_executions(pipelineName=config.CODEPIPELINE_RETRAIN)
    [execution] = executions["pipelineExecutionSummaries"]
    detail = _codepipeline().get_pipeline_execution(
        pipelineName=config.CODEPIPELINE_RETRAIN,
        pipelineExecutionId=execution["pipelineExecutionId"],
    )["pipelineExecution"]
    assert detail["variables"] == [{"name": config.COMMIT_SHA_VARIABLE, "resolvedValue": sha}]
    text = summary.read_text()
    assert execution["pipelineExecutionId"] in text
    assert "| Status | Succeeded |" in text
    assert f"version `{versions[0]['VersionId']}`" in text


def test_retrain_refuses_input_data_that_is_not_in_s3() -> None:
    """Checked before anything is packaged or uploaded."""
    with pytest.raises(CliError, match="must be an s3:// URI") as error:
        retrain.retrain("a" * 40, input_data="data/churn.csv")
    assert error.value.code == ExitCode.USAGE


def test_retrain_refuses_an_unversioned_bucket(
    aws, repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path, sha = repo
    monkeypatch.chdir(path)
    assert cli.main(["retrain", "--commit", sha]) == ExitCode.ERROR
    assert "is not versioned" in capsys.readouterr().err
    assert (
        _codepipeline().list_pipeline_executions(pipelineName=config.CODEPIPELINE_RETRAIN)[
            "pipelineExecutionSummaries"
        ]
        == []
    )


def test_retrain_outside_a_repository_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["retrain", "--commit", "a" * 40]) == ExitCode.USAGE
    assert "is not in the git repository" in capsys.readouterr().err
