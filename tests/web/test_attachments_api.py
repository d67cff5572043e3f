"""Attachments over HTTP: downloads (S29, S30, S34) and multipart uploads (S32, S33).

Uploads are exercised through a small app defined here, so ``read_upload_form``
and ``attach_files`` are tested over the wire without depending on the desk
routes that use them.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from urllib.parse import unquote

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from keyholder.audit.service import list_events
from keyholder.audit.targets import attachment_target
from keyholder.desk import customer, service
from keyholder.desk.attachments import NewAttachment
from keyholder.desk.models import Ticket, TicketMessage
from keyholder.identity.actor import Actor
from keyholder.identity.models import StaffRole
from keyholder.web.api.attachments import content_disposition
from keyholder.web.problems import install_problem_handlers
from keyholder.web.uploads import FRAMING_BYTES, MAX_FIELD_BYTES, read_upload_form
from tests.desk import sample_files

PNG = sample_files.png()
PDF = sample_files.pdf()
LIMIT = 64 * 1024  # the test app's upload limit


@pytest.fixture
def alice(factories):
    return factories.user("alice@example.com")


@pytest.fixture
def agent(factories):
    return factories.staff("agent@keyholder.example")


@pytest.fixture
def thread(runtime, alice, agent):
    """Alice's ticket: a public attachment, and one on an internal note."""
    opened = customer.open_ticket(
        runtime.uow(),
        subject="Export",
        body="See attached.",
        actor=Actor.for_user(alice),
        attachments=[NewAttachment('Grüße "Q3"; report.pdf', PDF)],
    )
    note = service.add_internal_note(
        runtime.uow(),
        opened.ticket.id,
        body="internal",
        actor=Actor.for_user(agent),
        attachments=[NewAttachment("server.log", b"ERROR\n")],
    )
    return opened.ticket.id, opened.message.attachments[0].id, note.attachments[0].id


def url(number: int, attachment_id: object) -> str:
    return f"/api/tickets/{number}/attachments/{attachment_id}"


class TestDownload:
    def test_s34_served_as_a_private_download_of_the_sniffed_type(
        self, client, factories, alice, thread
    ):
        number, public, _ = thread
        response = client.get(url(number, public), headers=factories.auth(alice))
        assert response.status_code == 200
        assert response.content == PDF
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "private, no-store"
        assert "sandbox" in response.headers["content-security-policy"]
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        encoded = re.search(r"filename\*=UTF-8''(\S+)$", disposition).group(1)
        assert unquote(encoded) == "Grüße _Q3_; report.pdf"

    def test_text_is_served_as_utf8_plain_text(self, client, factories, agent, thread):
        number, _, internal = thread
        response = client.get(url(number, internal), headers=factories.auth(agent))
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.content == b"ERROR\n"

    def test_s29_anonymous_is_401(self, client, thread):
        number, public, _ = thread
        response = client.get(url(number, public))
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"

    def test_s29_anonymous_is_401_even_for_a_malformed_id(self, client, thread):
        assert client.get(url(thread[0], "not-a-uuid")).status_code == 401

    def test_s29_staff_without_mfa_are_403(self, client, factories, thread):
        number, public, _ = thread
        no_mfa = factories.user("new@keyholder.example", staff_role=StaffRole.AGENT, mfa=False)
        assert client.get(url(number, public), headers=factories.auth(no_mfa)).status_code == 403

    def test_s30_customers_get_404_for_internal_notes_and_other_tickets(
        self, client, factories, alice, thread
    ):
        number, public, internal = thread
        assert client.get(url(number, internal), headers=factories.auth(alice)).status_code == 404
        mallory = factories.auth(factories.user("mallory@example.com"))
        for attachment_id in (public, internal):
            assert client.get(url(number, attachment_id), headers=mallory).status_code == 404

    def test_s34_each_view_is_audited(self, client, runtime, factories, alice, agent, thread):
        number, public, internal = thread
        client.get(url(number, public), headers=factories.auth(alice))
        client.get(url(number, internal), headers=factories.auth(agent))
        client.get(url(number, internal), headers=factories.auth(alice))  # 404: not a view
        views = list_events(runtime.uow(read_only=True), action="attachment.view")
        assert sorted((e.actor, e.target, e.data["after"]["ticket"]) for e in views) == sorted(
            [
                ("alice@example.com", attachment_target(public), number),
                ("agent@keyholder.example", attachment_target(internal), number),
            ]
        )
        assert all(e.request_id for e in views)  # tied to the request that viewed it


class TestContentDisposition:
    @given(st.text())
    def test_any_name_makes_a_safe_header_that_round_trips(self, name):
        header = content_disposition(name)
        assert header.isascii()
        assert not any(ch in header for ch in "\r\n\x00")
        quoted = re.fullmatch(
            r'attachment; filename="([^"\\]*)"; filename\*=UTF-8\'\'(\S*)', header
        )
        assert quoted is not None, header
        assert unquote(quoted.group(2), errors="replace") == name.encode("utf-8", "replace").decode(
            "utf-8", "replace"
        )


# --- uploads, through a small app of the test's own -------------------------------------


