"""Training: the step code run locally, the SageMaker pipeline, and retraining one commit.

`definition` is the only module here (and in the package) that imports the SageMaker SDK;
`execution` starts and follows executions with boto3 alone, so `pipeline start` never pays for
the SDK.
"""
