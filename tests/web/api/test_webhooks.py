"""/api/webhooks: platform admins subscribe endpoints (issue 19)."""

from __future__ import annotations

import pytest

from keyholder.identity.models import StaffRole

WEBHOOKS = "/api/webhooks"
URL = "https://hooks.example.com/keyholder"


@pytest.fixture
def admin_headers(factories):
    return factories.auth(factories.staff(role=StaffRole.ADMIN))


def add(client, headers, **body):
    response = client.post(
        WEBHOOKS, json={"url": URL, "events": ["member.added"], **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


class TestAccess:
    def test_anonymous_is_401(self, client):
        assert client.get(WEBHOOKS).status_code == 401

    def test_customers_and_agents_are_403_problems(self, client, factories):
        for user in (factories.user(), factories.staff()):
            response = client.post(
                WEBHOOKS,
                json={"url": URL, "events": ["member.added"]},
                headers=factories.auth(user),
            )
            assert response.status_code == 403, response.text
            assert response.headers["content-type"] == "application/problem+json"


class TestEndpoints:
    def test_add_shows_the_secret_once(self, client, admin_headers):
        added = add(client, admin_headers, description="billing platform")
        assert added["secret"].startswith("whsec_")
        assert added["events"] == ["member.added"]

        listed = client.get(WEBHOOKS, headers=admin_headers).json()
        assert [e["id"] for e in listed] == [added["id"]]
        assert "secret" not in listed[0]
        one = client.get(f"{WEBHOOKS}/{added['id']}", headers=admin_headers).json()
        assert one["description"] == "billing platform"

    @pytest.mark.parametrize(
        ("body", "words"),
        [
            ({"url": "http://169.254.169.254/latest", "events": ["member.added"]}, "link-local"),
            ({"url": "http://10.0.0.1/", "events": ["member.added"]}, "private"),
            ({"url": URL, "events": ["member.exploded"]}, "unknown event type"),
            ({"url": URL, "events": []}, "at least one"),
            ({"url": "file:///etc/passwd", "events": ["member.added"]}, "https://"),
        ],
    )
    def test_refused_with_a_problem(self, client, admin_headers, body, words):
        response = client.post(WEBHOOKS, json=body, headers=admin_headers)
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert words in response.json()["detail"]

    def test_rotate_disable_redeliver_remove(self, client, admin_headers):
        added = add(client, admin_headers)
        one = f"{WEBHOOKS}/{added['id']}"

        rotated = client.post(f"{one}/secret", headers=admin_headers).json()
        assert rotated["secret"] != added["secret"]
        assert rotated["previous_secret_valid_until"] is not None

        disabled = client.post(f"{one}/disable", headers=admin_headers).json()
        assert disabled["enabled"] is False
        resumed = client.post(f"{one}/redeliver", json={"from_seq": 1}, headers=admin_headers)
        assert resumed.status_code == 202
        assert resumed.json()["enabled"] is True
        assert resumed.json()["cursor"] == 0

        assert client.get(f"{one}/deliveries", headers=admin_headers).json() == []
        assert client.delete(one, headers=admin_headers).status_code == 204
        assert client.get(one, headers=admin_headers).status_code == 404

    def test_unknown_endpoint_is_404(self, client, admin_headers):
        missing = f"{WEBHOOKS}/00000000-0000-0000-0000-000000000000/deliveries"
        response = client.get(missing, headers=admin_headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
