"""The self-test harness: bake the template, then run the baked repository's own gate in it.

Baking is cookiecutter's own API. Installing the baked repository's dependencies costs about a
gigabyte, so every bake shares one environment built once per session from the default bake;
each bake's own `src/` goes first on PYTHONPATH, so the code under test is the bake's own.
A command run with `record=` also records every AWS request it makes (tests/iam/): the IAM
check evaluates them against the bake's stack, and the session ends with its figures.
"""

from __future__ import annotations

import ast
import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.decode import cfn_yaml
from cookiecutter.generate import generate_context
from cookiecutter.main import cookiecutter
from cookiecutter.prompt import prompt_for_config
from iam import evaluation as iam_evaluation
from iam import records as iam_records

TEMPLATE = Path(__file__).resolve().parents[1]
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


# Every choice of every option at least once, and each branching x approval pair (they meet in
# the workflows and the IaC). Strategy x instance count meet in the hook and the deploy checks.
COMBINATIONS = [
    pytest.param({}, id="github-flow-canary-manual"),
    pytest.param(
        {
            "branching_model": "gitflow",
            "deployment_strategy": "linear",
            "approval_mode": "automatic",
            "gate_metric": "accuracy",
        },
        id="gitflow-linear-automatic-accuracy",
    ),
    pytest.param(
        {
            "deployment_strategy": "all-at-once",
            "approval_mode": "automatic",
            "endpoint_instance_count": "1",
            "python_version": "3.12",
            "gate_metric": "roc_auc",
            # Data capture off: deploys capture nothing, and the story says so.
            "data_capture_percent": "0",
        },
        id="github-flow-all-at-once-automatic-1-instance-py312-roc-auc-no-capture",
    ),
    pytest.param(
        {
            "branching_model": "gitflow",
            "deployment_strategy": "rolling",
            "endpoint_instance_count": "3",
            # The bundled sample is binary; as a multiclass task it trains as two classes.
            "task": "multiclass",
            "gate_metric": "f1",
        },
        id="gitflow-rolling-manual-3-instances-multiclass-f1",
    ),
]


# Every combination but the default, whose baked suite and story `make demo` runs (test_demo.py,
# on the sample): test_bake.py runs these suites, each on its own table, and test_demo.py these
# stories.
OTHER_COMBINATIONS = COMBINATIONS[1:]


def uv() -> str:
    """The uv that runs this session (`uv run` exports UV), else the one on PATH."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        pytest.fail("uv is needed: run the tests with `make test`")
    return found


def run_tool(
    argv: list[str], *, timeout: float, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """A checker's run with its output captured as text; the caller judges the exit status."""
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, check=False, timeout=timeout
    )


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for commands run in a baked repo: fake AWS credentials, no profile."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "VIRTUAL_ENV", "UV_PROJECT", "PYTHON"))
    }
    env.update(FAKE_AWS)
    env.update(extra)
    return env


