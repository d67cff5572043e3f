"""/api/passkeys and passkey sign-in under /api/session (S15, S17, S41).

The ceremonies are answered by the software authenticator of the identity
tests (real keys), with the origin of the test settings' base URL.
"""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.identity.authenticator import SoftwareAuthenticator
from tests.identity.test_passkeys import ORIGIN
from tests.web.api.test_mfa import session_cookie, sign_in


@pytest.fixture
def alice(factories):
    return factories.user("alice@acme.example", password=PASSWORD)


@pytest.fixture
def device() -> SoftwareAuthenticator:
    return SoftwareAuthenticator(origin=ORIGIN)


def register(client, headers, device, name="Laptop"):
    begun = client.post("/api/passkeys/registration", json={"password": PASSWORD}, headers=headers)
    assert begun.status_code == 200, begun.text
    body = begun.json()
    assert body["options"]["rp"] == {"id": "keyholder.test", "name": "Keyholder"}
    assert body["options"]["attestation"] == "none"
    finished = client.post(
        "/api/passkeys/registration/finish",
        json={
            "ceremony": body["ceremony"],
            "name": name,
            "credential": device.create(body["options"]),
        },
        headers=headers,
    )
    assert finished.status_code == 201, finished.text
    return finished.json()


def passwordless(client, device, **answer):
    begun = client.post("/api/session/passwordless").json()
    return client.post(
        "/api/session/passwordless/finish",
        json={"ceremony": begun["ceremony"], "credential": device.get(begun["options"], **answer)},
    )


def test_register_list_rename_and_remove(client, alice, device, outbox):
    headers, _ = sign_in(client)
    added = register(client, headers, device)
    assert (added["name"], added["discoverable"], added["clone_warning_at"]) == (
        "Laptop",
        True,
        None,
    )
    listed = client.get("/api/passkeys", headers=headers)
    assert [each["id"] for each in listed.json()] == [added["id"]]
    assert listed.headers["cache-control"] == "no-store"

    renamed = client.patch(f"/api/passkeys/{added['id']}", json={"name": "Desk"}, headers=headers)
    assert renamed.json()["name"] == "Desk"

    # Removing needs a passkey sign-in (S17's re-authentication, and then some).
    refused = client.request(
        "DELETE", f"/api/passkeys/{added['id']}", json={"password": PASSWORD}, headers=headers
    )
    assert refused.status_code == 403
    signed_in = passwordless(client, device)
    assert signed_in.status_code == 200, signed_in.text
    with_key = session_cookie(signed_in)
    removed = client.request(
        "DELETE", f"/api/passkeys/{added['id']}", json={"password": PASSWORD}, headers=with_key
    )
    assert removed.status_code == 204
    assert client.get("/api/passkeys", headers=with_key).json() == []
    assert passwordless(client, device).status_code == 401
    kinds = [row.kind for row in outbox.rows()]
    assert (kinds.count("passkey_added"), kinds.count("passkey_removed")) == (1, 1)


def test_s15_passwordless_sign_in_sets_a_verified_session(client, alice, device):
    headers, _ = sign_in(client)
    register(client, headers, device)
    answer = passwordless(client, device)
    assert answer.status_code == 200
    assert answer.json()["email"] == alice.email
    assert answer.json()["mfa_required"] is False
    assert answer.json()["csrf_token"]
    me = client.get("/api/session", headers=session_cookie(answer))
    assert me.status_code == 200


def test_the_second_factor_with_a_passkey_replaces_the_session(client, alice, device):
    headers, _ = sign_in(client)
    register(client, headers, device)
    password_only, body = sign_in(client)
    assert body["mfa_required"] is True
    assert client.get("/api/session", headers=password_only).status_code == 401
    begun = client.post("/api/session/passkey", headers=password_only).json()
    assert [each["type"] for each in begun["options"]["allowCredentials"]] == ["public-key"]
    finished = client.post(
        "/api/session/passkey/finish",
        json={"ceremony": begun["ceremony"], "credential": device.get(begun["options"])},
        headers=password_only,
    )
    assert finished.status_code == 204, finished.text
    assert client.get("/api/session", headers=session_cookie(finished)).status_code == 200
    assert client.get("/api/session", headers=password_only).status_code == 401


def test_a_used_ceremony_is_gone(client, alice, device):
    headers, _ = sign_in(client)
    register(client, headers, device)
    begun = client.post("/api/session/passwordless").json()
    body = {"ceremony": begun["ceremony"], "credential": device.get(begun["options"])}
    assert client.post("/api/session/passwordless/finish", json=body).status_code == 200
    again = client.post("/api/session/passwordless/finish", json=body)
    assert again.status_code == 410
    assert again.headers["content-type"] == "application/problem+json"


def test_an_answer_for_another_origin_is_a_401(client, alice, device):
    headers, _ = sign_in(client)
    register(client, headers, device)
    refused = passwordless(client, device, origin="https://phish.example")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the passkey was not accepted"


def test_garbage_credentials_are_refused_not_crashes(client, alice):
    headers, _ = sign_in(client)
    begun = client.post("/api/passkeys/registration", json={"password": PASSWORD}, headers=headers)
    for credential in ({}, {"id": 1}, {"response": {"clientDataJSON": "!!"}}):
        answer = client.post(
            "/api/passkeys/registration/finish",
            json={"ceremony": begun.json()["ceremony"], "credential": credential},
            headers=headers,
        )
        assert answer.status_code in {410, 422}, answer.text


def test_another_users_passkey_is_a_404(client, alice, factories, device):
    headers, _ = sign_in(client)
    added = register(client, headers, device)
    factories.user("bob@acme.example", password=PASSWORD)
    bob, _ = sign_in(client, "bob@acme.example")
    answer = client.patch(f"/api/passkeys/{added['id']}", json={"name": "x"}, headers=bob)
    assert answer.status_code == 404


def test_the_operations_are_documented(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/passkeys",
        "/api/passkeys/registration",
        "/api/passkeys/registration/finish",
        "/api/passkeys/{passkey_id}",
        "/api/session/passkey",
        "/api/session/passkey/finish",
        "/api/session/passwordless",
        "/api/session/passwordless/finish",
    ):
        assert path in paths
