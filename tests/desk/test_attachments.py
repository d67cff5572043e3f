"""desk.attachments: files on ticket messages, checked, stored by hash, shown to the allowed.

SECURITY.md S32 (type from content), S33 (limits), S34 (names, storage,
who may download, audit), S29/S30 (staff and requester only).
"""

from __future__ import annotations

import hashlib
import uuid

import pytest
from sqlalchemy import func, select

from keyholder.audit.service import list_events, verify_chain
from keyholder.audit.targets import attachment_target
from keyholder.desk import customer, service
from keyholder.desk.attachments import (
    MAX_ATTACHMENTS,
    NewAttachment,
    download_attachment,
)
from keyholder.desk.models import Attachment, Blob, Ticket, TicketMessage
from keyholder.errors import (
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    UnsupportedMediaType,
)
from keyholder.identity.actor import Actor
from keyholder.identity.models import StaffRole
from tests.desk import sample_files
from tests.runtimes import runtime_with

PNG = sample_files.png()
PDF = sample_files.pdf()


@pytest.fixture(params=["database", "directory"])
def desk_runtime(request, runtime, settings, clock, engine, tmp_path):
    """The test runtime with each blob store."""
    if request.param == "database":
        yield runtime
        return
    with runtime_with(settings, clock, engine, blob_dir=tmp_path / "blobs") as changed:
        yield changed


@pytest.fixture
def alice(factories):
    return factories.user("alice@example.com")


@pytest.fixture
def agent(factories):
    return factories.staff("agent@keyholder.example")


def open_with(runtime, user, *files: NewAttachment):
    return customer.open_ticket(
        runtime.uow(),
        subject="Broken export",
        body="See the attached screenshot.",
        actor=Actor.for_user(user),
        attachments=list(files),
    )


def count(runtime, model) -> int:
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def all_attachments(runtime) -> list[Attachment]:
    with runtime.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(Attachment).order_by(Attachment.filename)))


def stored_files(runtime) -> list[str]:
    root = runtime.settings.blob_dir
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root else []


class TestAttaching:
    def test_files_are_sniffed_stored_by_hash_and_listed_on_the_message(self, desk_runtime, alice):
        opened = open_with(
            desk_runtime,
            alice,
            NewAttachment("screenshot.png", PNG),
            NewAttachment("invoice", PDF),
            NewAttachment("notes.TXT", b"steps to reproduce\n"),
        )
        names = [(a.filename, a.content_type) for a in opened.message.attachments]
        assert names == [
            ("screenshot.png", "image/png"),
            ("invoice.pdf", "application/pdf"),
            ("notes.txt", "text/plain"),
        ]
        for attachment in all_attachments(desk_runtime):
            assert attachment.ticket_id == opened.ticket.id
            assert attachment.message_id == opened.message.id
        first = opened.message.attachments[0]
        assert first.sha256 == hashlib.sha256(PNG).hexdigest()
        assert first.size == len(PNG)

    def test_s34_hostile_names_change_nothing_about_storage(self, desk_runtime, alice, factories):
        bob = factories.user("bob@example.com")
        open_with(desk_runtime, alice, NewAttachment("../../etc/passwd.png", PNG))
        open_with(desk_runtime, bob, NewAttachment("..\\..\\x\x00\x1b[2J\u202e.png", PNG))
        open_with(desk_runtime, bob, NewAttachment("/var/lib/keyholder/blobs/a.png", PNG))
        attachments = all_attachments(desk_runtime)
        digest = hashlib.sha256(PNG).hexdigest()
        assert {a.sha256 for a in attachments} == {digest}
        assert sorted(a.filename for a in attachments) == ["a.png", "passwd.png", "x[2J.png"]
        # One blob for the same content, wherever it came from and whatever it was called.
        if desk_runtime.settings.blob_dir:
            assert stored_files(desk_runtime) == [digest]
            assert count(desk_runtime, Blob) == 0
        else:
            assert count(desk_runtime, Blob) == 1

    def test_staff_attach_to_replies_and_internal_notes(self, desk_runtime, alice, agent):
        ticket = open_with(desk_runtime, alice).ticket
        staff = Actor.for_user(agent)
        reply = service.reply_to_ticket(
            desk_runtime.uow(),
            ticket.id,
            body="Here is the fix.",
            actor=staff,
            attachments=[NewAttachment("fix.pdf", PDF)],
        )
        note = service.add_internal_note(
            desk_runtime.uow(),
            ticket.id,
            body="Logs from the server.",
            actor=staff,
            attachments=[NewAttachment("server.log", b"ERROR export failed\n")],
        )
        assert [a.filename for a in reply.attachments] == ["fix.pdf"]
        assert [a.filename for a in note.attachments] == ["server.log"]

    def test_a_customer_reply_carries_attachments(self, desk_runtime, alice):
        ticket = open_with(desk_runtime, alice).ticket
        landed = customer.reply_as_customer(
            desk_runtime.uow(),
            ticket.id,
            body="Another one.",
            actor=Actor.for_user(alice),
            attachments=[NewAttachment("second.png", PNG)],
        )
        assert [a.filename for a in landed.message.attachments] == ["second.png"]


