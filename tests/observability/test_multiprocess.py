"""Several processes, one set of numbers (prometheus-client's multiprocess mode)."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from keyholder.observability.exposition import scrape_registry
from tests.conftest import TEST_SECRET
from tests.observability.scrape import Scrape
from tests.smtp_server import free_port
from tests.test_processes import wait_for

# Counts as a worker process would: requests, sign-in failures, a pre-screen.
WRITER = """
import sys
from keyholder import metrics
for _ in range(int(sys.argv[1])):
    metrics.request_finished("GET", "/healthz", 200, 0.002)
    metrics.sign_in_failed()
metrics.prescreen_finished(1.5, read=True)
assert metrics.multiprocess_dir() is not None
"""


def run_writer(directory: Path, times: int) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", WRITER, str(times)], env=env, check=True, timeout=60
    )


def test_two_processes_add_up(tmp_path: Path) -> None:
    run_writer(tmp_path, 3)
    run_writer(tmp_path, 4)
    assert len(list(tmp_path.glob("*.db"))) >= 2  # one file per process and kind

    page = Scrape.parse(
        generate_latest(scrape_registry(None, multiprocess_dir=str(tmp_path))).decode()
    )

    count = "keyholder_http_request_duration_seconds_count"
    assert page.value(count, route="/healthz", status="2xx", method="GET") == 7
    assert page.value("keyholder_sign_in_failures_total") == 7
    assert page.value("keyholder_letter_prescreen_duration_seconds_count", outcome="read") == 2
    assert (
        page.value("keyholder_letter_prescreen_duration_seconds_bucket", outcome="read", le="2.0")
        == 2
    )


@pytest.mark.usefixtures("runtime")  # a migrated database, emptied afterwards
def test_serve_with_two_workers_reports_every_request_once(
    database_url: str, tmp_path: Path
) -> None:
    """`keyholder serve --workers 2`: requests answered by either worker are all counted
    on the metrics listener, which makes the shared directory itself."""
    port, metrics_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEYHOLDER_", "PROMETHEUS_"))}
    env.update(
        KEYHOLDER_ENV="test",
        KEYHOLDER_SECRET_KEY=TEST_SECRET,
        KEYHOLDER_DATABASE_URL=database_url,
        KEYHOLDER_JOBS_IN_PROCESS="false",
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603 - our own CLI
            [
                *(sys.executable, "-m", "keyholder", "serve", "--workers", "2"),
                *("--port", str(port), "--metrics-address", f"127.0.0.1:{metrics_port}"),
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    return True
            except OSError:
                return False

        wait_for(healthy, 60, f"keyholder serve ({log.read_text()})")
        for _ in range(20):  # new connections: uvicorn's workers share them
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                pass
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        count = "keyholder_http_request_duration_seconds_count"

        def scrape() -> Scrape:
            with urllib.request.urlopen(url, timeout=10) as response:
                return Scrape.parse(response.read().decode())

        # A request is counted just after its answer is sent: the last may lag a moment.
        wait_for(
            lambda: scrape().value(count, route="/healthz", status="2xx", method="GET") >= 21,
            10,
            "all 21 requests counted",
        )
        page = scrape()
        assert page.value("keyholder_database_up") == 1
        # The app's own port does not serve them: a listener of their own is set.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
        refused.value.close()
        assert refused.value.code == 404
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "the workers share metrics in" in log.read_text()
