"""Every name this project uses in AWS and GitHub, derived from the template answers in one place.

The CloudFormation stack (infra/), the buildspecs and the workflows use these same names, and
the tests prove they agree. Change a name here and nowhere else.
"""

import hashlib
from datetime import datetime
from pathlib import Path

PROJECT = "{{ cookiecutter.project_slug }}"
PACKAGE = "{{ cookiecutter.__package }}"

AWS_REGION = "{{ cookiecutter.aws_region }}"
AWS_ACCOUNT_ID = "{{ cookiecutter.aws_account_id }}"
# ARNs name the partition: "aws", or "aws-us-gov" in the AWS GovCloud (US) regions.
PARTITION = "aws-us-gov" if AWS_REGION.startswith("us-gov-") else "aws"
GITHUB_OWNER = "{{ cookiecutter.github_owner }}"
GITHUB_REPO = "{{ cookiecutter.github_repo }}"
# GitHub's OIDC subject names the repository. For repositories created, renamed or transferred on
# or after 2026-07-15 it carries the immutable numeric IDs of the owner and the repository,
# `repo:OWNER@OWNER_ID/REPO@REPO_ID:...` (GitHub docs, OpenID Connect, "Immutable subject
# claims"), so a recycled name cannot pass; older repositories send `repo:OWNER/REPO:...`. The
# roles trust exactly one form: the IDs' when they are known (here, or looked up by
# `make bootstrap`), else the names'. `gh api repos/OWNER/REPO --jq '.owner.id, .id'` prints them.
GITHUB_OWNER_ID = "{{ cookiecutter.github_owner_id }}"
GITHUB_REPO_ID = "{{ cookiecutter.github_repo_id }}"
GITHUB_SUBJECT_PREFIX = (
    f"repo:{GITHUB_OWNER}@{GITHUB_OWNER_ID}/{GITHUB_REPO}@{GITHUB_REPO_ID}"
    if GITHUB_OWNER_ID and GITHUB_REPO_ID
    else f"repo:{GITHUB_OWNER}/{GITHUB_REPO}"
)

BRANCHING_MODEL = "{{ cookiecutter.branching_model }}"
# The branch whose pushes retrain the model and deploy it to staging.
INTEGRATION_BRANCH = "{{ cookiecutter.__integration_branch }}"
# How prod's traffic moves to a new model (staging always switches all at once), among the
# strategies SageMaker offers: blue/green all at once, canary or linear, or a rolling update.
STRATEGIES = ({{ cookiecutter._strategies | map("tojson") | join(", ") }})
DEPLOYMENT_STRATEGY = "{{ cookiecutter.deployment_strategy }}"
APPROVAL_MODE = "{{ cookiecutter.approval_mode }}"
# The status the pipeline registers a model with when it passes the gate.
REGISTRATION_STATUS = "{{ cookiecutter.__approval_status }}"

TRAINING_INSTANCE_TYPE = "{{ cookiecutter.training_instance_type }}"
ENDPOINT_INSTANCE_TYPE = "{{ cookiecutter.endpoint_instance_type }}"
ENDPOINT_INSTANCE_COUNT = {{ cookiecutter.endpoint_instance_count | int }}

# ---- Monitoring: what the endpoints capture, and what watches it ------------------------------
# The share of requests (and their responses) every endpoint config captures to S3, in percent
# (DataCaptureConfig.InitialSamplingPercentage); 0 turns capture off.
DATA_CAPTURE_PERCENT = {{ cookiecutter.data_capture_percent | int }}
# Captured data lands under s3://<ARTIFACT_BUCKET>/<DATA_CAPTURE_PREFIX>/<endpoint>/<variant>/
# yyyy/mm/dd/hh/ (SageMaker's layout); the stack expires it after DATA_CAPTURE_DAYS.
DATA_CAPTURE_PREFIX = "data-capture"
DATA_CAPTURE_DAYS = 30
# Where `monitor schedule`'s hourly data-quality jobs write their reports, per endpoint.
MONITORING_REPORTS_PREFIX = "monitoring-reports"
# SageMaker's hourly schedule (ScheduleConfig.ScheduleExpression, CreateMonitoringSchedule).
MONITORING_SCHEDULE_EXPRESSION = "cron(0 * ? * * *)"
MONITORING_INSTANCE_TYPE = "ml.m5.large"
# What the baseline step writes (Model Monitor's file names) and the pipeline attaches to each
# registered version as its DriftCheckBaselines.ModelDataQuality.
BASELINE_STATISTICS = "statistics.json"
BASELINE_CONSTRAINTS = "constraints.json"
# The largest distance between the baseline's and the live distribution of a numeric feature
# before it is a violation: constraints.json's monitoring_config.distribution_constraints
# comparison_threshold (Model Monitor's default, 0.1).
DRIFT_THRESHOLD = 0.1