class TestRefusedFilesSaveNothing:
    """The services attach inside their unit of work: a refused file leaves no trace."""

    @pytest.mark.parametrize(
        ("file", "error"),
        [
            (NewAttachment("photo.pdf", PNG), UnsupportedMediaType),  # spoofed extension
            (NewAttachment("page.html", b"<html><script>alert(1)</script>"), UnsupportedMediaType),
            (NewAttachment("logo.svg", b"<svg onload='alert(1)'/>"), UnsupportedMediaType),
            (NewAttachment("a.png", PNG + b"<html>after the end</html>"), UnsupportedMediaType),
            (NewAttachment("archive.zip", b"PK\x03\x04rest"), UnsupportedMediaType),
            (NewAttachment("bomb.png", sample_files.png_bomb()), PayloadTooLarge),
            (NewAttachment("empty.txt", b""), InvalidInput),
        ],
    )
    def test_s32_s33_refused_files_roll_back_the_ticket(self, desk_runtime, alice, file, error):
        good = NewAttachment("fine.png", sample_files.png(color="green"))
        with pytest.raises(error):
            open_with(desk_runtime, alice, good, file)
        assert count(desk_runtime, Ticket) == 0
        assert count(desk_runtime, TicketMessage) == 0
        assert count(desk_runtime, Attachment) == 0
        assert count(desk_runtime, Blob) == 0
        assert stored_files(desk_runtime) == []  # checked before anything is stored

    def test_s32_a_refused_note_attachment_keeps_the_note_out(self, desk_runtime, alice, agent):
        ticket = open_with(desk_runtime, alice).ticket
        with pytest.raises(UnsupportedMediaType):
            service.add_internal_note(
                desk_runtime.uow(),
                ticket.id,
                body="see attached",
                actor=Actor.for_user(agent),
                attachments=[NewAttachment("x.txt", b"<!DOCTYPE html><p>")],
            )
        assert count(desk_runtime, TicketMessage) == 1  # the opening message alone

    def test_s33_a_file_over_the_size_limit_is_413(self, runtime, settings, clock, engine, alice):
        with runtime_with(settings, clock, engine, attachment_max_bytes=100) as small:
            with pytest.raises(PayloadTooLarge):
                open_with(small, alice, NewAttachment("big.txt", b"x" * 101))
            opened = open_with(small, alice, NewAttachment("fits.txt", b"x" * 100))
        assert [a.size for a in opened.message.attachments] == [100]

    def test_s33_the_pixel_limit_comes_from_the_settings(
        self, runtime, settings, clock, engine, alice
    ):
        with (
            runtime_with(settings, clock, engine, attachment_max_pixels=100) as strict,
            pytest.raises(PayloadTooLarge, match="100 pixels"),
        ):
            open_with(strict, alice, NewAttachment("a.png", sample_files.png(20, 10)))
        assert count(runtime, Ticket) == 0

    def test_at_most_ten_files_a_message(self, runtime, alice):
        files = [NewAttachment(f"{n}.txt", f"file {n}\n".encode()) for n in range(11)]
        assert len(files) > MAX_ATTACHMENTS
        with pytest.raises(InvalidInput, match="at most 10"):
            open_with(runtime, alice, *files)
        assert count(runtime, Ticket) == 0


