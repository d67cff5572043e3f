"""SCIM tokens: each opens its own account's endpoint only (the CLI is tests/cli/test_scim.py)."""

from __future__ import annotations

from tests.scim.conftest import SCIM_JSON, ScimSetup, issue_token

USERS = "/Users"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestScoping:
    def test_a_token_opens_its_own_account_only(self, client, runtime, factories, scim: ScimSetup):
        other = factories.account("globex")
        factories.admin_of(other, "hank@globex.example")
        globex_token = issue_token(runtime, other)

        # Acme's token on Globex: the 404 of an account that does not exist.
        crossed = client.get("/scim/v2/globex/Users", headers=scim.headers)
        missing = client.get("/scim/v2/no-such-account/Users", headers=scim.headers)
        assert crossed.status_code == missing.status_code == 404
        assert crossed.headers["content-type"] == SCIM_JSON
        assert crossed.json()["detail"] == "no enterprise account named 'globex'"
        listed = client.get("/scim/v2/globex/Users", headers=bearer(globex_token)).json()
        assert [r["userName"] for r in listed["Resources"]] == ["hank@globex.example"]

        # Nor can it change Globex: writes are refused the same way.
        made = client.post(
            "/scim/v2/globex/Users",
            headers=scim.headers,
            json={"schemas": [], "userName": "mallory@evil.example", "emails": []},
        )
        assert made.status_code == 404

    def test_no_token_or_a_wrong_one_is_401_as_a_scim_error(self, client, scim: ScimSetup):
        for headers in ({}, bearer("khscim_wrong"), {"Authorization": "Basic Zm9vOmJhcg=="}):
            answer = client.get(f"{scim.base}/Users", headers=headers)
            assert answer.status_code == 401
            assert answer.headers["www-authenticate"].startswith("Bearer")
            assert answer.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
            assert answer.json()["status"] == "401"

    def test_an_api_token_or_session_is_no_scim_token(self, client, factories, scim: ScimSetup):
        """The admin's own API token opens the API, not SCIM: SCIM is the IdP's."""
        answer = client.get(f"{scim.base}/Users", headers=factories.auth(scim.admin))
        assert answer.status_code == 401
