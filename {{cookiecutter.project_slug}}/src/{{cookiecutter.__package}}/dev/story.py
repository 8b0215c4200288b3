"""The whole flow, offline, in one command: from a pull request to an alarm rolling prod back.

Development tooling, like emulator.py: it runs the same commands as the pull-request workflow,
the buildspec and the promotion jobs, but against the local AWS emulator on 127.0.0.1, which runs
the upserted pipeline definition itself: its steps as local processes, its gate, its Register
step. Nothing here reaches AWS.
"""

from __future__ import annotations

import importlib
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import yaml

from {{ cookiecutter.__package }} import aws, config, processes
from {{ cookiecutter.__package }}.dev import emulator, story_monitoring
from {{ cookiecutter.__package }}.errors import CliError, ExitCode
from {{ cookiecutter.__package }}.promotion import endpoint, history, registry
from {{ cookiecutter.__package }}.training.interface import REPORT

# The buildspec runs the CLI through uv; here the CLI runs on this same interpreter.
BUILDSPEC_RUN_PREFIX = "uv run --locked "
# Stand-ins for the commits CodePipeline would pass (the repo may not even be a git checkout).
COMMITS = ("1" * 40, "2" * 40, "3" * 40)
# The third merge's deliberately weaker challenger: a thousand times stronger regularization. On
# the sample data it still clears the threshold (balanced accuracy 0.881, accuracy 0.912, F1 0.865,
# ROC AUC 0.987) but falls behind the champion (0.976, 0.982, 0.976, 0.994) by more than a small
# tolerance: the champion gate, and only it, refuses it.
WEAKER = {"c": "0.001"}
# Local polling: the emulator shifts traffic in well under a second, and runs a pipeline step
# in about one.
FAST_POLL = ["--poll-seconds", "0.05"]
# The buildspec command that starts the SageMaker pipeline and waits for it.
PIPELINE_START = "pipeline start"
# Where, under the story's workdir, the emulator runs the pipeline's jobs and leaves their files.
JOBS = "pipeline-executions"


@dataclass
class Stage:
    """One line of the summary table."""

    name: str
    seconds: float
    outcome: str


