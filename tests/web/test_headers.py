"""S41: API answers are ``no-store`` and ``nosniff``; HSTS when configured (by
default in production); the API's documents can be switched off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from keyholder.config import ONE_YEAR_SECONDS, Settings
from keyholder.web.app import create_app
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD
from tests.production import PRODUCTION_KEYS
from tests.runtimes import runtime_with

MEMBER = "/api/enterprise-accounts/acme-corp/members/alice@acme.example"


@pytest.fixture
def alice(factories):
    return factories.admin_of(factories.account("acme-corp"), "alice@acme.example")


@contextmanager
def client_with(settings, clock, engine, **changes: object) -> Iterator[TestClient]:
    """A client of an app whose settings differ from the suite's by ``changes``."""
    with (
        runtime_with(settings, clock, engine, **changes) as changed,
        TestClient(create_app(runtime=changed, run_relay=False)) as client,
    ):
        yield client


def assert_private(response) -> None:
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


class TestApiAnswers:
    """S41: every API answer, authenticated or refused, is no-store and nosniff."""

    def test_an_authenticated_answer(self, client, factories, alice):
        response = client.get(MEMBER, headers=factories.auth(alice))
        assert response.status_code == 200
        assert_private(response)

    def test_a_cookie_authenticated_answer(self, client, factories):
        account = factories.account("acme-corp")
        bob = factories.user("bob@acme.example", password=PASSWORD)
        factories.member(account, bob, "view,manage")
        # https: the session cookie is Secure.
        with TestClient(client.app, base_url="https://keyholder.test") as browser:
            signed_in = browser.post(
                "/api/session", json={"email": bob.email, "password": PASSWORD}
            )
            assert signed_in.status_code == 200
            assert_private(signed_in)
            response = browser.get(f"/api/enterprise-accounts/acme-corp/members/{bob.email}")
        assert response.status_code == 200
        assert_private(response)

    def test_a_crash_answer(self, runtime):
        # A crash's 500 is answered by Starlette's outermost middleware, outside the
        # others: it must carry the headers all the same (S41).
        app = create_app(runtime=runtime, run_relay=False)

        @app.get("/api/test-crash")
        @app.get("/test-crash")
        def crash() -> None:
            raise RuntimeError("a bug")

        with TestClient(app, raise_server_exceptions=False) as crashing:
            api, page = crashing.get("/api/test-crash"), crashing.get("/test-crash")
        assert api.status_code == page.status_code == 500
        assert api.headers["content-type"] == "application/problem+json"
        assert_private(api)
        assert page.headers["x-content-type-options"] == "nosniff"

    def test_problem_answers(self, client, factories, alice):
        for response in [
            client.get(MEMBER),  # 401
            client.get("/api/enterprise-accounts/nope", headers=factories.auth(alice)),  # 404
            client.get("/api/desk/tickets/0", headers=factories.auth(alice)),  # 422
            client.get("/api/enterprise-accounts/a%00b"),  # 422, refused before any route
        ]:
            assert response.status_code >= 400
            assert_private(response)

    def test_a_route_that_says_how_to_cache_keeps_its_word(self, client, factories, alice):
        ticket = factories.ticket(alice)
        response = client.get(
            f"/api/tickets/{ticket.id}/attachments/4f0f8fec-dbbd-4106-8017-9ea0198f7eb9",
            headers=factories.auth(alice),
        )
        assert response.status_code == 404
        assert_private(response)

    def test_pages_keep_their_own_headers(self, client):
        page = client.get("/login")
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"

    def test_no_hsts_outside_production_by_default(self, client):
        assert "strict-transport-security" not in client.get("/healthz").headers


class TestHsts:
    def test_sent_on_every_answer_when_configured(self, settings, clock, engine):
        with client_with(settings, clock, engine, hsts_max_age=600) as client:
            for path in ["/healthz", "/login", "/api/session", "/no-such-page"]:
                assert client.get(path).headers["strict-transport-security"] == "max-age=600"

    def test_zero_turns_it_off(self, settings, clock, engine):
        with client_with(settings, clock, engine, hsts_max_age=0) as client:
            assert "strict-transport-security" not in client.get("/healthz").headers

    def test_a_year_in_production_unless_set(self):
        production = Settings(
            env="production", secret_key=TEST_SECRET, _env_file=None, **PRODUCTION_KEYS
        )  # type: ignore[call-arg, arg-type]
        assert production.hsts_seconds == ONE_YEAR_SECONDS == 31_536_000
        for env in ["development", "test"]:
            assert Settings(env=env, secret_key=TEST_SECRET, _env_file=None).hsts_seconds == 0  # type: ignore[call-arg]
        chosen = Settings(
            env="production",
            secret_key=TEST_SECRET,
            hsts_max_age=60,
            _env_file=None,  # type: ignore[call-arg]
            **PRODUCTION_KEYS,  # type: ignore[arg-type]
        )
        assert chosen.hsts_seconds == 60


class TestApiDocs:
    def test_switched_off(self, settings, clock, engine):
        with client_with(settings, clock, engine, api_docs=False) as client:
            assert client.get("/api/docs").status_code == 404
            assert client.get("/api/openapi.json").status_code == 404
            assert client.get("/healthz").status_code == 200

    def test_served_in_development_and_tests(self, client):
        assert client.get("/api/docs").status_code == 200
        assert client.get("/api/openapi.json").status_code == 200

    def test_off_by_default_in_production_unless_switched_on(self):
        def settings(**changes: object) -> Settings:
            return Settings(secret_key=TEST_SECRET, _env_file=None, **PRODUCTION_KEYS | changes)  # type: ignore[call-arg, arg-type]

        assert not settings(env="production").serves_api_docs
        assert settings(env="production", api_docs=True).serves_api_docs
        assert settings(env="development").serves_api_docs
        assert not settings(env="development", api_docs=False).serves_api_docs


class TestApiDocsOffline:
    """Issue 15 item 4: the docs page loads nothing from another site."""

    def test_the_page_names_only_files_of_this_site(self, client):
        answer = client.get("/api/docs")
        assert answer.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', answer.text)
        assert sources
        assert all(source.startswith("/") and not source.startswith("//") for source in sources)
        assert "script-src 'self';" in answer.headers["content-security-policy"]
        for source in sources:
            asset = client.get(source)
            assert asset.status_code == 200, source
            assert asset.headers["x-content-type-options"] == "nosniff"

    def test_swagger_ui_files_only_those_shipped(self, client):
        bundle = client.get("/static/swagger-ui/swagger-ui-bundle.js")
        assert bundle.headers["content-type"].startswith("text/javascript")
        assert len(bundle.content) > 1_000_000
        assert client.get("/static/swagger-ui/LICENSE").status_code == 404
        assert client.get("/static/swagger-ui/..%2Fapp.css").status_code == 404
