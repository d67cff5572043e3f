"""/api/enterprise-accounts/{name}/contacts and /api/contact-confirmations (issue 18)."""

from __future__ import annotations

import re

import pytest

from keyholder.accounts.contacts import CONTACT_PREFIX
from tests.factories import PASSWORD

CONTACTS = "/api/enterprise-accounts/acme-corp/contacts"
CFO = {"kind": "executive", "name": "Chris Fo", "title": "CFO", "email": "chris@acme.example"}


@pytest.fixture
def acme(factories):
    return factories.account("acme-corp", domains=["acme.example"])


@pytest.fixture
def alice(factories, acme):
    user = factories.user("alice@acme.example", password=PASSWORD)
    factories.member(acme, user, "view,manage")
    return user


def token_in(outbox) -> str:
    body = outbox.of_kind("contact_confirm")[-1].body
    match = re.search(rf"/contact-confirmations/({CONTACT_PREFIX}_[A-Za-z0-9_-]+)", body)
    assert match
    return match.group(1)


def test_an_admin_names_a_contact_who_confirms(client, factories, alice, outbox):
    headers = factories.auth(alice)
    added = client.post(CONTACTS, json=CFO | {"password": PASSWORD}, headers=headers)
    assert added.status_code == 201
    body = added.json()
    assert body["email"] == "chris@acme.example"
    assert body["confirmed_at"] is None
    confirmed = client.post(f"/api/contact-confirmations/{token_in(outbox)}")
    assert confirmed.status_code == 200
    assert confirmed.json()["confirmed_at"] is not None
    again = client.post(f"/api/contact-confirmations/{token_in(outbox)}")
    assert again.status_code == 410
    assert again.headers["content-type"] == "application/problem+json"
    listed = client.get(CONTACTS, headers=headers).json()
    assert [c["email"] for c in listed] == ["chris@acme.example"]


def test_an_unknown_link_is_404(client):
    response = client.post(f"/api/contact-confirmations/{CONTACT_PREFIX}_nope")
    assert response.status_code == 404


def test_a_wrong_password_is_403_s17(client, factories, alice, outbox):
    response = client.post(
        CONTACTS, json=CFO | {"password": "wrong"}, headers=factories.auth(alice)
    )
    assert response.status_code == 403
    assert outbox.rows() == []


def test_the_password_is_required_s17(client, factories, alice):
    response = client.post(CONTACTS, json=CFO, headers=factories.auth(alice))
    assert response.status_code == 422


def test_an_address_off_the_verified_domains_is_422(client, factories, alice):
    response = client.post(
        CONTACTS,
        json=CFO | {"email": "chris@acme-example.com", "password": PASSWORD},
        headers=factories.auth(alice),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_change_resend_and_remove(client, factories, alice, outbox):
    headers = factories.auth(alice)
    contact_id = client.post(CONTACTS, json=CFO | {"password": PASSWORD}, headers=headers).json()[
        "id"
    ]
    changed = client.patch(
        f"{CONTACTS}/{contact_id}",
        json={"title": "Chief Financial Officer", "password": PASSWORD},
        headers=headers,
    )
    assert changed.status_code == 200
    assert changed.json()["title"] == "Chief Financial Officer"
    resent = client.post(f"{CONTACTS}/{contact_id}/confirmation", headers=headers)
    assert resent.status_code == 202
    assert len(outbox.of_kind("contact_confirm")) == 2
    removed = client.request(
        "DELETE", f"{CONTACTS}/{contact_id}", json={"password": PASSWORD}, headers=headers
    )
    assert removed.status_code == 204
    assert client.get(CONTACTS, headers=headers).json() == []


def test_members_read_but_only_admins_change(client, factories, acme, alice):
    bob = factories.user("bob@acme.example", password=PASSWORD)
    factories.member(acme, bob, "view,billing")
    assert client.get(CONTACTS, headers=factories.auth(bob)).status_code == 200
    refused = client.post(CONTACTS, json=CFO | {"password": PASSWORD}, headers=factories.auth(bob))
    assert refused.status_code == 403


def test_strangers_get_404(client, factories, alice):
    stranger = factories.user("eve@evil.example", password=PASSWORD)
    assert client.get(CONTACTS, headers=factories.auth(stranger)).status_code == 404
    refused = client.post(
        CONTACTS, json=CFO | {"password": PASSWORD}, headers=factories.auth(stranger)
    )
    assert refused.status_code == 404


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/enterprise-accounts/{name}/contacts" in paths
    assert "/api/enterprise-accounts/{name}/contacts/{contact_id}" in paths
    assert "/api/contact-confirmations/{token}" in paths
    assert "confirm" in {
        p["name"]
        for p in paths["/api/enterprise-accounts/{name}/members/{email}"]["delete"]["parameters"]
    }
