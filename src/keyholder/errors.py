"""Keyholder's one exception tree.

    KeyholderError
    ├── NotAuthenticated        no or bad credentials                 → 401
    ├── PermissionDenied        known actor, not allowed              → 403
    │   ├── AdminNeedsMfa       an admin by access request, no MFA yet
    │   └── NeedsPhishingResistantFactor  staff/admin action without a passkey sign-in
    ├── NotFound                absent, or hidden from this actor     → 404
    ├── Conflict                valid request, clashes with state     → 409
    │   ├── LastAdminError      would leave an account without admin
    │   ├── ConfirmationRequired  allowed, but weakens the account: confirm it
    │   ├── AlreadyExists       unique name, email or number taken
    │   └── NoIndependentProof  an access request lacks a proof from outside it
    ├── Gone                    token used, expired or revoked        → 410
    ├── PayloadTooLarge         an upload over its size limit         → 413
    ├── UnsupportedMediaType    an upload of a type we do not take    → 415
    ├── InvalidInput            well-formed but unacceptable values   → 422
    │   ├── UnknownPermission
    │   └── InvalidRows         rows of an imported file, each with its line and column
    ├── TooManyRequests         over a rate limit (Retry-After)       → 429
    ├── ClientGone              the client hung up before its answer  → 499
    ├── ConfigurationError      the operator's settings are wrong     → 500
    └── ServiceUnavailable      busy, or something we ask did not     → 503
        │                       answer (Retry-After when we know)
        └── DnsLookupError      a DNS lookup failed; try again later

Services raise these; the web layer maps them to problem+json and the CLI to a
one-line message with a non-zero exit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class KeyholderError(Exception):
    """Base of every error Keyholder raises on purpose."""

    status_code = 500
    title = "Internal error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotAuthenticated(KeyholderError):
    status_code = 401
    title = "Not authenticated"


class PermissionDenied(KeyholderError):
    status_code = 403
    title = "Forbidden"


class AdminNeedsMfa(PermissionDenied):
    """An admin granted through an access request acts only once MFA is on (S18).

    Its own class so that a page can offer the way to enrol without reading the message;
    the API answers it as any other 403.
    """


class NeedsPhishingResistantFactor(PermissionDenied):
    """Staff or an admin acting from a sign-in without a passkey while the policy
    ``require_phishing_resistant_admin`` is on. Its own class so that pages can
    send the person to enrol; the message says where."""

    title = "Phishing-resistant sign-in required"


class NotFound(KeyholderError):
    status_code = 404
    title = "Not found"


class Conflict(KeyholderError):
    status_code = 409
    title = "Conflict"


class LastAdminError(Conflict):
    title = "Last admin"


class ConfirmationRequired(Conflict):
    """A change that is allowed but weakens the account (it would leave one admin):
    the caller repeats it confirmed (the API's ``confirm=true``) once the person agrees."""

    title = "Confirmation required"


class AlreadyExists(Conflict):
    title = "Already exists"


class NoIndependentProof(Conflict):
    """An access request would start its cooling-off or be granted without a proof (S23b)."""

    title = "No independent proof"

    def __init__(self, detail: str, *, missing: list[dict[str, object]]) -> None:
        super().__init__(detail)
        self.missing = missing  # each proof: check, status, explanation, how_to_provide


class Gone(KeyholderError):
    status_code = 410
    title = "Gone"


class PayloadTooLarge(KeyholderError):
    status_code = 413
    title = "Payload too large"


class UnsupportedMediaType(KeyholderError):
    status_code = 415
    title = "Unsupported media type"


class InvalidInput(KeyholderError):
    """``field``, when given, names the input at fault (the API lists it under ``errors``)."""

    status_code = 422
    title = "Invalid input"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class UnknownPermission(InvalidInput):
    title = "Unknown permission"

    def __init__(self, unknown: Iterable[str], valid: Iterable[str]) -> None:
        self.unknown = sorted(unknown)
        self.valid = list(valid)
        super().__init__(
            f"unknown permission(s) {', '.join(map(repr, self.unknown))}; "
            f"valid permissions are: {', '.join(self.valid)}"
        )


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with one row of an imported file, and where.

    ``line`` counts the file's lines from 1 (the header), as an editor shows
    them; ``column`` is the header's name of the cell at fault, or empty when
    the whole line (or file) is.
    """

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        if self.column:
            return f"line {self.line}, column {self.column}: {self.reason}"
        return f"line {self.line}: {self.reason}"


class InvalidRows(InvalidInput):
    """An imported file was refused as a whole: every error found, each row's own."""

    title = "Invalid rows"

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        first = f": {self.errors[0]}" if self.errors else ""
        super().__init__(f"{len(self.errors)} error(s) in the file{first}; nothing was changed")


class TooManyRequests(KeyholderError):
    status_code = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after  # whole seconds, for the Retry-After header


class ClientGone(KeyholderError):
    """The client disconnected while its request waited: its work was dropped (S40).

    Nobody reads the answer; 499 (nginx's "client closed request") is for the logs.
    """

    status_code = 499
    title = "Client closed request"


class ConfigurationError(KeyholderError):
    title = "Configuration error"


class ServiceUnavailable(KeyholderError):
    """Too busy now (the hashing queue, S40), or something outside Keyholder (DNS, a mail
    server) did not answer: try again later, after ``retry_after`` seconds when given."""

    status_code = 503
    title = "Service unavailable"

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after  # whole seconds, for the Retry-After header


class DnsLookupError(ServiceUnavailable):
    """A lookup that could not be answered (timeout, SERVFAIL, no server)."""

    title = "DNS lookup failed"
