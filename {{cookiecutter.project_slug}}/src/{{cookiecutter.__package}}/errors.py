"""Exit codes and the error every command raises to stop with one of them.

The codes are part of the command line's contract: CodeBuild, the GitHub workflows and the
README's table all read them, so a caller can tell a refusal from a rollback from a timeout.
"""

import enum


class ExitCode(enum.IntEnum):
    """What a command's exit status means."""

    OK = 0
    ERROR = 1  # an unexpected failure: a bug (the traceback says where)
    USAGE = 2  # bad arguments or bad input data (argparse uses 2 as well)
    REFUSED = 3  # a pre-flight check said no; nothing was changed
    ROLLED_BACK = 4  # SageMaker rolled the deployment back (an alarm fired)
    FAILED = 5  # the deployment or the pipeline execution failed
    TIMED_OUT = 6  # gave up waiting; the operation may still be running in AWS
    BELOW_THRESHOLD = 7  # the model missed the gate: nothing was registered
    NOT_SET_UP = 8  # something the command needs is missing; the message names what creates it
    AWS_ACCESS = 9  # AWS refused the caller: no, expired or invalid credentials, or access denied
    AWS_UNREACHABLE = 10  # AWS could not be reached, or kept throttling; try again later
    DRIFTED = 11  # `monitor check`: the captured traffic violates the served version's baseline
    NOTHING_TO_CHECK = 12  # `monitor check`: no baseline on the served version, or no capture


class CliError(Exception):
    """Stop the command with a one-line message and a specific exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.code = code
