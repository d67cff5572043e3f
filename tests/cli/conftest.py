from __future__ import annotations

from collections.abc import Iterator

import pytest

from keyholder.bootstrap import Runtime, bootstrap
from keyholder.config import Environment
from tests.cli import Cli


@pytest.fixture
def cli(runtime: Runtime) -> Cli:
    return Cli(runtime)


@pytest.fixture
def dev_cli(runtime: Runtime) -> Iterator[Cli]:
    """The command on the same database and clock, with KEYHOLDER_ENV=development (``demo``)."""
    settings = runtime.settings.model_copy(update={"env": Environment.DEVELOPMENT})
    dev = bootstrap(settings, clock=runtime.clock, engine=runtime.engine)
    yield Cli(dev)
    dev.hashing.close()
    dev.rate_limiter.close()