class TestDownloading:
    @pytest.fixture
    def thread(self, runtime, alice, agent):
        """Alice's ticket with a public attachment and one on an internal note."""
        opened = open_with(runtime, alice, NewAttachment("public.png", PNG))
        note = service.add_internal_note(
            runtime.uow(),
            opened.ticket.id,
            body="internal",
            actor=Actor.for_user(agent),
            attachments=[NewAttachment("internal.pdf", PDF)],
        )
        return opened.ticket.id, opened.message.attachments[0].id, note.attachments[0].id

    def test_the_requester_gets_public_attachments(self, runtime, alice, thread):
        number, public, _ = thread
        attachment, data = download_attachment(
            runtime.uow(), number, public, actor=Actor.for_user(alice)
        )
        assert (attachment.filename, data) == ("public.png", PNG)

    def test_s30_the_requester_never_gets_internal_note_attachments(self, runtime, alice, thread):
        number, _, internal = thread
        with pytest.raises(NotFound):
            download_attachment(runtime.uow(), number, internal, actor=Actor.for_user(alice))

    def test_staff_get_every_attachment(self, runtime, agent, thread):
        number, public, internal = thread
        for attachment_id, expected in ((public, PNG), (internal, PDF)):
            _, data = download_attachment(
                runtime.uow(), number, attachment_id, actor=Actor.for_user(agent)
            )
            assert data == expected

    def test_s30_other_customers_get_404(self, runtime, factories, thread):
        number, public, _ = thread
        mallory = Actor.for_user(factories.user("mallory@example.com"))
        with pytest.raises(NotFound):
            download_attachment(runtime.uow(), number, public, actor=mallory)

    def test_s30_an_attachment_is_only_found_under_its_own_ticket(self, runtime, alice, thread):
        _, public, _ = thread
        other = open_with(runtime, alice).ticket.id
        with pytest.raises(NotFound):
            download_attachment(runtime.uow(), other, public, actor=Actor.for_user(alice))
        with pytest.raises(NotFound):
            download_attachment(runtime.uow(), other, uuid.uuid4(), actor=Actor.for_user(alice))

    def test_s29_staff_without_mfa_get_403(self, runtime, factories, thread):
        number, public, _ = thread
        no_mfa = factories.user(
            "new-agent@keyholder.example", staff_role=StaffRole.AGENT, mfa=False
        )
        with pytest.raises(PermissionDenied):
            download_attachment(runtime.uow(), number, public, actor=Actor.for_user(no_mfa))

    def test_s34_every_view_is_audited_with_the_ticket(self, runtime, alice, agent, thread):
        number, public, internal = thread
        download_attachment(runtime.uow(), number, public, actor=Actor.for_user(alice))
        download_attachment(runtime.uow(), number, public, actor=Actor.for_user(alice))
        download_attachment(runtime.uow(), number, internal, actor=Actor.for_user(agent))
        views = list_events(runtime.uow(read_only=True), action="attachment.view")
        assert [(e.actor, e.target) for e in reversed(views)] == [
            ("alice@example.com", attachment_target(public)),
            ("alice@example.com", attachment_target(public)),
            ("agent@keyholder.example", attachment_target(internal)),
        ]
        assert all(e.data["after"]["ticket"] == number for e in views)
        assert verify_chain(runtime.uow(read_only=True)).intact

    def test_refused_views_are_not_audited_as_views(self, runtime, factories, thread):
        number, _, internal = thread
        with pytest.raises(NotFound):
            download_attachment(
                runtime.uow(), number, internal, actor=Actor.for_user(factories.user())
            )
        assert list_events(runtime.uow(read_only=True), action="attachment.view") == []
