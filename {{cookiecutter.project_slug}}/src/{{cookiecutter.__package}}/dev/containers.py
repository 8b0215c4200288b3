"""A pipeline's processing and training jobs as local processes, in the containers' layout.

Development tooling for the emulator's pipeline executions. A job gets a scratch directory that
stands for its container's filesystem (`<root>/opt/ml/...`, as `run-local` lays it out), and runs
what its resolved arguments name:

- Processing: each S3 input is downloaded to its LocalPath, the entry point `python3 <script>`
  runs with the container arguments, each output's LocalPath is uploaded to its S3Uri, and each
  property file is read back from the uploaded output.
- Training: each channel is downloaded to /opt/ml/input/data/<channel>, and the entry script that
  the SageMaker SDK's ModelTrainer driver (`sm_drivers/sm_train.sh`) would run gets the
  hyperparameters as `--name value` options and the driver's SM_* environment; /opt/ml/model is
  packed into <S3OutputPath>/<job name>/output/model.tar.gz, as SageMaker does.

Container paths in arguments and environment values map to the scratch directory, like a bind
mount, and `SAGEMAKER_BASE_DIR` says where /opt/ml is (the variable SageMaker's training toolkit
reads outside SageMaker), so scripts that default to container paths find them.
Anything else a job asks for (another entry point, manifest or pipe inputs, distributed
training) fails the job with a reason naming it.
"""

from __future__ import annotations

import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from {{ cookiecutter.__package }} import processes
from {{ cookiecutter.__package }}.training.local import pack_model

OPT_ML = "/opt/ml"
# FailureReason holds at most 1,024 characters (botocore's PipelineExecutionStep shape).
REASON_MAX = 1024
STDERR_LINES = 12
# sm_drivers/scripts/environment.py of the SageMaker SDK (3.27.0) sets these in the container.
DRIVER_PATHS = {
    "SM_MODEL_DIR": "/opt/ml/model",
    "SM_INPUT_DIR": "/opt/ml/input",
    "SM_INPUT_DATA_DIR": "/opt/ml/input/data",
    "SM_INPUT_CONFIG_DIR": "/opt/ml/input/config",
    "SM_OUTPUT_DIR": "/opt/ml/output",
    "SM_OUTPUT_FAILURE": "/opt/ml/output/failure",
    "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
    "SM_SOURCE_DIR": "/opt/ml/input/data/code",
}
HOST = "algo-1"
TRANSFERS = 8  # S3 objects fetched at once


class JobFailed(Exception):
    """The job ended without its results; the message is the step's FailureReason."""


