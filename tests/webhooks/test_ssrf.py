"""The SSRF guard: no private, loopback, link-local or reserved target (no network used)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Sequence

import pytest

from keyholder.errors import InvalidInput
from keyholder.webhooks.ssrf import TargetRefused, address_refusal, check_url, resolve_target
from keyholder.webhooks.transport import HttpTransport

INSIDE = [
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "127.0.0.1",
    "127.8.8.8",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",  # noqa: S104 - an address refused, not one bound
    "224.0.0.1",
    "240.0.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
]


def no_dns(host: str, port: int) -> Sequence[str]:
    raise AssertionError(f"looked up {host}")


def resolving_to(*addresses: str):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> Sequence[str]:
        return addresses

    return resolve


class TestAddresses:
    @pytest.mark.parametrize("address", INSIDE)
    def test_inside_addresses_are_refused(self, address: str) -> None:
        assert address_refusal(address) is not None

    @pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
    def test_public_addresses_pass(self, address: str) -> None:
        assert address_refusal(address) is None


class TestResolveTarget:
    @pytest.mark.parametrize(
        "url",
        [
            "http://10.0.0.1/hook",
            "https://127.0.0.1:8443/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:8000/",
            "http://[::ffff:127.0.0.1]/",
        ],
    )
    def test_literal_inside_addresses_are_refused_without_a_lookup(self, url: str) -> None:
        with pytest.raises(TargetRefused):
            resolve_target(url, allow_private=False, resolve=no_dns)

    def test_a_name_is_refused_when_any_of_its_addresses_is_inside(self) -> None:
        resolve = resolving_to("93.184.215.14", "10.1.2.3")
        with pytest.raises(TargetRefused, match=r"10\.1\.2\.3 is a private address"):
            resolve_target("https://hooks.example.com/", allow_private=False, resolve=resolve)

    def test_the_connection_goes_to_the_checked_address(self) -> None:
        """DNS rebinding: the name is resolved once, and that address is connected to."""
        target = resolve_target(
            "https://hooks.example.com:8443/in?x=1",
            allow_private=False,
            resolve=resolving_to("93.184.215.14"),
        )
        assert (target.host, target.address, target.port, target.path) == (
            "hooks.example.com",
            "93.184.215.14",
            8443,
            "/in?x=1",
        )

    def test_the_setting_allows_inside_targets(self) -> None:
        target = resolve_target("http://127.0.0.1:9/", allow_private=True, resolve=no_dns)
        assert target.address == "127.0.0.1"

    def test_the_transport_refuses_before_connecting(self) -> None:
        transport = HttpTransport(timeout=1, allow_private=False, resolve=resolving_to("10.0.0.1"))
        result = transport.post("https://hooks.example.com/", b"{}", {})
        assert not result.succeeded
        assert result.status_code is None
        assert "refused" in (result.error or "")


class TestCheckUrl:
    @pytest.mark.parametrize(
        "url",
        [
            "ftp://hooks.example.com/",
            "https://user:pw@hooks.example.com/",
            "https://hooks.example.com/a b",
            "https://hooks.example.com/\r\nX: y",
            "https:///nohost",
            "https://hooks.example.com:99999/",
            "http://localhost:8000/",
            "http://10.0.0.1/",
            "http://[::1]/",
        ],
    )
    def test_refused_when_added(self, url: str) -> None:
        """Also S37: no CR/LF reaches a request line or the operators' notice email."""
        with pytest.raises(InvalidInput):
            check_url(url, allow_private=False)

    @pytest.mark.parametrize("url", ["http://localhost:8000/", "http://10.0.0.1/"])
    def test_a_refused_private_target_says_which_setting_allows_it(self, url: str) -> None:
        with pytest.raises(InvalidInput, match="KEYHOLDER_WEBHOOK_ALLOW_PRIVATE_TARGETS=true"):
            check_url(url, allow_private=False)

    def test_a_name_is_accepted_when_added_and_checked_at_each_delivery(self) -> None:
        check_url("https://hooks.example.com/keyholder", allow_private=False)


class TestDeadline:
    def test_a_receiver_answering_a_byte_at_a_time_is_cut_off(self) -> None:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        stop = threading.Event()

        def drip() -> None:
            connection, _ = server.accept()
            with connection:
                connection.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\n" * 100:
                    if stop.is_set():
                        return
                    with contextlib.suppress(OSError):
                        connection.send(bytes([byte]))
                    time.sleep(0.1)

        thread = threading.Thread(target=drip, daemon=True)
        thread.start()
        transport = HttpTransport(timeout=0.5, allow_private=True)
        started = time.monotonic()

        result = transport.post(f"http://127.0.0.1:{server.getsockname()[1]}/", b"{}", {})

        stop.set()
        server.close()
        assert time.monotonic() - started < 3
        assert result.status_code is None
        assert "no answer within 1.5 s" in (result.error or "")
