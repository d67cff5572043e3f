"""Retention: a decided request's letter, files and email bodies go after the retention period."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from keyholder.access.decisions import Decision
from keyholder.access.models import RetentionTombstone
from keyholder.access.retention import due_for_purge, purge_due, purge_request
from keyholder.audit.actions import AuditAction
from keyholder.audit.models import AuditEvent
from keyholder.audit.verify import verify_chain
from keyholder.desk.attachments import download_attachment
from keyholder.desk.blobs import BlobMissing, load_blob
from keyholder.desk.customer import open_ticket
from keyholder.desk.models import Attachment, TicketMessage
from keyholder.errors import Conflict, Gone
from keyholder.mail.models import OutboxMessage, OutboxStatus
from keyholder.worker import run_jobs_once
from tests.access.flow import EXECUTIVE, FORM, NEW_ADMIN, REQUESTER, Story, letter_png

DAY = timedelta(days=1)


@pytest.fixture
def story(runtime, factories):
    return Story.begin(runtime, factories)


def executed(story: Story):
    request_id = story.ready()
    assert story.execute_after_cooling_off(request_id) == "executed"
    return request_id


def rejected(story: Story):
    request_id = story.submit()
    story.confirm(request_id)
    story.decide(request_id, Decision.REJECT, story.reviewers[0], note="Signature missing")
    return request_id


def attachments_of(story: Story, request_id) -> list[Attachment]:
    ticket_id = story.request(request_id).ticket_id
    with story.runtime.uow(read_only=True) as uow:
        return list(
            uow.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket_id))
        )


def blob_exists(story: Story, digest: str) -> bool:
    with story.runtime.uow(read_only=True) as uow:
        try:
            load_blob(uow, digest)
        except BlobMissing:
            return False
        return True


def tombstones(story: Story, request_id) -> list[RetentionTombstone]:
    with story.runtime.uow(read_only=True) as uow:
        query = select(RetentionTombstone).where(RetentionTombstone.request_id == request_id)
        return list(uow.session.scalars(query.order_by(RetentionTombstone.id)))


def mark_emails_sent(story: Story) -> None:
    """As the relay does once the SMTP server took them."""
    with story.runtime.uow() as uow:
        for row in uow.session.scalars(select(OutboxMessage)):
            row.status = OutboxStatus.SENT
        uow.commit()


def wait(story: Story, delta: timedelta) -> None:
    story.runtime.clock.advance(delta)  # type: ignore[attr-defined]


class TestWhenFilesGo:
    def test_kept_for_the_retention_period_after_the_decision_then_deleted(self, story):
        request_id = executed(story)
        retention = story.runtime.settings.access_request_retention
        assert retention == 90 * DAY  # the documented default

        wait(story, retention - DAY)
        assert purge_due(story.runtime.uow) == 0
        assert blob_exists(story, story.request(request_id).letter_sha256)

        wait(story, DAY)
        assert purge_due(story.runtime.uow) == 1
        request = story.request(request_id)
        assert request.purged_at is not None
        assert not blob_exists(story, request.letter_sha256)

    def test_open_requests_are_never_purged_however_old(self, story):
        request_id = story.submit()
        story.confirm(request_id)
        wait(story, 400 * DAY)
        assert due_for_purge(story.runtime.uow()) == []
        with pytest.raises(Conflict, match="nothing is deleted before a decision"):
            purge_request(story.runtime.uow(), request_id)
        assert blob_exists(story, story.request(request_id).letter_sha256)

    def test_the_decision_time_is_recorded_on_every_ending(self, story):
        request_id = rejected(story)
        assert story.request(request_id).decided_at == story.runtime.clock.now()

    def test_purging_twice_is_refused_and_the_job_finds_nothing_more(self, story):
        request_id = executed(story)
        wait(story, 91 * DAY)
        purge_request(story.runtime.uow(), request_id)
        with pytest.raises(Conflict, match="purged on"):
            purge_request(story.runtime.uow(), request_id)
        assert purge_due(story.runtime.uow) == 0

    def test_the_background_jobs_purge(self, story):
        executed(story)
        wait(story, 91 * DAY)
        assert run_jobs_once(story.runtime).purged == 1


class TestWhatGoesAndWhatStays:
    def test_the_letter_leaves_a_tombstone_with_its_hash_and_cannot_be_downloaded(self, story):
        request_id = executed(story)
        (letter,) = attachments_of(story, request_id)
        digest = hashlib.sha256(letter_png().data).hexdigest()
        assert letter.sha256 == digest
        wait(story, 91 * DAY)
        purge_request(story.runtime.uow(), request_id)

        (tombstone,) = [t for t in tombstones(story, request_id) if t.kind == "letter"]
        assert (tombstone.sha256, tombstone.size, tombstone.label) == (
            digest,
            letter.size,
            "letter.png",
        )
        reviewer = story.factories.actor(story.reviewers[0])
        with pytest.raises(Gone, match=f"deleted on .* retention policy; its SHA-256 was {digest}"):
            download_attachment(story.runtime.uow(), letter.ticket_id, letter.id, actor=reviewer)

    def test_a_granted_request_keeps_its_six_items_for_accountability(self, story):
        request_id = executed(story)
        wait(story, 91 * DAY)
        purged = purge_request(story.runtime.uow(), request_id)
        assert not purged.minimised
        request = story.request(request_id)
        assert (request.executive_email, request.contract_number, request.reason) == (
            EXECUTIVE,
            FORM.contract_number,
            FORM.reason,
        )

    def test_a_refused_request_is_minimised(self, story):
        request_id = rejected(story)
        wait(story, 91 * DAY)
        purged = purge_request(story.runtime.uow(), request_id)
        assert purged.minimised
        request = story.request(request_id)
        # Who asked, for what and the decision stay: a repeated attempt is recognised.
        assert (request.requester_email, request.email_to_add, request.account_name) == (
            REQUESTER,
            NEW_ADMIN,
            "acme-corp",
        )
        assert request.state == "rejected"
        # What they wrote about other people goes.
        assert request.executive_name == request.executive_email == request.contract_number == ""
        assert request.requester_name == ""
        assert "Dana" not in repr(request.evidence)
        assert "retention policy" in request.reason
        assert request.client_address is None
        with story.runtime.uow(read_only=True) as uow:
            bodies = uow.session.scalars(
                select(TicketMessage.body).where(TicketMessage.ticket_id == request.ticket_id)
            ).all()
        assert bodies
        assert all("retention policy" in body for body in bodies)

    def test_sent_email_bodies_are_blanked_and_pending_ones_kept(self, story):
        request_id = executed(story)
        mark_emails_sent(story)
        wait(story, 91 * DAY)
        # Mail still waiting for the relay is never lost to retention.
        with story.runtime.uow() as uow:
            pending = uow.session.scalars(select(OutboxMessage).limit(1)).one()
            pending.status = OutboxStatus.PENDING
            pending_body = pending.body
            uow.commit()
        purged = purge_request(story.runtime.uow(), request_id)
        assert purged.email_bodies > 0
        sent_to_requester = [e for e in story.emails(to=REQUESTER) if e.status is OutboxStatus.SENT]
        assert sent_to_requester
        for email in sent_to_requester:
            assert "retention policy" in email.body
            assert email.body_html is None
            assert email.subject  # who was told what, when, stays
        (still,) = [e for e in story.emails() if e.id == pending.id]
        assert still.body == pending_body

    def test_bytes_another_ticket_still_uses_stay(self, story, factories):
        request_id = executed(story)
        requester = factories.user("someone@elsewhere.example")
        open_ticket(
            story.runtime.uow(),
            subject="The same file, for another reason",
            body="Attached.",
            actor=factories.actor(requester),
            attachments=[letter_png()],
        )
        wait(story, 91 * DAY)
        purge_request(story.runtime.uow(), request_id)
        digest = story.request(request_id).letter_sha256
        assert blob_exists(story, digest)  # the other ticket's copy is the same blob

    def test_the_purge_is_audited_and_the_chain_still_verifies(self, story):
        request_id = executed(story)
        wait(story, 91 * DAY)
        purge_request(story.runtime.uow(), request_id)
        with story.runtime.uow(read_only=True) as uow:
            (event,) = uow.session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == AuditAction.ACCESS_REQUEST_RETENTION_PURGE
                )
            ).all()
            assert event.actor == "worker:retention"
            assert event.data["after"]["files"] >= 1
        assert verify_chain(story.runtime.uow(read_only=True)).intact


class TestDirectoryStore:
    def test_the_file_is_unlinked_after_commit(self, story, derive_runtime, tmp_path):
        files = derive_runtime(blob_dir=tmp_path / "blobs")
        story.runtime = files
        request_id = executed(story)
        digest = story.request(request_id).letter_sha256
        path = tmp_path / "blobs" / digest[:2] / digest
        assert path.exists()
        wait(story, 91 * DAY)
        purge_request(files.uow(), request_id)
        assert not path.exists()


class TestWhatPeopleSee:
    def test_the_api_says_when_the_letter_was_deleted(self, story, client, factories):
        request_id = executed(story)
        wait(story, 91 * DAY)
        purge_request(story.runtime.uow(), request_id)
        token = factories.token(story.reviewers[0])
        answer = client.get(
            f"/api/access-requests/{request_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["purged_at"] is not None
        assert body["letter"]["url"] is None
        assert body["letter"]["sha256"] == story.request(request_id).letter_sha256
