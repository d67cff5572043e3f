"""Settings, read from the environment (prefix ``KEYHOLDER_``) or a ``.env`` file."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Rate limits in the `limits` notation ("10 per 5 minutes", "5/hour"; several
# joined by , ; or |), checked the way `limits.parse` reads them but without
# importing `limits`: it is slow to import, and every CLI command reads the
# settings while few count attempts. The limiter parses them with `limits`.
_ONE_LIMIT = r"\s*([0-9]+)\s*(/|\s*per\s*)\s*([0-9]+)?\s*([a-z]+)\s*"
_LIMITS = re.compile(rf"^{_ONE_LIMIT}(:?[,;|]{{1}}{_ONE_LIMIT})*$", re.IGNORECASE)
_ONE = re.compile(_ONE_LIMIT, re.IGNORECASE)
_GRANULARITIES = ("second", "minute", "hour", "day", "month", "year")
_UNITS = frozenset(_GRANULARITIES + tuple(f"{unit}s" for unit in _GRANULARITIES))

# A well-known placeholder: usable in development, refused everywhere else.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"  # noqa: S105
# OWASP's Password Storage Cheat Sheet lists five equivalent argon2id minimums
# (19 MiB x 2 passes, ...): each has memory (KiB) x passes >= 7168 x 5.
ARGON2_MIN_PRODUCTION_COST = 7168 * 5
# Audit checkpoints' file when none is set, beside the default database (S36).
DEFAULT_AUDIT_CHECKPOINT_FILE = Path("var/audit-checkpoints.jsonl")
ONE_YEAR_SECONDS = 365 * 24 * 3600


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
    # Fernet keys (JSON list) TOTP secrets are encrypted with: the first encrypts,
    # all decrypt (identity.totp_keys). Required in production; elsewhere derived
    # from the secret key when unset.
    totp_keys: tuple[SecretStr, ...] = ()
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
    # argon2id cost (S12); defaults: RFC 9106's low-memory profile (argon2-cffi's own).
    # Hashes made with other values are re-hashed at each user's next sign-in.
    # (Written out: importing argon2 here would load it for every CLI command;
    # tests/test_config.py checks them against argon2.profiles.RFC_9106_LOW_MEMORY.)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_cost: int = Field(default=65536, ge=8)  # KiB
    argon2_parallelism: int = Field(default=4, ge=1)
    relay_in_process: bool = True
    relay_interval_seconds: float = 2.0
    relay_batch_size: int = 100
    relay_max_attempts: int = 12
    # Background jobs (grants after cooling-off, letter pre-screens): in each app
    # process too unless turned off; any number of runners is safe.
    jobs_in_process: bool = True
    jobs_interval_seconds: float = Field(default=15.0, gt=0)
    # Moving-window rate limits in the `limits` notation; in Redis when redis_url
    # is set (shared by every process), else per process (S3, S16).
    # Sign-in (S16): every attempt counts per client address, per account and
    # client address, and per account from every client together; a sign-in
    # clears its account's two counts, so only failures add up there. One client
    # alone cannot fill an account's count: per_account_client < per_account.
    login_limit_per_account: str = "20 per 5 minutes"
    login_limit_per_account_client: str = "5 per 5 minutes"
    login_limit_per_client: str = "10 per 5 minutes"
    reset_limit_per_email: str = "5 per 24 hours"
    reset_limit_per_client: str = "20 per 1 hour"
    # Wrong second-factor codes per user (TOTP or recovery code).
    mfa_limit_per_user: str = "10 per 15 minutes"
    rate_limit_prefix: str = "keyholder"
    # Where the counts live without KEYHOLDER_REDIS_URL: "database" (shared by every
    # process on it), "memory" (this process alone), or "auto": the database on
    # PostgreSQL, memory on SQLite (one machine, usually one process).
    rate_limit_storage: Literal["auto", "database", "memory"] = "auto"
    # argon2 jobs run at once per process; more wait their turn (S16). Their
    # threads run this much nicer than the rest (Linux; 0 turns it off).
    hashing_workers: int = Field(default=2, ge=1)
    hashing_niceness: int = Field(default=19, ge=0, le=19)
    # At most this many jobs wait for the pool (more: 503 with Retry-After), and a
    # job that waited longer than the deadline is dropped unhashed (S40).
    hashing_queue_limit: int = Field(default=32, ge=1)
    hashing_deadline_seconds: float = Field(default=10.0, gt=0)
    # Support desk. Its emails come from desk_address; replies reach it through a
    # plus-address (support+t123-<mac>@...) on the same mailbox.
    desk_address: str = "Keyholder Support <support@keyholder.localhost>"
    desk_groups: tuple[str, ...] = ("support", "access-review", "billing")
    # Hours to first response and to resolution, per ticket priority.
    desk_first_response_hours: dict[str, float] = Field(
        default_factory=lambda: {"urgent": 1.0, "high": 4.0, "normal": 8.0, "low": 24.0}
    )
    desk_resolution_hours: dict[str, float] = Field(
        default_factory=lambda: {"urgent": 8.0, "high": 24.0, "normal": 72.0, "low": 168.0}
    )
    # Desk emails link the requester to their ticket's page (no sign-in); the
    # link stops working this long after the ticket closes.
    desk_link_after_close: timedelta = timedelta(days=30)
    # Attachments (S32-S34): stored by content hash in the database, or in this
    # directory when set. 25 MiB: a letter scanned at 300 dpi in colour and saved as
    # PNG runs to 13 MB and more (issue 14: four held-out scans were refused at 10).
    attachment_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    attachment_max_pixels: int = Field(default=50_000_000, ge=1)
    blob_dir: Path | None = None
    # `keyholder mail listen`: the SMTP/LMTP listener an MTA hands support mail to.
    mail_listen_host: str = "127.0.0.1"
    mail_listen_port: int = Field(default=8025, ge=1, le=65535)
    # Admin-access requests. cooling_off (above) is the wait between the second
    # approval and the grant; 0 only in development.
    access_link_ttl: timedelta = timedelta(days=7)
    access_freeze_after_veto: timedelta = timedelta(days=30)
    # An admin who signed in this recently is reachable: requests go to them (S21).
    access_admin_active_window: timedelta = timedelta(days=30)
    # Contacts on record younger than this get no confirmation link (S22): the
    # waiting period after a contact confirms its address, or is changed.
    access_contact_min_age: timedelta = timedelta(days=7)
    # How long a recovery contact's emailed confirmation link works.
    contact_confirmation_ttl: timedelta = timedelta(days=7)
    # An account with a single admin: that admin is reminded to add a second at
    # most once per this interval (the background jobs send it).
    admin_continuity_reminder_every: timedelta = Field(default=timedelta(days=7), gt=timedelta(0))
    # The platform's own email domains: their addresses never become customer
    # admins (S31), nor do look-alikes. Staff users' exact addresses count anyway.
    staff_email_domains: tuple[str, ...] = ()
    access_request_limit_per_client: str = "5 per 1 hour"
    access_request_limit_per_account: str = "3 per 1 day"
    # Retention (access.retention, docs/data-protection.md): this long after a
    # request's decision its letter, attachments, raw emails and email bodies are
    # deleted (tombstones keep the hashes), and a refused request is minimised.
    access_request_retention: timedelta = Field(default=timedelta(days=90), ge=timedelta(0))
    # Claims by break-glass recovery code (access.recovery_claims): the wait before
    # the grant, during which admins and contacts may veto (0 only in development),
    # and how many attempts (wrong codes included) per claimant and per account.
    recovery_claim_cooling_off: timedelta = timedelta(hours=24)
    recovery_claim_limit_per_user: str = "5 per 1 hour"
    recovery_claim_limit_per_account: str = "10 per 1 day"
    # Letter pre-screening (S33): input limits, and the subprocess each pre-screen
    # runs in. A letter dated more than letters_max_age_days ago fails "dated recently".
    letters_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    letters_max_pixels: int = Field(default=50_000_000, ge=1)
    letters_max_pages: int = Field(default=10, ge=1)
    letters_timeout_seconds: float = Field(default=60.0, gt=0)
    letters_memory_limit_mb: int = Field(default=1536, ge=256)
    letters_max_age_days: int = Field(default=30, ge=1)
    # When the service runs as root, each pre-screen child runs as this
    # unprivileged user instead (S33); ignored otherwise.
    letters_user: str = "nobody"
    # DNS proof of domain control (access requests): the nameservers (IP addresses)
    # TXT records are looked up on; empty uses the system's (/etc/resolv.conf).
    dns_nameservers: tuple[str, ...] = ()
    dns_port: int = Field(default=53, ge=1, le=65535)
    dns_timeout_seconds: float = Field(default=3.0, gt=0)
    # Audit log (S36), keys kept out of the database. The chain's MAC keys, JSON
    # {"id": "base64 key"}: old ids stay so old events verify; audit_key_id picks the
    # one new events use. The Ed25519 key signing checkpoints (PEM or base64 seed),
    # and public keys trusted besides its own (old signing keys; a verify-only host).
    # Production needs both keys; development and tests derive them from the secret.
    audit_keys: dict[str, SecretStr] = Field(default_factory=dict)
    audit_key_id: str | None = None
    audit_signing_key: SecretStr | None = None
    audit_public_keys: tuple[str, ...] = ()
    # Signed checkpoints go outside the database: to a JSON-lines file (default
    # var/audit-checkpoints.jsonl, none in tests) and to syslog if set, after the
    # commit of every audit_checkpoint_every events and by the background jobs.
    audit_checkpoint_file: Path | None = None
    audit_syslog_address: str | None = None
    audit_checkpoint_every: int = Field(default=1, ge=1)
    # The OpenAPI document and its interactive page (/api/openapi.json, /api/docs).
    # Unset: served except in production, where the page would run the CDN's
    # script on our origin and the document maps every staff route (S41).
    api_docs: bool | None = None
    # Strict-Transport-Security max-age (seconds; 0 sends none). Unset: one year
    # in production, none elsewhere (development is plain http://127.0.0.1).
    hsts_max_age: int | None = Field(default=None, ge=0)
    # The reverse proxies in front of `keyholder serve` (IP addresses or networks,
    # JSON list). Only from these are X-Forwarded-For and X-Forwarded-Proto
    # believed: the client's address then comes from the header, so per-client
    # rate limits and the audit log see clients, not the proxy. Empty: no proxy.
    trusted_proxies: tuple[str, ...] = ()
    # Passkeys and security keys (WebAuthn, identity.passkeys). The relying party
    # ID and the origins browsers may sign for; unset, both come from base_url.
    # Browsers take no IP address as RP ID: at the default http://127.0.0.1:8000
    # passkeys do not work, at http://localhost:8000 they do. Attestation "none":
    # we ask no authenticator for its make and model ("indirect" or "direct" ask,
    # and their statements are checked). Challenges live this long, in the
    # database (the two requests of a ceremony may reach different processes).
    webauthn_rp_id: str | None = None
    webauthn_rp_name: str = "Keyholder"
    webauthn_origins: tuple[str, ...] = ()
    webauthn_attestation: Literal["none", "indirect", "direct"] = "none"
    webauthn_challenge_ttl: timedelta = timedelta(minutes=5)
    # Staff, and members acting with `manage`, act only from a session signed in
    # with a passkey (or, once, a recovery code): a TOTP code can be phished.
    require_phishing_resistant_admin: bool = False
    # Logs: one line per request (keyholder.request) and the format of every line:
    # JSON lines in production, readable text elsewhere, unless set (keyholder.logs).
    request_log: bool = True
    log_format: Literal["json", "text"] | None = None
    # Webhooks (keyholder.webhooks, docs/webhooks.md). Each request waits this long
    # at most; after webhook_max_failures failed attempts in a row an endpoint is
    # disabled and webhook_notify_emails (if any) are told. Targets on private,
    # loopback, link-local or reserved addresses are refused unless allowed (SSRF).
    # After a secret rotation the old secret signs too, for webhook_secret_overlap.
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    webhook_max_failures: int = Field(default=15, ge=1)
    webhook_allow_private_targets: bool = False
    webhook_secret_overlap: timedelta = Field(default=timedelta(hours=24), ge=timedelta(0))
    webhook_notify_emails: tuple[str, ...] = ()
    webhook_batch_size: int = Field(default=20, ge=1, le=1000)
    # Audit streaming: every audit event, as `audit export` writes it, appended to
    # this JSON-lines file (fsynced) and/or sent to this syslog address, resuming
    # after the last acknowledged seq (kept in the database) after a restart.
    audit_stream_file: Path | None = None
    audit_stream_syslog_address: str | None = None
    # Metrics for Prometheus (observability): on a listener of their own
    # (host:port, started by `serve` and `worker`), and/or at the app's /metrics
    # behind this bearer token. In production with neither, no /metrics (404).
    metrics_address: str | None = None
    metrics_token: SecretStr | None = Field(default=None, min_length=16)

    @field_validator(
        "login_limit_per_account",
        "login_limit_per_account_client",
        "login_limit_per_client",
        "reset_limit_per_email",
        "reset_limit_per_client",
        "mfa_limit_per_user",
        "access_request_limit_per_client",
        "access_request_limit_per_account",
        "recovery_claim_limit_per_user",
        "recovery_claim_limit_per_account",
    )
    @classmethod
    def _parse_as_rate_limit(cls, value: str) -> str:
        # As limits.parse does (tests/test_config.py holds the two side by side).
        if not _LIMITS.match(value):
            raise ValueError(f"couldn't parse rate limit string '{value}'")
        for part in re.split(r"[,;|]", value):
            found = _ONE.match(part)
            if found and found.group(4).lower() not in _UNITS:
                raise ValueError(f"no granularity matched for {found.group(4)}")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _parse_as_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # Addresses only: a name or "*" would let anyone who can reach the port
        # say which address they come from (and dodge every per-client limit).
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (such as 10.0.0.5 or 10.0.0.0/24)"
                ) from None
        return value

    @model_validator(mode="after")
    def _check_webauthn(self) -> Self:
        for origin in self.webauthn_origins:
            parts = urlsplit(origin)
            if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path:
                raise ValueError(
                    f"KEYHOLDER_WEBAUTHN_ORIGINS: {origin!r} is not an origin "
                    "(scheme://host[:port], nothing after)"
                )
        return self

    @model_validator(mode="after")
    def _check_cooling_off(self) -> Self:
        if self.cooling_off < timedelta(0):
            raise ValueError("KEYHOLDER_COOLING_OFF cannot be negative")
        if not self.cooling_off and self.env is not Environment.DEVELOPMENT:
            raise ValueError(
                "KEYHOLDER_COOLING_OFF=0 is allowed only with KEYHOLDER_ENV=development: "
                "existing admins and contacts need time to veto a grant"
            )
        claim = self.recovery_claim_cooling_off
        if claim < timedelta(0) or (not claim and self.env is not Environment.DEVELOPMENT):
            raise ValueError(
                "KEYHOLDER_RECOVERY_CLAIM_COOLING_OFF must be positive (0 only with "
                "KEYHOLDER_ENV=development): admins and contacts need time to veto a claim"
            )
        return self

    @model_validator(mode="after")
    def _check_desk_settings(self) -> Self:
        if not self.desk_groups:
            raise ValueError("KEYHOLDER_DESK_GROUPS must name at least one group")
        priorities = {"low", "normal", "high", "urgent"}
        for name in ("desk_first_response_hours", "desk_resolution_hours"):
            hours = getattr(self, name)
            if set(hours) != priorities or any(value <= 0 for value in hours.values()):
                raise ValueError(
                    f"KEYHOLDER_{name.upper()} needs a positive number of hours for each "
                    f"of {', '.join(sorted(priorities))}"
                )
        return self

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

    @model_validator(mode="after")
    def _require_audit_keys_in_production(self) -> Self:
        # After the secret key's check: development and tests derive from it.
        # (Imported here: the audit modules load `cryptography`, which `--help` need not.)
        from keyholder.audit.keys import DERIVED_KEY_ID, derive_development_keys  # noqa: PLC0415
        from keyholder.audit.settings import check_audit_settings  # noqa: PLC0415

        unless = "unless KEYHOLDER_ENV is development or test (`keyholder audit keygen` makes it)"
        if self.env is Environment.PRODUCTION:
            if not self.audit_keys:
                raise ValueError(f"KEYHOLDER_AUDIT_KEYS must be set {unless}")
            # Only a host that verifies and never serves may go without (serve/worker check).
            if self.audit_signing_key is None and not self.audit_public_keys:
                raise ValueError(f"KEYHOLDER_AUDIT_SIGNING_KEY must be set {unless}")
        else:
            chain_key, signing_seed = derive_development_keys(self.secret)
            if not self.audit_keys:
                object.__setattr__(self, "audit_keys", {DERIVED_KEY_ID: SecretStr(chain_key)})
            if self.audit_signing_key is None:
                object.__setattr__(self, "audit_signing_key", SecretStr(signing_seed))
        if self.audit_checkpoint_file is None and self.env is not Environment.TEST:
            object.__setattr__(self, "audit_checkpoint_file", DEFAULT_AUDIT_CHECKPOINT_FILE)
        check_audit_settings(self)  # a key or address that cannot be used stops start-up
        return self

    @model_validator(mode="after")
    def _check_argon2_parameters(self) -> Self:
        if self.argon2_memory_cost < 8 * self.argon2_parallelism:
            raise ValueError("KEYHOLDER_ARGON2_MEMORY_COST must be at least 8 KiB per lane")
        # Tests and development may use cheap parameters; production may not.
        cost = self.argon2_memory_cost * self.argon2_time_cost
        if self.env is Environment.PRODUCTION and cost < ARGON2_MIN_PRODUCTION_COST:
            raise ValueError(
                "KEYHOLDER_ARGON2_MEMORY_COST (KiB) x KEYHOLDER_ARGON2_TIME_COST must be at "
                f"least {ARGON2_MIN_PRODUCTION_COST} in production (e.g. 19456 x 2)"
            )
        return self

    @model_validator(mode="after")
    def _check_totp_keys(self) -> Self:
        from cryptography.fernet import Fernet  # noqa: PLC0415 - as above: not for `--help`

        for key in self.totp_keys:
            try:
                Fernet(key.get_secret_value().encode())
            except ValueError:
                raise ValueError(
                    "KEYHOLDER_TOTP_KEYS must be a JSON list of Fernet keys (32 url-safe "
                    "base64-encoded bytes each, from Fernet.generate_key())"
                ) from None
        if not self.totp_keys and self.env is Environment.PRODUCTION:
            raise ValueError(
                "KEYHOLDER_TOTP_KEYS must be set in production: a JSON list of Fernet keys, "
                "the first encrypts TOTP secrets (make one with `python -c 'from "
                "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
            )
        return self

    @property
    def is_development(self) -> bool:
        return self.env is Environment.DEVELOPMENT

    @property
    def rate_limit_store(self) -> Literal["redis", "database", "memory"]:
        """Where the rate limits count, all settings considered (``rate_limit_storage``)."""
        if self.redis_url:
            return "redis"
        if self.rate_limit_storage != "auto":
            return self.rate_limit_storage
        return "memory" if self.database_url.startswith("sqlite") else "database"

    @property
    def lines_of_log(self) -> Literal["json", "text"]:
        """The log format in force: ``log_format``, else JSON in production only."""
        if self.log_format is not None:
            return self.log_format
        return "json" if self.env is Environment.PRODUCTION else "text"

    @property
    def metrics_enabled(self) -> bool:
        """Whether requests are timed for metrics at all (somewhere serves them)."""
        return bool(
            self.metrics_address or self.metrics_token or self.env is not Environment.PRODUCTION
        )

    @property
    def metrics_on_app(self) -> bool:
        """Whether the app's own port serves ``/metrics``: behind the token when set;
        without one, never when a listener of their own is set, nor in production."""
        if self.metrics_token is not None:
            return True
        return not self.metrics_address and self.env is not Environment.PRODUCTION

    @property
    def serves_api_docs(self) -> bool:
        return (
            self.api_docs if self.api_docs is not None else self.env is not Environment.PRODUCTION
        )

    @property
    def hsts_seconds(self) -> int:
        if self.hsts_max_age is not None:
            return self.hsts_max_age
        return ONE_YEAR_SECONDS if self.env is Environment.PRODUCTION else 0

    @property
    def rp_id(self) -> str:
        """The WebAuthn relying party ID: set, or the host of the base URL."""
        return self.webauthn_rp_id or (urlsplit(self.base_url).hostname or "localhost")

    @property
    def webauthn_expected_origins(self) -> list[str]:
        """The origins a WebAuthn response may come from: set, or the base URL's."""
        if self.webauthn_origins:
            return list(self.webauthn_origins)
        parts = urlsplit(self.base_url)
        return [f"{parts.scheme}://{parts.netloc}"]

    @property
    def secret(self) -> bytes:
        assert self.secret_key is not None  # guaranteed by the validator
        return self.secret_key.get_secret_value().encode()
