"""The one wiring point: settings in, a ready runtime out.

The runtime holds what a process shares: the engine, the clock, and the
adapters the settings choose (blob store, TXT resolver, letter screener,
password hasher, rate limiter, mail transport). Services never choose an
adapter themselves: the entrypoint hands them the runtime's (``limiter=``,
``hasher=``, ``resolver=``, ...), and tests build a runtime with theirs.

Every adapter is built on first use (and its modules imported then), so a
CLI command that never hashes a password or stores a file never pays for the
argon2 pool, the rate limiter's storage or the letters (issue 16 item 7).
``bootstrap``'s keyword arguments put a test's own adapter in its place.
"""

from __future__ import annotations

import threading
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from keyholder.access.wiring import register_desk_hooks
from keyholder.clock import Clock, SystemClock
from keyholder.config import Settings
from keyholder.db.engine import make_engine
from keyholder.db.uow import RequestContext, UnitOfWork, make_session_factories
from keyholder.mail.transports import MailTransport, SMTPTransport

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from keyholder.access.dns_proof import TxtResolver
    from keyholder.access.prescreen_job import LetterScreener
    from keyholder.audit.checkpoints import CheckpointWriter
    from keyholder.db.tx import BlobStore
    from keyholder.identity.hashing import HashingPool
    from keyholder.identity.passwords import PasswordHasher
    from keyholder.identity.throttle import RateLimiter
    from keyholder.mail.relay import Relay
    from keyholder.webhooks.streams import StreamSink
    from keyholder.webhooks.transport import WebhookTransport