# The SageMaker scikit-learn image every step runs in (processing, training, serving), and the
# scikit-learn it ships. The step code must work on that version: `make test-compat` checks.
SKLEARN_FRAMEWORK_VERSION = "1.4-2-py312"
SKLEARN_CONTAINER_VERSION = "1.4.2"

# The repository root (this file is src/<package>/config.py).
REPO_ROOT = Path(__file__).resolve().parents[2]
# Where `deploy` and `rollback` draw each deployment's timeline (a PNG per endpoint config); the
# deploy workflows upload this folder, relative to the repository, as the run's artifact.
DEPLOY_TIMELINES_FOLDER = "build/deploy"
DEPLOY_TIMELINES = REPO_ROOT / DEPLOY_TIMELINES_FOLDER

# ---- The data set: the one setting to change to bring your own data ---------------------------
# Read by everything that touches data: `run-local` and `make local` (their --data, --target,
# --drop and --positive-class override it for one run), the pipeline's input and step arguments,
# the deploy smoke test's rows, and the tests. README.md, "Bring your own data", has the steps.
# The table: a CSV with a header row (data/README.md describes the bundled sample).
DATA_FILE = REPO_ROOT / "data" / "breast_cancer.csv"
# Where the SageMaker pipeline reads the table. Empty: `pipeline upsert` uploads DATA_FILE to the
# artifact bucket under a key holding its content hash, so a changed file is a new upload and a
# new default input. An s3:// URI instead: a table kept in S3 (the execution role must read it).
DATA_URI = ""
# "binary" or "multiclass": what the target holds, and so which metrics the evaluation reports.
TASK = "{{ cookiecutter.task }}"
TARGET_COLUMN = "malignant"
# Binary only: the target's label that counts as positive (1 in the model; precision, recall and
# F1 are about it). Empty: the label 1, yes or true (in any case).
POSITIVE_CLASS = ""
# Columns the model must never see: IDs, row numbers, anything known only after the outcome.
DROP_COLUMNS: tuple[str, ...] = ()

# ---- The gate: what a trained model must reach to be registered ---------------------------------
# Its GATE_METRIC on the held-out test set must be at least GATE_THRESHOLD (a pipeline parameter,
# GateThreshold, can change it per run) and above the best constant classifier's score on the same
# rows (always predicting the same class), so a model that learnt nothing cannot pass.
GATE_METRIC = "{{ cookiecutter.gate_metric }}"
GATE_THRESHOLD = {{ cookiecutter.gate_threshold | float }}
GATE_METRICS = ("balanced_accuracy", "accuracy", "f1", "roc_auc")
# evaluation.json holds SageMaker's model-quality format under this key (the Model Registry shows
# it); which of its fields is the gate metric is the evaluate step's to say (GATE_FIELDS there).
METRICS_KEY = f"{TASK}_classification_metrics"
# The champion: the latest Approved version in the model package group, the model in production.
# A new model must also reach the champion's GATE_METRIC minus CHAMPION_TOLERANCE, both scored by
# the evaluate step on the same test rows (a pipeline parameter, ChampionTolerance, can change
# it per run). The first model of a project has no champion and meets the two bars above alone.
CHAMPION_TOLERANCE = {{ cookiecutter.champion_tolerance | float }}
# Where evaluation.json holds the champion: the bar the gate compares with (its score minus the
# tolerance; 0 without a champion), its version ("none") and the difference ("+0.0123"; "none"),
# which the registered version records in its metadata, and a sentence for the Fail step.
CHAMPION_KEY = "champion"
# Where evaluation.json holds the Evaluate step's reading of the gate: the gate metric's score and
# the best constant classifier's on the same rows, which the pipeline's condition step compares
# (JsonGet), as do run-local, the registry and the story; and the step's own verdict with its
# one-line reason, which run-local and the Report step show.
GATE_KEY = "gate"
GATE_JSON_PATH = f"{GATE_KEY}.score"
BASELINE_JSON_PATH = f"{GATE_KEY}.baseline"
CHAMPION_BAR_JSON_PATH = f"{CHAMPION_KEY}.bar"
CHAMPION_VERSION_JSON_PATH = f"{CHAMPION_KEY}.version"
CHAMPION_CHANGE_JSON_PATH = f"{CHAMPION_KEY}.change"
CHAMPION_VERDICT_JSON_PATH = f"{CHAMPION_KEY}.verdict"

