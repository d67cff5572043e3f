from __future__ import annotations

import pytest

from keyholder.bootstrap import Runtime
from tests.cli import Cli


@pytest.fixture
def cli(runtime: Runtime) -> Cli:
    return Cli(runtime)