@dataclass
class Story:
    """Runs commands with the emulator's environment and keeps the timing of each stage."""

    env: dict[str, str]
    log: Callable[[str], None] = print
    stages: list[Stage] = field(default_factory=list)

    def stage(self, name: str, action: Callable[[], str]) -> str:
        """Run one stage, print its line with its time, and record it."""
        started = time.perf_counter()
        outcome = action()
        seconds = time.perf_counter() - started
        self.stages.append(Stage(name, seconds, outcome))
        # 51: the longest name, "deploy version 2 to prod (all-at-once), alarm fires".
        self.log(f"[{len(self.stages):>2}] {name:<51} {seconds:6.1f}s  {outcome}")
        return outcome

    def run(
        self, *command: str, expect: int = ExitCode.OK, env: dict[str, str] | None = None
    ) -> str:
        """Run a command in the repository; anything but the expected exit code stops the story."""
        result = subprocess.run(  # noqa: S603 - the commands are this repo's own tools
            command,
            cwd=config.REPO_ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != expect:
            output = (result.stdout + result.stderr).strip()[-3000:]
            if result.returncode == ExitCode.BELOW_THRESHOLD:
                # As in CodeBuild: the model missed the gate, nothing was registered, and the
                # rest of the story has nothing to deploy.
                raise CliError(
                    f"`{shlex.join(command)}`: the model did not pass the quality gate, so nothing "
                    f"was registered and the story stops here:\n{output}",
                    ExitCode.BELOW_THRESHOLD,
                )
            raise CliError(
                f"`{shlex.join(command)}` exited {result.returncode}, expected {expect}:\n{output}",
                ExitCode.FAILED,
            )
        return result.stdout + result.stderr

    def cli(self, *args: str, expect: int = ExitCode.OK) -> str:
        """Run this repo's command line, as the workflows and CodeBuild do."""
        return self.run(sys.executable, "-m", config.PACKAGE, *args, expect=expect)


def pull_request_commands() -> list[list[str]]:
    """What the pull-request gate runs: lint, format check, tests."""
    return [
        [sys.executable, "-m", "ruff", "check", "."],
        [sys.executable, "-m", "ruff", "format", "--check", "."],
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
    ]


def buildspec_build_commands() -> list[str]:
    """The build phase of buildspec-retrain.yml, in order, as CodeBuild runs them."""
    spec = yaml.safe_load((config.REPO_ROOT / config.BUILDSPEC_RETRAIN).read_text(encoding="utf-8"))
    return [
        command.replace(f"{BUILDSPEC_RUN_PREFIX}python", shlex.quote(sys.executable), 1)
        for command in spec["phases"]["build"]["commands"]
    ]


def clear_alarm(alarm: str) -> None:
    """The incident is over: the alarm returns to OK."""
    aws.client("cloudwatch").set_alarm_state(
        AlarmName=alarm, StateValue="OK", StateReason="story: incident over"
    )


def merge(story: Story, command: str) -> str:
    """One buildspec build command; starting the pipeline runs it for real in the emulator."""
    if PIPELINE_START in command:
        # Its gate decides, and its Register step registers the version.
        return run_pipeline(story, command, COMMITS[0])
    return _tail(story.run("bash", "-c", command))


def run_pipeline(story: Story, command: str, commit: str) -> str:
    """The buildspec's `pipeline start --wait` for one commit: the emulator runs the definition."""
    # The buildspec reads the commit from CodePipeline's variable; polling is local.
    polled = f"{command} {shlex.join(FAST_POLL)}"
    story.run("bash", "-c", polled, env={config.COMMIT_SHA_VARIABLE: commit})
    return registered(commit)


def registered(commit: str) -> str:
    """The version the pipeline's Register step created, checked against the commit."""
    sm = aws.client("sagemaker")
    versions = registry.summaries(sm)
    package = sm.describe_model_package(ModelPackageName=versions[0]["ModelPackageArn"])
    metadata = package.get("CustomerMetadataProperties", {})
    if metadata.get("commit") != commit:
        raise CliError(
            f"the newest version records commit {metadata.get('commit')}, not {commit}: the "
            "pipeline did not register this run's model",
            ExitCode.FAILED,
        )
    score = float(metadata.get(config.GATE_METRIC, "nan"))
    versus = metadata.get("champion", "none")
    compared = f" vs champion v{versus} ({metadata.get('vs_champion')})" if versus != "none" else ""
    return (
        f"{config.GATE_METRIC} {score:.4f}{compared} -> version "
        f"{package['ModelPackageVersion']} {package['ModelApprovalStatus']}"
    )


def approve(story: Story, version: int) -> str:
    """Approve through the registry CLI, unless the pipeline already approved (automatic mode)."""
    if config.REGISTRATION_STATUS == registry.APPROVED:
        return f"version {version} approved by the pipeline (automatic approval)"
    story.cli("registry", "approve", "--version", str(version), "--reason", "story: reviewed")
    return f"version {version} Approved"


def tell(story: Story, gate: bool) -> None:
    """Every stage of the story, in order."""
    if gate:
        for command in pull_request_commands():
            name = f"pull request: {' '.join(command[2:4])}"
            story.stage(name, lambda c=command: _tail(story.run(*c)))

    build = buildspec_build_commands()
    for number, command in enumerate(build, start=1):
        words = shlex.split(command)
        label = " ".join(words[3:5]) if len(words) > 4 else command
        story.stage(f"merge: buildspec build {number} ({label})", lambda c=command: merge(story, c))
    story.stage("approve version 1", lambda: approve(story, 1))
    story.stage(
        "deploy staging (all-at-once) + smoke test",
        lambda: _tail(story.cli("deploy", "--env", "staging", *FAST_POLL)),
    )
    # The first deploy creates the endpoint; later ones shift traffic with the chosen strategy.
    story.stage(
        "deploy prod (creates the endpoint)",
        lambda: _tail(story.cli("deploy", "--env", "prod", *FAST_POLL)),
    )

    # The same definition again (the code did not change, so an upsert would change nothing).
    start = next(command for command in build if PIPELINE_START in command)
    story.stage(
        "merge again: pipeline start, a second version",
        lambda: run_pipeline(story, start, COMMITS[1]),
    )
    story.stage("approve version 2", lambda: approve(story, 2))
    story.stage("merge 3: a weaker challenger meets the champion", lambda: weaker(story, start))
    story.stage(
        "deploy version 2 to staging",
        lambda: _tail(story.cli("deploy", "--env", "staging", *FAST_POLL)),
    )
    # Production moves with the project's chosen strategy (canary by default); a 5XX alarm
    # fires during the shift and SageMaker rolls back on its own.
    shift = config.DEPLOYMENT_STRATEGY
    alarm = config.alarm_names("prod")["5xx"]

    def bad_shift() -> str:
        emulator.fire_alarm_on_next_shift(
            story.env["AWS_ENDPOINT_URL"], config.endpoint_name("prod"), alarm
        )
        out = story.cli(
            "deploy", "--env", "prod", "--strategy", shift, *FAST_POLL, expect=ExitCode.ROLLED_BACK
        )
        # The story meant this: a rollback here is the success it shows.
        picture = _after(out, "timeline: ")
        return f"rolled back, as expected (exit {int(ExitCode.ROLLED_BACK)}); picture: {picture}"

    story.stage(f"deploy version 2 to prod ({shift}), alarm fires", bad_shift)
    clear_alarm(alarm)
    story.stage(
        "rollback staging, reject version 2",
        lambda: _tail(
            story.cli(
                "rollback", "--env", "staging", "--reject-current",
                "--reason", "story: prod's 5XX alarm rolled version 2 back", *FAST_POLL,
            )
        ),
    )  # fmt: skip
    story.stage("final state", lambda: final_state(story))


def weaker(story: Story, command: str) -> str:
    """A third merge trains a weaker model (WEAKER's override); the champion gate refuses it."""
    sm = aws.client("sagemaker")
    before = registry.summaries(sm)
    overrides = [f"--hyperparameter={name}={value}" for name, value in WEAKER.items()]
    polled = f"{command} {shlex.join([*overrides, *FAST_POLL])}"
    env = {config.COMMIT_SHA_VARIABLE: COMMITS[2]}
    out = story.run("bash", "-c", polled, env=env, expect=ExitCode.BELOW_THRESHOLD)
    if registry.summaries(sm) != before:
        raise CliError("the gate refused the weaker model, yet the registry changed")
    # The Fail step's message: "<metric> <score> must be at least ... | champion version ...".
    message = _after(out, "error: ")
    champion = message.partition(" | ")[2]
    if "is below its bar" not in champion:
        raise CliError(f"the weaker model was refused, but not by the champion gate: {message}")
    return f"refused by the champion gate (exit {int(ExitCode.BELOW_THRESHOLD)}): {champion}"


def final_state(story: Story) -> str:
    """Which version each endpoint serves, and the registry table."""
    sagemaker = aws.client("sagemaker")
    serving = []
    for env in config.ENVIRONMENTS:
        described = sagemaker.describe_endpoint(EndpointName=config.endpoint_name(env))
        tags = endpoint.endpoint_tags(sagemaker, described["EndpointArn"])
        version = tags.get(history.TAG_VERSION, "?")
        serving.append(f"{env} {described['EndpointStatus']} v{version}")
    story.log(story.cli("registry", "list").rstrip())
    return ", ".join(serving)


def _after(output: str, prefix: str) -> str:
    """What follows `prefix` on the last line that starts with it, or "none"."""
    found = [line.strip()[len(prefix) :] for line in output.splitlines() if line.startswith(prefix)]
    return found[-1] if found else "none"


def closing_note(workdir: Path) -> str:
    """Where the story's reports are, and what to do next."""
    # The newest evaluation report: the weaker challenger's, against the champion.
    reports = (workdir.resolve() / JOBS).glob(f"*/{REPORT}/**/report.md")
    report = max(reports, key=lambda path: path.stat().st_mtime, default=None)
    timelines = sorted(config.DEPLOY_TIMELINES.glob(f"{config.endpoint_name('prod')}-*.png"))
    rows = [
        ("the newest evaluation, against the champion (plots beside it)", report),
        ("prod's rolled-back traffic shift, as a timeline", timelines[-1] if timelines else None),
        (
            "the newest run's data-quality baseline (statistics.json, constraints.json)",
            story_monitoring.baseline_files(workdir.resolve() / JOBS),
        ),
        ("the drift report of the shifted traffic", workdir.resolve() / story_monitoring.REPORT),
    ]
    lines = [*comparison(report), "Reports:"]
    for what, path in rows:
        if path is not None and path.exists():
            shown = (
                path.relative_to(config.REPO_ROOT)
                if path.is_relative_to(config.REPO_ROOT)
                else path
            )
            lines.append(f"  {shown}  {what}")
    drift = workdir.resolve() / story_monitoring.REPORT
    if drift.exists():
        lines += ["Drift in prod's shifted traffic (monitor check --env prod):"]
        lines += [f"  {line}" for line in story_monitoring.drift_table(drift.read_text())]
    lines += [
        "Next: README.md, 'Set up AWS': `make bootstrap` creates the AWS side in your account,",
        "then a push to " + config.INTEGRATION_BRANCH + " retrains there (README: Cost, Clean up).",
    ]
    return "\n".join(lines)


def comparison(report: Path | None) -> list[str]:
    """The report's table of the challenger against the champion, as the approver reads it."""
    if report is None or not report.is_file():
        return []
    text = report.read_text(encoding="utf-8")
    heading = text.find("## Against the champion")
    if heading < 0:
        return []
    section = text[heading:].split("\n\n")
    return [section[0].removeprefix("## "), *section[1].splitlines(), ""]


def _tail(output: str) -> str:
    """The last line a command printed: its verdict."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run_story(workdir: Path, gate: bool = True, log: Callable[[str], None] = print) -> list[Stage]:
    """Start the emulator, tell the story, stop the emulator; return the stages."""
    # The pipeline's jobs run under workdir, and stay there to look at after the story.
    jobs = workdir / JOBS
    shutil.rmtree(jobs, ignore_errors=True)
    # This process (the story's own clients) and every command it runs talk to the emulator
    # with fake credentials; os.environ is restored on the way out.
    with emulator.running(workdir=jobs) as url, mock.patch.dict(os.environ):
        emulator.seed(url)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "GITHUB_STEP_SUMMARY"):
            os.environ.pop(name, None)
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": url,
                "AWS_ACCESS_KEY_ID": "story",
                "AWS_SECRET_ACCESS_KEY": "story",
                "AWS_DEFAULT_REGION": config.AWS_REGION,
                "NO_PROXY": "127.0.0.1",
                config.COMMIT_SHA_VARIABLE: COMMITS[0],
                # As the retrain CodePipeline passes it when `retrain` names no data.
                config.INPUT_DATA_VARIABLE: config.DEFAULT_INPUT_DATA,
            }
        )
        story = Story(env=dict(os.environ), log=log)
        log(f"local AWS emulator on {url} (stopped at the end)")
        warm_up()
        tell(story, gate)
        report = workdir / story_monitoring.REPORT
        story.stage(story_monitoring.STAGE, lambda: story_monitoring.drift_stage(story, report))
    return story.stages


def warm_up() -> None:
    """Load the ML libraries while the first commands run in their own processes.

    Twice: in the warm interpreter the pipeline's step processes fork from, and in this process,
    where the emulator's endpoints load models for the smoke tests.
    """
    processes.warm_up()
    threading.Thread(
        target=lambda: [importlib.import_module(name) for name in processes.PRELOAD], daemon=True
    ).start()


def summary_table(stages: list[Stage]) -> str:
    """The closing table: every stage with its time, and the total."""
    width = max(len(s.name) for s in stages)
    lines = [f"{'stage':<{width}}  {'time':>7}", f"{'-' * width}  {'-' * 7}"]
    lines += [f"{s.name:<{width}}  {s.seconds:6.1f}s" for s in stages]
    lines.append(f"{'total':<{width}}  {sum(s.seconds for s in stages):6.1f}s")
    return "\n".join(lines)