# cookiecutter renders each hook into a temporary file and never deletes it (cookiecutter#886,
# closed as intended): about 100 files in the machine's temporary folder per `make test`. The
# session's bakes keep them in the run's own folder instead, which pytest removes with old runs.
@pytest.fixture(autouse=True, scope="session")
def hook_scripts_in_the_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Temporary files of in-process bakes (and of bake_env()'s processes) in this run's folder.
    Not for every command: a baked suite's multiprocessing keeps its socket in the temporary
    folder, and a deeper one would pass the 104 characters a socket path has on macOS."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("hook-scripts")))
        yield


def bake_env(**extra: str) -> dict[str, str]:
    """clean_env() for a process that bakes (cookiecutter, cruft): its hook scripts' temporary
    files go to this session's folder (hook_scripts_in_the_run)."""
    return clean_env(TMPDIR=tempfile.gettempdir(), **extra)


@dataclass
class BakedProject:
    """A repository baked from the template, with helpers to inspect it and run in it."""

    path: Path
    answers: dict[str, str]
    venv: Path | None = field(default=None)

    @property
    def package(self) -> str:
        return self.path.name.replace("-", "_")

    def has_file(self, relative: str) -> bool:
        return (self.path / relative).is_file()

    def read(self, relative: str) -> str:
        return (self.path / relative).read_text(encoding="utf-8")

    def files(self) -> set[str]:
        """Every file, relative, excluding what running commands in it leaves behind."""
        skip = {".git", ".venv", ".tools", "__pycache__", ".pytest_cache", ".ruff_cache", "build"}
        return {
            p.relative_to(self.path).as_posix()
            for p in self.path.rglob("*")
            if p.is_file() and not skip.intersection(p.relative_to(self.path).parts)
        }

    def run(
        self,
        *command: str,
        check: bool = True,
        timeout: float = 600,
        record: Path | None = None,
        **env: str,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the repo with the shared environment first on PATH; with `record`,
        every AWS request it (or any Python process it starts) makes is recorded there."""
        extra = dict(env)
        paths = []
        if self.venv is not None:
            extra["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
            paths.append(self.path / "src")
            extra["PYTHONPATH"] = str(self.path / "src")
        if record is not None:
            extra.update(recording_env(self.path, record))
            extra["PYTHONPATH"] = iam_records.pythonpath(*paths)
        result = subprocess.run(
            command,
            cwd=self.path,
            env=clean_env(**extra),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"`{' '.join(command)}` exited {result.returncode} in {self.path.name}\n"
                f"--- stdout ---\n{why(result.stdout)}\n--- stderr ---\n{why(result.stderr)}"
            )
        return result


# pytest's heading of the part of its report that says why each test failed.
FAILURES = re.compile(r"^=+ FAILURES =+$", re.MULTILINE)


def why(output: str, tail: int = 6000) -> str:
    """The end of a command's output, and pytest's FAILURES section whole if it printed one:
    a long warnings summary after it would push the reasons out of the tail alone."""
    found = FAILURES.search(output)
    if found is None or found.start() >= len(output) - tail:
        return output[-tail:]
    return f"{output[found.start() :][:30000]}\n[...]\n{output[-tail:]}"


def recording_env(root: Path, record: Path) -> dict[str, str]:
    """The environment that makes a bake's Python processes record their AWS requests."""
    package = root.name.replace("-", "_")
    return {
        **iam_records.environment(record, root / "src" / package),
        "PYTHONPATH": iam_records.pythonpath(),
    }


# The IAM figures of the test running now; each test's report carries them (user_properties),
# so the session's end prints them whichever worker ran the test (pytest-xdist).
IAM_SUMMARIES: list[str] = []


def assert_authorized(root: Path, record: Path, label: str) -> iam_evaluation.Report:
    """Every request recorded in `record` is one the bake's stack authorizes."""
    report = iam_evaluation.evaluate(root, iam_records.load([record]), label)
    IAM_SUMMARIES.append(report.summary())
    assert report.attributed > 0, (
        f"{label}: no request was attributed to a role\n{report.summary()}"
    )
    problems = report.problems()
    assert not problems, f"{report.summary()}\n{problems}"
    return report


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    """Move the IAM figures a test produced onto its report."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and IAM_SUMMARIES:
        report.user_properties.extend(("iam", line) for line in IAM_SUMMARIES)
        IAM_SUMMARIES.clear()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The IAM check's figures: requests, identities and permissions evaluated."""
    lines = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        for key, value in getattr(report, "user_properties", ())
        if key == "iam"
    ]
    if lines:
        terminalreporter.section("IAM authorization (tests/iam)")
        for line in lines:
            terminalreporter.write_line(line)


def parse_everything(project: BakedProject) -> None:
    """Every TOML, YAML, JSON and Python file of a bake parses (CloudFormation with its tags)."""
    for name in project.files():
        text = project.read(name)
        if name.startswith("infra/") and name.endswith(".yml"):
            cfn_yaml.loads(text)
        elif name.endswith(".toml"):
            tomllib.loads(text)
        elif name.endswith((".yml", ".yaml")):
            assert yaml.safe_load(text) is not None, name
        elif name.endswith(".json"):
            json.loads(text)
        elif name.endswith(".py"):
            ast.parse(text, filename=name)


def bake(output_dir: Path, **answers: str) -> BakedProject:
    """Bake the template with these answers (the rest default) into output_dir."""
    output_dir.mkdir(parents=True, exist_ok=True)
    path = cookiecutter(
        str(TEMPLATE),
        no_input=True,
        extra_context=answers,
        output_dir=str(output_dir),
        accept_hooks=True,
    )
    return BakedProject(Path(path), rendered_answers(**answers))


def rendered_answers(**answers: str) -> dict[str, str]:
    """The answers as cookiecutter renders them (derived defaults filled in)."""
    context = generate_context(
        context_file=str(TEMPLATE / "cookiecutter.json"), extra_context=answers
    )
    return dict(prompt_for_config(context, no_input=True))


def environment(root: Path, *python: str) -> Path:
    """An environment with every dependency group of the default bake, under root (on the
    interpreter `--python X` names, else the one uv picks)."""
    project = bake(root / "bake")
    venv = root / "venv"
    subprocess.run(
        # --locked: the uv.lock the template ships must install as it is.
        [uv(), "sync", "--locked", "--all-groups", "--quiet", *python],
        cwd=project.path,
        env=clean_env(UV_PROJECT_ENVIRONMENT=str(venv)),
        check=True,
        timeout=900,
    )
    return venv


@pytest.fixture(scope="session")
def shared_venv(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """One environment with every dependency group of the generated project, made once for all
    of pytest-xdist's workers (the sharing pytest-xdist's documentation shows, under a lock).

    uv links the packages from its cache without their bytecode, so the first run of a baked
    suite in a new environment compiles what it imports: 10 to 40 CPU-seconds more than the next."""
    if worker_id == "master":
        return environment(tmp_path_factory.mktemp("shared-env"))
    root = tmp_path_factory.getbasetemp().parent / "shared-env"  # the run's, not the worker's
    with (root.parent / "shared-env.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        made = root / "made"
        if not made.exists():
            shutil.rmtree(root, ignore_errors=True)  # what a worker that failed left
            environment(root)
            made.touch()
    return root / "venv"


# The baked `requires-python` says >=3.11, and 3.11.4 added APIs that later interpreters have and
# earlier 3.11 releases lack (tarfile's extraction filters, `extractall(filter=...)`). Debian 12's
# python3 is 3.11.2, a common fresh machine. So one combination's baked suite runs on an
# interpreter older than 3.11.4 (tests/test_bake.py), the other combinations on the session's.
BEFORE_3_11_4 = ">=3.11,<3.11.4"


def oldest_python() -> str | None:
    """An interpreter older than 3.11.4: $OLDEST_PYTHON, else the one uv finds, else None."""
    given = os.environ.get("OLDEST_PYTHON")
    if given:
        return given
    # `uv python find` looks at uv's managed interpreters and those on PATH (/usr/bin/python3.11
    # on Debian 12), and never downloads: on GitHub's runners the template's CI installs 3.11.3.
    found = subprocess.run(
        [uv(), "python", "find", BEFORE_3_11_4],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
    )
    if found.returncode != 0 or not found.stdout.strip():
        return None
    return found.stdout.strip()


@pytest.fixture(scope="session")
def oldest_venv(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The shared environment again, on an interpreter older than 3.11.4. Missing: None on a
    laptop (the suite runs on the session's Python and the check that it did not is skipped),
    a failure under CI, where it must be there."""
    python = oldest_python()
    if python is None:
        if os.environ.get("CI"):
            pytest.fail(
                f"no Python {BEFORE_3_11_4} on this machine: install one (Debian 12: apt-get "
                "install python3.11; elsewhere `uv python install 3.11.3`) or set OLDEST_PYTHON"
            )
        return None
    return environment(tmp_path_factory.mktemp("oldest-env"), "--python", python)


@pytest.fixture(scope="module", params=COMBINATIONS)
def bake_only(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> BakedProject:
    """Each named combination, baked once per test module, for tests that only read its files."""
    return bake(tmp_path_factory.mktemp("bake"), **request.param)


@pytest.fixture(scope="module")
def baked(bake_only: BakedProject, shared_venv: Path) -> BakedProject:
    """Each named combination with the shared environment, to run commands in it."""
    bake_only.venv = shared_venv
    return bake_only


# A wrapper: its first half runs before every other implementation (pytest-xdist reads the
# markers in its own), its second half after them all (pytest reorders the items by their
# parametrized module fixtures, which would undo a sort made earlier).
@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> Iterator[None]:
    """A test that needs the baked project's environment is slow: `make test-fast` skips it.

    `make test` runs on every core (pytest-xdist, --dist loadgroup): a module's tests of one
    combination form one group, so the module's bake of it (and in test_bake.py its baked suite)
    is made once, on one worker; the other tests group by module, so a module's fixtures are
    made once too. Groups of that size keep both cores busy to the end.
    """
    # By id(): pytest-xdist appends the group to each node id, which is an item's hash.
    groups: dict[int, str] = {}
    for item in items:
        if "shared_venv" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
        module = item.nodeid.split("::")[0]
        values = getattr(getattr(item, "callspec", None), "params", {}).values()
        combination = next(
            (c.id for c in COMBINATIONS if any(value is c.values[0] for value in values)), None
        )
        groups[id(item)] = f"{combination}:{module}" if combination else module
        item.add_marker(pytest.mark.xdist_group(groups[id(item)]))
    yield
    # The longest groups first (`make demo`, each combination's baked suite, each story): a
    # worker takes the next group when it is done with one, so what is left at the end is short
    # and no core runs a long group alone while the other waits. The sort is stable: a group's
    # tests keep their order, and a module's fixtures are made once. pytest-xdist keeps this
    # order only under --no-loadscope-reorder (the guard below).
    longest = [
        "tests/test_demo.py",
        *(f"{c.id}:tests/test_bake.py" for c in OTHER_COMBINATIONS),
        *(f"{c.id}:tests/test_demo.py" for c in OTHER_COMBINATIONS),
    ]
    rank = {group: index for index, group in enumerate(longest)}
    items.sort(key=lambda item: rank.get(groups[id(item)], len(rank)))


def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """Stop a grouped run that would lose its order or its groups. Without its order the longest
    group may start last; without its groups it would still pass, each worker baking and running
    every combination's suite again (twice the time, nothing else to see).
    pytest-xdist carries a group as a node id suffix, which pytest 9.2 ignores
    (pytest-dev/pytest-xdist#1386); the template pins a pytest that keeps it."""
    if node.config.getvalue("dist") != "loadgroup":
        return
    if node.config.getvalue("loadscopereorder"):
        # Measured: `make demo`'s one test (3 minutes) then ran last, alone on one core.
        pytest.exit(
            "--dist loadgroup needs --no-loadscope-reorder here: pytest-xdist would order the "
            "groups by their number of tests, not longest first (as `make test` runs it)",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
    lost = [nodeid for nodeid in ids if "@" not in nodeid.rpartition("]")[2]]
    if lost:
        pytest.exit(
            f"pytest-xdist did not group {len(lost)} of {len(ids)} tests (first: {lost[0]}): "
            "this pytest and pytest-xdist do not work together under --dist loadgroup",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
