"""keyholder webhooks add | list | deliveries | redeliver | rotate-secret | disable | remove."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from keyholder.accounts import members
from keyholder.clock import FixedClock
from keyholder.config import Settings
from tests.cli import Cli, assert_error
from tests.factories import OPERATOR, Factories
from tests.webhooks.receiver import Receiver


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_allow_private_targets": True})


@pytest.fixture
def clock() -> FixedClock:
    # Near the real time: standardwebhooks refuses timestamps 5 minutes off its clock.
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


class TestWebhooksCommand:
    def test_subscribe_deliver_and_read_the_log(
        self, cli: Cli, factories: Factories, receiver: Receiver
    ) -> None:
        added = cli.json("webhooks", "add", receiver.url, "--events", "member.added,member.removed")
        secret, endpoint = added["secret"], added["id"]
        account = factories.account("acme-corp")
        user = factories.user("bob@example.com")
        members.add_member(cli.runtime.uow(), account.name, user.email, ["view"], actor=OPERATOR)

        cli.ok("webhooks", "redeliver", endpoint, "--now")

        (delivery,) = receiver.received
        assert Webhook(secret).verify(delivery.body, delivery.headers)["type"] == "member.added"
        (logged,) = cli.json("webhooks", "deliveries", endpoint)
        assert (logged["status_code"], logged["succeeded"]) == (204, True)
        assert "member.added" in cli.ok("webhooks", "deliveries", endpoint).stdout
        listed = cli.json("webhooks", "list")
        assert [e["id"] for e in listed] == [endpoint]
        assert "secret" not in listed[0]

    def test_rotate_disable_remove(self, cli: Cli) -> None:
        endpoint = cli.json("webhooks", "add", "https://hooks.example.com/", "--audit")["id"]

        assert "shown once" in cli.ok("webhooks", "rotate-secret", endpoint).stdout
        cli.ok("webhooks", "disable", endpoint, "--reason", "receiver moved")
        assert cli.json("webhooks", "list")[0]["disabled_reason"] == "receiver moved"
        cli.ok("webhooks", "remove", endpoint)
        assert cli.json("webhooks", "list") == []

    def test_errors_are_one_line(self, cli: Cli) -> None:
        assert_error(cli("webhooks", "add", "https://hooks.example.com/"), "--events")
        assert_error(
            cli("webhooks", "add", "https://hooks.example.com/", "--events", "nope"),
            "unknown event type",
        )
        assert_error(cli("webhooks", "deliveries", "not-an-id"), "not an endpoint id")
        assert_error(
            cli("webhooks", "remove", "00000000-0000-0000-0000-000000000000"), "no webhook"
        )
