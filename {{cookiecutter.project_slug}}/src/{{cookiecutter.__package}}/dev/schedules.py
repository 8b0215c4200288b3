"""Monitoring schedules in the local emulator, which moto does not implement.

CreateMonitoringSchedule, DescribeMonitoringSchedule, UpdateMonitoringSchedule,
DeleteMonitoringSchedule and ListMonitoringExecutions, answered as the SageMaker API reference
describes them: a new schedule is Scheduled, a name is unique per account and region, a missing
one is ResourceNotFound, an update replaces the whole MonitoringScheduleConfig. No monitoring job
runs on the hour here, so a schedule has no executions: `monitor check` is the offline look at
the captured data.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any


class MonitoringSchedules:
    """The schedules of every account and region the emulator serves."""

    OPERATIONS = (
        "CreateMonitoringSchedule",
        "DescribeMonitoringSchedule",
        "UpdateMonitoringSchedule",
        "DeleteMonitoringSchedule",
        "ListMonitoringExecutions",
    )

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.schedules: dict[tuple[str, str, str], dict[str, Any]] = {}

    def call(self, operation: str, params: dict[str, Any], account: str, region: str) -> Any:
        """Answer one operation; LookupError for a missing schedule, ValueError for a bad one."""
        name = params.get("MonitoringScheduleName", "")
        key = (account, region, name)
        with self.lock:
            if operation == "ListMonitoringExecutions":
                return {"MonitoringExecutionSummaries": []}
            if operation == "CreateMonitoringSchedule":
                if key in self.schedules:
                    raise ValueError(f"Monitoring schedule {name} already exists")
                self.schedules[key] = self._new(params, account, region)
                return {"MonitoringScheduleArn": self.schedules[key]["MonitoringScheduleArn"]}
            schedule = self.schedules.get(key)
            if schedule is None:
                raise LookupError(f"Monitoring schedule {name} does not exist")
            if operation == "DescribeMonitoringSchedule":
                return dict(schedule)
            if operation == "DeleteMonitoringSchedule":
                del self.schedules[key]
                return {}
            schedule["MonitoringScheduleConfig"] = params["MonitoringScheduleConfig"]
            schedule["LastModifiedTime"] = dt.datetime.now(dt.UTC)
            return {"MonitoringScheduleArn": schedule["MonitoringScheduleArn"]}

    @staticmethod
    def _new(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
        config = params["MonitoringScheduleConfig"]
        inputs = config.get("MonitoringJobDefinition", {}).get("MonitoringInputs", [])
        endpoint = next(
            (i["EndpointInput"]["EndpointName"] for i in inputs if "EndpointInput" in i), None
        )
        name = params["MonitoringScheduleName"]
        now = dt.datetime.now(dt.UTC)
        partition = "aws-us-gov" if region.startswith("us-gov-") else "aws"
        schedule = {
            "MonitoringScheduleArn": (
                f"arn:{partition}:sagemaker:{region}:{account}:monitoring-schedule/{name.lower()}"
            ),
            "MonitoringScheduleName": name,
            "MonitoringScheduleStatus": "Scheduled",
            "MonitoringType": config.get("MonitoringType", "DataQuality"),
            "CreationTime": now,
            "LastModifiedTime": now,
            "MonitoringScheduleConfig": config,
        }
        if endpoint is not None:
            schedule["EndpointName"] = endpoint
        return schedule
