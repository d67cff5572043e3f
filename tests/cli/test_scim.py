"""keyholder scim tokens create|list|revoke: shown once, hashed at rest, audited."""

from __future__ import annotations

from sqlalchemy import select

from keyholder.audit.models import AuditEvent
from keyholder.identity.tokens import hash_token
from keyholder.scim.models import ScimToken
from tests.cli import Cli, assert_error

USERS = "/Users"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestCli:
    def test_create_prints_the_token_once_and_stores_only_its_hash(self, cli: Cli, factories):
        """S6: the token is shown once; the database holds its SHA-256 only."""
        factories.account("acme-corp")

        result = cli.ok("scim", "tokens", "create", "acme-corp", "--name", "okta")

        token = result.stdout.strip()
        assert token.startswith("khscim_")
        assert "cannot be shown again" in result.stderr
        assert "/scim/v2/acme-corp" in result.stderr
        with cli.runtime.uow(read_only=True) as uow:
            stored = uow.session.scalars(select(ScimToken)).one()
            assert stored.token_hash == hash_token(token)
            assert stored.name == "okta"
            assert token not in repr(uow.session.scalars(select(AuditEvent.data)).all())

    def test_list_and_revoke_are_audited_and_revocation_takes_effect(
        self, cli: Cli, client, factories
    ):
        factories.account("acme-corp")
        created = cli.json("scim", "tokens", "create", "acme-corp", "--name", "entra")
        assert client.get(f"/scim/v2/acme-corp{USERS}", headers=bearer(created["token"])).is_success

        listed = cli.json("scim", "tokens", "list", "acme-corp")
        assert [(t["id"], t["name"], t["revoked_at"]) for t in listed] == [
            (created["id"], "entra", None)
        ]
        assert "token" not in listed[0]
        cli.ok("scim", "tokens", "revoke", created["id"])

        refused = client.get(f"/scim/v2/acme-corp{USERS}", headers=bearer(created["token"]))
        assert refused.status_code == 401
        assert cli.json("scim", "tokens", "list", "acme-corp")[0]["revoked_at"] is not None
        assert_error(cli("scim", "tokens", "revoke", created["id"]), "already revoked")
        with cli.runtime.uow(read_only=True) as uow:
            actions = uow.session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.target.like("account:acme-corp/scim_token:%")
                )
            ).all()
        assert actions == ["scim.token_create", "scim.token_revoke"]

    def test_unknown_account_and_bad_id_are_one_line_errors(self, cli: Cli):
        assert_error(cli("scim", "tokens", "create", "nope"), "no enterprise account")
        assert_error(cli("scim", "tokens", "revoke", "not-an-id"), "not a token id")
