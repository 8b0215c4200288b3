"""The local emulator holding the whole stack, as `doctor` and `teardown` read it."""

from collections.abc import Iterator

import pytest

from {{ cookiecutter.__package }} import config
from {{ cookiecutter.__package }}.dev import emulator


@pytest.fixture
def aws_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The emulator, seeded with the whole stack, answering as the baked account.

    moto's server runs in this process and reads MOTO_ACCOUNT_ID, so the caller's account is
    the one config.py names, whichever the bake chose.
    """
    monkeypatch.setenv("MOTO_ACCOUNT_ID", config.AWS_ACCOUNT_ID)
    with emulator.running() as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        emulator.seed(url, whole_stack=True)
        yield url
