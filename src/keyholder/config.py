"""Settings, read from the environment (prefix ``KEYHOLDER_``) or a ``.env`` file."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A well-known placeholder: usable in development, refused everywhere else.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"  # noqa: S105


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KEYHOLDER_", env_file=".env", extra="ignore", frozen=True
    )

    env: Environment = Environment.PRODUCTION
    database_url: str = "sqlite:///var/keyholder.db"
    secret_key: SecretStr | None = None
    base_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = Field(
        default=None,
        description="smtp://[user:pass@]host:port (or smtps://); unset keeps mail in the outbox.",
    )
    mail_from: str = "Keyholder <keyholder@localhost>"
    redis_url: str | None = None
    cooling_off: timedelta = timedelta(hours=72)
    invitation_ttl: timedelta = timedelta(days=7)
    session_ttl: timedelta = timedelta(days=14)
    password_reset_ttl: timedelta = timedelta(minutes=60)
    email_verification_ttl: timedelta = timedelta(days=2)
    # An email changed more recently than this cannot receive an admin's reset (S5).
    email_change_reset_block: timedelta = timedelta(days=7)
    relay_in_process: bool = True
    relay_interval_seconds: float = 2.0
    relay_batch_size: int = 100
    relay_max_attempts: int = 12

    @model_validator(mode="after")
    def _require_real_secret_outside_development(self) -> Self:
        secret = self.secret_key.get_secret_value() if self.secret_key else None
        if self.env is Environment.DEVELOPMENT:
            if secret is None:
                object.__setattr__(self, "secret_key", SecretStr(DEVELOPMENT_SECRET_KEY))
            return self
        if not secret or secret == DEVELOPMENT_SECRET_KEY:
            raise ValueError(
                "KEYHOLDER_SECRET_KEY must be set to a private random value "
                "unless KEYHOLDER_ENV=development"
            )
        if len(secret) < 32:
            raise ValueError("KEYHOLDER_SECRET_KEY must be at least 32 characters long")
        return self

    @property
    def is_development(self) -> bool:
        return self.env is Environment.DEVELOPMENT

    @property
    def secret(self) -> bytes:
        assert self.secret_key is not None  # guaranteed by the validator
        return self.secret_key.get_secret_value().encode()