@pytest.fixture
def upload_app(runtime, alice) -> FastAPI:
    """POST /upload: a multipart form (subject, body, files) opens a ticket as Alice."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/upload", status_code=201)
    async def upload(request: Request) -> dict[str, object]:
        form = await read_upload_form(request, max_bytes=LIMIT, max_files=3)
        opened = await run_in_threadpool(
            customer.open_ticket,
            runtime.uow(),
            subject=form.fields.get("subject", ""),
            body=form.fields.get("body", ""),
            actor=Actor.for_user(alice),
            attachments=form.files,
        )
        return {
            "number": opened.ticket.id,
            "attachments": [
                {"filename": a.filename, "content_type": a.content_type}
                for a in opened.message.attachments
            ],
        }

    return app


@pytest.fixture
def uploads(upload_app) -> Iterator[TestClient]:
    with TestClient(upload_app) as test_client:
        yield test_client


FORM = {"subject": "Broken", "body": "See the files."}


def count(runtime, model) -> int:
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


class TestUpload:
    def test_files_arrive_sniffed_whatever_content_type_the_sender_claims(self, uploads):
        response = uploads.post(
            "/upload",
            data=FORM,
            files=[
                ("files", ("shot.png", PNG, "text/html")),  # the claim is ignored
                ("files", ("notes", b"plain words\n", "application/octet-stream")),
            ],
        )
        assert response.status_code == 201, response.text
        assert response.json()["attachments"] == [
            {"filename": "shot.png", "content_type": "image/png"},
            {"filename": "notes.txt", "content_type": "text/plain"},
        ]

    @pytest.mark.parametrize(
        ("filename", "data", "claimed"),
        [
            ("shot.pdf", PNG, "application/pdf"),  # spoofed: a PNG called a PDF
            ("page.html", b"<html><script>alert(1)</script></html>", "text/html"),
            ("page.txt", b"<html><script>alert(1)</script></html>", "text/plain"),
            ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
            ("logo.png", PNG[:40] + b"<svg onload=alert(1)>" + PNG[40:], "image/png"),
        ],
    )
    def test_s32_wrong_types_are_415_and_nothing_is_saved(
        self, uploads, runtime, filename, data, claimed
    ):
        response = uploads.post("/upload", data=FORM, files=[("files", (filename, data, claimed))])
        assert response.status_code == 415, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "we accept PDF, PNG, JPEG or plain UTF-8 text" in response.json()["detail"]
        assert count(runtime, Ticket) == count(runtime, TicketMessage) == 0

    def test_s33_a_pixel_bomb_is_413(self, uploads, runtime):
        files = [("files", ("bomb.png", sample_files.png_bomb(), "image/png"))]
        assert uploads.post("/upload", data=FORM, files=files).status_code == 413
        assert count(runtime, Ticket) == 0

    def test_a_body_that_is_not_multipart_is_415(self, uploads):
        response = uploads.post("/upload", json=FORM)
        assert response.status_code == 415
        assert "multipart/form-data" in response.json()["detail"]

    def test_s33_a_content_length_over_the_limit_is_413_before_reading(self, upload_app):
        body = iter([b"never read"])
        status, pulled = drive(upload_app, body, content_length=LIMIT * 100)
        assert (status, pulled) == (413, 0)

    def test_s33_a_chunked_body_is_cut_off_at_the_limit(self, upload_app, runtime):
        chunk = b"--b\r\nContent-Disposition: form-data; name=files; filename=a.txt\r\n\r\n"
        produced = []

        def endless() -> Iterator[bytes]:
            yield chunk
            for _ in range(10_000):  # 10,000 x 8 KiB: far past the limit
                produced.append(1)
                yield b"x" * 8192

        status, pulled = drive(upload_app, endless())
        assert status == 413
        limit = LIMIT + MAX_FIELD_BYTES + FRAMING_BYTES
        assert len(produced) <= limit // 8192 + 2  # stopped right after the limit
        assert pulled < 10_000
        assert count(runtime, Ticket) == 0

    def test_files_over_the_limit_together_are_413(self, uploads):
        big = b"y" * (LIMIT // 2 + 1) + b"\n"
        files = [("files", ("a.txt", big, "text/plain")), ("files", ("b.txt", big, "text/plain"))]
        response = uploads.post("/upload", data=FORM, files=files)
        assert response.status_code == 413

    def test_too_many_files_is_422(self, uploads):
        files = [("files", (f"{n}.txt", b"x\n", "text/plain")) for n in range(4)]
        response = uploads.post("/upload", data=FORM, files=files)
        assert response.status_code == 422
        assert "Too many files" in response.json()["detail"]

    def test_a_field_sent_twice_is_422(self, uploads):
        response = uploads.post(
            "/upload",
            content=multipart([("subject", None, b"one"), ("subject", None, b"two")]),
            headers={"content-type": "multipart/form-data; boundary=b"},
        )
        assert response.status_code == 422
        assert "more than once" in response.json()["detail"]

    def test_a_malformed_form_is_422(self, uploads):
        response = uploads.post(
            "/upload",
            content=b"--b\r\nno headers at all",
            headers={"content-type": "multipart/form-data"},  # and no boundary
        )
        assert response.status_code == 422

    def test_an_empty_file_input_is_ignored(self, uploads):
        body = multipart(
            [("subject", None, b"Hi"), ("body", None, b"Text only"), ("files", "", b"")]
        )
        response = uploads.post(
            "/upload", content=body, headers={"content-type": "multipart/form-data; boundary=b"}
        )
        assert response.status_code == 201, response.text
        assert response.json()["attachments"] == []


def multipart(parts: list[tuple[str, str | None, bytes]]) -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"--b\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return out + b"--b--\r\n"


def drive(app: FastAPI, chunks: Iterator[bytes], content_length: int | None = None):
    """POST /upload straight through ASGI, feeding ``chunks`` as the client sends them.

    Returns the status and how many chunks the app pulled: the test client
    reads a whole body before the app sees it, which would hide the streaming.
    """
    pulled = 0
    status: list[int] = []

    async def receive() -> dict[str, object]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            status.append(int(message["status"]))  # type: ignore[call-overload]
        if message["type"] == "http.response.body" and message.get("body"):
            json.loads(message["body"])  # a problem+json document

    headers = [(b"content-type", b"multipart/form-data; boundary=b")]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/upload",
        "raw_path": b"/upload",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    return status[0], pulled
