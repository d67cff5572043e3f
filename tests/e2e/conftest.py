"""Browser tests: the app served by uvicorn on loopback, driven by Debian's Chromium.

One Chromium and one uvicorn server for this package: package-scoped, because
Playwright's sync API runs an event loop on the main thread while it is open,
and tests elsewhere start their own (``asyncio.run``). Each test gets a fresh
browser context (cookies and all) and its own app over its own ``runtime``
(the test database, emptied after the test, and the fixed clock), switched in
behind the running server. The runtime is in development mode: cookies are not
Secure on plain http, and ``/dev/mail`` shows the emails a flow sends.

Every page the ``page`` and ``open_page`` fixtures show is checked by axe-core
(``axe.py``): a serious or critical WCAG 2.2 A/AA violation fails the test.

Chromium is the one on PATH (``apt-get install chromium``; ``make test``
installs it): Playwright never downloads a browser here. Without it these tests
are skipped, saying why (in CI, where ``CI`` is set, they fail instead).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from keyholder.bootstrap import Runtime, bootstrap
from keyholder.config import Environment
from keyholder.web.app import create_app
from tests.e2e.axe import AxeWatch
from tests.live_server import serving
from tests.smtp_server import free_port

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
TIMEOUT_MS = 10_000


class Switch:
    """An ASGI app that hands each request to the app of the test running now."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "no test app is switched in"
        await self.app(scope, receive, send)


@pytest.fixture(scope="package")
def chromium():
    executable = shutil.which("chromium")
    if executable is None:
        reason = "Chromium is not installed: `apt-get install chromium` (make test does it)"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI must run the browser tests, not skip them
        pytest.skip(reason)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def live_server(chromium) -> Iterator[tuple[Switch, str]]:
    switch = Switch()
    with serving(switch, free_port()) as url:
        yield switch, url


@pytest.fixture
def dev_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Like ``runtime`` (same database and clock), in development mode."""
    settings = runtime.settings.model_copy(update={"env": Environment.DEVELOPMENT})
    dev = bootstrap(settings, clock=runtime.clock, engine=runtime.engine)
    yield dev
    dev.hashing.close()
    dev.rate_limiter.close()


@pytest.fixture
def base_url(live_server, dev_runtime: Runtime) -> Iterator[str]:
    switch, url = live_server
    switch.app = create_app(runtime=dev_runtime, run_relay=False, run_jobs=False)
    yield url
    switch.app = None


@pytest.fixture
def axe_watch(base_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AxeWatch]:
    """axe-core on every page of the app this test's browsers show (see ``axe.py``)."""
    watch = AxeWatch(origin=base_url)
    watch.install(monkeypatch)
    yield watch
    if watch.found:
        pytest.fail("axe-core found serious or critical violations:\n" + watch.report(), False)


@pytest.fixture
def open_page(chromium, base_url: str, axe_watch: AxeWatch):
    """A page in a browser context of its own (another person, other cookies).

    Options are those of ``Browser.new_context`` (``timezone_id``...). Each page's
    documents are checked by axe-core, its last one when the test ends.
    """
    opened: list[tuple[Any, Any]] = []

    def open_one(**options: Any):
        context = chromium.new_context(base_url=base_url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        axe_watch.watch(page)
        opened.append((context, page))
        return page

    yield open_one
    try:
        for _, page in opened:
            axe_watch.check(page)
    finally:
        for context, _ in opened:
            context.close()


@pytest.fixture
def page(open_page):
    return open_page()


@pytest.fixture(scope="session")
def screenshots(repo_root: Path) -> Path:
    """Where the main pages are photographed (test-artifacts/, not committed)."""
    folder = repo_root / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
