"""One scrape: this process's (or every process's) numbers and the database's, as text.

With ``PROMETHEUS_MULTIPROC_DIR`` set, the in-process numbers are read from the
files every process writes there (``MultiProcessCollector``), so whichever
process answers, the counts are the sum over all of them.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from keyholder import metrics
from keyholder.observability.collector import DatabaseCollector

if TYPE_CHECKING:
    from keyholder.bootstrap import Runtime


class _ThisProcess(Collector):
    """This process's instruments, when they live in memory (no multiprocess directory)."""

    def collect(self) -> Iterable[Metric]:
        return metrics.registry().collect()


def scrape_registry(
    runtime: Runtime | None, *, multiprocess_dir: str | bool | None = True
) -> CollectorRegistry:
    """A registry to render: in-process numbers, and the database's if ``runtime``.

    ``multiprocess_dir``: True reads the directory this process writes to, if
    any (``keyholder.metrics.multiprocess_dir``); a path reads that one.
    """
    directory = metrics.multiprocess_dir() if multiprocess_dir is True else multiprocess_dir
    registry = CollectorRegistry(auto_describe=False)
    if directory:
        MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    else:
        registry.register(_ThisProcess())
    if runtime is not None:
        registry.register(DatabaseCollector(runtime.engine, runtime.clock))
    return registry


def render(runtime: Runtime | None) -> tuple[bytes, str]:
    """The Prometheus text exposition of one scrape, and its content type."""
    return generate_latest(scrape_registry(runtime)), CONTENT_TYPE_LATEST


def bearer_token_matches(authorization: str | None, expected: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <expected>``, compared in
    constant time (the comparison must not tell a guesser how much was right)."""
    scheme, _, given = (authorization or "").partition(" ")
    offered = given.strip() if scheme.lower() == "bearer" else ""
    return hmac.compare_digest(offered.encode(), expected.encode())
