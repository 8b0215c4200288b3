"""Promotion: from the model registry to the endpoints, with plain boto3 (never the SageMaker SDK).

`registry` approves and rejects versions; `shift` turns a traffic-shifting strategy into
SageMaker's DeploymentConfig; `endpoint` reads, watches and judges an endpoint; `deploy` and
`rollback` put a version on an endpoint.
"""
