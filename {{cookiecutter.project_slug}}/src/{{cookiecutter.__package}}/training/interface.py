"""What the SageMaker pipeline exposes: its step names and its parameters.

Shared by the definition (built with the SDK) and the code that starts and follows executions
(boto3 only), so both speak of the same steps and parameters.
"""

from {{ cookiecutter.__package }} import config

# Step names: ListPipelineExecutionSteps reports these, and the tests and docs name them.
PREPROCESS, TRAIN, EVALUATE, GATE, REGISTER, FAIL = (
    "Preprocess",
    "Train",
    "Evaluate",
    "QualityGate",
    "Register",
    "BelowQualityGate",
)
# The data-quality baseline of the training rows (steps/baseline.py): each version carries its own.
BASELINE = "Baseline"
EVALUATION_REPORT = "EvaluationReport"  # the PropertyFile the gate reads evaluation.json through
NO_COMMIT = "unknown"

# Pipeline parameters and their defaults: what a run can override (`pipeline start` and the
# console), without a new definition.
PARAMETERS: dict[str, str | int | float] = {
    # The data set's table: config.DATA_URI, else DATA_FILE as `pipeline upsert` uploads it.
    "InputDataUri": config.input_data_uri(),
    "ProcessingInstanceType": config.TRAINING_INSTANCE_TYPE,
    "ProcessingInstanceCount": 1,
    "TrainingInstanceType": config.TRAINING_INSTANCE_TYPE,
    "TrainingInstanceCount": 1,
    "GateThreshold": config.GATE_THRESHOLD,
    "ModelApprovalStatus": config.REGISTRATION_STATUS,
    "CommitSha": NO_COMMIT,
}
