"""The letter pre-screen as a background job: its findings become the request's evidence."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace

import pytest

from keyholder.access.decisions import Decision
from keyholder.access.prescreen_job import prescreen_due
from keyholder.desk.attachments import NewAttachment
from keyholder.errors import InvalidInput
from tests.access.flow import EXECUTIVE, FORM, NEW_ADMIN, Story
from tests.letters import corpus
from tests.letters.conftest import needs_tesseract

pytestmark = needs_tesseract


@pytest.fixture
def story(runtime, factories):
    return Story.begin(runtime, factories)


def acme_letter(story: Story, **changes: object) -> NewAttachment:
    """A letter for the story's request, photographed flat as a PNG."""
    letter = replace(
        corpus.random_letter(random.Random(5), seed=5),
        account="acme-corp",
        display_name="Acme Corporation",
        domain="acme.example",
        contract=FORM.contract_number,
        email_to_add=NEW_ADMIN,
        executive_name="Dana Whitfield",
        executive_title="Chief Executive Officer",
        executive_email=EXECUTIVE,
        reason=FORM.reason,
        dated=story.runtime.clock.now().date(),
        layout="labelled",
        font="sans",
        size=11.0,
        multipage=False,
        signature="ink",
    )
    letter = replace(letter, **changes)
    (page,) = corpus.render(letter)
    return NewAttachment("letter.png", corpus.png_bytes(page))


def screened(story: Story, letter: NewAttachment, **typed: str) -> tuple[uuid.UUID, dict[str, str]]:
    request_id = story.submit(letter=letter, **typed)
    story.confirm(request_id)
    runtime = story.runtime
    assert prescreen_due(runtime.uow, screener=runtime.letter_screener) == 1
    assert prescreen_due(runtime.uow, screener=runtime.letter_screener) == 0  # done once
    request = story.request(request_id)
    assert request.prescreen is not None
    assert request.prescreen["annotated_png_sha256"]
    return request_id, {item["check"]: item["status"] for item in request.evidence}


def test_a_signed_letter_that_matches_passes_its_checks(story):
    _, checks = screened(story, acme_letter(story))
    assert checks["letter_signature"] == "pass"
    assert checks["letter_contract_number"] == "pass"
    assert checks["letter_email_to_add"] == "pass"
    assert checks["letter_account_name"] == "pass"


def test_a_letter_without_signature_fails_and_blocks_a_plain_approval(story):
    request_id, checks = screened(story, acme_letter(story, signature="none"))
    assert checks["letter_signature"] == "fail"
    assert checks["letter"] == "fail"
    with pytest.raises(InvalidInput, match="letter_signature"):
        story.decide(request_id, Decision.APPROVE, story.reviewers[0])
    assert story.request(request_id).state.value == "in_review"


def test_reviewers_see_the_letter_and_its_annotated_page(story, client, factories):
    request_id, _ = screened(story, acme_letter(story))
    headers = factories.auth(story.reviewers[0])
    shown = client.get(f"/api/access-requests/{request_id}", headers=headers).json()
    letter = client.get(shown["letter"]["url"], headers=headers)
    assert letter.status_code == 200
    assert letter.headers["content-type"] == "image/png"
    annotated = client.get(shown["letter"]["annotated_url"], headers=headers)
    assert annotated.status_code == 200
    assert annotated.content.startswith(b"\x89PNG")
    customer = factories.auth(factories.user("carol@acme.example"))
    assert client.get(shown["letter"]["annotated_url"], headers=customer).status_code == 403


def test_typed_fields_that_disagree_with_the_letter_fail(story):
    _, checks = screened(story, acme_letter(story), email_to_add="someone.else@acme.example")
    assert checks["letter_email_to_add"] == "fail"
