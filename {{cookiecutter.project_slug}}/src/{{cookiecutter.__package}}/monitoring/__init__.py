"""Production monitoring: data capture, the served version's baseline, schedules, drift checks.

Plain boto3, like promotion/: `deploy` sets capture on every endpoint config it creates and
re-points the schedule; the `monitor` command schedules, shows and checks.
"""