# What the step scripts (src/{{ cookiecutter.__package }}/steps/) are given as arguments, by the
# pipeline and by `run-local` alike. The scripts run alone in the containers and cannot import this.
TEST_SIZE = 0.2
RANDOM_SEED = 42
# Training hyperparameters, as the train step's command-line options (--c, --max-iter).
HYPERPARAMETERS = {"c": 1.0, "max-iter": 1000}
# Each step's options by name (`--name value`); evaluate's threshold is a pipeline parameter.
PREPROCESS_OPTIONS: dict[str, object] = {
    "target": TARGET_COLUMN,
    "task": TASK,
    "test-size": TEST_SIZE,
    "seed": RANDOM_SEED,
    # Left out when empty: a container argument or hyperparameter is never an empty string.
    **({"positive-class": POSITIVE_CLASS} if POSITIVE_CLASS else {}),
    **({"drop": ",".join(DROP_COLUMNS)} if DROP_COLUMNS else {}),
}
TRAIN_OPTIONS: dict[str, object] = {"target": TARGET_COLUMN, "seed": RANDOM_SEED, **HYPERPARAMETERS}
BASELINE_OPTIONS: dict[str, object] = {"target": TARGET_COLUMN, "drift-threshold": DRIFT_THRESHOLD}
EVALUATE_OPTIONS: dict[str, object] = {
    "target": TARGET_COLUMN,
    "task": TASK,
    "gate-metric": GATE_METRIC,
}
REPORT_OPTIONS: dict[str, object] = {"target": TARGET_COLUMN}

ENVIRONMENTS = ("staging", "prod")
# The one road to prod: it takes only a version staging verified (deployed, InService, smoke test
# passed), by default the one staging serves (promotion/road.py).
VERIFIED_BEFORE = {"prod": "staging"}
# Blue/green deployments need the new endpoint config to keep the running variant's name.
VARIANT_NAME = "AllTraffic"
# What the serving hooks (steps/inference.py) accept and answer; registered on every package.
CONTENT_TYPES = ("text/csv", "application/json")
# How the scikit-learn serving container finds those hooks: the training step packs
# inference.py into model.tar.gz under code/, which the container unpacks to /opt/ml/model.
SERVING_ENVIRONMENT = {
    "SAGEMAKER_PROGRAM": "inference.py",
    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
}

# Bucket names are global, so they carry the account. Not the region: the project lives in one
# region (every client is pinned to AWS_REGION), and without it a 40-character slug still fits
# S3's 63 characters ("<slug>-artifacts-<account>" is the longest).
SOURCE_BUCKET = f"{PROJECT}-source-{AWS_ACCOUNT_ID}"
ARTIFACT_BUCKET = f"{PROJECT}-artifacts-{AWS_ACCOUNT_ID}"
# Server access logs of the two buckets above: who uploaded which code, who read which model.
ACCESS_LOG_BUCKET = f"{PROJECT}-logs-{AWS_ACCOUNT_ID}"
# The retrain workflow uploads each commit here; the bucket is versioned, and CodePipeline
# starts on the object version of that exact upload.
SOURCE_OBJECT_KEY = "source/source.zip"

MODEL_PACKAGE_GROUP = f"{PROJECT}-models"
# Retraining one commit is "retrain" everywhere: the workflow, the CLI command, the CodePipeline,
# the CodeBuild project and its buildspec, and the SageMaker pipeline that trains the model.
SAGEMAKER_PIPELINE = f"{PROJECT}-retrain"
# Where `pipeline upsert` uploads DATA_FILE in the artifact bucket: input/<content hash>/<name>.
INPUT_DATA_PREFIX = "input"

