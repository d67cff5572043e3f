"""A second runtime with some settings changed, as an operator's restart would make."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from keyholder.bootstrap import Runtime, bootstrap
from keyholder.clock import Clock
from keyholder.config import Settings


@contextmanager
def runtime_with(
    settings: Settings, clock: Clock, engine: Engine, **changes: object
) -> Iterator[Runtime]:
    """A runtime on the test database with ``changes`` applied to ``settings``.

    It has its own adapters (argon2 parameters, blob store, rate limits) from
    the changed settings. The database is the test's: the ``runtime`` fixture
    empties it afterwards.
    """
    changed = bootstrap(settings.model_copy(update=changes), clock=clock, engine=engine)
    try:
        yield changed
    finally:
        changed.hashing.close()
        changed.rate_limiter.close()
