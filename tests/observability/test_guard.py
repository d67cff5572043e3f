"""Who may read /metrics: a bearer token, a listener of its own, or nobody (production)."""

from __future__ import annotations

import hmac
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from keyholder.bootstrap import Runtime
from keyholder.config import Environment
from keyholder.observability import exposition
from keyholder.observability.server import bound_address, parse_address, start_listener
from keyholder.web.app import create_app
from tests.observability.scrape import Scrape

TOKEN = "metrics-token-0123456789abcdef"


def app_client(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime=runtime, run_relay=False, run_jobs=False))


@pytest.fixture
def with_token(derive_runtime) -> Iterator[TestClient]:
    with app_client(derive_runtime(metrics_token=SecretStr(TOKEN))) as client:
        yield client


class TestToken:
    def test_without_a_token_401(self, with_token: TestClient) -> None:
        response = with_token.get("/metrics")
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert "keyholder_" not in response.text

    @pytest.mark.parametrize(
        "authorization",
        [
            "Bearer wrong-token",
            f"Bearer {TOKEN}x",
            f"Bearer {TOKEN[:-1]}",
            f"Basic {TOKEN}",
            TOKEN,
            "Bearer ",
        ],
    )
    def test_a_wrong_token_401(self, with_token: TestClient, authorization: str) -> None:
        assert (
            with_token.get("/metrics", headers={"Authorization": authorization}).status_code == 401
        )

    def test_the_token_200(self, with_token: TestClient) -> None:
        response = with_token.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert Scrape.parse(response.text).value("keyholder_database_up") == 1

    def test_compared_in_constant_time(
        self, with_token: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        compared: list[tuple[bytes, bytes]] = []
        original = hmac.compare_digest

        def compare(a: bytes, b: bytes) -> bool:
            compared.append((a, b))
            return original(a, b)

        monkeypatch.setattr(exposition.hmac, "compare_digest", compare)
        with_token.get("/metrics", headers={"Authorization": "Bearer guess"})
        assert compared == [(b"guess", TOKEN.encode())]

    def test_a_short_token_is_refused_by_the_settings(self, settings) -> None:
        from pydantic import ValidationError  # noqa: PLC0415

        with pytest.raises(ValidationError, match="metrics_token"):
            type(settings)(**{**settings.model_dump(), "metrics_token": "short"})


class TestNotOnTheApp:
    def test_production_without_token_or_listener_404(self, derive_runtime) -> None:
        with app_client(derive_runtime(env=Environment.PRODUCTION)) as client:
            assert client.get("/metrics").status_code == 404

    def test_a_listener_of_its_own_takes_it_off_the_app(self, derive_runtime) -> None:
        with app_client(derive_runtime(metrics_address="127.0.0.1:0")) as client:
            assert client.get("/metrics").status_code == 404

    def test_production_with_a_token_serves_it(self, derive_runtime) -> None:
        production = derive_runtime(env=Environment.PRODUCTION, metrics_token=SecretStr(TOKEN))
        with app_client(production) as client:
            assert client.get("/metrics").status_code == 401
            ok = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert ok.status_code == 200


def fetch(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)  # noqa: S310 - loopback only
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


class TestListener:
    def test_serves_the_metrics_on_its_own_port(self, runtime: Runtime) -> None:
        server = start_listener(runtime, "127.0.0.1:0")
        try:
            status, text = fetch(f"http://{bound_address(server)}/metrics")
        finally:
            server.shutdown()
            server.server_close()
        assert status == 200
        assert Scrape.parse(text).value("keyholder_outbox_pending_messages") == 0

    def test_asks_for_the_token_when_one_is_set(self, derive_runtime) -> None:
        server = start_listener(derive_runtime(metrics_token=SecretStr(TOKEN)), "127.0.0.1:0")
        try:
            url = f"http://{bound_address(server)}/metrics"
            assert fetch(url)[0] == 401
            assert fetch(url, "Bearer nope")[0] == 401
            assert fetch(url, TOKEN)[0] == 200
        finally:
            server.shutdown()
            server.server_close()

    @pytest.mark.parametrize("address", ["9464", "host:", "host:port", "127.0.0.1:70000"])
    def test_a_bad_address_is_refused(self, address: str) -> None:
        with pytest.raises(ValueError, match="not host:port"):
            parse_address(address)

    def test_addresses(self) -> None:
        assert parse_address("127.0.0.1:9464") == ("127.0.0.1", 9464)
        assert parse_address("[::1]:9464") == ("::1", 9464)
        assert parse_address(":9464") == ("0.0.0.0", 9464)  # noqa: S104