# Two CodePipelines, so that the registry is the one gate between training and serving:
# retrain (Source -> Retrain) is started by the merge workflow for one exact commit; deploy is
# started by EventBridge when a package in the group becomes Approved: Source -> DeployStaging,
# then under GitHub Flow ApproveProduction -> DeployProd (the version staging verified); under
# Gitflow the merge to main promotes instead (promote.yml), so prod has one road either way.
CODEPIPELINE_RETRAIN = f"{PROJECT}-retrain"
CODEPIPELINE_DEPLOY = f"{PROJECT}-deploy"
SOURCE_ACTION = "Source"
CODEBUILD_RETRAIN = f"{PROJECT}-retrain"
CODEBUILD_DEPLOY = f"{PROJECT}-deploy"
# What each CodeBuild project runs (infra/stack.yml names the same files).
BUILDSPEC_RETRAIN = "buildspec-retrain.yml"
BUILDSPEC_DEPLOY = "buildspec-deploy.yml"
# Variables passed from CodePipeline into CodeBuild, and read by the two
# buildspecs under these same names.
COMMIT_SHA_VARIABLE = "COMMIT_SHA"
# The data a retrain reads: an s3:// URI, or DEFAULT_INPUT_DATA for the data set named above
# (CodePipeline variables cannot be empty, so "keep the default" needs a word of its own).
INPUT_DATA_VARIABLE = "INPUT_DATA_URI"
DEFAULT_INPUT_DATA = "default"
DEPLOY_ENV_VARIABLE = "DEPLOY_ENV"

SAGEMAKER_EXECUTION_ROLE = f"{PROJECT}-sagemaker-execution"
GITHUB_RETRAIN_ROLE = f"{PROJECT}-github-retrain"

# Time budgets, in seconds. Each wait fits inside the one that contains it, so whoever gives up
# first is the innermost waiter, which says why (tests/test_budgets.py proves the nesting, and
# that the workflows and the stack use these figures).
# Retraining: the SageMaker pipeline, inside the retrain build (plus install and tests), inside
# the retrain CodePipeline (plus CodeBuild's queue and the source stage), inside the GitHub job.
PIPELINE_WAIT_SECONDS = 150 * 60  # `pipeline start --wait` gives up (exit 6)
RETRAIN_BUILD_SECONDS = PIPELINE_WAIT_SECONDS + 20 * 60  # CodeBuild TimeoutInMinutes
RETRAIN_BUILD_QUEUE_SECONDS = 15 * 60  # CodeBuild QueuedTimeoutInMinutes
# `retrain --wait` gives up (exit 6) after this:
RETRAIN_WAIT_SECONDS = RETRAIN_BUILD_SECONDS + RETRAIN_BUILD_QUEUE_SECONDS + 10 * 60
RETRAIN_JOB_SECONDS = RETRAIN_WAIT_SECONDS + 10 * 60  # the GitHub retrain job's timeout-minutes
# Deploying: `deploy` refuses a plan whose worst case (SageMaker's maximum execution time, then a
# rollback) would not fit DEPLOY_WAIT_SECONDS; the GitHub job and the deploy build outlive it.
DEPLOY_WAIT_SECONDS = 230 * 60
DEPLOY_JOB_SECONDS = DEPLOY_WAIT_SECONDS + 10 * 60  # GitHub timeout-minutes, CodeBuild timeout
# The workflows wait under one OIDC session: the GitHub roles' MaxSessionDuration.
GITHUB_SESSION_SECONDS = max(RETRAIN_JOB_SECONDS, DEPLOY_JOB_SECONDS)
# The branches whose pushes start a retrain: the retrain role trusts exactly these (the token
# subject `GITHUB_SUBJECT_PREFIX:ref:refs/heads/BRANCH`; the retrain job has no GitHub environment).
# Under Gitflow, main does not retrain: a merge to main promotes to prod the version staging
# verified (VERIFIED_BEFORE), in the GitHub environment `prod` like every deploy job.
RETRAIN_BRANCHES = (INTEGRATION_BRANCH,)

