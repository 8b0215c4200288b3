"""What a command tells GitHub Actions when a workflow step runs it."""

import os


def write_job_summary(markdown: str) -> None:
    """Append Markdown to the GitHub job summary, when a workflow step runs the command."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(markdown if markdown.endswith("\n") else markdown + "\n")
