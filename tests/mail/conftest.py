"""Mail fixtures: a loopback SMTP server and a runtime whose relay delivers to it."""

from __future__ import annotations

import pytest

from keyholder.bootstrap import Runtime
from keyholder.mail.relay import Relay


@pytest.fixture
def relay(mail_runtime: Runtime) -> Relay:
    relay = mail_runtime.relay()
    assert relay is not None
    return relay
