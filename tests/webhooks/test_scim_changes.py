"""SCIM provisioning goes through the members' rules, so its changes are webhooks too."""

from __future__ import annotations

from standardwebhooks import Webhook

from keyholder.bootstrap import Runtime
from keyholder.worker import run_jobs_once
from tests.factories import Factories
from tests.scim.conftest import SCIM_JSON, issue_token
from tests.webhooks.receiver import Receiver
from tests.webhooks.test_delivery import subscribe


def test_a_member_added_and_removed_by_scim_arrives_as_signed_webhooks(
    runtime: Runtime, factories: Factories, receiver: Receiver, client
) -> None:
    account = factories.account("acme-corp")
    factories.admin_of(account, "alice@acme.example")
    factories.user("bob@acme.example")
    headers = {
        "Authorization": f"Bearer {issue_token(runtime, account)}",
        "Content-Type": SCIM_JSON,
    }
    secret = subscribe(runtime, receiver)

    made = client.post(
        "/scim/v2/acme-corp/Users",
        headers=headers,
        json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "bob@acme.example",
            "emails": [{"value": "bob@acme.example", "primary": True}],
        },
    )
    assert made.status_code == 201, made.text
    assert (
        client.delete(f"/scim/v2/acme-corp/Users/{made.json()['id']}", headers=headers).status_code
        == 204
    )
    run_jobs_once(runtime)

    messages = [Webhook(secret).verify(r.body, r.headers) for r in receiver.received]
    assert [(m["type"], m["data"]["ids"]["member"]) for m in messages] == [
        ("member.added", "bob@acme.example"),
        ("member.removed", "bob@acme.example"),
    ]
    assert all(m["data"]["actor"].startswith("scim:acme-corp/") for m in messages)
