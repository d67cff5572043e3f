"""TOTP secrets encrypted at rest

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-03 08:00:00

The column widens to hold a Fernet token, and every secret stored in clear
until now is encrypted in the same transaction, under the first key of
KEYHOLDER_TOTP_KEYS (identity.totp_keys). Encrypting here rather than lazily
at each user's next sign-in leaves no clear secret behind, not even for users
who never sign in again, and no second format for the code to accept. Without
settings (keys) and with clear secrets present the upgrade stops and changes
nothing; `keyholder db upgrade` always passes its settings.
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from keyholder.config import Settings
from keyholder.errors import ConfigurationError
from keyholder.identity.totp_keys import decrypt_totp_secret, encrypt_totp_secret

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_USERS = sa.table("users", sa.column("id", sa.Uuid()), sa.column("mfa_secret", sa.String()))
# Every Fernet token starts with its version byte 0x80: "gA" in base64.
_FERNET_PREFIX = "gAAAAA"


def _settings() -> Settings:
    config = op.get_context().config
    settings = config.attributes.get("settings") if config is not None else None
    if not isinstance(settings, Settings):
        raise ConfigurationError(
            "TOTP secrets stored in clear need KEYHOLDER_TOTP_KEYS to be encrypted: "
            "run `keyholder db upgrade`, which reads it"
        )
    return settings


def _rewrite(change: Callable[[str], str]) -> None:
    bind = op.get_bind()
    query = sa.select(_USERS.c.id, _USERS.c.mfa_secret).where(_USERS.c.mfa_secret.is_not(None))
    rows = bind.execute(query).all()
    for row_id, stored in rows:
        new = change(stored)
        if new != stored:
            bind.execute(_USERS.update().where(_USERS.c.id == row_id).values(mfa_secret=new))


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "mfa_secret",
            existing_type=sa.String(length=64),
            type_=sa.String(length=255),
            existing_nullable=True,
        )

    def encrypt(stored: str) -> str:
        if stored.startswith(_FERNET_PREFIX):
            return stored
        return encrypt_totp_secret(_settings(), stored)

    _rewrite(encrypt)


def downgrade() -> None:
    def decrypt(stored: str) -> str:
        if not stored.startswith(_FERNET_PREFIX):
            return stored
        return decrypt_totp_secret(_settings(), stored)

    _rewrite(decrypt)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "mfa_secret",
            existing_type=sa.String(length=255),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
