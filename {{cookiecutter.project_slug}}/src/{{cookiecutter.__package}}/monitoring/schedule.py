"""The hourly data-quality schedule of an endpoint, its drift alarms, and its re-pointing.

`monitor schedule` creates (or updates) one SageMaker monitoring schedule per endpoint with the
job defined inline (MonitoringScheduleConfig.MonitoringJobDefinition: Model Monitor's analyzer
image, the endpoint as input, the served version's statistics.json and constraints.json as the
baseline), and CloudWatch alarms on the drift metrics the analyzer publishes. `deploy` and
`rollback` call `repoint` after a successful deployment: the schedule then compares traffic
with the new version's own baseline. No schedule, nothing to re-point: deploy goes on.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.monitoring import baseline
from {{ cookiecutter.__package }}.monitoring.baseline import Baseline

# Where the analyzer reads the endpoint's captured data and writes its reports, in its container.
INPUT_PATH = "/opt/ml/processing/input/endpoint"
OUTPUT_PATH = "/opt/ml/processing/output"
# The analyzer publishes feature_baseline_drift_<feature> here, per endpoint and schedule
# (SageMaker developer guide, "Monitoring Amazon SageMaker with Amazon CloudWatch", data-metrics).
DRIFT_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
DRIFT_METRIC = "feature_baseline_drift_{}"
# An alarm on a metric math expression reads at most 10 metrics (CloudWatch user guide,
# "Limits that apply to alarms based on metric math expressions"): one alarm per 10 features.
METRICS_PER_ALARM = 10
EXECUTIONS_SHOWN = 5


def describe(sm: Any, env: str) -> dict[str, Any] | None:
    """The endpoint's schedule, or None when there is none (SageMaker: ResourceNotFound)."""
    try:
        return sm.describe_monitoring_schedule(
            MonitoringScheduleName=config.monitoring_schedule_name(env)
        )
    except aws.ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFound":
            return None
        raise


def job_definition(env: str, served: Baseline, image: str) -> dict[str, Any]:
    """The inline data-quality job: the endpoint's capture against the version's baseline."""
    endpoint = config.endpoint_name(env)
    return {
        "BaselineConfig": {
            "ConstraintsResource": {"S3Uri": served.constraints_uri},
            "StatisticsResource": {"S3Uri": served.statistics_uri},
        },
        "MonitoringInputs": [
            {"EndpointInput": {"EndpointName": endpoint, "LocalPath": INPUT_PATH}}
        ],
        "MonitoringOutputConfig": {
            "MonitoringOutputs": [
                {
                    "S3Output": {
                        "S3Uri": (
                            f"s3://{config.ARTIFACT_BUCKET}/"
                            f"{config.MONITORING_REPORTS_PREFIX}/{endpoint}"
                        ),
                        "LocalPath": OUTPUT_PATH,
                        "S3UploadMode": "EndOfJob",
                    }
                }
            ]
        },
        "MonitoringResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": config.MONITORING_INSTANCE_TYPE,
                "VolumeSizeInGB": 20,
            }
        },
        "MonitoringAppSpecification": {"ImageUri": image},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        # The analyzer's settings, as the SDK's DefaultModelMonitor passes them.
        "Environment": {"publish_cloudwatch_metrics": "Enabled"},
        "RoleArn": config.role_arn(config.SAGEMAKER_EXECUTION_ROLE),
    }


def schedule_config(env: str, served: Baseline, image: str) -> dict[str, Any]:
    """MonitoringScheduleConfig: hourly, with the job defined inline."""
    return {
        "ScheduleConfig": {"ScheduleExpression": config.MONITORING_SCHEDULE_EXPRESSION},
        "MonitoringJobDefinition": job_definition(env, served, image),
    }


def upsert(sm: Any, env: str, served: Baseline, image: str) -> str:
    """Create the schedule, or update it to this baseline; 'created' or 'updated'."""
    name = config.monitoring_schedule_name(env)
    wanted = schedule_config(env, served, image)
    if describe(sm, env) is None:
        sm.create_monitoring_schedule(
            MonitoringScheduleName=name,
            MonitoringScheduleConfig=wanted,
            Tags=[{"Key": "project", "Value": config.PROJECT}],
        )
        return "created"
    sm.update_monitoring_schedule(MonitoringScheduleName=name, MonitoringScheduleConfig=wanted)
    return "updated"


def drift_alarms(cw: Any, env: str, features: list[str], threshold: float) -> list[str]:
    """One alarm per 10 features, on the largest drift the analyzer published in an hour."""
    dimensions = [
        {"Name": "Endpoint", "Value": config.endpoint_name(env)},
        {"Name": "MonitoringSchedule", "Value": config.monitoring_schedule_name(env)},
    ]
    names = []
    chunks = [
        features[i : i + METRICS_PER_ALARM] for i in range(0, len(features), METRICS_PER_ALARM)
    ]
    for part, chunk in enumerate(chunks, start=1):
        metrics: list[dict[str, Any]] = [
            {
                "Id": f"m{i}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": DRIFT_NAMESPACE,
                        "MetricName": DRIFT_METRIC.format(feature),
                        "Dimensions": dimensions,
                    },
                    "Period": 3600,
                    "Stat": "Maximum",
                },
                "ReturnData": False,
            }
            for i, feature in enumerate(chunk)
        ]
        ids = ", ".join(m["Id"] for m in metrics)
        metrics.append({"Id": "drift", "Expression": f"MAX([{ids}])", "ReturnData": True})
        name = config.drift_alarm_name(env, part)
        cw.put_metric_alarm(
            AlarmName=name,
            AlarmDescription=(
                f"Live inputs of {config.endpoint_name(env)} drifted from the served version's "
                f"training data: {', '.join(chunk)}"
            ),
            Metrics=metrics,
            EvaluationPeriods=1,
            Threshold=threshold,
            ComparisonOperator="GreaterThanThreshold",
            # No execution in the hour (no traffic) is no evidence of drift.
            TreatMissingData="notBreaching",
        )
        names.append(name)
    return names


