from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from keyholder.clock import FixedClock
from keyholder.config import Settings
from tests.webhooks.receiver import Receiver


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Loopback receivers are allowed here (the SSRF guard has its own tests)."""
    return settings.model_copy(
        update={"webhook_allow_private_targets": True, "webhook_timeout_seconds": 2.0}
    )


@pytest.fixture
def clock() -> FixedClock:
    # Near the real time: standardwebhooks refuses timestamps 5 minutes off its clock.
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()
