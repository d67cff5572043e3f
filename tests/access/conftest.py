"""Fixtures for the access-request tests: a real DNS server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.access.dns_server import LoopbackDNSServer


@pytest.fixture
def dns_server() -> Iterator[LoopbackDNSServer]:
    """A DNS server on 127.0.0.1 serving the TXT records put in ``dns_server.txt``."""
    with LoopbackDNSServer() as server:
        yield server
