"""A browser-like client for the pages: https (Secure cookies come back), cookies kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from keyholder.bootstrap import Runtime, bootstrap
from keyholder.config import Environment
from keyholder.web.app import create_app
from tests.factories import PASSWORD

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A TestClient that reads the CSRF token of the page it just got, as a form would."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, path: str, **kwargs: object):
        return self.client.get(path, **kwargs)  # type: ignore[arg-type]

    def token(self, path: str) -> str:
        page = self.client.get(path)
        match = _TOKEN.search(page.text)
        assert match, page.text
        return match.group(1)

    def submit(self, page: str, to: str | None = None, /, **data: object):
        """GET ``page``, then post its form to ``to`` (default: the page) with the token."""
        fields = {"csrf_token": self.token(page), **data}
        return self.client.post(to or page, data=fields, follow_redirects=False)

    def sign_in(self, email: str, password: str = PASSWORD):
        response = self.submit("/login", email=email, password=password)
        assert response.status_code == 303, response.text
        return response


@contextmanager
def make_browser(runtime: Runtime) -> Iterator[Browser]:
    app = create_app(runtime=runtime, run_relay=False)
    with TestClient(app, base_url="https://keyholder.test") as client:
        yield Browser(client)


@pytest.fixture
def browser(runtime: Runtime) -> Iterator[Browser]:
    with make_browser(runtime) as browser:
        yield browser


@pytest.fixture
def dev_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """A runtime like ``runtime`` (same database and clock) in development mode."""
    settings = runtime.settings.model_copy(update={"env": Environment.DEVELOPMENT})
    dev = bootstrap(settings, clock=runtime.clock, engine=runtime.engine)
    yield dev
    dev.hashing.close()
    dev.rate_limiter.close()