def create(env: str, clients: Any, image: str, echo: Callable[[str], None] = print) -> int:
    """`monitor schedule`: the hourly schedule on the served version's baseline, and its alarms."""
    served = baseline.served(clients.sm, env)
    if not config.DATA_CAPTURE_PERCENT:
        raise CliError(
            "data capture is off (config.DATA_CAPTURE_PERCENT is 0): a schedule would have "
            "nothing to read; set it, then deploy again",
            ExitCode.REFUSED,
        )
    constraints = baseline.read_json(clients.s3, served.constraints_uri)
    features = [rule["name"] for rule in constraints["features"]]
    threshold = float(
        constraints.get("monitoring_config", {})
        .get("distribution_constraints", {})
        .get("comparison_threshold", config.DRIFT_THRESHOLD)
    )
    action = upsert(clients.sm, env, served, image)
    echo(
        f"{action} {config.monitoring_schedule_name(env)}: hourly "
        f"({config.MONITORING_SCHEDULE_EXPRESSION}), version {served.version}'s baseline"
    )
    alarms = drift_alarms(clients.cw, env, features, threshold)
    echo(f"drift alarms (distance > {threshold}): {', '.join(alarms)}")
    return ExitCode.OK


def repoint(sm: Any, env: str, package: dict[str, Any], echo: Callable[[str], None]) -> None:
    """After a deployment: point an existing schedule at the new version's baseline."""
    existing = describe(sm, env)
    if existing is None:
        return  # monitoring is not set up for this endpoint: nothing to re-point
    served = baseline.of_package(package)
    version = package["ModelPackageVersion"]
    if served is None:
        echo(
            f"warning: version {version} has no data-quality baseline; "
            f"{config.monitoring_schedule_name(env)} keeps comparing with the previous one"
        )
        return
    wanted = copy.deepcopy(existing["MonitoringScheduleConfig"])
    definition = wanted.get("MonitoringJobDefinition")
    if definition is None:
        echo(
            f"warning: {config.monitoring_schedule_name(env)} names a job definition, not an "
            "inline one; `monitor schedule` replaces it with this version's baseline"
        )
        return
    definition["BaselineConfig"] = {
        "ConstraintsResource": {"S3Uri": served.constraints_uri},
        "StatisticsResource": {"S3Uri": served.statistics_uri},
    }
    sm.update_monitoring_schedule(
        MonitoringScheduleName=config.monitoring_schedule_name(env), MonitoringScheduleConfig=wanted
    )
    name = config.monitoring_schedule_name(env)
    echo(f"monitoring: {name} now uses version {version}'s baseline")


def status(env: str, clients: Any, echo: Callable[[str], None] = print) -> int:
    """`monitor status`: the schedule, its baseline, its last executions and its alarms."""
    existing = describe(clients.sm, env)
    name = config.monitoring_schedule_name(env)
    if existing is None:
        raise CliError(
            f"no monitoring schedule {name} in {aws.region_text()}: "
            f"`python -m {config.PACKAGE} monitor schedule --env {env}` creates it",
            ExitCode.NOT_SET_UP,
        )
    scheduled = existing["MonitoringScheduleConfig"]
    uri = (
        scheduled.get("MonitoringJobDefinition", {})
        .get("BaselineConfig", {})
        .get("StatisticsResource", {})
        .get("S3Uri", "(a job definition)")
    )
    echo(
        f"{name}: {existing['MonitoringScheduleStatus']}, "
        f"{scheduled['ScheduleConfig']['ScheduleExpression']}; baseline {uri}"
    )
    executions = clients.sm.list_monitoring_executions(
        MonitoringScheduleName=name,
        SortBy="ScheduledTime",
        SortOrder="Descending",
        MaxResults=EXECUTIONS_SHOWN,
    )["MonitoringExecutionSummaries"]
    if not executions:
        echo("executions: none yet (the first runs at the top of the next hour)")
    for execution in executions:
        # CompletedWithViolations: the analyzer found violations (its constraint_violations.json).
        echo(
            f"  {execution['ScheduledTime']:%Y-%m-%d %H:%M} "
            f"{execution['MonitoringExecutionStatus']}"
            + (f": {execution['FailureReason']}" if execution.get("FailureReason") else "")
        )
    alarms = clients.cw.describe_alarms(
        AlarmNamePrefix=f"{config.endpoint_name(env)}-data-drift-", AlarmTypes=["MetricAlarm"]
    )["MetricAlarms"]
    states = ", ".join(f"{a['AlarmName']}={a['StateValue']}" for a in alarms) or "none"
    echo(f"drift alarms: {states}")
    return ExitCode.OK
