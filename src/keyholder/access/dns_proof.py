"""DNS proof of domain control for an admin-access request (optional evidence).

Each request gets a random token; the customer publishes it as a TXT record
at ``_keyholder-challenge.<a verified domain of the account>``::

    _keyholder-challenge.acme.example.  TXT  "keyholder-verification=<token>"

Only someone who controls the domain's DNS can do that. The record's strings
are concatenated (a long value may be split into several 255-byte strings, as
RFC 7208 does for SPF), surrounding blanks and one pair of stray double quotes
(a common copy-paste slip in DNS consoles) are dropped, and the value is
compared with the expected one in constant time.

Verdicts: ``pass`` when any verified domain carries the token; ``fail`` when
records are published there but none carries it (a stale or mistyped token);
``unknown`` when nothing is published yet, or a lookup failed so we cannot
tell (a lookup failure outranks a wrong record elsewhere: the failing domain
might hold the right one). The check can be repeated; DNS changes take time.

Lookups go through ``TxtResolver`` (CONVENTIONS item 5): ``DnsPythonResolver``
for real, built from the settings by ``resolver_from_settings``;
``MemoryTxtResolver`` for tests and demonstrations.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from keyholder.config import Settings
from keyholder.errors import ConfigurationError, DnsLookupError

CHALLENGE_LABEL = "_keyholder-challenge"
RECORD_PREFIX = "keyholder-verification="


class TxtResolver(Protocol):
    def txt_records(self, name: str) -> list[str]:
        """The TXT records at ``name``, each one's strings joined; [] when there are none.

        Raises DnsLookupError when the answer could not be had.
        """
        ...


@dataclass(frozen=True, slots=True)
class DnsVerdict:
    status: Literal["pass", "fail", "unknown"]
    explanation: str  # for a reviewer
    domain: str | None = None  # the verified domain whose record decided it (pass or fail)


def new_dns_token() -> str:
    """A fresh per-request token: 256 random bits, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def challenge_name(domain: str) -> str:
    """Where the record goes: ``_keyholder-challenge.<domain>``."""
    return f"{CHALLENGE_LABEL}.{domain.strip().rstrip('.').lower()}"


def record_value(token: str) -> str:
    """The TXT value to publish for ``token``."""
    return f"{RECORD_PREFIX}{token}"


def _cleaned(record: str) -> str:
    value = record.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].strip()
    return value


def _matches(record: str, expected: bytes) -> bool:
    return hmac.compare_digest(_cleaned(record).encode("utf-8", "replace"), expected)


def _shown(records: Sequence[str]) -> str:
    values = [repr(r if len(r) <= 80 else r[:80] + "...") for r in records[:3]]
    more = f" and {len(records) - 3} more" if len(records) > 3 else ""
    return ", ".join(values) + more


def check_dns_proof(resolver: TxtResolver, domains: Sequence[str], token: str) -> DnsVerdict:
    """Is ``token`` published at the challenge name of any of ``domains`` (the verified ones)?

    Never raises for DNS trouble: lookup failures make the verdict ``unknown``.
    """
    if not token:
        raise ValueError("a DNS proof needs a non-empty token")
    if not domains:
        return DnsVerdict("unknown", "the account has no verified domain to publish a record on")
    expected = record_value(token).encode()
    wrong: list[tuple[str, list[str]]] = []
    failed: list[str] = []
    absent: list[str] = []
    for domain in dict.fromkeys(d.strip().rstrip(".").lower() for d in domains):
        name = challenge_name(domain)
        try:
            records = resolver.txt_records(name)
        except DnsLookupError as exc:
            failed.append(f"{name}: {exc.detail}")
            continue
        # Every record is compared, so the time taken does not tell which one matched.
        if [r for r in records if _matches(r, expected)]:
            return DnsVerdict("pass", f"TXT record at {name} carries this request's token", domain)
        if records:
            wrong.append((domain, records))
        else:
            absent.append(name)
    wrong_text = "; ".join(
        f"TXT at {challenge_name(d)} is {_shown(r)}, not this request's token" for d, r in wrong
    )
    if failed:
        also = f"; {wrong_text}" if wrong_text else ""
        return DnsVerdict("unknown", f"DNS lookup failed for {'; '.join(failed)}{also}")
    if wrong:
        return DnsVerdict("fail", wrong_text, wrong[0][0])
    return DnsVerdict("unknown", f"no TXT record at {', '.join(absent)} yet")


class DnsPythonResolver:
    """TXT lookups with dnspython, fresh each time (no cache: the customer just published).

    With no ``nameservers`` the system's configuration (/etc/resolv.conf) is used.
    ``timeout`` bounds the whole lookup, retries and every server included.
    """

    def __init__(self, nameservers: Sequence[str], port: int = 53, timeout: float = 2.0) -> None:
        # dnspython loads with the first resolver, not with every command that imports access.
        import dns.resolver  # noqa: PLC0415

        try:
            self._resolver = dns.resolver.Resolver(configure=not nameservers)
            if nameservers:
                self._resolver.nameservers = list(nameservers)
        except dns.resolver.NoResolverConfiguration:
            raise ConfigurationError(
                "no DNS nameservers: set KEYHOLDER_DNS_NAMESERVERS or /etc/resolv.conf"
            ) from None
        except ValueError as exc:
            raise ConfigurationError(f"KEYHOLDER_DNS_NAMESERVERS: {exc}") from None
        self._resolver.port = port
        self._resolver.timeout = timeout
        self._resolver.lifetime = timeout
        self._resolver.cache = None
        self.timeout = timeout

    def txt_records(self, name: str) -> list[str]:
        import dns.exception  # noqa: PLC0415 - loaded by __init__ already: a dict look-up
        import dns.rdtypes.txtbase  # noqa: PLC0415
        import dns.resolver  # noqa: PLC0415

        try:
            answer = self._resolver.resolve(name, "TXT", search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.Timeout:
            raise DnsLookupError(f"no answer within {self.timeout:g} s") from None
        except dns.resolver.NoNameservers:
            raise DnsLookupError("the nameservers failed to answer (SERVFAIL or refused)") from None
        except (dns.exception.DNSException, OSError) as exc:
            raise DnsLookupError(f"{type(exc).__name__}: {exc}") from None
        return [
            b"".join(rdata.strings).decode("utf-8", "replace")
            for rdata in answer
            if isinstance(rdata, dns.rdtypes.txtbase.TXTBase)
        ]


class MemoryTxtResolver:
    """Records from a dict (name → values); names in ``failing`` raise DnsLookupError."""

    def __init__(
        self, records: Mapping[str, Sequence[str]] | None = None, failing: Sequence[str] = ()
    ) -> None:
        self.records = {name.lower(): list(values) for name, values in (records or {}).items()}
        self.failing = {name.lower() for name in failing}

    def txt_records(self, name: str) -> list[str]:
        key = name.rstrip(".").lower()
        if key in self.failing:
            raise DnsLookupError("simulated lookup failure")
        return list(self.records.get(key, []))


def resolver_from_settings(settings: Settings) -> TxtResolver:
    """The resolver the settings ask for: their nameservers, or the system's."""
    return DnsPythonResolver(
        list(settings.dns_nameservers),
        port=settings.dns_port,
        timeout=settings.dns_timeout_seconds,
    )