class Runtime:
    """What one process shares; ``bootstrap`` makes it."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        clock: Clock,
        *,
        mail_transport: MailTransport | None,
        rate_limiter: RateLimiter | None = None,
        txt_resolver: TxtResolver | None = None,
        letter_screener: LetterScreener | None = None,
        webhook_transport: WebhookTransport | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self.mail_transport = mail_transport
        self.mail_queued = threading.Event()
        # When this process last swept for a periodic job (``worker``), by job.
        self.last_sweeps: dict[str, datetime] = {}
        self._read_sessions, self._write_sessions = make_session_factories(engine)
        # An adapter given here fills its cached property: it is never built.
        if rate_limiter is not None:
            self.rate_limiter = rate_limiter
        if txt_resolver is not None:
            self.txt_resolver = txt_resolver
        if letter_screener is not None:
            self.letter_screener = letter_screener
        if webhook_transport is not None:
            self.webhook_transport = webhook_transport

    def uow(self, context: RequestContext | None = None, *, read_only: bool = False) -> UnitOfWork:
        """A fresh unit of work. ``read_only`` skips SQLite's up-front write lock."""
        return UnitOfWork(
            self._read_sessions if read_only else self._write_sessions,
            settings=self.settings,
            clock=self.clock,
            context=context or RequestContext(),
            mail_queued=self.mail_queued,
            blobs=self._blob_store,
            # Asked for after a commit that wrote audit events, not before.
            audit_checkpoints=self._audit_checkpoints,
        )

    @cached_property
    def blob_store(self) -> BlobStore:
        """Attachments' bytes (S34): a directory when ``blob_dir`` is set, else the database."""
        from keyholder.desk.blobs import blob_store  # noqa: PLC0415

        return blob_store(self.settings)

    def _blob_store(self) -> BlobStore:
        return self.blob_store

    @cached_property
    def letter_screener(self) -> LetterScreener:
        """Reads a request's letter in a sandboxed child process (S33)."""
        from keyholder.access.prescreen_job import SandboxedLetterScreener  # noqa: PLC0415

        return SandboxedLetterScreener(self.settings)

    @cached_property
    def password_hasher(self) -> PasswordHasher:
        """argon2id with the settings' parameters (S12)."""
        from keyholder.identity.passwords import PasswordHasher, common_passwords  # noqa: PLC0415

        common_passwords()  # read the list now rather than during someone's sign-up
        return PasswordHasher.from_settings(self.settings)

    @cached_property
    def hashing(self) -> HashingPool:
        """The bounded pool that runs argon2 work off the event loop (S16, S40)."""
        from keyholder.identity.hashing import HashingPool  # noqa: PLC0415

        return HashingPool(
            self.settings.hashing_workers,
            hasher=self.password_hasher,
            niceness=self.settings.hashing_niceness,
            queue_limit=self.settings.hashing_queue_limit,
            deadline_seconds=self.settings.hashing_deadline_seconds,
        )

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        """Sign-in, reset and request limits (S3, S16, S28): in Redis, the database or memory."""
        from keyholder.identity.rate_limits import make_rate_limiter  # noqa: PLC0415

        return make_rate_limiter(self.settings, self.engine)

    @cached_property
    def txt_resolver(self) -> TxtResolver:
        """Looks up the DNS proof's TXT records: the settings' nameservers, or the system's."""
        from keyholder.access.dns_proof import resolver_from_settings  # noqa: PLC0415

        return resolver_from_settings(self.settings)

    @cached_property
    def audit_checkpoints(self) -> CheckpointWriter | None:
        """Signs audit checkpoints to the sinks; None without sinks or a signing key (S36)."""
        from keyholder.audit.checkpoints import CheckpointWriter  # noqa: PLC0415
        from keyholder.audit.settings import checkpoint_sinks, signing_key  # noqa: PLC0415

        sinks, key = checkpoint_sinks(self.settings), signing_key(self.settings)
        if not sinks or key is None:
            return None
        return CheckpointWriter(self.uow, key, sinks)

    def _audit_checkpoints(self) -> CheckpointWriter | None:
        return self.audit_checkpoints

    @cached_property
    def webhook_transport(self) -> WebhookTransport:
        """Sends webhooks over HTTP(S) to checked addresses only (SSRF guard, webhooks.ssrf)."""
        from keyholder.webhooks.transport import HttpTransport  # noqa: PLC0415

        return HttpTransport(
            timeout=self.settings.webhook_timeout_seconds,
            allow_private=self.settings.webhook_allow_private_targets,
        )

    @cached_property
    def audit_stream_sinks(self) -> list[StreamSink]:
        """Where the audit log is streamed (file, syslog); empty when none is set."""
        from keyholder.webhooks.streams import sinks_from_settings  # noqa: PLC0415

        return sinks_from_settings(self.settings)

    def relay(self) -> Relay | None:
        """The mail relay, or None when no transport is configured (mail stays queued)."""
        if self.mail_transport is None:
            return None
        from keyholder.mail.relay import Relay  # noqa: PLC0415

        return Relay(
            self.uow,
            self.mail_transport,
            batch_size=self.settings.relay_batch_size,
            max_attempts=self.settings.relay_max_attempts,
        )

    def build_all(self) -> Runtime:
        """Build now what is otherwise built on first use; returns the runtime.

        For a server, which uses them all: built once before requests start,
        rather than by whichever requests come first, possibly at once.
        """
        for name in (
            "password_hasher",
            "hashing",
            "rate_limiter",
            "blob_store",
            "audit_checkpoints",
        ):
            getattr(self, name)
        return self

    def close(self) -> None:
        """Let go of what was built: threads, connections, the engine's pool."""
        built = vars(self)
        if "hashing" in built:
            self.hashing.close()
        if "rate_limiter" in built:
            self.rate_limiter.close()
        self.engine.dispose()


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    mail_transport: MailTransport | None = None,
    engine: Engine | None = None,
    rate_limiter: RateLimiter | None = None,
    txt_resolver: TxtResolver | None = None,
    letter_screener: LetterScreener | None = None,
    webhook_transport: WebhookTransport | None = None,
) -> Runtime:
    """A runtime for ``settings``; the keyword arguments replace an adapter (tests)."""
    settings = settings or Settings()
    register_desk_hooks()  # the desk asks access through these (desk.hooks)
    if mail_transport is None and settings.smtp_url:
        mail_transport = SMTPTransport(settings.smtp_url)
    return Runtime(
        settings,
        engine or make_engine(settings.database_url),
        clock or SystemClock(),
        mail_transport=mail_transport,
        rate_limiter=rate_limiter,
        txt_resolver=txt_resolver,
        letter_screener=letter_screener,
        webhook_transport=webhook_transport,
    )