@dataclass
class StepResult:
    """What a finished step exposes to later steps: its properties and property files."""

    properties: dict[str, Any]
    property_files: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Container:
    """One job's scratch directory, standing for its container's filesystem."""

    root: Path
    # What a job's own AWS calls use: SageMaker gives the container the execution role's
    # credentials and region; here the emulator's address and the pipeline's caller's keys.
    aws: dict[str, str] = field(default_factory=dict)

    def path(self, container_path: str) -> Path:
        """Where a container path (/opt/ml/...) lives on this machine."""
        pure = PurePosixPath(container_path)
        if not pure.is_absolute() or ".." in pure.parts:
            raise JobFailed(f"ClientError: {container_path!r} is not an absolute container path")
        return self.root.joinpath(*pure.parts[1:])

    def mapped(self, value: str) -> str:
        """An argument or environment value with its container paths mapped to this machine."""
        if value == OPT_ML or value.startswith(f"{OPT_ML}/"):
            return str(self.path(value))
        return value

    def environment(self, env: dict[str, str]) -> dict[str, str]:
        """The job's environment, container paths mapped, and where /opt/ml is."""
        mapped = {name: self.mapped(str(value)) for name, value in env.items()}
        return {**mapped, **self.aws, "SAGEMAKER_BASE_DIR": str(self.path(OPT_ML))}

    def shown(self, text: str) -> str:
        """Text (a traceback, an error line) with this machine's paths back as container paths."""
        return text.replace(str(self.root), "")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of an s3:// URI."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise JobFailed(f"ClientError: {uri!r} is not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def download(s3: Any, uri: str, target: Path) -> None:
    """Every object under an S3 prefix, into `target`, by its key after the prefix."""
    bucket, prefix = split_s3_uri(uri)
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]
    if not keys:
        # SageMaker's own words for an empty input.
        raise JobFailed(f'ClientError: No S3 objects found under S3 URL "{uri}"')
    target.mkdir(parents=True, exist_ok=True)

    def fetch(key: str) -> None:
        relative = key[len(prefix) :].lstrip("/") or PurePosixPath(key).name
        destination = target.joinpath(*PurePosixPath(relative).parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        # One GetObject per object: download_file adds a HeadObject and a transfer manager of
        # its own threads, which doubled the time of the SDK's 24-file driver channel.
        with destination.open("wb") as file:
            shutil.copyfileobj(s3.get_object(Bucket=bucket, Key=key)["Body"], file)

    # A code channel holds dozens of small files: fetch them side by side.
    with ThreadPoolExecutor(max_workers=TRANSFERS) as pool:
        list(pool.map(fetch, keys))


def upload(s3: Any, source: Path, uri: str) -> None:
    """Every file under `source`, to the S3 prefix, by its path below `source`."""
    bucket, prefix = split_s3_uri(uri)
    for path in sorted(source.rglob("*")):
        if path.is_file():
            key = f"{prefix.rstrip('/')}/{path.relative_to(source).as_posix()}"
            s3.upload_file(str(path), bucket, key)


def run_processing(
    arguments: dict[str, Any],
    property_files: list[dict[str, Any]],
    *,
    job_name: str,
    job_arn: str,
    container: Container,
    s3: Any,
) -> StepResult:
    """Run one processing job; its DescribeProcessingJob-like properties and property files."""
    entry = [
        *arguments.get("AppSpecification", {}).get("ContainerEntrypoint", []),
        *arguments.get("AppSpecification", {}).get("ContainerArguments", []),
    ]
    if len(entry) < 2 or PurePosixPath(entry[0]).name not in ("python", "python3"):
        raise JobFailed(
            f"unsupported offline: processing entry point {entry[:2]!r} "
            "(only `python3 <script>` runs)"
        )
    for item in arguments.get("ProcessingInputs", []):
        source = item.get("S3Input")
        if source is None:
            raise JobFailed(f"unsupported offline: input {item.get('InputName')!r} is not S3Input")
        if source.get("S3DataType", "S3Prefix") != "S3Prefix":
            raise JobFailed(f"unsupported offline: S3DataType {source['S3DataType']}")
        if source.get("S3InputMode", "File") != "File":
            raise JobFailed(f"unsupported offline: S3InputMode {source['S3InputMode']}")
        download(s3, source["S3Uri"], container.path(source["LocalPath"]))
    outputs = []
    for item in arguments.get("ProcessingOutputConfig", {}).get("Outputs", []):
        if "S3Output" not in item:
            raise JobFailed(f"unsupported offline: output {item.get('OutputName')!r} is not S3")
        outputs.append(item["S3Output"])
    for output in outputs:
        container.path(output["LocalPath"]).mkdir(parents=True, exist_ok=True)
    _write_json(container.path("/opt/ml/config/processingjobconfig.json"), arguments)
    _write_json(
        container.path("/opt/ml/config/resourceconfig.json"),
        {"current_host": HOST, "hosts": [HOST]},
    )
    _run(
        container,
        script=container.path(entry[1]),
        args=[container.mapped(str(a)) for a in entry[2:]],
        env=container.environment(arguments.get("Environment", {})),
        cwd=container.root,
        timeout=arguments.get("StoppingCondition", {}).get("MaxRuntimeInSeconds"),
    )
    for output in outputs:
        upload(s3, container.path(output["LocalPath"]), output["S3Uri"])
    properties = {
        **arguments,
        "ProcessingJobName": job_name,
        "ProcessingJobArn": job_arn,
        "ProcessingJobStatus": "Completed",
    }
    return StepResult(properties, _property_files(s3, arguments, property_files))


def _property_files(
    s3: Any, arguments: dict[str, Any], declared: list[dict[str, Any]]
) -> dict[str, Any]:
    """Each declared property file, read from its output in S3 once the job has uploaded it."""
    outputs = {
        item["OutputName"]: item["S3Output"]["S3Uri"]
        for item in arguments.get("ProcessingOutputConfig", {}).get("Outputs", [])
    }
    files = {}
    for spec in declared:
        name, output, path = spec["PropertyFileName"], spec["OutputName"], spec["FilePath"]
        if output not in outputs:
            raise JobFailed(f"property file {name}: the job has no output {output!r}")
        uri = f"{outputs[output].rstrip('/')}/{path}"
        bucket, key = split_s3_uri(uri)
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            raise JobFailed(
                f"property file {name}: output {output!r} holds no {path!r} ({uri})"
            ) from None
        try:
            files[name] = json.loads(body)
        except ValueError as error:
            raise JobFailed(f"property file {name}: {uri} is not JSON ({error})") from None
    return files


def run_training(
    arguments: dict[str, Any], *, job_name: str, job_arn: str, container: Container, s3: Any
) -> StepResult:
    """Run one training job through the SDK driver's contract; its DescribeTrainingJob view."""
    spec = arguments.get("AlgorithmSpecification", {})
    command = " ".join([*spec.get("ContainerEntrypoint", []), *spec.get("ContainerArguments", [])])
    channels = {c["ChannelName"]: c for c in arguments.get("InputDataConfig", [])}
    if "sm_drivers" not in channels or "sm_train.sh" not in command:
        raise JobFailed(
            "unsupported offline: a training container other than the SageMaker SDK's "
            "ModelTrainer driver (sm_drivers/sm_train.sh)"
        )
    output = arguments.get("OutputDataConfig", {})
    if output.get("CompressionType", "GZIP") != "GZIP":
        raise JobFailed(f"unsupported offline: CompressionType {output['CompressionType']}")
    data = container.path("/opt/ml/input/data")
    for name, channel in channels.items():
        source = channel["DataSource"].get("S3DataSource")
        if source is None or source.get("S3DataType", "S3Prefix") != "S3Prefix":
            raise JobFailed(f"unsupported offline: channel {name!r} is not an S3Prefix source")
        download(s3, source["S3Uri"], data / name)
    source_code = _read_json(data / "sm_drivers" / "sourcecode.json")
    if _read_json(data / "sm_drivers" / "distributed.json"):
        raise JobFailed("unsupported offline: distributed training (sm_drivers/distributed.json)")
    for option in ("requirements", "command"):
        if source_code.get(option):
            raise JobFailed(f"unsupported offline: SourceCode {option} {source_code[option]!r}")
    entry = str(source_code.get("entry_script") or "")
    if not entry.endswith(".py"):
        raise JobFailed(f"unsupported offline: entry script {entry!r} (only .py runs)")
    hyperparameters = arguments.get("HyperParameters", {})
    config_dir = container.path("/opt/ml/input/config")
    _write_json(config_dir / "hyperparameters.json", hyperparameters)
    _write_json(config_dir / "inputdataconfig.json", {n: {} for n in channels})
    _write_json(config_dir / "resourceconfig.json", {"current_host": HOST, "hosts": [HOST]})
    for path in ("/opt/ml/model", "/opt/ml/output/data"):
        container.path(path).mkdir(parents=True, exist_ok=True)
    env = {
        **arguments.get("Environment", {}),
        **DRIVER_PATHS,
        "TRAINING_JOB_NAME": job_name,
        "TRAINING_JOB_ARN": job_arn,
        "SM_ENTRY_SCRIPT": entry,
        "SM_CHANNELS": json.dumps(list(channels)),
        **{f"SM_CHANNEL_{n.upper()}": f"/opt/ml/input/data/{n}" for n in channels},
        "SM_HPS": json.dumps({k: _deserialized(v) for k, v in hyperparameters.items()}),
        **{
            f"SM_HP_{k.replace('-', '_').upper()}": _serialized(_deserialized(v))
            for k, v in hyperparameters.items()
        },
        "SM_CURRENT_HOST": HOST,
        "SM_HOSTS": json.dumps([HOST]),
        "SM_HOST_COUNT": "1",
        "SM_NUM_GPUS": "0",
    }
    options = [(f"--{k}", _serialized(_deserialized(v))) for k, v in hyperparameters.items()]
    _run(
        container,
        script=data / "code" / entry,
        args=[word for option in options for word in option],
        env=container.environment(env),
        cwd=data / "code",
        timeout=arguments.get("StoppingCondition", {}).get("MaxRuntimeInSeconds"),
    )
    prefix = f"{output['S3OutputPath'].rstrip('/')}/{job_name}/output"
    model_tar = container.root / "model.tar.gz"
    pack_model(container.path("/opt/ml/model"), model_tar)
    bucket, key = split_s3_uri(f"{prefix}/model.tar.gz")
    s3.upload_file(str(model_tar), bucket, key)
    properties = {
        **arguments,
        "TrainingJobName": job_name,
        "TrainingJobArn": job_arn,
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
        "ModelArtifacts": {"S3ModelArtifacts": f"{prefix}/model.tar.gz"},
    }
    return StepResult(properties)


def _run(
    container: Container,
    *,
    script: Path,
    args: list[str],
    env: dict[str, str],
    cwd: Path,
    timeout: float | None,
) -> None:
    """Run the entry script; JobFailed with the end of its stderr unless it exits 0."""
    if not script.is_file():
        raise JobFailed(f"ClientError: no entry script {container.shown(str(script))}")
    stdout, stderr = container.root / "stdout.log", container.root / "stderr.log"
    started = time.monotonic()
    code = processes.run_python(
        script, args, env=env, cwd=cwd, stdout=stdout, stderr=stderr, timeout=timeout
    ).status
    if code == 0:
        return
    if code is None:
        raise JobFailed(f"MaxRuntimeExceeded: stopped after {time.monotonic() - started:.0f} s")
    failure = container.path("/opt/ml/output/failure")
    detail = failure.read_text(errors="replace") if failure.is_file() else ""
    written = stderr.read_text(errors="replace") if stderr.is_file() else ""
    lines = written.strip().splitlines()[-STDERR_LINES:]
    reason = f"AlgorithmError: {PurePosixPath(script).name} exited {code}" + (
        f": {detail.strip()}" if detail.strip() else ""
    )
    tail = container.shown("\n".join(lines))
    room = REASON_MAX - len(reason) - 1
    raise JobFailed(f"{reason}\n{tail[-room:]}" if tail and room > 0 else reason[:REASON_MAX])


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {}


def _write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload), encoding="utf-8")


def _deserialized(value: Any) -> Any:
    """A hyperparameter as the SDK driver reads it: JSON when it parses, else the string."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _serialized(value: Any) -> str:
    """A hyperparameter as the SDK driver passes it on the command line."""
    return value if isinstance(value, str) else json.dumps(value)
