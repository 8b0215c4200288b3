"""The root README's commands are real: its make targets exist, its console example is verbatim.

`make test` itself is what CI runs, and test_demo.py runs `make demo`; this file checks the rest.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import TEMPLATE, bake_env

README = (TEMPLATE / "README.md").read_text(encoding="utf-8")


def test_make_targets_in_the_readme_exist_with_help() -> None:
    makefile = (TEMPLATE / "Makefile").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL)
    targets = re.findall(r"^make (\w+)", "\n".join(blocks), flags=re.MULTILINE)
    assert targets[:2] == ["demo", "test"], "the two commands come first"
    for target in targets:
        assert re.search(rf"^{target}:.*## ", makefile, re.MULTILINE), target


def test_console_example_is_what_a_user_sees(tmp_path: Path) -> None:
    """The README's `$ cookiecutter ...` example, run as written, prints the line it shows."""
    (example,) = re.findall(r"```console\n\$ (.*?)\n(.*?)```", README, flags=re.DOTALL)
    command, shown = example
    words = shlex.split(command)
    assert words[:2] == ["cookiecutter", "--no-input"]
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(tmp_path),
         *words[2:]],
        cwd=TEMPLATE,
        env=bake_env(),
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    printed = result.stderr.splitlines()
    # The example leads with what the user sees first; "..." stands for the answers it elides.
    expected = [line for line in shown.strip().splitlines() if line.strip() != "..."]
    assert printed[:2] == expected[:2]
    remaining = iter(printed)
    assert all(line in remaining for line in expected), "the example's lines, in this order"
    assert list(tmp_path.iterdir()) == []


def test_answers_table_lists_every_answer() -> None:
    import json

    answers = [
        key
        for key in json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
        if not key.startswith("_")
    ]
    table = "\n".join(line for line in README.splitlines() if line.startswith("| `"))
    for key in answers:
        assert f"`{key}`" in table, f"answer {key} missing from the README's table"
