"""DNS proof of domain control, against a real DNS server on loopback."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from keyholder.access.dns_proof import (
    CHALLENGE_LABEL,
    DnsPythonResolver,
    MemoryTxtResolver,
    challenge_name,
    check_dns_proof,
    new_dns_token,
    record_value,
    resolver_from_settings,
)
from keyholder.config import Settings
from keyholder.errors import ConfigurationError, DnsLookupError
from tests.access.dns_server import LoopbackDNSServer

TOKEN = "Zm9vYmFyLXRva2VuLWZvci10ZXN0cy0wMTIzNDU2Nzg5"
ACME = "_keyholder-challenge.acme.example"


@pytest.fixture
def resolver(dns_server: LoopbackDNSServer) -> DnsPythonResolver:
    return DnsPythonResolver([dns_server.address], port=dns_server.port, timeout=0.5)


def check(resolver, domains=("acme.example",), token=TOKEN):
    return check_dns_proof(resolver, list(domains), token)


class TestToken:
    def test_tokens_are_long_url_safe_and_fresh(self):
        tokens = {new_dns_token() for _ in range(100)}
        assert len(tokens) == 100
        for token in tokens:
            assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 256 bits

    def test_the_record_and_where_it_goes(self):
        assert record_value("abc") == "keyholder-verification=abc"
        assert challenge_name("Acme.Example.") == f"{CHALLENGE_LABEL}.acme.example"


class TestCheckDnsProof:
    def test_the_published_token_passes(self, dns_server, resolver):
        dns_server.txt[ACME] = [record_value(TOKEN)]
        verdict = check(resolver)
        assert (verdict.status, verdict.domain) == ("pass", "acme.example")
        assert ACME in verdict.explanation
        assert (ACME, "TXT") in dns_server.queries

    def test_a_multi_string_record_is_joined(self, dns_server, resolver):
        value = record_value(TOKEN)
        dns_server.txt[ACME] = [(value[:20], value[20:])]
        assert check(resolver).status == "pass"

    @pytest.mark.parametrize("published", ['"{}"', "  {}  "])
    def test_stray_quotes_and_blanks_are_forgiven(self, dns_server, resolver, published):
        dns_server.txt[ACME] = [published.format(record_value(TOKEN))]
        assert check(resolver).status == "pass"

    def test_the_token_among_other_records_passes(self, dns_server, resolver):
        dns_server.txt[ACME] = ["v=spf1 -all", record_value(TOKEN), "something else"]
        assert check(resolver).status == "pass"

    @pytest.mark.parametrize(
        "published",
        [
            record_value("another-requests-token"),
            record_value(TOKEN[:-1]),
            record_value(TOKEN) + "x",
            TOKEN,  # without the prefix
            record_value(TOKEN.lower()),
            "keyholder-verification =" + TOKEN,
        ],
    )
    def test_a_wrong_value_fails(self, dns_server, resolver, published):
        dns_server.txt[ACME] = [published]
        verdict = check(resolver)
        assert (verdict.status, verdict.domain) == ("fail", "acme.example")
        assert "not this request's token" in verdict.explanation
        assert repr(published) in verdict.explanation  # the reviewer sees what is there

    def test_nothing_published_is_unknown_yet(self, dns_server, resolver):
        verdict = check(resolver)
        assert verdict.status == "unknown"
        assert verdict.explanation == f"no TXT record at {ACME} yet"

    def test_a_name_without_txt_records_is_unknown(self, dns_server, resolver):
        dns_server.txt[ACME] = []  # the name exists, no TXT data
        assert check(resolver).status == "unknown"

    def test_publishing_later_is_seen_at_once(self, dns_server, resolver):
        assert check(resolver).status == "unknown"
        dns_server.txt[ACME] = [record_value(TOKEN)]
        assert check(resolver).status == "pass"  # no cached negative answer

    def test_any_verified_domain_can_carry_it(self, dns_server, resolver):
        dns_server.txt["_keyholder-challenge.acme-corp.co.uk"] = [record_value(TOKEN)]
        verdict = check(resolver, domains=("acme.example", "acme-corp.co.uk", "acme.test"))
        assert (verdict.status, verdict.domain) == ("pass", "acme-corp.co.uk")

    def test_a_wrong_record_on_one_domain_and_nothing_elsewhere_fails(self, dns_server, resolver):
        dns_server.txt["_keyholder-challenge.acme.test"] = [record_value("stale")]
        verdict = check(resolver, domains=("acme.example", "acme.test"))
        assert (verdict.status, verdict.domain) == ("fail", "acme.test")

    def test_only_the_challenge_name_counts(self, dns_server, resolver):
        dns_server.txt["acme.example"] = [record_value(TOKEN)]
        dns_server.txt["_keyholder-challenge.evil.test"] = [record_value(TOKEN)]
        assert check(resolver).status == "unknown"

    def test_no_verified_domain_is_unknown(self, resolver):
        verdict = check(resolver, domains=())
        assert verdict.status == "unknown"
        assert "no verified domain" in verdict.explanation

    def test_an_empty_token_is_a_programming_error(self, resolver):
        with pytest.raises(ValueError, match="token"):
            check(resolver, token="")

    def test_servfail_is_unknown(self, dns_server, resolver):
        dns_server.txt[ACME] = [record_value(TOKEN)]
        dns_server.mode = "servfail"
        verdict = check(resolver)
        assert verdict.status == "unknown"
        assert "DNS lookup failed" in verdict.explanation

    def test_a_silent_server_is_unknown_within_the_timeout(self, dns_server, resolver):
        dns_server.mode = "drop"
        started = time.monotonic()
        verdict = check(resolver)
        assert verdict.status == "unknown"
        assert "no answer within 0.5 s" in verdict.explanation
        assert time.monotonic() - started < 3

    def test_a_server_that_is_down_is_unknown(self, dns_server, resolver):
        dns_server.txt[ACME] = [record_value(TOKEN)]
        dns_server.stop()
        assert check(resolver).status == "unknown"
        dns_server.start()  # back on the same port
        assert check(resolver).status == "pass"

    def test_a_failed_lookup_outranks_a_wrong_record_elsewhere(self):
        resolver = MemoryTxtResolver(
            {"_keyholder-challenge.acme.test": [record_value("stale")]},
            failing=[ACME],
        )
        verdict = check(resolver, domains=("acme.example", "acme.test"))
        assert verdict.status == "unknown"  # acme.example may hold the right one
        assert "not this request's token" in verdict.explanation

    def test_a_match_outranks_a_failed_lookup(self):
        resolver = MemoryTxtResolver(
            {"_keyholder-challenge.acme.test": [record_value(TOKEN)]}, failing=[ACME]
        )
        assert check(resolver, domains=("acme.example", "acme.test")).status == "pass"


class TestDnsPythonResolver:
    def test_records_and_absences(self, dns_server, resolver):
        dns_server.txt["a.example"] = ["one", ("two ", "parts")]
        dns_server.txt["b.example"] = []
        assert sorted(resolver.txt_records("A.example.")) == ["one", "two parts"]
        assert resolver.txt_records("b.example") == []
        assert resolver.txt_records("nowhere.example") == []

    def test_non_utf8_bytes_do_not_crash(self, dns_server, resolver):
        dns_server.txt["a.example"] = ["caf\xe9"]  # dnslib sends it as UTF-8; fine either way
        assert resolver.txt_records("a.example") == ["caf\xe9"]

    @pytest.mark.parametrize(("mode", "message"), [("servfail", "SERVFAIL"), ("drop", "0.5 s")])
    def test_transient_failures_raise(self, dns_server, resolver, mode, message):
        dns_server.mode = mode
        with pytest.raises(DnsLookupError, match=message):
            resolver.txt_records("a.example")

    def test_a_bad_nameserver_is_a_configuration_error(self):
        with pytest.raises(ConfigurationError, match="KEYHOLDER_DNS_NAMESERVERS"):
            DnsPythonResolver(["not an address"])


class TestResolverFromSettings:
    def test_defaults(self):
        settings = Settings(_env_file=None, env="development")  # type: ignore[call-arg]
        assert settings.dns_nameservers == ()
        assert (settings.dns_port, settings.dns_timeout_seconds) == (53, 3.0)

    def test_it_asks_the_configured_server(self, dns_server, monkeypatch):
        monkeypatch.setenv("KEYHOLDER_DNS_NAMESERVERS", f'["{dns_server.address}"]')
        monkeypatch.setenv("KEYHOLDER_DNS_PORT", str(dns_server.port))
        monkeypatch.setenv("KEYHOLDER_DNS_TIMEOUT_SECONDS", "1.5")
        settings = Settings(_env_file=None, env="development")  # type: ignore[call-arg]
        dns_server.txt[ACME] = [record_value(TOKEN)]
        verdict = check_dns_proof(resolver_from_settings(settings), ["acme.example"], TOKEN)
        assert verdict.status == "pass"
        assert dns_server.queries == [(ACME, "TXT")]

    def test_no_nameservers_means_the_system_configuration(self):
        settings = Settings(_env_file=None, env="development")  # type: ignore[call-arg]
        if Path("/etc/resolv.conf").exists():
            assert isinstance(resolver_from_settings(settings), DnsPythonResolver)
        else:
            with pytest.raises(ConfigurationError, match="KEYHOLDER_DNS_NAMESERVERS"):
                resolver_from_settings(settings)


class TestLoopbackDNSServer:
    def test_it_stops_cleanly_and_restarts_on_its_port(self):
        with LoopbackDNSServer() as server:
            port = server.port
            server.stop()
            server.start()
            assert server.port == port
        assert not [t for t in threading.enumerate() if t.name == "loopback-dns"]
