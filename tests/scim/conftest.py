"""An account with an admin, and a SCIM token of it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from keyholder.accounts.models import EnterpriseAccount
from keyholder.bootstrap import Runtime
from keyholder.identity.models import User
from keyholder.scim.tokens import create_scim_token
from tests.factories import OPERATOR, Factories

SCIM_JSON = "application/scim+json"


@dataclass
class ScimSetup:
    account: EnterpriseAccount
    admin: User
    token: str

    @property
    def base(self) -> str:
        return f"/scim/v2/{self.account.name}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": SCIM_JSON}


def issue_token(runtime: Runtime, account: EnterpriseAccount, name: str = "okta") -> str:
    return create_scim_token(runtime.uow(), account.name, name=name, actor=OPERATOR).token


@pytest.fixture
def scim(runtime: Runtime, factories: Factories) -> ScimSetup:
    account = factories.account("acme-corp")
    admin = factories.admin_of(account, "alice@acme.example")
    return ScimSetup(account=account, admin=admin, token=issue_token(runtime, account))
