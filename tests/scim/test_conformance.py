"""The scim2-tester conformance suite against a live server: no failure (issue 19).

scim2-tester discovers the server (ServiceProviderConfig, ResourceTypes,
Schemas), then creates, reads, lists, filters, replaces, patches (add, remove,
replace on every attribute the schema publishes) and deletes Users through the
scim2-client httpx client, over real HTTP to uvicorn on loopback, on the
database under test.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from keyholder.bootstrap import Runtime
from keyholder.web.app import create_app
from tests.factories import Factories
from tests.live_server import serving
from tests.scim.conftest import issue_token
from tests.smtp_server import free_port

FAILING = {Status.ERROR, Status.CRITICAL}


def test_scim2_tester_finds_no_failure(
    derive_runtime: Callable[..., Runtime], factories: Factories
) -> None:
    port = free_port()
    runtime = derive_runtime(base_url=f"http://127.0.0.1:{port}")
    account = factories.account("acme-corp")
    factories.admin_of(account, "alice@acme.example")
    token = issue_token(runtime, account)
    app = create_app(runtime=runtime, run_relay=False, run_jobs=False)
    with serving(app, port) as url:
        http = httpx2.Client(
            base_url=f"{url}/scim/v2/acme-corp",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        with http:
            results = check_server(SyncSCIMClient(http))
    failures = [result for result in results if result.status in FAILING]
    assert len(results) > 50  # the suite ran its CRUD and PATCH checks, not only discovery
    assert failures == [], "\n".join(map(repr, failures))
