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
# report.md and the plots of an evaluation (steps/report.py), before the gate judges it.
REPORT = "Report"
EVALUATION_REPORT = "EvaluationReport"  # the PropertyFile the gate reads evaluation.json through
NO_COMMIT = "unknown"


def hyperparameter_parameter(name: str) -> str:
    """A training hyperparameter's pipeline parameter: "max-iter" -> "HyperparameterMaxIter"."""
    return "Hyperparameter" + "".join(part.capitalize() for part in name.split("-"))


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
    # The champion the new model must not fall behind: `pipeline start` finds it in the registry
    # and passes its model data and version; empty when there is none (the project's first model).
    "ChampionModelData": "",
    "ChampionVersion": "",
    "ChampionTolerance": config.CHAMPION_TOLERANCE,
    # The training hyperparameters (config.HYPERPARAMETERS), each a parameter a run can override
    # (`pipeline start --hyperparameter c=0.5`), as strings: what training jobs receive.
    **{hyperparameter_parameter(name): str(v) for name, v in config.HYPERPARAMETERS.items()},
}