# The CloudFormation stack (infra/stack.yml) that creates all of the above: `make bootstrap`.
STACK_NAME = f"{PROJECT}-mlops"
# GitHub variables the workflows read their role ARNs from; `make bootstrap` prints the stack
# outputs to copy into them. The deploy role's is set once per GitHub environment.
RETRAIN_ROLE_ARN_VARIABLE = "AWS_RETRAIN_ROLE_ARN"
DEPLOY_ROLE_ARN_VARIABLE = "AWS_DEPLOY_ROLE_ARN"


def github_subject(context: str) -> str:
    """The OIDC subject of this repository's jobs in `context` (`ref:refs/heads/main`, ...)."""
    return f"{GITHUB_SUBJECT_PREFIX}:{context}"


def github_deploy_role(env: str) -> str:
    """The role the manual-deploy workflow assumes for one environment."""
    return f"{PROJECT}-github-deploy-{_checked(env)}"


def endpoint_name(env: str) -> str:
    """The SageMaker endpoint serving one environment."""
    return f"{PROJECT}-{_checked(env)}"


def deployment_resource_name(env: str, started_at: datetime) -> str:
    """The Model and EndpointConfig one deployment to `env` creates, named for its start time.

    The version is not in the name (it is in the resources' tags): "<endpoint>-<UTC time to the
    hundredth of a second>" stays within SageMaker's 63 characters for a 40-character slug,
    which a version would not, and two deployments (a deploy, then at once a rollback) never
    share a name: SageMaker refuses to create a second config of the same name.
    """
    hundredths = started_at.microsecond // 10_000
    return f"{endpoint_name(env)}-{started_at:%y%m%d%H%M%S}{hundredths:02d}"


def alarm_names(env: str) -> dict[str, str]:
    """The CloudWatch alarms a deployment to `env` rolls back on, by what they watch."""
    endpoint = endpoint_name(env)
    return {
        "5xx": f"{endpoint}-invocation-5xx-errors",
        "4xx": f"{endpoint}-invocation-4xx-errors",
        "latency": f"{endpoint}-model-latency",
    }


def data_capture_uri() -> str:
    """Where every endpoint captures to; SageMaker adds <endpoint>/<variant>/yyyy/mm/dd/hh/."""
    return f"s3://{ARTIFACT_BUCKET}/{DATA_CAPTURE_PREFIX}"


def monitoring_schedule_name(env: str) -> str:
    """The hourly data-quality monitoring schedule of one environment's endpoint."""
    return f"{endpoint_name(env)}-data-quality"


def drift_alarm_name(env: str, part: int) -> str:
    """One of the alarms on the schedule's drift metrics (an alarm reads at most 10 metrics)."""
    return f"{endpoint_name(env)}-data-drift-{part}"


# What each rollback alarm watches (SageMaker's endpoint metrics, namespace AWS/SageMaker).
ALARM_METRICS = {
    "5xx": "Invocation5XXErrors",
    "4xx": "Invocation4XXErrors",
    "latency": "ModelLatency",
}


def default_strategy(env: str) -> str:
    """Staging always switches all at once; prod uses the project's chosen strategy."""
    return "all-at-once" if _checked(env) == "staging" else DEPLOYMENT_STRATEGY


def command_line(options: dict[str, object]) -> list[str]:
    """A step script's `--name value` arguments, from one of the *_OPTIONS above."""
    return [arg for name, value in options.items() for arg in (f"--{name}", str(value))]


def input_data_key(path: Path | None = None) -> str:
    """DATA_FILE's key in the artifact bucket: named by its content, so a change is a new key."""
    path = path or DATA_FILE
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return f"{INPUT_DATA_PREFIX}/{digest[:16]}/{path.name}"


def input_data_uri() -> str:
    """The pipeline's default input: DATA_URI when set, else where upsert uploads DATA_FILE."""
    return DATA_URI or f"s3://{ARTIFACT_BUCKET}/{input_data_key()}"


def role_arn(role_name: str, account_id: str = AWS_ACCOUNT_ID) -> str:
    """The ARN of one of this project's IAM roles."""
    return f"arn:{PARTITION}:iam::{account_id}:role/{role_name}"


def _checked(env: str) -> str:
    if env not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {env!r}; expected one of {', '.join(ENVIRONMENTS)}")
    return env
