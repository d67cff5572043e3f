"""The CLI's ``--json`` carries the API's addresses, built without loading the web package."""

from __future__ import annotations

import uuid

import pytest

from keyholder.cli import api_links
from keyholder.web.api import links as web_links
from tests.access.flow import Story
from tests.cli import Cli


@pytest.mark.parametrize("number", [1, 42, 2**31 - 1])
def test_the_cli_builds_the_apis_addresses(number: int) -> None:
    some_id = uuid.uuid4()

    assert api_links.attachment_url(number, some_id) == web_links.attachment_url(number, some_id)
    assert api_links.annotated_letter_url(some_id) == web_links.annotated_letter_url(some_id)


def test_a_requests_letter_has_the_apis_address(cli: Cli, runtime, factories) -> None:
    story = Story.begin(runtime, factories)
    request_id = story.submit()

    shown = cli.json("access-requests", "show", str(request_id))

    url = shown["letter"]["url"]
    letter_id = uuid.UUID(url.rsplit("/", 1)[1])
    assert url == web_links.attachment_url(shown["ticket"], letter_id)
